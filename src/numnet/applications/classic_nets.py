"""Full-size classic networks: AlexNet, VGG-16/19, ResNet-18/34/50.

Each constructor follows ``keras.applications``: ``include_top``,
``input_shape``, ``classes``, ``pooling`` (None, "avg" or "max" when
``include_top=False``), ``classifier_activation`` and ``weights`` (None for a
fresh initialization, or the path of a numnet weights file saved by
``model.save_weights``, or a Keras ``.h5``/``.keras`` weights file such as the
published ``keras.applications`` ones). Layer names and weight layouts are those of
``keras.applications`` (VGG16/19, ResNet50); AlexNet and ResNet-18/34, which
Keras does not ship, use the same naming scheme and torchvision's layer sizes
(so their trainable parameter counts equal torchvision's).
"""

from __future__ import annotations

from numnet import layers
from numnet.applications._common import check_input_shape, check_positive
from numnet.models import Model

_POOLINGS = (None, "avg", "max")


def _check(who, input_shape, classes, pooling, minimum: int):
    check_input_shape(input_shape, who, rank=3)
    check_positive(classes, "classes", who)
    if pooling not in _POOLINGS:
        raise ValueError(
            f"{who}: invalid value for argument 'pooling'. Expected one of "
            f"{list(_POOLINGS)}. Received: pooling={pooling!r}"
        )
    if min(input_shape[:2]) < minimum:
        raise ValueError(
            f"{who}: invalid value for argument 'input_shape'. Height and width "
            f"must be at least {minimum}. Received: input_shape={input_shape!r}"
        )


def _finish(x, inputs, include_top, pooling, classes, activation, weights, name):
    """Global pooling (no top) and weight loading shared by every net."""
    if not include_top and pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif not include_top and pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = Model(inputs, x, name=name)
    if weights is not None:
        load_weights_file(model, weights)
    return model


def load_weights_file(model, path) -> None:
    """Load ``path`` into ``model``: a Keras ``.h5``/``.keras`` file (for example
    the published ``keras.applications`` weights, read with
    :func:`numnet.interop.load_keras_weights`), or a numnet weights file."""
    if str(path).endswith((".h5", ".keras")):
        from numnet.interop import load_keras_weights  # needs h5py

        load_keras_weights(model, path)
    else:
        model.load_weights(path)


def _dense_top(x, units, classes, activation, dropout: float = 0.0):
    x = layers.Flatten(name="flatten")(x)
    for i, name in enumerate(("fc1", "fc2")):
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout{i + 1}")(x)
        x = layers.Dense(units, activation="relu", name=name)(x)
    return layers.Dense(classes, activation=activation, name="predictions")(x)


def _vgg(
    blocks,
    who,
    include_top,
    weights,
    input_shape,
    pooling,
    classes,
    classifier_activation,
):
    _check(who, input_shape, classes, pooling, 32)
    inputs = layers.Input(input_shape, name="input_layer")
    x = inputs
    for b, (convs, filters) in enumerate(blocks, start=1):
        for c in range(1, convs + 1):
            x = layers.Conv2D(
                filters, 3, padding="same", activation="relu", name=f"block{b}_conv{c}"
            )(x)
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    if include_top:
        x = _dense_top(x, 4096, classes, classifier_activation)
    return _finish(
        x, inputs, include_top, pooling, classes, classifier_activation, weights, who
    )


def vgg16(
    include_top: bool = True,
    weights=None,
    input_shape=(224, 224, 3),
    pooling=None,
    classes: int = 1000,
    classifier_activation="softmax",
) -> Model:
    """VGG-16 (Simonyan & Zisserman, 2014): 13 3x3 convolutions and 3 dense layers.

    Blocks of 2, 2, 3, 3, 3 convolutions (64, 128, 256, 512, 512 filters), each
    followed by 2x2 max-pooling; then fc1 and fc2 (4096, relu) and the
    classifier: 138,357,544 parameters at 224x224 with 1000 classes.

    Args:
        include_top: keep the Flatten/fc1/fc2/predictions layers.
        weights: None, a numnet weights file, or a Keras .h5/.keras weights file.
        input_shape: (H, W, C), at least 32x32.
        pooling: with ``include_top=False``: None (the 4-D map), "avg" or "max".
        classes: the number of output classes.
        classifier_activation: "softmax" or None (logits).

    Returns:
        A functional ``Model``.
    """
    blocks = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
    return _vgg(
        blocks,
        "vgg16",
        include_top,
        weights,
        input_shape,
        pooling,
        classes,
        classifier_activation,
    )


def vgg19(
    include_top: bool = True,
    weights=None,
    input_shape=(224, 224, 3),
    pooling=None,
    classes: int = 1000,
    classifier_activation="softmax",
) -> Model:
    """VGG-19: VGG-16 with 4 convolutions in blocks 3-5 (143,667,240 parameters).

    Arguments as :func:`vgg16`.
    """
    blocks = ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512))
    return _vgg(
        blocks,
        "vgg19",
        include_top,
        weights,
        input_shape,
        pooling,
        classes,
        classifier_activation,
    )


def alexnet(
    include_top: bool = True,
    weights=None,
    input_shape=(224, 224, 3),
    pooling=None,
    classes: int = 1000,
    classifier_activation="softmax",
    dropout: float = 0.5,
) -> Model:
    """AlexNet (Krizhevsky et al., 2012), single tower, torchvision's channels.

    Inputs of 128 pixels or more get the original stem: conv1 11x11 stride 4
    (64 filters, padding 2), 3x3/2 max-pools after conv1, conv2 and conv5,
    conv2 5x5 (192), conv3-5 3x3 (384, 256, 256), fc1/fc2 4096 with dropout:
    61,100,840 parameters at 224x224 and 1000 classes. Smaller inputs (down to
    32x32, e.g. CIFAR or Fashion-MNIST resized) get a 5x5 stride-1 conv1 and
    2x2 pools, keeping every later layer.

    Args:
        dropout: the dropout rate before fc1 and fc2.
        Others as :func:`vgg16`.

    Returns:
        A functional ``Model``.
    """
    _check("alexnet", input_shape, classes, pooling, 32)
    large = min(input_shape[:2]) >= 128
    window, stride = (3, 2) if large else (2, 2)
    inputs = layers.Input(input_shape, name="input_layer")
    if large:
        x = layers.ZeroPadding2D(2, name="conv1_pad")(inputs)
        x = layers.Conv2D(64, 11, strides=4, activation="relu", name="conv1")(x)
    else:
        x = layers.Conv2D(64, 5, padding="same", activation="relu", name="conv1")(
            inputs
        )
    x = layers.MaxPooling2D(window, stride, name="pool1")(x)
    x = layers.Conv2D(192, 5, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(window, stride, name="pool2")(x)
    for i, filters in ((3, 384), (4, 256), (5, 256)):
        x = layers.Conv2D(
            filters, 3, padding="same", activation="relu", name=f"conv{i}"
        )(x)
    x = layers.MaxPooling2D(window, stride, name="pool5")(x)
    if include_top:
        x = _dense_top(x, 4096, classes, classifier_activation, dropout)
    return _finish(
        x,
        inputs,
        include_top,
        pooling,
        classes,
        classifier_activation,
        weights,
        "alexnet",
    )
