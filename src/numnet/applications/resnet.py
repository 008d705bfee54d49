"""Residual networks: identity and projection blocks, and a small ResNet.

A residual block computes ``relu(F(x) + shortcut(x))`` (He et al., 2015): the
layers only learn the residual ``F``, and the shortcut carries the signal and the
gradient straight through, which is why very deep stacks still train. Blocks are
Conv -> BatchNorm -> ReLU ("post-activation", as in the paper and the course
notes), the last ReLU after the addition:

* :func:`identity_block`: the shortcut is ``x`` itself (input and output shapes
  agree);
* :func:`convolutional_block`: the shortcut is a 1x1 convolution (+ BatchNorm)
  with stride ``strides``, projecting ``x`` to the new shape when the block
  downsamples or changes the number of channels.

``filters`` is an int for the *basic* block (two 3x3 convolutions, ResNet-18/34
and the CIFAR ResNets) or a triple ``(F1, F2, F3)`` for the *bottleneck* block of
ResNet-50 (1x1 reduce, ``kernel_size`` conv, 1x1 expand), the course's form.
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


def _branch_convs(filters, kernel_size: int) -> list[tuple[int, int]]:
    """[(filters, kernel size)] of the residual branch."""
    if isinstance(filters, int) and not isinstance(filters, bool) and filters > 0:
        return [(filters, kernel_size), (filters, kernel_size)]
    if isinstance(filters, (tuple, list)) and len(filters) == 3:
        f1, f2, f3 = (check_positive(f, "filters", "residual block") for f in filters)
        return [(f1, 1), (f2, kernel_size), (f3, 1)]
    raise ValueError(
        "residual block: invalid value for argument 'filters'. Expected a positive "
        f"int (basic block) or a triple (F1, F2, F3) (bottleneck). Received: "
        f"filters={filters!r}"
    )


def _conv_bn(x, filters, kernel_size, strides, name, regularizer):
    x = layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=False,  # BatchNorm's beta plays the bias
        kernel_initializer="he_normal",
        kernel_regularizer=regularizer,
        name=prefixed(name, "conv"),
    )(x)
    return layers.BatchNormalization(name=prefixed(name, "bn"))(x)


def _residual_branch(x, convs, strides: int, name, regularizer):
    for i, (filters, kernel_size) in enumerate(convs):
        step = f"{chr(ord('a') + i)}"
        x = _conv_bn(
            x, filters, kernel_size, strides if i == 0 else 1,
            prefixed(name, f"2{step}"), regularizer,
        )  # fmt: skip
        if i < len(convs) - 1:
            x = layers.Activation("relu", name=prefixed(name, f"2{step}_relu"))(x)
    return x


def identity_block(x, filters, kernel_size: int = 3, name: str | None = None,
                   kernel_regularizer=None):  # fmt: skip
    """A residual block whose shortcut is the identity: ``relu(F(x) + x)``.

    Args:
        x: a symbolic tensor (N, H, W, C) of a functional graph.
        filters: int (basic block, C output channels) or (F1, F2, F3) with F3 == C.
        kernel_size: the size of the middle convolution(s).
        name: prefix of the layer names (automatic names when None).
        kernel_regularizer: a regularizer for the convolution kernels.

    Returns:
        A symbolic tensor with the shape of ``x``.

    Raises:
        ValueError: when the block's output channels differ from C (use
            :func:`convolutional_block` to change the shape).

    Shape:
        input: (N, H, W, C); output: (N, H, W, C).
    """
    convs = _branch_convs(filters, kernel_size)
    if convs[-1][0] != x.shape[-1]:
        raise ValueError(
            f"identity_block: the shortcut is the identity, so the block must output "
            f"as many channels as it receives ({x.shape[-1]}). Received: "
            f"filters={filters!r}; use convolutional_block to change the shape."
        )
    y = _residual_branch(x, convs, 1, name, kernel_regularizer)
    y = layers.Add(name=prefixed(name, "add"))([y, x])
    return layers.Activation("relu", name=prefixed(name, "out"))(y)


def convolutional_block(x, filters, kernel_size: int = 3, strides: int = 2,
                        name: str | None = None, kernel_regularizer=None):  # fmt: skip
    """A residual block with a projection shortcut (1x1 conv + BatchNorm).

    The first convolution of the branch and the shortcut both use ``strides``,
    so the block halves H and W for ``strides=2`` while changing the channels.

    Args:
        x: a symbolic tensor (N, H, W, C).
        filters: int (basic block) or (F1, F2, F3) (bottleneck).
        kernel_size: the size of the middle convolution(s).
        strides: the downsampling factor.
        name: prefix of the layer names.
        kernel_regularizer: a regularizer for the convolution kernels.

    Returns:
        A symbolic tensor (N, ceil(H/s), ceil(W/s), C_out).

    Shape:
        input: (N, H, W, C); output: (N, ceil(H/strides), ceil(W/strides), C_out).
    """
    check_positive(strides, "strides", "convolutional_block")
    convs = _branch_convs(filters, kernel_size)
    y = _residual_branch(x, convs, strides, name, kernel_regularizer)
    shortcut = _conv_bn(
        x, convs[-1][0], 1, strides, prefixed(name, "1"), kernel_regularizer
    )
    y = layers.Add(name=prefixed(name, "add"))([y, shortcut])
    return layers.Activation("relu", name=prefixed(name, "out"))(y)


def small_resnet(
    input_shape=(28, 28, 1),
    num_classes: int = 10,
    stage_filters=(16, 32, 64),
    blocks_per_stage: int = 1,
    stage_strides=None,
    bottleneck: bool = False,
    kernel_regularizer=None,
    dropout: float = 0.0,
    classifier_activation: str | None = "softmax",
    name: str = "small_resnet",
) -> Model:
    """A small ResNet for 28x28 or 32x32 images (the CIFAR ResNet layout).

    stem: Conv 3x3 (``stage_filters[0]``) -> BN -> ReLU; then one stage per entry
    of ``stage_filters``, each starting with a :func:`convolutional_block`
    (stride 2; none in the first stage when the stem already has its channels)
    followed by identity blocks up to ``blocks_per_stage`` blocks; then global
    average pooling and the classifier. With the defaults it has 8 weighted
    layers (ResNet-8) and 78k parameters; ``blocks_per_stage=3`` gives
    ResNet-20 (0.27M parameters, as in the paper).

    Args:
        input_shape: one image (H, W, C).
        num_classes: the number of output units.
        stage_filters: the channels of each stage.
        blocks_per_stage: residual blocks per stage.
        stage_strides: the stride of each stage's first block (default 1 for the
            first stage, 2 for the others); ``(2, 2, 2)`` downsamples right
            after the stem, which makes wide stages affordable on 28x28 images.
        bottleneck: use (f, f, 4f) bottleneck blocks instead of basic blocks.
        kernel_regularizer: a regularizer for every convolution kernel
            (e.g. ``regularizers.L2(1e-4)``, weight decay).
        dropout: dropout rate before the classifier.
        classifier_activation: "softmax" or None (logits).
        name: the model's name.

    Returns:
        A functional ``Model``.
    """
    check_input_shape(input_shape, "small_resnet", rank=3)
    check_positive(num_classes, "num_classes", "small_resnet")
    check_positive(blocks_per_stage, "blocks_per_stage", "small_resnet")
    inputs = layers.Input(input_shape, name="image")
    x = _conv_bn(inputs, stage_filters[0], 3, 1, "stem", kernel_regularizer)
    x = layers.Activation("relu", name="stem_relu")(x)
    if stage_strides is None:
        stage_strides = (1,) + (2,) * (len(stage_filters) - 1)
    if len(stage_strides) != len(stage_filters):
        raise ValueError(
            f"small_resnet: 'stage_strides' needs one stride per stage "
            f"({len(stage_filters)}). Received: stage_strides={stage_strides!r}"
        )
    stages = zip(stage_filters, stage_strides, strict=True)
    for s, (f, stride) in enumerate(stages, start=1):
        filters = (f, f, 4 * f) if bottleneck else f
        out_channels = 4 * f if bottleneck else f
        first = 1
        if stride != 1 or out_channels != x.shape[-1]:  # projection needed
            x = convolutional_block(
                x, filters, strides=stride, name=f"stage{s}_block1",
                kernel_regularizer=kernel_regularizer,
            )  # fmt: skip
            first = 2
        for b in range(first, blocks_per_stage + 1):
            x = identity_block(
                x, filters, name=f"stage{s}_block{b}",
                kernel_regularizer=kernel_regularizer,
            )  # fmt: skip
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = classifier(x, num_classes, classifier_activation)
    return Model(inputs, outputs, name=name)
