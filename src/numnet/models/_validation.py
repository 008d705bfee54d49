"""Argument and data checks of compile/fit/evaluate/predict, kept out of the loops.

Every check raises a ``ValueError``/``TypeError`` that names the method, the
argument, what was expected and what was received, before any work is done.
``check_finite_inputs`` makes one pass over each floating-point input array
(``model.check_finite_inputs = False`` turns it off for data that holds NaN on
purpose, e.g. a model that masks it).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Tensor
from numnet.backend import as_input_array
from numnet.layers._inputs import string_array
from numnet.models import data_adapter as da


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def _bad(owner: str, name: str, expected: str, value) -> ValueError:
    return ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected {expected}. "
        f"Received: {name}={value!r}"
    )


def check_int(owner: str, name: str, value, minimum: int, allow_none=False):
    """An int (not a bool, not a float or string) >= ``minimum``, or None."""
    if value is None and allow_none:
        return None
    if _is_int(value) and value >= minimum:
        return int(value)
    expected = f"an int >= {minimum}" + (" or None" if allow_none else "")
    raise _bad(owner, name, expected, value)


def check_flag(owner: str, name: str, value) -> bool:
    """True or False only."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise _bad(owner, name, "True or False", value)


def check_callbacks(owner: str, callbacks) -> None:
    """None or a list/tuple of Callback instances."""
    from numnet.callbacks.base import Callback

    if callbacks is None:
        return
    if not isinstance(callbacks, (list, tuple)) or not all(
        isinstance(c, Callback) for c in callbacks
    ):
        raise _bad(owner, "callbacks", "a list of Callback instances", callbacks)


def check_class_weight(owner: str, class_weight) -> None:
    """None or ``{class index: finite weight >= 0}``."""
    if class_weight is None:
        return
    ok = isinstance(class_weight, dict) and all(
        _is_int(k) and _finite_nonneg(v) for k, v in class_weight.items()
    )
    if not ok:
        raise _bad(
            owner, "class_weight", "a dict {class index: weight >= 0}", class_weight
        )


def _finite_nonneg(value) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, np.bool_))
        and math.isfinite(value)
        and value >= 0
    )


def check_loss_weights(owner: str, loss_weights) -> None:
    """None, a finite weight >= 0, or a list/dict of them (None entries allowed)."""
    if loss_weights is None:
        return
    if isinstance(loss_weights, dict):
        values = list(loss_weights.values())
    elif isinstance(loss_weights, (list, tuple)):
        values = list(loss_weights)
    else:
        values = [loss_weights]
    if not all(v is None or _finite_nonneg(v) for v in values):
        raise _bad(
            owner,
            "loss_weights",
            "a finite number >= 0, or a list or dict of them",
            loss_weights,
        )


def _check_array_inputs(owner: str, model, x, y, sample_weight) -> None:
    if isinstance(x, (str, bytes)):
        raise TypeError(
            f"{owner}: invalid value for argument 'x'. Expected arrays, a dict of "
            f"arrays, a DataLoader or a generator of batches. Received: a string"
        )
    from numnet.models.sequential import Sequential

    if isinstance(x, dict) and isinstance(model, Sequential):
        raise TypeError(
            f"{owner}: invalid value for argument 'x'. A Sequential model takes "
            f"one input array, not a dict (a dict is for a functional model with "
            f"named inputs). Received: dict with keys {sorted(map(str, x))}"
        )
    for name, data in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        for leaf in da.flatten(data):
            raw = leaf.data if isinstance(leaf, Tensor) else leaf
            text = string_array(raw) if name == "x" and model.takes_strings else None
            array = as_input_array(raw, owner, name) if text is None else text
            if array.ndim == 0:
                raise ValueError(
                    f"{owner}: invalid value for argument '{name}'. Expected an "
                    f"array with a batch axis. Received: a scalar {name}={raw!r}"
                )
            if len(array) == 0:
                raise ValueError(
                    f"{owner}: invalid value for argument '{name}'. Expected at "
                    f"least 1 sample. Received: {name} of shape {array.shape}"
                )


