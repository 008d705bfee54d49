"""Argument and input-shape validation shared by the built-in layers.

Errors follow Keras's templates, e.g. ``Dense: invalid value for argument
'units'. Expected a positive int. Received: units=-3`` and ``Input 0 of layer
'dense_2' is incompatible with the layer: expected axis -1 of input shape to
have value 16, but received input with shape (32, 64)``.
"""

from __future__ import annotations

import math

import numpy as np

from numnet import _registry, backend, constraints, initializers, regularizers
from numnet.autograd.tensor import Tensor
from numnet.functional.activations import ACTIVATIONS, get_activation
from numnet.functional.activations import sigmoid as _sigmoid
from numnet.functional.activations import softmax as _softmax


def as_mask(mask, dtype=bool):
    """A mask (a Tensor, a list, an array of any device) as a ``dtype`` array in
    its own namespace: a mask made on a device stays there. (Not
    ``getattr(mask, "data", mask)``: a CuPy array's ``.data`` is its pointer.)"""
    data = mask.data if isinstance(mask, Tensor) else mask
    data = data if backend.is_array(data) else np.asarray(data)
    return data.astype(dtype, copy=False)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def positive_int(owner: str, name: str, value) -> int:
    """Return ``value`` as an int, or raise the Keras-style ValueError."""
    if _is_int(value) and value > 0:
        return int(value)
    raise ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected a positive int. "
        f"Received: {name}={value!r}"
    )


def boolean(owner: str, name: str, value) -> bool:
    """Return ``value`` if it is True or False (NumPy bools too), else raise.

    Flags are never coerced: ``from_logits="auto"`` or ``use_bias=2`` is an
    error, not True.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected True or False. "
        f"Received: {name}={value!r}"
    )


def real_number(
    owner: str, name: str, value, minimum=None, *, positive=False, allow_none=False
):
    """A finite real number (not a bool), optionally > 0 or >= ``minimum``.

    NaN and infinities are refused: as a hyperparameter they silently produce
    NaN or constant outputs.
    """
    if value is None and allow_none:
        return None
    ok = (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, (bool, np.bool_))
        and math.isfinite(value)
        and (minimum is None or value >= minimum)
        and (not positive or value > 0)
    )
    if ok:
        return float(value)
    bound = " > 0" if positive else ("" if minimum is None else f" >= {minimum}")
    raise ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected a finite "
        f"number{bound}{' or None' if allow_none else ''}. Received: {name}={value!r}"
    )


def int_tuple(owner: str, name: str, value, n: int = 2, allow_zero=False) -> tuple:
    """An int or a sequence of ``n`` ints -> a tuple of ``n`` positive ints."""
    items = (value,) * n if _is_int(value) else value
    low = 0 if allow_zero else 1
    if (
        isinstance(items, (tuple, list))
        and len(items) == n
        and all(_is_int(v) and v >= low for v in items)
    ):
        return tuple(int(v) for v in items)
    kind = "non-negative" if allow_zero else "positive"
    raise ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected a {kind} int or a "
        f"tuple of {n} {kind} ints. Received: {name}={value!r}"
    )


def padding_mode(owner: str, value) -> str:
    """``"valid"`` or ``"same"`` (case-insensitive, as Keras)."""
    if isinstance(value, str) and value.lower() in ("valid", "same"):
        return value.lower()
    raise ValueError(
        f"{owner}: invalid value for argument 'padding'. Expected one of "
        f"['same', 'valid']. Received: padding={value!r}"
    )


def channels_last(owner: str, data_format) -> str:
    """Only ``channels_last`` images (N, H, W, C) are supported."""
    if data_format in (None, "channels_last"):
        return "channels_last"
    raise ValueError(
        f"{owner}: invalid value for argument 'data_format'. numnet layers are "
        f"channels-last (N, H, W, C); expected 'channels_last' or None. "
        f"Received: data_format={data_format!r}"
    )


def rate_in_unit_interval(owner: str, value) -> float:
    """A probability in [0, 1) (dropout rates)."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        if 0 <= value < 1:
            return float(value)
    raise ValueError(
        f"{owner}: invalid value for argument 'rate'. Expected a float in [0, 1). "
        f"Received: rate={value!r}"
    )


def float_input(layer, x):
    """Cast integer/bool inputs (e.g. uint8 images) to the layer's dtype, as Keras
    autocasts; float inputs pass unchanged (so no float64 leaks from int64 data)."""
    if x.dtype.kind in "biu":
        return Tensor._from_op(x.data.astype(layer.dtype))
    return x


