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
from numnet.layers import _keras2
from numnet.layers._inputs import (
    as_input,
    extra_inputs_to_device,
    shape_of,
    to_layer_device,
)
from numnet.layers._weights import LayerWeights, _regularizer
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


class Layer(LayerWeights):
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
    #: True for layers that take text (NumPy ``str`` arrays): the string
    #: preprocessing layers, and a Sequential model that starts with one
    takes_strings = False

    def __init__(
        self,
        name=None,
        trainable=True,
        input_shape=None,
        dtype=None,
        activity_regularizer=None,
        **kwargs,
    ):
        input_shape = _keras2.input_shape_from(type(self).__name__, input_shape, kwargs)
        object.__setattr__(self, "_weights", {})
        object.__setattr__(self, "_layers", {})
        self.name = name or unique_name(_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.training = False
        self.built = False
        self.dtype = np.dtype(dtype) if dtype is not None else backend.floatx()
        self._input_shape = None if input_shape is None else tuple(input_shape)
        self._regularized: list = []
        self._losses: list = []
        self._inbound_nodes: list = []
        self.activity_regularizer = _regularizer(activity_regularizer)

    def __setattr__(self, key, value):
        if isinstance(value, Layer) and key not in ("_outer",):
            self._layers[key] = value
        elif isinstance(value, Parameter) and not key.startswith("_"):
            # a Parameter assigned in build()/__init__ is a weight (Keras tracks
            # variables assigned as attributes)
            if all(value is not w for w in self._weights.values()):
                if not hasattr(value, "trainable"):
                    value.trainable = True
                    value.constraint = None
                self._weights[key] = value
        elif (
            isinstance(value, (list, tuple))
            and value
            and all(isinstance(v, Layer) for v in value)
        ):
            for i, v in enumerate(value):
                self._layers[f"{key}.{i}"] = v
        object.__setattr__(self, key, value)

    def add_loss(self, loss) -> None:
        """Add a scalar loss term (a Tensor) computed in ``call``, as Keras does.

        ``model.losses`` collects them from every layer after a forward pass and
        ``fit`` adds them to the compiled loss (e.g. a VAE's KL term). They are
        cleared at the start of each outermost call, so they describe the last
        forward pass only.
        """
        global _added_losses
        if not isinstance(loss, Tensor):
            loss = as_tensor(np.asarray(loss, dtype=self.dtype))
        self._losses.append(loss)
        _added_losses += 1

    @property
    def losses(self) -> list[Tensor]:
        """Losses of the last forward pass (``add_loss``, activity regularizers)
        of this layer and its children, then the weight regularization penalties."""
        out = list(self._losses)
        for layer in self._descendants():
            out.extend(layer._losses)
        out.extend(reg(w) for w, reg in self._all_regularized())
        return out

    def _descendants(self) -> list[Layer]:
        out, seen, stack = [], {id(self)}, list(self.layers_iter())
        while stack:
            layer = stack.pop(0)
            if id(layer) not in seen:
                seen.add(id(layer))
                out.append(layer)
                stack.extend(layer.layers_iter())
        return out

    def _clear_losses(self) -> None:
        self._losses.clear()
        for layer in self._descendants():
            layer._losses.clear()

    @staticmethod
    def _has_added_losses() -> bool:
        return _added_losses > 0

    def build(self, input_shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis included)."""
        self.built = True

    def call(self, x, training: bool = False):
        """The forward computation; override in subclasses."""
        raise NotImplementedError(f"{type(self).__name__}.call is not implemented")

    def __call__(self, x, *args, training=None, **kwargs):
        global _call_depth
        if isinstance(x, Tensor):  # the common case, checked first (per layer call)
            if x.data.dtype.kind not in "biuf":
                backend.as_input_array(x.data, self.name, "inputs")  # raises
        elif is_symbolic(x):  # functional API: record a graph node (symbolic.py)
            return symbolic_call(self, x, args, training, kwargs)
        else:
            x = as_input(x, self.dtype, self.name, self.takes_strings)
            x = to_layer_device(self, x)
        if (args or kwargs) and self.__dict__.get("_device") is not None:
            args, kwargs = extra_inputs_to_device(self, args, kwargs)
        if not self.built:
            self.build(shape_of(x))
            self.built = True
        if _call_depth == 0 and _added_losses:
            self._clear_losses()  # losses describe the last outermost call
        if training is None:
            training = self.training
        if _accepts_training(type(self)):
            kwargs["training"] = training
        _call_depth += 1
        try:
            if self._layers:  # an explicit training flag reaches every child
                with _training_scope(self, training):
                    y = self.call(x, *args, **kwargs)
            else:
                y = self.call(x, *args, **kwargs)
        finally:
            _call_depth -= 1
        if self.supports_masking:
            _pass_mask(x, y)
        if self.activity_regularizer is not None:
            for out in y if isinstance(y, (list, tuple)) else [y]:
                if isinstance(out, Tensor):
                    self.add_loss(self.activity_regularizer(out))
        return y

    def to(self, device) -> Layer:
        """Move every weight (and gradient) to ``device``; return self.

        Weights created later (when the layer builds) are created there too.
        ``device``: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a
        :class:`~numnet.Device`.
        """
        from numnet.backend.device import device as as_device

        target = as_device(device)
        stack = [self]
        while stack:  # every descendant, iteratively
            layer = stack.pop()
            object.__setattr__(layer, "_device", target)
            stack.extend(layer.layers_iter())
        for w in self._all_weights():
            w.data = target.put(w.data)
            if w.grad is not None:
                w.grad = target.put(w.grad)
        return self

    @property
    def device(self):
        """The device of the weights: the one given to :meth:`to`, else the
        device of the first weight, else the CPU."""
        from numnet.backend.device import device as as_device
        from numnet.backend.device import device_of

        if "_device_attribute" in self.__dict__:  # a program's own self.device
            return self.__dict__["_device_attribute"]
        target = self.__dict__.get("_device")
        if target is not None:
            return target
        weights = self._all_weights()
        return device_of(weights[0].data) if weights else as_device("cpu")

    @device.setter
    def device(self, value) -> None:
        # PyTorch programs often keep ``self.device = ...`` on their modules: a
        # plain attribute for them (it moves nothing; use .to(device) for that)
        object.__setattr__(self, "_device_attribute", value)

    def layers_iter(self) -> Iterator[Layer]:
        """Yield this layer's direct children in registration order."""
        seen = set()
        for layer in self._layers.values():
            if id(layer) not in seen:
                seen.add(id(layer))
                yield layer

    def train(self, mode: bool = True) -> Layer:
        """Set training mode on this layer and all its children; return self."""
        self.training = mode
        for layer in self.layers_iter():
            layer.train(mode)
        return self

    def eval(self) -> Layer:
        """Set inference mode (Dropout off, BatchNorm uses moving statistics)."""
        return self.train(False)

    @property
    def input(self):
        """The symbolic input of the first call of this layer in a functional graph."""
        return self._single_node("input").input_tensors

    @property
    def output(self):
        """The symbolic output of the first call of this layer in a functional graph.

        The feature-extractor pattern: ``Model(model.inputs,
        model.get_layer("conv").output)``.
        """
        return self._single_node("output").output_tensors

    def _single_node(self, what: str):
        nodes = self._inbound_nodes
        if not nodes:
            raise AttributeError(
                f"Layer {self.name!r} has never been called on a symbolic input, "
                f"so it has no defined {what}. Call it on layers.Input(...) or "
                f"give the model an input shape first."
            )
        return nodes[0]  # Keras 3: the first call's tensors

    def get_config(self) -> dict:
        """The constructor arguments as JSON-friendly data (no weights)."""
        config = {"name": self.name, "trainable": self.trainable}
        if self.activity_regularizer is not None:
            from numnet import regularizers

            config["activity_regularizer"] = regularizers.serialize(
                self.activity_regularizer
            )
        if self.dtype != backend.floatx():
            config["dtype"] = self.dtype.name
        if self._input_shape is not None:
            config["input_shape"] = list(self._input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """Create a layer from :meth:`get_config` output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


_training_cache: dict[type, bool] = {}
_call_depth = 0  # nesting of Layer.__call__ (0: outermost call)
_added_losses = 0  # how many add_loss calls ever ran (0: skip clearing)


class _training_scope:
    """Set ``training`` on a layer's children for one call when it differs from
    their flags (an explicit ``model(x, training=True)``), then restore them."""

    __slots__ = ("layer", "training", "saved")

    def __init__(self, layer, training):
        self.layer, self.training, self.saved = layer, bool(training), None

    def __enter__(self):
        if not self.layer._layers:
            return self
        changed = [c for c in self.layer._descendants() if c.training != self.training]
        if changed:
            self.saved = [(c, c.training) for c in changed]
            for c in changed:
                c.training = self.training
        return self

    def __exit__(self, *exc):
        for c, flag in self.saved or ():
            c.training = flag
        return False


def _accepts_training(cls: type) -> bool:
    accepts = _training_cache.get(cls)
    if accepts is None:
        params = inspect.signature(cls.call).parameters
        accepts = _training_cache[cls] = "training" in params or any(
            p.kind is p.VAR_KEYWORD for p in params.values()
        )
    return accepts


def _pass_mask(x, y) -> None:
    mask = getattr(x, "_keras_mask", None)
    if (
        mask is not None
        and isinstance(y, Tensor)
        and getattr(y, "_keras_mask", None) is None
        and y.shape[: mask.ndim] == mask.shape
    ):
        y._keras_mask = mask
