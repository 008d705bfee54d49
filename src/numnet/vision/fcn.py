"""The convolutional implementation of sliding windows.

A classifier trained on fixed-size crops (convolutions and pooling, then
``Flatten`` and ``Dense`` layers) becomes fully convolutional by turning its
dense layers into convolutions with the same weights:

* the first ``Dense(U)`` after ``Flatten`` sees an (H, W, C) map; it becomes
  ``Conv2D(U, (H, W))`` whose kernel is the dense kernel reshaped to
  (H, W, C, U) (``Flatten`` is row-major over (H, W, C), the layout of a conv
  kernel, so no transpose is needed);
* each later ``Dense(U)`` becomes a 1x1 ``Conv2D(U, 1)``.

Run on a larger image, the converted model returns a map: the entry (i, j) is
the classifier's output on the crop at (i * stride, j * stride), where the
stride is the product of the network's strides. The windows share their
convolutions, so the whole map costs about one pass over the image instead of
one pass per window (the course's "convolutional implementation of sliding
windows", OverFeat). The equality is exact when every convolution and pooling
layer uses ``padding="valid"`` (a "same" layer pads the crop's border, which
inside a larger image holds real pixels).
"""

from __future__ import annotations

import numpy as np

from numnet import layers
from numnet.autograd.function import no_grad
from numnet.models import Sequential

# Layers that act on each position alike and so slide unchanged.
_SLIDING = (
    layers.Conv2D,
    layers.MaxPooling2D,
    layers.AveragePooling2D,
    layers.BatchNormalization,
    layers.Activation,
    layers.ReLU,
    layers.Dropout,
)


def _chain(model) -> list:
    stack = [
        layer for layer in model.layers if not isinstance(layer, layers.InputLayer)
    ]
    if not stack:
        raise ValueError("to_fully_convolutional: the model has no layers")
    return stack


def _clone(layer):
    config = {k: v for k, v in layer.get_config().items() if k != "input_shape"}
    return type(layer).from_config(config)


def _dense_as_conv(dense, in_shape) -> tuple:
    """(Conv2D layer, its kernel) equal to ``dense`` on an (H, W, C) input."""
    h, w, c = in_shape
    config = dense.get_config()
    conv = layers.Conv2D(
        dense.units,
        (h, w),
        activation=config["activation"],
        use_bias=dense.use_bias,
        name=dense.name,
    )
    kernel = dense.kernel.data.reshape(h, w, c, dense.units)
    weights = [kernel] + ([dense.bias.data] if dense.use_bias else [])
    return conv, weights


def to_fully_convolutional(model, channels: int | None = None) -> Sequential:
    """Turn a crop classifier into a fully convolutional ``Sequential`` model.

    Args:
        model: a built ``Sequential`` (or a functional model that is a plain
            chain) of conv, pooling, BatchNormalization, activation and dropout
            layers, then ``Flatten`` and ``Dense`` layers.
        channels: the image channels (default: the model's input channels).

    Returns:
        A ``Sequential`` model with input ``(None, None, channels)`` whose
        output on an (H, W) image is a map (N, OH, OW, units): the classifier's
        output for every crop position, a stride apart. It holds copies of
        the weights.

    Raises:
        ValueError: for an unbuilt model or a layer that does not slide (e.g.
            global pooling, which would pool the whole image).
    """
    stack = _chain(model)
    input_shape = getattr(model, "input_shape", None)
    if not model.built or input_shape is None:
        raise ValueError(
            "to_fully_convolutional: the model must be built on its crop size "
            "first (give an input_shape or call model.build)"
        )
    input_shape = tuple(
        input_shape[0] if isinstance(input_shape, list) else input_shape
    )
    channels = channels or input_shape[-1]
    x = np.zeros((1,) + input_shape[1:], dtype=model.dtype)
    converted, weights, after_flatten = [], [], False
    with no_grad():
        for layer in stack:
            in_shape = x.shape[1:]
            x = layer(x, training=False)
            if isinstance(layer, layers.Flatten):
                if len(in_shape) != 3:
                    raise ValueError(
                        f"to_fully_convolutional: {layer.name} must flatten an "
                        f"(H, W, C) map. Received: {in_shape}"
                    )
                flat_shape, after_flatten = in_shape, True
                continue
            if isinstance(layer, layers.Dense) and after_flatten:
                conv, w = _dense_as_conv(layer, flat_shape)
                flat_shape = (1, 1, layer.units)
            elif isinstance(layer, _SLIDING) or (
                isinstance(layer, layers.Dense) and not after_flatten
            ):
                conv, w = _clone(layer), layer.get_weights()
            else:
                raise ValueError(
                    f"to_fully_convolutional: layer {layer.name} "
                    f"({type(layer).__name__}) does not slide over an image; "
                    f"expected conv, pooling, BatchNormalization, activation, "
                    f"Dropout, Flatten and Dense layers"
                )
            converted.append(conv)
            weights.append(w)
    fcn = Sequential(
        [layers.Input((None, None, channels))] + converted, name=f"{model.name}_fcn"
    )
    for layer, w in zip(converted, weights, strict=True):
        layer.set_weights(w)
    return fcn


def sliding_window_scores(model, images, window: int, stride: int, batch_size=256):
    """Run ``model`` on every ``window`` x ``window`` crop, ``stride`` apart.

    The explicit loop of the course's sliding-window detector (the baseline
    that :func:`to_fully_convolutional` replaces): crops are cut with a strided
    view and classified in batches.

    Args:
        model: a classifier of ``window`` x ``window`` crops.
        images: (N, H, W, C).
        window: the crop size.
        stride: the step between crops.
        batch_size: crops per ``predict`` batch.

    Returns:
        (N, OH, OW, units) with OH = (H - window) // stride + 1 (OW alike).
    """
    images = np.asarray(images)
    view = np.lib.stride_tricks.sliding_window_view(images, (window, window), (1, 2))
    view = view[:, ::stride, ::stride]  # (N, OH, OW, C, window, window)
    n, oh, ow = view.shape[:3]
    crops = np.moveaxis(view, 3, -1).reshape((-1, window, window, images.shape[-1]))
    scores = model.predict(crops, batch_size=batch_size, verbose=0)
    return scores.reshape((n, oh, ow, -1))