def validate_fit_arguments(
    model,
    x,
    y,
    *,
    epochs,
    initial_epoch,
    steps_per_epoch,
    validation_steps,
    validation_split,
    shuffle,
    class_weight,
    sample_weight,
    callbacks,
) -> None:
    """Check every fit argument before anything runs."""
    owner = f"{model.name}.fit"
    epochs = check_int(owner, "epochs", epochs, 1)
    initial_epoch = check_int(owner, "initial_epoch", initial_epoch, 0)
    if initial_epoch >= epochs:
        raise ValueError(
            f"{owner}: initial_epoch={initial_epoch} must be smaller than "
            f"epochs={epochs} (epochs is the index of the last epoch, not a count "
            f"from initial_epoch)"
        )
    check_int(owner, "steps_per_epoch", steps_per_epoch, 1, allow_none=True)
    check_int(owner, "validation_steps", validation_steps, 1, allow_none=True)
    split_ok = (
        isinstance(validation_split, numbers.Real)
        and not isinstance(validation_split, bool)
        and 0.0 <= validation_split < 1.0
    )
    if not split_ok:
        raise _bad(owner, "validation_split", "a float in [0, 1)", validation_split)
    check_flag(owner, "shuffle", shuffle)
    check_class_weight(owner, class_weight)
    check_callbacks(owner, callbacks)
    if not da.is_batch_source(x) or isinstance(x, (str, list)):
        _check_array_inputs(owner, model, x, y, sample_weight)


def validate_evaluate_arguments(model, x, y, *, steps, callbacks, method="evaluate"):
    """Check the arguments of evaluate/predict."""
    owner = f"{model.name}.{method}"
    check_int(owner, "steps", steps, 1, allow_none=True)
    check_callbacks(owner, callbacks)
    if not da.is_batch_source(x) or isinstance(x, (str, list)):
        _check_array_inputs(owner, model, x, y, None)


def _losses_read_nan_as_missing(model) -> bool:
    """True when every compiled loss takes NaN targets as missing labels (the
    course's "?"), e.g. ``vision.LocalizationLoss``: then NaN in y is data."""
    spec = getattr(getattr(model, "compiled", None), "loss_spec", None)
    if isinstance(spec, dict):
        spec = list(spec.values())
    specs = [s for s in (spec if isinstance(spec, (list, tuple)) else [spec]) if s]
    return bool(specs) and all(
        getattr(s, "nan_targets_are_missing", False) for s in specs
    )


def check_finite_inputs(model, owner: str, **arrays) -> None:
    """Raise when a floating-point input holds NaN or inf (one pass per array).

    Args:
        model: the model; ``model.check_finite_inputs = False`` skips the check.
        owner: the method, for the message.
        **arrays: name -> array, nest of arrays or None (batch sources are
            skipped: their batches are not arrays yet).

    Raises:
        ValueError: naming the array and the index of the first bad value.
    """
    if not getattr(model, "check_finite_inputs", True):
        return
    if _losses_read_nan_as_missing(model):  # NaN targets mean "?" (unlabelled)
        arrays = {k: v for k, v in arrays.items() if k not in ("y", "validation_y")}
    for name, data in arrays.items():
        if data is None or (da.is_batch_source(data) and not isinstance(data, str)):
            continue
        for leaf in da.flatten(data):
            array = leaf.data if isinstance(leaf, Tensor) else leaf
            array = array if backend.is_array(array) else np.asarray(array)
            if array.dtype.kind != "f":
                continue
            finite = backend.get_array_module(array).isfinite(array)
            if bool(finite.all()):  # data on a device: one sync per fit
                continue
            index = tuple(int(i) for i in np.argwhere(~backend.to_host(finite))[0])
            value = backend.to_host(array[index])
            raise ValueError(
                f"{owner}: invalid value for argument '{name}'. Expected finite "
                f"values. Received: {value} at index {index} (training on "
                f"it would give NaN weights). Clean the data, or set "
                f"model.check_finite_inputs = False if you mean it."
            )