def check_input(layer, shape, ndim=None, min_ndim=None, axes=None) -> None:
    """Raise the Keras-style incompatibility error when ``shape`` does not fit.

    Args:
        layer: the layer (its name goes into the message).
        shape: the received input shape (batch axis included).
        ndim: the exact number of axes expected, if any.
        min_ndim: the minimum number of axes, if any.
        axes: ``{axis: size}`` pairs the input must have (e.g. ``{-1: 16}``).
    """
    shape = tuple(shape)
    head = f"Input 0 of layer '{layer.name}' is incompatible with the layer: "
    if ndim is not None and len(shape) != ndim:
        raise ValueError(
            f"{head}expected ndim={ndim}, found ndim={len(shape)}. "
            f"Full shape received: {shape}" + _image_hint(ndim, shape)
        )
    if min_ndim is not None and len(shape) < min_ndim:
        raise ValueError(
            f"{head}expected min_ndim={min_ndim}, found ndim={len(shape)}. "
            f"Full shape received: {shape}"
        )
    for axis, size in (axes or {}).items():
        if size is not None and shape[axis] != size:
            channels_first = axis == -1 and len(shape) == 4 and shape[1] == size
            hint = (
                ". It looks channels-first: numnet uses channels-last (N, H, W, C); "
                "move the channels last with x.transpose(0, 2, 3, 1)"
            )
            raise ValueError(
                f"{head}expected axis {axis} of input shape to have value {size}, "
                f"but received input with shape {shape}"
                + (hint if channels_first else "")
            )


CHANNELS_LAST = (
    "numnet uses channels-last (N, H, W, C); add a channel axis with x[..., None]"
)


def _image_hint(ndim: int, shape: tuple) -> str:
    """What to do when an image layer gets an (N, H, W) batch."""
    if ndim == 4 and len(shape) == 3:
        return f". {CHANNELS_LAST}"
    return ""


def activation_name(identifier) -> str:
    """The Keras name of an activation (for ``get_config``)."""
    if identifier is None:
        return "linear"
    if isinstance(identifier, str):
        get_activation(identifier)  # validates, listing the valid names
        return identifier
    for name, fn in ACTIVATIONS.items():
        if fn is identifier:
            return name
    custom = _registry.custom_name(identifier) or getattr(identifier, "__name__", "")
    if custom.isidentifier():  # a custom function: saved by name, loaded through
        return custom  # custom_objects / custom_object_scope / registration
    raise ValueError(
        f"cannot serialise the custom activation {identifier!r}; use one of "
        f"{sorted(ACTIVATIONS)} to be able to save the layer's config"
    )


_LOGIT_KINDS = {id(_softmax): "softmax", id(_sigmoid): "sigmoid"}


def apply_activation(activation, z):
    """Apply ``activation`` to ``z``; remember ``z`` on softmax/sigmoid outputs.

    The output of ``softmax``/``sigmoid`` gets the attributes ``_logits`` (the
    pre-activation tensor) and ``_logits_activation`` (``"softmax"`` over the last
    axis, or ``"sigmoid"``), so the cross-entropy losses can use the stable fused
    form on the logits instead of ``log`` of saturated probabilities (Keras does
    the same with ``_keras_logits``).
    """
    y = activation(z)
    kind = _LOGIT_KINDS.get(id(activation))
    if kind is not None:
        y._logits = z
        y._logits_activation = kind
    return y


def get_activation_checked(owner: str, identifier):
    """Resolve an activation; the error names the layer and lists valid names."""
    try:
        return get_activation(identifier)
    except ValueError as err:
        custom = _registry.get_custom_object(identifier)
        if callable(custom):  # a custom activation named in a config
            return custom
        hint = ""
        if isinstance(identifier, str):
            hint = (
                f"; a custom function saved by name loads with "
                f"custom_objects={{{identifier!r}: fn}} or a custom_object_scope"
            )
        raise ValueError(f"{owner}: {err}{hint}") from None


def serialize_or_none(module, value, owner: str, argument: str):
    """Serialise an initializer/regularizer/constraint for ``get_config``."""
    if value is None:
        return None
    try:
        return module.serialize(value)
    except ValueError:
        raise ValueError(
            f"{owner}: cannot serialise argument '{argument}'={value!r}; only "
            f"built-in objects and names can be saved in a config"
        ) from None


def resolve(module, owner: str, argument: str, value):
    """``module.get(value)`` with the layer and argument named in the error."""
    try:
        return module.get(value)
    except ValueError as err:
        raise ValueError(f"{owner}: argument '{argument}': {err}") from None


def weight_args(owner: str, prefix: str, initializer, regularizer, constraint):
    """Resolve the (initializer, regularizer, constraint) triple of one weight."""
    return (
        resolve(initializers, owner, f"{prefix}_initializer", initializer),
        resolve(regularizers, owner, f"{prefix}_regularizer", regularizer),
        resolve(constraints, owner, f"{prefix}_constraint", constraint),
    )


def add_weight(layer, name: str, shape, args: tuple, trainable: bool = True):
    """``layer.add_weight`` with a (initializer, regularizer, constraint) triple."""
    initializer, regularizer, constraint = args
    return layer.add_weight(
        name,
        shape,
        initializer=initializer,
        trainable=trainable,
        regularizer=regularizer,
        constraint=constraint,
    )


def weight_config(owner: str, prefix: str, initializer, regularizer, constraint):
    """The config entries ``<prefix>_initializer/_regularizer/_constraint``."""
    return {
        f"{prefix}_initializer": serialize_or_none(
            initializers, initializer, owner, f"{prefix}_initializer"
        ),
        f"{prefix}_regularizer": serialize_or_none(
            regularizers, regularizer, owner, f"{prefix}_regularizer"
        ),
        f"{prefix}_constraint": serialize_or_none(
            constraints, constraint, owner, f"{prefix}_constraint"
        ),
    }
