"""A small YOLO detector: a conv tower down to an S x S grid and a 1x1 head.

Each grid cell predicts, for each of B anchors, ``5 + K`` raw values
``(t_c, t_x, t_y, t_h, t_w, t_1..t_K)`` (see :mod:`numnet.vision.yolo` for the
decoding and :class:`numnet.vision.YoloLoss` for training). The tower is
Conv-BN-LeakyReLU blocks (YOLOv2's "DarkNet" pattern, 3x3 convolutions with
1x1 bottlenecks omitted at this size), each stage halving the resolution.
"""

from __future__ import annotations

from numnet import layers
from numnet.applications._common import check_input_shape, check_positive
from numnet.models import Model


def _conv_bn_leaky(x, filters, kernel_size, strides, name):
    x = layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=False,
        name=f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.LeakyReLU(0.1, name=f"{name}_leaky")(x)


def yolo_small(
    input_shape=(96, 96, 1),
    num_anchors: int = 3,
    num_classes: int = 10,
    stage_filters=(16, 32, 64, 128),
    head_filters: int = 128,
    name: str = "yolo_small",
) -> Model:
    """A YOLO-style detector whose grid is the input size / 2^len(stage_filters).

    stem: Conv 5x5 stride 2; each stage: Conv 3x3 then MaxPool 2 (the last
    stage without a pool); then Conv 3x3 ``head_filters`` and the 1x1 output
    convolution with ``num_anchors * (5 + num_classes)`` linear units. The
    input size may be None (any size divisible by the total stride): the
    detector is fully convolutional.

    Args:
        input_shape: (H, W, C), H and W may be None.
        num_anchors: B.
        num_classes: K.
        stage_filters: the filters of the stem and each stage.
        head_filters: the filters of the last 3x3 convolution.
        name: the model's name.

    Returns:
        A functional ``Model`` with output (N, S_rows, S_cols, B * (5 + K)).

    Example:
        >>> from numnet.applications import yolo_small
        >>> yolo_small((96, 96, 1), num_anchors=3, num_classes=10).output_shape
        (None, 6, 6, 45)
    """
    if not (isinstance(input_shape, (tuple, list)) and len(input_shape) == 3):
        check_input_shape(input_shape, "yolo_small")
    if input_shape[0] is not None:
        check_input_shape(input_shape, "yolo_small")
    check_positive(num_anchors, "num_anchors", "yolo_small")
    check_positive(num_classes, "num_classes", "yolo_small")
    inputs = layers.Input(tuple(input_shape), name="image")
    x = _conv_bn_leaky(inputs, stage_filters[0], 5, 2, "stem")
    x = layers.MaxPooling2D(2, name="stem_pool")(x)
    for i, filters in enumerate(stage_filters[1:], start=1):
        x = _conv_bn_leaky(x, filters, 3, 1, f"stage{i}")
        if i < len(stage_filters) - 1:
            x = layers.MaxPooling2D(2, name=f"stage{i}_pool")(x)
    x = _conv_bn_leaky(x, head_filters, 3, 1, "head")
    outputs = layers.Conv2D(num_anchors * (5 + num_classes), 1, name="yolo_output")(x)
    return Model(inputs, outputs, name=name)
