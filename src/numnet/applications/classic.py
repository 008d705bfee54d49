"""Classic plain conv nets: LeNet-5 and a small VGG-style network."""

from __future__ import annotations

from numnet import layers
from numnet.applications._common import check_input_shape, check_positive, classifier
from numnet.models import Model


def lenet5(
    input_shape=(28, 28, 1),
    num_classes: int = 10,
    activation: str = "tanh",
    classifier_activation: str | None = "softmax",
    name: str = "lenet5",
) -> Model:
    """LeNet-5 (LeCun et al., 1998) with the course's layer sizes.

    conv 5x5x6 -> avg-pool 2 -> conv 5x5x16 -> avg-pool 2 -> dense 120 -> dense 84
    -> dense ``num_classes``. The first convolution uses ``padding="same"`` on
    inputs smaller than 32x32 (28x28 Fashion-MNIST), so the feature maps are the
    paper's 28x28x6, 14x14x6, 10x10x16 and 5x5x16: 61,706 parameters for 10
    classes, as in the paper.

    Args:
        input_shape: one image (H, W, C).
        num_classes: the number of output units.
        activation: the hidden activation ("tanh" as in the paper; "relu" works too).
        classifier_activation: "softmax" (probabilities) or None (logits).
        name: the model's name.

    Returns:
        A functional ``Model``.

    Example:
        >>> from numnet.applications import lenet5
        >>> lenet5().count_params()
        61706
    """
    check_input_shape(input_shape, "lenet5", rank=3)
    check_positive(num_classes, "num_classes", "lenet5")
    inputs = layers.Input(input_shape, name="image")
    padding = "same" if min(input_shape[:2]) < 32 else "valid"
    x = layers.Conv2D(6, 5, padding=padding, activation=activation, name="c1")(inputs)
    x = layers.AveragePooling2D(2, name="s2")(x)
    x = layers.Conv2D(16, 5, activation=activation, name="c3")(x)
    x = layers.AveragePooling2D(2, name="s4")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(120, activation=activation, name="c5")(x)
    x = layers.Dense(84, activation=activation, name="f6")(x)
    outputs = classifier(x, num_classes, classifier_activation)
    return Model(inputs, outputs, name=name)


def vgg_small(
    input_shape=(28, 28, 1),
    num_classes: int = 10,
    block_filters=(32, 64, 128),
    convs_per_block: int = 2,
    dense_units: int = 256,
    batch_norm: bool = True,
    dropout: float = 0.5,
    classifier_activation: str | None = "softmax",
    name: str = "vgg_small",
) -> Model:
    """A small VGG-style net: blocks of 3x3 convolutions, each followed by max-pool.

    Every block is ``convs_per_block`` x (Conv2D 3x3 "same" [-> BatchNorm] -> ReLU)
    then MaxPooling2D 2x2; the filters double from block to block as in VGG.
    The head is Flatten -> Dense(``dense_units``, relu) -> Dropout -> Dense.

    Args:
        input_shape: one image (H, W, C).
        num_classes: the number of output units.
        block_filters: the number of filters of each block.
        convs_per_block: 3x3 convolutions per block (2 in VGG-16's first blocks).
        dense_units: width of the hidden dense layer.
        batch_norm: insert BatchNormalization after each convolution.
        dropout: the dropout rate before the classifier (0 disables it).
        classifier_activation: "softmax" or None (logits).
        name: the model's name.

    Returns:
        A functional ``Model``.
    """
    check_input_shape(input_shape, "vgg_small", rank=3)
    check_positive(num_classes, "num_classes", "vgg_small")
    inputs = layers.Input(input_shape, name="image")
    x = inputs
    for b, filters in enumerate(block_filters, start=1):
        for c in range(1, convs_per_block + 1):
            prefix = f"block{b}_conv{c}"
            x = layers.Conv2D(
                filters, 3, padding="same", use_bias=not batch_norm, name=prefix
            )(x)
            if batch_norm:
                x = layers.BatchNormalization(name=f"{prefix}_bn")(x)
            x = layers.Activation("relu", name=f"{prefix}_relu")(x)
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation="relu", name="fc")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = classifier(x, num_classes, classifier_activation)
    return Model(inputs, outputs, name=name)
