"""Depthwise-separable convolutions: the MobileNet block (Howard et al., 2017).

A standard KxK convolution from C to C' channels costs K·K·C·C' multiply-adds
per output pixel. MobileNet factors it into a *depthwise* KxK convolution (one
filter per input channel, K·K·C) and a *pointwise* 1x1 convolution mixing the
channels (C·C'): about 1/C' + 1/K² of the cost, 8 to 9 times cheaper for 3x3.
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


def mobilenet_block(x, filters: int, strides: int = 1, depth_multiplier: int = 1,
                    name: str | None = None):  # fmt: skip
    """DepthwiseConv2D 3x3 -> BN -> ReLU -> Conv2D 1x1 -> BN -> ReLU.

    MobileNet v1 uses ReLU6 (min(max(x, 0), 6)); numnet has no "relu6"
    activation name, and plain ReLU trains as well on small images.

    Args:
        x: a symbolic tensor (N, H, W, C).
        filters: the output channels of the pointwise convolution.
        strides: the stride of the depthwise convolution (2 downsamples).
        depth_multiplier: depthwise output channels per input channel.
        name: prefix of the layer names.

    Returns:
        A symbolic tensor (N, ceil(H/strides), ceil(W/strides), filters).

    Shape:
        input: (N, H, W, C); output: (N, ceil(H/strides), ceil(W/strides), filters).
    """
    check_positive(filters, "filters", "mobilenet_block")
    check_positive(strides, "strides", "mobilenet_block")
    x = layers.DepthwiseConv2D(
        3, strides=strides, padding="same", depth_multiplier=depth_multiplier,
        use_bias=False, name=prefixed(name, "dw"),
    )(x)  # fmt: skip
    x = layers.BatchNormalization(name=prefixed(name, "dw_bn"))(x)
    x = layers.Activation("relu", name=prefixed(name, "dw_relu"))(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=prefixed(name, "pw"))(x)
    x = layers.BatchNormalization(name=prefixed(name, "pw_bn"))(x)
    return layers.Activation("relu", name=prefixed(name, "pw_relu"))(x)


def small_mobilenet(
    input_shape=(28, 28, 1),
    num_classes: int = 10,
    block_filters=((32, 1), (64, 2), (64, 1), (128, 2)),
    classifier_activation: str | None = "softmax",
    name: str = "small_mobilenet",
) -> Model:
    """A small MobileNet: a 3x3 conv stem, then (filters, stride) MobileNet blocks.

    Args:
        input_shape: one image (H, W, C).
        num_classes: the number of output units.
        block_filters: (filters, strides) of each :func:`mobilenet_block`.
        classifier_activation: "softmax" or None (logits).
        name: the model's name.

    Returns:
        A functional ``Model``.
    """
    check_input_shape(input_shape, "small_mobilenet", rank=3)
    check_positive(num_classes, "num_classes", "small_mobilenet")
    inputs = layers.Input(input_shape, name="image")
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="stem")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    for i, (filters, strides) in enumerate(block_filters, start=1):
        x = mobilenet_block(x, filters, strides, name=f"block{i}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = classifier(x, num_classes, classifier_activation)
    return Model(inputs, outputs, name=name)
