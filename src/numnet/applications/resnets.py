"""Full-size residual networks: ResNet-50 (bottleneck) and ResNet-18/34 (basic).

ResNet-50 follows ``keras.applications.ResNet50`` layer by layer (names such
as ``conv2_block1_1_conv``, convolutions with biases, BatchNormalization with
epsilon 1.001e-5, the stride on the first 1x1 convolution of a stage):
25,636,712 parameters at 1000 classes, as Keras reports. ResNet-18/34 are not
in Keras; they use the same names with torchvision's layers (no convolution
biases), so their trainable parameters equal torchvision's (11,689,512 and
21,797,672).
"""

from __future__ import annotations

from numnet import layers
from numnet.applications.classic_nets import _check, _finish
from numnet.models import Model

_EPS = 1.001e-5


def _conv_bn(x, filters, kernel_size, strides, name, use_bias, padding="valid"):
    x = layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        use_bias=use_bias,
        name=f"{name}_conv",
    )(x)
    return layers.BatchNormalization(epsilon=_EPS, name=f"{name}_bn")(x)


def bottleneck_block(
    x, filters: int, strides: int = 1, conv_shortcut: bool = True, name: str = "block"
):
    """Keras's ResNet ``block1``: 1x1 (stride), 3x3, 1x1 (4 x filters), + shortcut."""
    if conv_shortcut:
        shortcut = _conv_bn(x, 4 * filters, 1, strides, f"{name}_0", True)
    else:
        shortcut = x
    y = _conv_bn(x, filters, 1, strides, f"{name}_1", True)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = _conv_bn(y, filters, 3, 1, f"{name}_2", True, padding="same")
    y = layers.Activation("relu", name=f"{name}_2_relu")(y)
    y = _conv_bn(y, 4 * filters, 1, 1, f"{name}_3", True)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.Activation("relu", name=f"{name}_out")(y)


def basic_block(
    x, filters: int, strides: int = 1, conv_shortcut: bool = False, name: str = "block"
):
    """ResNet-18/34's block: 3x3 (stride) -> 3x3, plus the shortcut."""
    if conv_shortcut:
        shortcut = _conv_bn(x, filters, 1, strides, f"{name}_0", False)
    else:
        shortcut = x
    y = _conv_bn(x, filters, 3, strides, f"{name}_1", False, padding="same")
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = _conv_bn(y, filters, 3, 1, f"{name}_2", False, padding="same")
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.Activation("relu", name=f"{name}_out")(y)


def _resnet(
    who,
    blocks_per_stage,
    bottleneck,
    include_top,
    weights,
    input_shape,
    pooling,
    classes,
    classifier_activation,
) -> Model:
    _check(who, input_shape, classes, pooling, 32)
    inputs = layers.Input(input_shape, name="input_layer")
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = _conv_bn(x, 64, 7, 2, "conv1", bottleneck)  # Keras: bias; torchvision: none
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    block = bottleneck_block if bottleneck else basic_block
    for s, (filters, count) in enumerate(
        zip((64, 128, 256, 512), blocks_per_stage, strict=True)
    ):
        stride = 1 if s == 0 else 2
        for b in range(1, count + 1):
            first = b == 1
            x = block(
                x,
                filters,
                stride if first else 1,
                conv_shortcut=first and (bottleneck or s > 0),
                name=f"conv{s + 2}_block{b}",
            )
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(
            x
        )
    return _finish(
        x, inputs, include_top, pooling, classes, classifier_activation, weights, who
    )


def resnet50(
    include_top: bool = True,
    weights=None,
    input_shape=(224, 224, 3),
    pooling=None,
    classes: int = 1000,
    classifier_activation="softmax",
) -> Model:
    """ResNet-50 (He et al., 2015) with ``keras.applications.ResNet50``'s layers.

    Stem (7x7/2 conv, 3x3/2 max-pool), then 3, 4, 6, 3 bottleneck blocks of
    64, 128, 256, 512 filters (x4 out), global average pooling and the
    classifier. Arguments as :func:`numnet.applications.vgg16` (input at
    least 32x32; any size works, the top pools globally).
    """
    return _resnet(
        "resnet50",
        (3, 4, 6, 3),
        True,
        include_top,
        weights,
        input_shape,
        pooling,
        classes,
        classifier_activation,
    )


def resnet34(
    include_top: bool = True,
    weights=None,
    input_shape=(224, 224, 3),
    pooling=None,
    classes: int = 1000,
    classifier_activation="softmax",
) -> Model:
    """ResNet-34: 3, 4, 6, 3 basic blocks (arguments as :func:`resnet50`)."""
    return _resnet(
        "resnet34",
        (3, 4, 6, 3),
        False,
        include_top,
        weights,
        input_shape,
        pooling,
        classes,
        classifier_activation,
    )


def resnet18(
    include_top: bool = True,
    weights=None,
    input_shape=(224, 224, 3),
    pooling=None,
    classes: int = 1000,
    classifier_activation="softmax",
) -> Model:
    """ResNet-18: 2, 2, 2, 2 basic blocks (arguments as :func:`resnet50`)."""
    return _resnet(
        "resnet18",
        (2, 2, 2, 2),
        False,
        include_top,
        weights,
        input_shape,
        pooling,
        classes,
        classifier_activation,
    )
