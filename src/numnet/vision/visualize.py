"""What conv nets learn: maximally activating patches and class saliency maps.

* :func:`top_activating_patches`: run a dataset through a trained model, find
  the images where one unit (channel) of one layer fires most, and cut out the
  part of each image that unit sees (its receptive field) (Zeiler & Fergus,
  2013; the course's "what are deep conv nets learning").
* :func:`saliency_map`: the gradient of a class score with respect to the
  input pixels, max of its absolute value over the channels (Simonyan et al.,
  2013): where a small change moves the score most.
"""

from __future__ import annotations

import math

import numpy as np

from numnet import layers
from numnet.autograd.function import no_grad
from numnet.autograd.tensor import tensor
from numnet.vision.boxes import host

# Layers that do not move pixels: the receptive field passes through them.
_POINTWISE = (
    layers.BatchNormalization,
    layers.Activation,
    layers.ReLU,
    layers.LeakyReLU,
    layers.Dropout,
    layers.InputLayer,
)


def _window(layer):
    """(kernel, stride, padding) of a conv/pool layer on one axis pair."""
    if isinstance(layer, layers.Conv2D):
        k = tuple(
            (k - 1) * d + 1
            for k, d in zip(layer.kernel_size, layer.dilation_rate, strict=True)
        )
        return k, layer.strides, layer.padding
    if isinstance(layer, (layers.MaxPooling2D, layers.AveragePooling2D)):
        return layer.pool_size, layer.strides, layer.padding
    if isinstance(layer, layers.ZeroPadding2D):
        return None
    raise ValueError(
        f"receptive_field: layer {layer.name} ({type(layer).__name__}) is not a "
        f"convolution, pooling or pointwise layer of a plain chain"
    )


def receptive_field(model, layer_name: str, image_size) -> tuple:
    """Where a unit of ``layer_name`` looks in the input image.

    Args:
        model: a chain of layers (Sequential, or a functional chain).
        layer_name: the layer whose units are studied.
        image_size: the input (H, W).

    Returns:
        ``(size, stride, offset)``, each a (rows, cols) pair: the unit at
        output position (i, j) sees the input window of ``size`` starting at
        ``(i * stride + offset)`` (negative offsets reach into the padding).
    """
    size, jump, offset = [1, 1], [1, 1], [0, 0]
    extent = list(image_size)
    for layer in model.layers:
        if not isinstance(layer, _POINTWISE):
            if isinstance(layer, layers.ZeroPadding2D):
                (top, bottom), (left, right) = layer.padding
                for a, (before, after) in enumerate(((top, bottom), (left, right))):
                    offset[a] -= before * jump[a]
                    extent[a] += before + after
            else:
                kernel, stride, padding = _window(layer)
                for a in range(2):
                    before = 0
                    if padding == "same":
                        out = math.ceil(extent[a] / stride[a])
                        before = (
                            max((out - 1) * stride[a] + kernel[a] - extent[a], 0) // 2
                        )
                        extent[a] = out
                    else:
                        extent[a] = (extent[a] - kernel[a]) // stride[a] + 1
                    offset[a] -= before * jump[a]
                    size[a] += (kernel[a] - 1) * jump[a]
                    jump[a] *= stride[a]
        if layer.name == layer_name:
            return tuple(size), tuple(jump), tuple(offset)
    raise ValueError(f"receptive_field: the model has no layer {layer_name!r}")


def _activations(model, layer_name: str, images, batch_size: int) -> np.ndarray:
    parts = []
    for start in range(0, len(images), batch_size):
        outputs = dict(model.layer_outputs(images[start : start + batch_size]))
        if layer_name not in outputs:
            raise ValueError(f"the model has no layer {layer_name!r}")
        parts.append(host(outputs[layer_name]))
    return np.concatenate(parts)


def top_activating_patches(
    model, layer_name: str, unit, images, k: int = 9, batch_size: int = 256
):
    """The ``k`` image patches on which one unit of a layer fires most.

    One patch per image (its strongest position), from the ``k`` images where
    the unit's maximum is largest.

    Args:
        model: a trained chain model.
        layer_name: a conv, pooling or activation layer (output (N, H, W, C)).
        unit: the channel of that layer, or a list of channels (the dataset
            then runs through the model once for all of them).
        images: (N, H, W, C) inputs.
        k: how many patches.
        batch_size: images per forward pass.

    Returns:
        ``(patches, values, where)``: patches (k, size_h, size_w, C) (zeros
        outside the image), the activations (k,), and (image, row, col) of each
        patch's top-left corner in the image; a list of them for a list of units.
    """
    images = np.asarray(images)
    act = _activations(model, layer_name, images, batch_size)
    units = [unit] if np.ndim(unit) == 0 else list(unit)
    if act.ndim != 4 or not all(0 <= u < act.shape[-1] for u in units):
        raise ValueError(
            f"top_activating_patches: {layer_name!r} outputs shape {act.shape}; "
            f"expected (N, H, W, C) and units in [0, C). Received: unit={unit}"
        )
    field = receptive_field(model, layer_name, images.shape[1:3])
    found = [_patches(images, act[..., u], field, k) for u in units]
    return found[0] if np.ndim(unit) == 0 else found


def _patches(images, act, field, k: int):
    size, stride, offset = field
    a = act.reshape(len(act), -1)
    best_pos = a.argmax(axis=1)
    best = np.argsort(-a[np.arange(len(a)), best_pos], kind="stable")[:k]
    rows, cols = np.unravel_index(best_pos[best], act.shape[1:3])
    top, left = rows * stride[0] + offset[0], cols * stride[1] + offset[1]
    pad = ((0, 0), (size[0], size[0]), (size[1], size[1]), (0, 0))
    padded = np.pad(images[best], pad)
    patches = np.stack(
        [
            p[t + size[0] : t + 2 * size[0], c + size[1] : c + 2 * size[1]]
            for p, t, c in zip(padded, top, left, strict=True)
        ]
    )
    values = a[best, best_pos[best]]
    return patches, values, np.stack([best, top, left], axis=1)


def saliency_map(model, images, class_index) -> np.ndarray:
    """|d score_c / d x|, max over channels: the class saliency of each pixel.

    The score is the class's pre-softmax logit when the model ends in a softmax
    (its probability saturates), else the output itself.

    Args:
        model: a classifier.
        images: (N, H, W, C).
        class_index: one class for all images, or (N,) classes.

    Returns:
        (N, H, W) float saliencies.
    """
    images = host(images)
    x = tensor(model.device.put(images.astype(model.dtype)), requires_grad=True)
    was_training = model.training
    model.eval()
    try:
        out = model(x, training=False)
    finally:
        model.train(was_training)
    score = getattr(out, "_logits", None)
    score = out if score is None else score
    classes = np.broadcast_to(np.asarray(class_index), (len(images),))
    pick = np.zeros(score.shape, dtype=score.dtype)
    pick[np.arange(len(images)), classes] = 1.0
    pick = model.device.put(pick)  # where the model's scores are
    (score * pick).sum().backward()
    with no_grad():
        grad = host(x.grad)
    return np.abs(grad).max(axis=-1)
