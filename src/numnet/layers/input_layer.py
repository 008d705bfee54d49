"""InputLayer and ``Input``: the entry points of a functional graph."""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.layers.base import Layer
from numnet.layers.symbolic import Node, SymbolicTensor


def _validate_shape(shape, owner: str) -> tuple:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    ok = isinstance(shape, (tuple, list)) and all(
        d is None
        or (isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0)
        for d in shape
    )
    if not ok:
        raise ValueError(
            f"{owner}: invalid value for argument 'shape'. Expected a tuple of "
            f"positive ints or None (one sample, without the batch axis). "
            f"Received: shape={shape!r}"
        )
    return tuple(None if d is None else int(d) for d in shape)


class InputLayer(Layer):
    """The layer behind ``layers.Input``: it holds the shape and dtype of one input.

    Calling it on data returns the data unchanged (cast to its dtype), so it may
    also start a ``Sequential`` model.

    Args:
        shape: the shape of one sample, without the batch axis (None = any size).
        dtype: the dtype of the data (default: ``numnet.get_default_dtype()``;
            use an integer dtype for token ids fed to an Embedding).
        name: the layer's name (default ``input_layer``, numbered).

    Shape:
        input: ``(N, *shape)``; output: the same.
    """

    def __init__(self, shape, dtype=None, name=None, **kwargs):
        shape = _validate_shape(shape, "InputLayer")
        kwargs.pop("input_shape", None)
        super().__init__(name=name, input_shape=shape, **kwargs)
        self.dtype = np.dtype(dtype) if dtype is not None else backend.floatx()
        self.shape = shape
        node = Node(self, [], False, {})
        node.outputs = [SymbolicTensor((None,) + shape, self.dtype, node, 0, self.name)]
        self._inbound_nodes.append(node)  # self.output is its symbolic tensor

    def call(self, x, training: bool = False):
        return x

    @property
    def input(self):
        """The Input's symbolic tensor (the same as :attr:`output`)."""
        return self.output

    def get_config(self) -> dict:
        """Shape, dtype and name (JSON-friendly)."""
        return {"shape": list(self.shape), "dtype": self.dtype.name, "name": self.name}


def Input(  # noqa: N802 (Keras name)
    shape=None, name=None, dtype=None, batch_size=None, batch_shape=None
) -> SymbolicTensor:
    """Create a symbolic input: the start of a functional model.

    Args:
        shape: the shape of one sample, without the batch axis, e.g. ``(28, 28, 1)``;
            use None for an axis of any size.
        batch_size: accepted for Keras compatibility; numnet's batch axis is
            always of any size.
        batch_shape: Keras's alternative to ``shape``: the shape with the batch
            axis first, e.g. ``(None, 28, 28, 1)``.
        name: the name of the input (and of its InputLayer); multi-input models
            accept ``x`` as a dict keyed by these names.
        dtype: the dtype of the data (default float32; e.g. "int64" for token ids).

    Returns:
        A :class:`~numnet.layers.symbolic.SymbolicTensor` of shape
        ``(None, *shape)``.

    Example:
        >>> from numnet import layers
        >>> x = layers.Input((28, 28, 1), name="image")
        >>> x.shape
        (None, 28, 28, 1)
    """
    if shape is None and batch_shape is not None:
        shape = tuple(batch_shape)[1:]
    if shape is None:
        raise ValueError(
            "Input: expected the argument 'shape' (one sample, without the batch "
            "axis, e.g. shape=(28, 28, 1)) or 'batch_shape'. Received neither"
        )
    return InputLayer(shape, dtype=dtype, name=name).output
