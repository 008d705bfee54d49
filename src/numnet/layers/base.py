"""Layer: the Keras lifecycle (``__init__`` -> ``build`` -> ``call``) on numnet tensors.

* ``__init__`` stores and validates the configuration;
* ``build(input_shape)`` creates the weights with :meth:`Layer.add_weight`, once,
  on the first call (shapes are inferred lazily from the first input);
* ``call(x, training=...)`` composes ``numnet.functional`` ops.

Weights, state tensors (BatchNorm's moving statistics) and child layers are
registered in insertion order, so names and ``get_weights()`` order are stable.
The train/eval flag lives on the layer (``layer.training``); ``fit``/``evaluate``
set it, and ``model.train()``/``model.eval()`` set it recursively.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Parameter, Tensor, as_tensor
from numnet.layers.symbolic import is_symbolic, symbolic_call

_name_counts: dict[str, int] = {}


def unique_name(prefix: str) -> str:
    """Return ``prefix``, then ``prefix_1``, ``prefix_2``... (Keras naming)."""
    count = _name_counts.get(prefix, 0)
    _name_counts[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names() -> None:
    """Restart automatic layer naming (``dense``, ``dense_1``, ...) from zero."""
    _name_counts.clear()


def _snake_case(name: str) -> str:
    """Keras's rule: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, GRU -> gru."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class Layer:
    """Base class of all layers.

    Args:
        name: the layer's name (default: the snake_case class name, numbered).
        trainable: False freezes every weight of the layer and its children.
        input_shape: the shape of one sample (without the batch axis), Keras style;
            lets a ``Sequential`` model build before it sees data.
        dtype: the dtype of the weights (default: ``numnet.get_default_dtype()``).

    Subclass it and implement ``build(input_shape)`` and ``call(x, training=False)``.
    """

    #: True for layers that keep the time axis and so pass a sequence mask
    #: (``tensor._keras_mask``, set by Embedding(mask_zero=True)/Masking) through.
    supports_masking = False

    def __init__(
        self, name=None, trainable=True, input_shape=None, dtype=None, **kwargs
    ):
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unexpected keyword argument(s) "
                f"{sorted(kwargs)}"
            )
        object.__setattr__(self, "_weights", {})
        object.__setattr__(self, "_layers", {})
        self.name = name or unique_name(_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.training = False
        self.built = False
        self.dtype = np.dtype(dtype) if dtype is not None else backend.floatx()
        self._input_shape = None if input_shape is None else tuple(input_shape)
        self._regularized: list = []

    def __setattr__(self, key, value):
        if isinstance(value, Layer) and key not in ("_outer",):
            self._layers[key] = value
        elif (
            isinstance(value, (list, tuple))
            and value
            and all(isinstance(v, Layer) for v in value)
        ):
            for i, v in enumerate(value):
                self._layers[f"{key}.{i}"] = v
        object.__setattr__(self, key, value)

    def add_weight(
        self,
        name: str,
        shape,
        initializer="glorot_uniform",
        trainable: bool = True,
        regularizer=None,
        constraint=None,
    ) -> Tensor:
        """Create, register and return a weight of ``shape``.

        Trainable weights are :class:`Parameter` s; non-trainable ones (moving
        statistics) are plain tensors that never require grad.
        """
        from numnet import initializers, regularizers

        init = initializers.get(initializer)
        value = np.asarray(init(tuple(shape), dtype=self.dtype), dtype=self.dtype)
        if trainable:
            weight = Parameter(value, name=f"{self.name}/{name}", dtype=self.dtype)
            weight.requires_grad = self._trainable
        else:
            weight = Tensor._from_op(value)
            weight.name = f"{self.name}/{name}"
        weight.trainable = trainable
        weight.constraint = constraint
        self._weights[name] = weight
        reg = regularizers.get(regularizer)
        if reg is not None:
            self._regularized.append((weight, reg))
        return weight

    def build(self, input_shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis included)."""
        self.built = True

    def call(self, x, training: bool = False):
        """The forward computation; override in subclasses."""
        raise NotImplementedError(f"{type(self).__name__}.call is not implemented")

    def __call__(self, x, *args, training=None, **kwargs):
        if is_symbolic(x):  # functional API: record a graph node (layers/symbolic.py)
            return symbolic_call(self, x, args, training, kwargs)
        x = _as_input(x, self.dtype, self.name)
        if not self.built:
            self.build(_shape_of(x))
            self.built = True
        if training is None:
            training = self.training
        if _accepts_training(type(self)):
            kwargs["training"] = training
        y = self.call(x, *args, **kwargs)
        if self.supports_masking:
            _pass_mask(x, y)
        return y

    def layers_iter(self) -> Iterator[Layer]:
        """Yield this layer's direct children in registration order."""
        seen = set()
        for layer in self._layers.values():
            if id(layer) not in seen:
                seen.add(id(layer))
                yield layer

    def _all_weights(self) -> list[Tensor]:
        out, seen = [], set()
        for w in self._weights.values():
            seen.add(id(w))
            out.append(w)
        for layer in self.layers_iter():
            for w in layer._all_weights():
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def weights(self) -> list[Tensor]:
        """All weights (trainable first in creation order, as Keras lists them)."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self) -> list[Parameter]:
        """The weights an optimizer updates: trainable ones of unfrozen layers."""
        return [w for w in self._all_weights() if w.trainable and w.requires_grad]

    @property
    def non_trainable_weights(self) -> list[Tensor]:
        """Frozen weights and state such as BatchNorm's moving statistics."""
        return [w for w in self._all_weights() if not (w.trainable and w.requires_grad)]

    def parameters(self) -> list[Parameter]:
        """PyTorch spelling of :attr:`trainable_weights`."""
        return self.trainable_weights

    @property
    def trainable(self) -> bool:
        """Whether the layer's weights are updated; False freezes them (recursively)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for w in self._weights.values():
            if w.trainable:
                w.requires_grad = self._trainable
        for layer in self.layers_iter():
            layer.trainable = value

    def train(self, mode: bool = True) -> Layer:
        """Set training mode on this layer and all its children; return self."""
        self.training = mode
        for layer in self.layers_iter():
            layer.train(mode)
        return self

    def eval(self) -> Layer:
        """Set inference mode (Dropout off, BatchNorm uses moving statistics)."""
        return self.train(False)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights, in Keras order and layout."""
        return [w.data.copy() for w in self._ordered_weights()]

    def _ordered_weights(self) -> list[Tensor]:
        # Keras order: trainable-at-creation first, then state, each in creation order
        all_w = self._all_weights()
        return [w for w in all_w if w.trainable] + [w for w in all_w if not w.trainable]

    def set_weights(self, weights) -> None:
        """Load ``weights`` (the list :meth:`get_weights` returns) into the layer.

        Raises:
            ValueError: when the count or a shape does not match.
        """
        targets = self._ordered_weights()
        weights = list(weights)
        if len(weights) != len(targets):
            raise ValueError(
                f"{self.name}: set_weights expected {len(targets)} arrays "
                f"({[w.name for w in targets]}), received {len(weights)}"
            )
        for target, value in zip(targets, weights, strict=True):
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(
                    f"{self.name}: weight {target.name!r} must match shape "
                    f"{target.shape}, received an array of shape {value.shape}"
                )
            target.data[...] = value

    def count_params(self) -> int:
        """The number of scalars in all weights (trainable and not)."""
        return int(sum(w.size for w in self._all_weights()))

    def regularization_loss(self):
        """The sum of the regularizer penalties of this layer and its children."""
        total = None
        for w, reg in self._all_regularized():
            term = reg(w)
            total = term if total is None else total + term
        return total

    def _all_regularized(self) -> list:
        out = list(self._regularized)
        for layer in self.layers_iter():
            out.extend(layer._all_regularized())
        return out

    def get_config(self) -> dict:
        """The constructor arguments as JSON-friendly data (no weights)."""
        config = {"name": self.name, "trainable": self.trainable}
        if self.dtype != backend.floatx():
            config["dtype"] = self.dtype.name
        if self._input_shape is not None:
            config["input_shape"] = list(self._input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """Create a layer from :meth:`get_config` output."""
        return cls(**config)

    def zero_grad(self) -> None:
        """Reset the ``.grad`` of every weight."""
        for w in self._all_weights():
            w.grad = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


_training_cache: dict[type, bool] = {}


def _accepts_training(cls: type) -> bool:
    if cls not in _training_cache:
        params = inspect.signature(cls.call).parameters
        _training_cache[cls] = "training" in params or any(
            p.kind is p.VAR_KEYWORD for p in params.values()
        )
    return _training_cache[cls]


def _as_input(x, dtype, owner: str = "layer"):
    """Tensors pass through; float arrays are cast to the layer dtype once.

    Array data goes through :func:`numnet.backend.as_input_array`, the one rule
    shared with tensors, losses and metrics (no complex, string, object or
    datetime data). A list holding Tensors, arrays or dicts is a list of inputs;
    a nested list of numbers is array data.
    """
    if isinstance(x, Tensor):
        if x.dtype.kind not in "biuf":
            backend.as_input_array(x.data, owner, "inputs")  # raises
        return x
    if isinstance(x, dict) or (isinstance(x, (list, tuple)) and _is_input_list(x)):
        return x
    array = backend.as_input_array(x, owner, "inputs")
    if array.dtype.kind == "f" and array.dtype != dtype:
        array = array.astype(dtype)
    return as_tensor(array)


def _is_input_list(x) -> bool:
    return any(
        isinstance(v, (Tensor, np.ndarray, dict))
        or is_symbolic(v)
        or (isinstance(v, (list, tuple)) and _is_input_list(v))
        for v in x
    )


def _pass_mask(x, y) -> None:
    mask = getattr(x, "_keras_mask", None)
    if (
        mask is not None
        and isinstance(y, Tensor)
        and getattr(y, "_keras_mask", None) is None
        and y.shape[: mask.ndim] == mask.shape
    ):
        y._keras_mask = mask


def _shape_of(x):
    if isinstance(x, (list, tuple)):
        return [_shape_of(v) for v in x]
    return tuple(x.shape)
