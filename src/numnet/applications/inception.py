"""The Inception module (Szegedy et al., 2014) and a small Inception network.

Instead of choosing one filter size, an Inception module runs 1x1, 3x3 and 5x5
convolutions and a 3x3 max-pool side by side on the same input and concatenates
their outputs along the channels. 1x1 convolutions first reduce the channels
fed to the 3x3 and 5x5 convolutions (and project the pooled branch), which keeps
the cost down: the "network in network" bottleneck of the course notes.
"""

from __future__ import annotations

from numnet import layers
from numnet.applications._common import (
    check_input_shape,
    check_positive,
    classifier,
    prefixed,
)
from numnet.models import Model


def _conv(x, filters: int, kernel_size: int, name):
    return layers.Conv2D(
        filters, kernel_size, padding="same", activation="relu", name=name
    )(x)


def inception_module(
    x,
    filters_1x1: int,
    filters_3x3_reduce: int,
    filters_3x3: int,
    filters_5x5_reduce: int,
    filters_5x5: int,
    filters_pool_proj: int,
    name: str | None = None,
):
    """Four parallel branches concatenated along the channels (GoogLeNet's module).

    * 1x1 conv (``filters_1x1``);
    * 1x1 conv (``filters_3x3_reduce``) -> 3x3 conv (``filters_3x3``);
    * 1x1 conv (``filters_5x5_reduce``) -> 5x5 conv (``filters_5x5``);
    * 3x3 max-pool (stride 1) -> 1x1 conv (``filters_pool_proj``).

    Every convolution uses "same" padding and ReLU, so all branches keep H and W.

    Args:
        x: a symbolic tensor (N, H, W, C).
        filters_1x1, filters_3x3_reduce, filters_3x3, filters_5x5_reduce,
            filters_5x5, filters_pool_proj: the channels of each convolution, in
            the order of the GoogLeNet paper's table.
        name: prefix of the layer names.

    Returns:
        A symbolic tensor (N, H, W, filters_1x1 + filters_3x3 + filters_5x5 +
        filters_pool_proj).

    Shape:
        input: (N, H, W, C); output: (N, H, W, sum of the four branch widths).
    """
    widths = dict(
        filters_1x1=filters_1x1, filters_3x3_reduce=filters_3x3_reduce,
        filters_3x3=filters_3x3, filters_5x5_reduce=filters_5x5_reduce,
        filters_5x5=filters_5x5, filters_pool_proj=filters_pool_proj,
    )  # fmt: skip
    for argument, value in widths.items():
        check_positive(value, argument, "inception_module")
    branch1 = _conv(x, filters_1x1, 1, prefixed(name, "1x1"))
    branch3 = _conv(x, filters_3x3_reduce, 1, prefixed(name, "3x3_reduce"))
    branch3 = _conv(branch3, filters_3x3, 3, prefixed(name, "3x3"))
    branch5 = _conv(x, filters_5x5_reduce, 1, prefixed(name, "5x5_reduce"))
    branch5 = _conv(branch5, filters_5x5, 5, prefixed(name, "5x5"))
    pooled = layers.MaxPooling2D(
        3, strides=1, padding="same", name=prefixed(name, "pool")
    )(x)
    pooled = _conv(pooled, filters_pool_proj, 1, prefixed(name, "pool_proj"))
    return layers.Concatenate(axis=-1, name=prefixed(name, "concat"))(
        [branch1, branch3, branch5, pooled]
    )


def small_inception(
    input_shape=(28, 28, 1),
    num_classes: int = 10,
    classifier_activation: str | None = "softmax",
    name: str = "small_inception",
) -> Model:
    """A small GoogLeNet-style net: a conv stem and two Inception modules.

    stem Conv 3x3 (32) -> MaxPool 2 -> inception (16, 16, 24, 4, 8, 8) ->
    inception (24, 24, 32, 4, 12, 12) -> MaxPool 2 -> global average pooling ->
    classifier.

    Args:
        input_shape: one image (H, W, C).
        num_classes: the number of output units.
        classifier_activation: "softmax" or None (logits).
        name: the model's name.

    Returns:
        A functional ``Model``.
    """
    check_input_shape(input_shape, "small_inception", rank=3)
    check_positive(num_classes, "num_classes", "small_inception")
    inputs = layers.Input(input_shape, name="image")
    x = _conv(inputs, 32, 3, "stem")
    x = layers.MaxPooling2D(2, name="stem_pool")(x)
    x = inception_module(x, 16, 16, 24, 4, 8, 8, name="inception_a")
    x = inception_module(x, 24, 24, 32, 4, 12, 12, name="inception_b")
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = classifier(x, num_classes, classifier_activation)
    return Model(inputs, outputs, name=name)
