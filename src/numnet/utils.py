"""Keras's ``keras.utils`` helpers: labels, padding, seeding, images, the model
diagram; and PyTorch's gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``).

Example:
    >>> from numnet.utils import pad_sequences, to_categorical
    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
    array([[2, 3],
           [0, 4]], dtype=int32)
    >>> to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
"""

from __future__ import annotations

import random as _py_random

import numpy as np

from numnet import backend
from numnet._clip_grad import clip_grad_norm_, clip_grad_value_


def to_categorical(x, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels (Keras semantics).

    A trailing axis of length 1 is dropped first, so labels of shape ``(N, 1)``
    give ``(N, num_classes)``, as in Keras.

    Args:
        x: integer labels.
        num_classes: total number of classes (default ``max(x) + 1``).

    Returns:
        A float32 array of shape ``x.shape + (num_classes,)``.
    """
    from numnet.data import one_hot

    x = np.asarray(x)
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    if x.dtype.kind == "f" and x.size and np.all(x == np.round(x)):
        x = x.astype(np.int64)  # labels stored as floats, e.g. 3.0
    return one_hot(x, num_classes)


def _check_choice(name: str, value: str) -> None:
    if value not in ("pre", "post"):
        raise ValueError(
            f"pad_sequences: invalid value for argument '{name}'. Expected 'pre' or "
            f"'post'. Received: {name}={value!r}"
        )


def pad_sequences(sequences, maxlen: int | None = None, dtype="int32",
                  padding: str = "pre", truncating: str = "pre",
                  value=0.0) -> np.ndarray:  # fmt: skip
    """Pad (or cut) sequences to one length: a ``(len(sequences), maxlen)`` array.

    Keras semantics: padding and truncation both happen at the start by default
    (``"pre"``); ``maxlen=None`` means the longest sequence; an empty sequence
    becomes a row of ``value``. Sequence items may themselves be arrays (then the
    result has their shape as trailing axes).

    Args:
        sequences: a list of lists or 1-D arrays.
        maxlen: the output length.
        dtype: the output dtype (``"int32"`` as Keras; use ``"float32"`` or
            ``object`` for other data).
        padding: ``"pre"`` or ``"post"``: where to add ``value``.
        truncating: ``"pre"`` or ``"post"``: which end to cut longer sequences.
        value: the padding value.
    """
    _check_choice("padding", padding)
    _check_choice("truncating", truncating)
    arrays = [np.asarray(s) for s in sequences]
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    longest = int(lengths.max()) if len(lengths) else 0
    maxlen = longest if maxlen is None else int(maxlen)
    nonempty = [a for a in arrays if len(a)]
    sample_shape = nonempty[0].shape[1:] if nonempty else ()
    out = np.full((len(arrays), maxlen, *sample_shape), value, dtype=dtype)
    if not nonempty or maxlen == 0:
        return out
    flat = np.concatenate(nonempty)
    # Every kept element's (row, column) and its index in `flat`, all at once.
    kept = np.minimum(lengths, maxlen)
    starts = np.cumsum(lengths) - lengths
    skip = lengths - kept if truncating == "pre" else np.zeros_like(kept)
    first_col = maxlen - kept if padding == "pre" else np.zeros_like(kept)
    rows = np.repeat(np.arange(len(arrays)), kept)
    offset = np.arange(int(kept.sum())) - np.repeat(np.cumsum(kept) - kept, kept)
    out[rows, np.repeat(first_col, kept) + offset] = flat[
        np.repeat(starts + skip, kept) + offset
    ]
    return out


def set_random_seed(seed: int) -> None:
    """Seed numnet's generator, NumPy's legacy global one and Python's ``random``.

    Keras's ``utils.set_random_seed``: one call makes a script reproducible,
    including code that draws from ``np.random`` or ``random`` directly.
    """
    backend.manual_seed(seed)
    _py_random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - user scripts may use the legacy API


def array_to_img(x, data_format: str | None = None, scale: bool = True, dtype=None):
    """Convert an (H, W, C) array into a PIL image (``C`` in 1, 3, 4).

    With ``scale`` (the default) values are stretched to 0..255 as Keras does.
    PIL ships with matplotlib, numnet's plotting dependency.
    """
    from PIL import Image

    x = np.asarray(x, dtype=dtype or np.float32)
    if x.ndim != 3:
        raise ValueError(
            f"array_to_img: expected an image array of rank 3 (H, W, C). Received "
            f"shape={x.shape}; add a channel axis with x[..., None]"
        )
    if data_format == "channels_first":
        x = np.transpose(x, (1, 2, 0))
    elif data_format not in (None, "channels_last"):
        raise ValueError(
            "array_to_img: invalid value for argument 'data_format'. Expected "
            f"'channels_last' or 'channels_first'. Received: {data_format!r}"
        )
    if scale:
        x = x - x.min()
        top = x.max()
        x = x / top * 255 if top > 0 else x
    modes = {1: "L", 3: "RGB", 4: "RGBA"}
    if x.shape[-1] not in modes:
        raise ValueError(
            f"array_to_img: unsupported channel number {x.shape[-1]}. Expected 1, 3 "
            f"or 4 channels, last (channels-last). Received shape={x.shape}"
        )
    pixels = np.clip(x, 0, 255).astype(np.uint8)
    if x.shape[-1] == 1:
        pixels = pixels[..., 0]
    return Image.fromarray(pixels, modes[x.shape[-1]])


def img_to_array(img, dtype="float32") -> np.ndarray:
    """Convert a PIL image to an (H, W, C) array (Keras ``img_to_array``)."""
    x = np.asarray(img, dtype=dtype)
    return x[..., None] if x.ndim == 2 else x


def plot_model(model, to_file: str | None = "model.png", show_shapes: bool = False,
               show_layer_names: bool = True, **kwargs):  # fmt: skip
    """Draw the model's layer diagram and save it to ``to_file`` (Keras's default).

    A thin wrapper over :func:`numnet.viz.plot_model`, with Keras's argument
    names; returns the matplotlib Figure. Keras-only options that need graphviz
    (``rankdir``, ``dpi``, ``expand_nested``, ``show_dtype``) are accepted and
    ignored.
    """
    from numnet.viz import plot_model as draw

    for ignored in ("rankdir", "dpi", "expand_nested", "show_dtype",
                    "show_layer_activations", "show_trainable"):  # fmt: skip
        kwargs.pop(ignored, None)
    return draw(model, path=to_file, show_shapes=show_shapes,
                show_layer_names=show_layer_names, **kwargs)  # fmt: skip


__all__ = [
    "array_to_img",
    "clip_grad_norm_",
    "clip_grad_value_",
    "img_to_array",
    "pad_sequences",
    "plot_model",
    "set_random_seed",
    "to_categorical",
]
