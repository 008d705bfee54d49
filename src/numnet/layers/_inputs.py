"""What a layer call does with its inputs (``Layer.__call__``).

NumPy data becomes a Tensor of the layer's dtype through the one input rule
(:func:`numnet.backend.as_input_array`) and, when the layer lives on a device,
moves there, as ``fit`` moves its batches (Keras places inputs on the model's
device). A Tensor is never moved silently (PyTorch's rule): a Tensor on
another device meets the layer's weights in an op, which names both devices.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.layers.symbolic import is_symbolic


def string_array(x):
    """``x`` as a NumPy ``str`` array if it is one (or a list of ``str``), else None."""
    if isinstance(x, np.ndarray):
        return x if x.dtype.kind == "U" else None
    if isinstance(x, (list, tuple)) and x:
        try:
            array = np.asarray(x)
        except ValueError:  # ragged: not text data
            return None
        return array if array.dtype.kind == "U" else None
    return None


def as_input(x, dtype, owner: str = "layer", strings: bool = False):
    """Tensors pass through; float arrays are cast to the layer dtype once.

    Array data goes through :func:`numnet.backend.as_input_array`, the one rule
    shared with tensors, losses and metrics (no complex, string, object or
    datetime data). A list holding Tensors, arrays or dicts is a list of inputs;
    a nested list of numbers is array data. ``strings``: the layer takes text
    (a model starting with a string preprocessing layer); a ``str`` array or
    list then passes through as a NumPy array, on the host.
    """
    if strings and string_array(x) is not None:
        return string_array(x)
    if isinstance(x, dict):
        return {k: as_input(v, dtype, owner) for k, v in x.items()}
    if isinstance(x, Tensor):
        if x.dtype.kind not in "biuf":
            backend.as_input_array(x.data, owner, "inputs")  # raises
        return x
    if isinstance(x, (list, tuple)) and is_input_list(x):
        return x
    array = backend.as_input_array(x, owner, "inputs")  # device arrays stay
    if array.dtype.kind == "f" and array.dtype != dtype:
        array = array.astype(dtype)
    return as_tensor(array)


def _target(layer):
    target = layer.__dict__.get("_device")
    return None if target is None or target.type == "cpu" else target


def to_layer_device(layer, x):
    """The call's data (after :func:`as_input`) on the layer's device: the
    Tensor made from NumPy data, NumPy arrays in a list of inputs."""
    target = _target(layer)
    if target is None:
        return x
    if isinstance(x, Tensor):  # made from the host data by as_input
        return as_tensor(target.put(x.data)) if isinstance(x.data, np.ndarray) else x
    if isinstance(x, (list, tuple)):
        return type(x)(target.put(v) if isinstance(v, np.ndarray) else v for v in x)
    if isinstance(x, dict):  # named inputs
        return {k: to_layer_device(layer, v) for k, v in x.items()}
    return x


def extra_inputs_to_device(layer, args: tuple, kwargs: dict) -> tuple:
    """NumPy arrays among a call's further arguments (MultiHeadAttention's value,
    an attention mask) on the layer's device, as Tensors; nothing else moves."""
    target = _target(layer)
    if target is None:
        return args, kwargs

    def move(v):
        return as_tensor(target.put(v)) if isinstance(v, np.ndarray) else v

    return tuple(move(a) for a in args), {k: move(v) for k, v in kwargs.items()}


def is_input_list(x) -> bool:
    """Whether a list is several inputs (Tensors, arrays of any device, dicts,
    symbolic tensors) rather than nested numbers."""
    return any(
        isinstance(v, (Tensor, dict))
        or backend.is_array(v)  # NumPy's or a device's (a multi-input batch)
        or is_symbolic(v)
        or (isinstance(v, (list, tuple)) and is_input_list(v))
        for v in x
    )


def shape_of(x):
    """The shape (or nest of shapes) ``build`` receives."""
    if isinstance(x, dict):
        return {k: shape_of(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [shape_of(v) for v in x]
    return tuple(x.shape)
