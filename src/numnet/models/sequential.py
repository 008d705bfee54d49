"""Sequential: a Model made of a stack of layers, each feeding the next.

Example:
    >>> from numnet import layers, models
    >>> model = models.Sequential([
    ...     layers.Dense(16, activation="relu", input_shape=(8,)),
    ...     layers.Dense(3, activation="softmax"),
    ... ], name="tiny")
    >>> model.count_params()
    195
    >>> _ = model.summary(print_fn=lambda text: None)
"""

from __future__ import annotations

from numnet.autograd.function import no_grad
from numnet.layers.base import Layer
from numnet.layers.input_layer import InputLayer
from numnet.layers.symbolic import SymbolicTensor, inference_mode
from numnet.models import _relu_past_pool as relu_past_pool
from numnet.models import registry
from numnet.models.model import Model


class Sequential(Model):
    """A linear stack of layers.

    The model is built, and ``summary()`` available, as soon as the input
    shape is known: from ``input_shape=`` on the first layer, a leading
    ``layers.Input(shape)``, ``build(input_shape)``, or the first batch. Building
    is a dry run on one sample of zeros (no graph, inference mode).

    Args:
        layers: the layers, in order (``layers.Input(...)`` may come first).
        name: the model's name.
        trainable: False freezes every layer.
    """

    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        object.__setattr__(self, "_stack", [])
        object.__setattr__(self, "_names", set())  # O(1) uniqueness check in add
        self._input_dtype = None
        self._output_shape = None
        for layer in layers or []:
            self.add(layer)

    @property
    def takes_strings(self) -> bool:
        """Whether the first layer takes text (then so do ``fit``/``predict``)."""
        return bool(self._stack) and self._stack[0].takes_strings

    @property
    def layers(self) -> list[Layer]:
        """The layers of the stack, in order (without the Input)."""
        return list(self._stack)

    def add(self, layer) -> None:
        """Append a layer (or a ``layers.Input`` giving the input shape).

        Raises:
            TypeError: when ``layer`` is not a Layer.
            ValueError: when its name is already used in the model.
        """
        if isinstance(layer, SymbolicTensor):
            layer = layer.layer
        if not isinstance(layer, Layer):
            raise TypeError(
                f"{self.name}.add: expected a Layer instance. Received: "
                f"{type(layer).__name__} {layer!r}"
            )
        if isinstance(layer, InputLayer):
            if self._stack:
                raise ValueError(f"{self.name}: an Input can only come first")
            self._input_dtype = layer.dtype
            self.build((None,) + tuple(layer.shape))
            return
        if layer.name in self._names:
            raise ValueError(
                f"{self.name}: all layers of a Sequential model need unique names; "
                f"{layer.name!r} is already used. Pass name=... to the layer."
            )
        # O(1) per add (a config of N layers loads in O(N)): register the new
        # layer only, and call it alone on the symbolic output built so far.
        self._stack.append(layer)
        self._names.add(layer.name)
        self._layers[f"{len(self._stack) - 1}/{layer.name}"] = layer
        first_shape = _known_input_shape(layer) if len(self._stack) == 1 else None
        if first_shape is not None:
            self.build(first_shape)
        elif self._build_input_shape is not None and self.__dict__.get("_graph_io"):
            self._extend_graph(layer)
        elif self._build_input_shape is not None:
            self.build(self._build_input_shape)

    def pop(self) -> Layer:
        """Remove and return the last layer.

        Raises:
            TypeError: when the model has no layer.
        """
        if not self._stack:
            raise TypeError(f"{self.name}: there are no layers to pop")
        layer = self._stack.pop()
        self._names.discard(layer.name)
        self._sync_children()
        if self._stack and self._build_input_shape is not None:
            self._build_graph(self._build_input_shape)
        return layer

    def _sync_children(self) -> None:
        self._layers.clear()
        for i, layer in enumerate(self._stack):
            self._layers[f"{i}/{layer.name}"] = layer

    def build(self, input_shape) -> None:
        """Build every layer by a dry run on one sample of zeros.

        Unknown sizes (None) stay unknown: the stack then runs twice, at two
        probe sizes, and an output axis that follows the input size is reported
        as None (so ``input_shape=(None, None, 3)`` builds a fully convolutional
        network, and ``(None, None)`` a variable-length sequence model).

        Args:
            input_shape: the input shape with the batch axis, e.g.
                ``(None, 28, 28, 1)`` or ``(None, None, None, 3)``.

        Raises:
            ValueError: when the stack cannot run on inputs of that shape.
        """
        shape = (None,) + tuple(input_shape)[1:]
        self._build_input_shape = shape
        self._output_shape = None
        if self._stack:
            self._build_graph(shape)
        self.built = bool(self._stack)

    def _build_graph(self, shape) -> None:
        """Call the layers on a symbolic Input: this builds them (a dry run on a
        zero sample) and defines ``inputs``/``outputs`` and each layer's
        ``input``/``output`` (the feature-extractor pattern)."""
        for layer, node in self.__dict__.get("_graph_nodes", []):
            if node in layer._inbound_nodes:  # forget the previous build's graph
                layer._inbound_nodes.remove(node)
        dtype = self._input_dtype or self.dtype
        inputs = InputLayer(shape[1:], dtype=dtype, name=f"{self.name}_input").output
        x, nodes = inputs, []
        with no_grad(), inference_mode(self):
            for layer in self._stack:
                x = layer(x)
                nodes.append((layer, layer._inbound_nodes[-1]))
        object.__setattr__(self, "_graph_nodes", nodes)
        self.inputs, self.outputs = [inputs], [x]

    def _extend_graph(self, layer) -> None:
        """Call one new layer on the symbolic output so far (builds it alone)."""
        with no_grad(), inference_mode(self):
            x = layer(self.outputs[0])
        self._graph_nodes.append((layer, layer._inbound_nodes[-1]))
        self.outputs = [x]
        self.built = True

    def call(self, x, training: bool = False):
        """Apply the layers in order (a ReLU followed by a max pool runs after
        it: ``models/_relu_past_pool.py``)."""
        stack, i = self._stack, 0
        moving = relu_past_pool.enabled()
        while i < len(stack):
            pair = stack[i : i + 2]
            if moving and len(pair) == 2 and relu_past_pool.moves_relu(*pair):
                x = relu_past_pool.call_pair(*pair, x, training)
                i += 2
            else:
                x = stack[i](x, training=training)
                i += 1
        return x

    @property
    def output_shape(self):
        """The output shape (batch axis None), once built."""
        return self.outputs[0].shape

    @property
    def input_shape(self):
        """The input shape (batch axis None), once known."""
        return self._build_input_shape

    def get_config(self) -> dict:
        """Name, layer configs and the build shape (JSON data, no weights)."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": [registry.serialize_layer(layer) for layer in self._stack],
            "build_input_shape": (
                None
                if self._build_input_shape is None
                else list(self._build_input_shape)
            ),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> Sequential:
        """Rebuild from :meth:`get_config` output (fresh weights).

        Raises:
            ValueError: for a malformed config or a layer class that is not
                numnet's own nor in ``custom_objects``.
        """
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError(
                "Sequential.from_config: expected a dict with a 'layers' list, the "
                "output of Sequential.get_config()"
            )
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for spec in config["layers"]:
            model.add(registry.deserialize_layer(spec, custom_objects))
        shape = config.get("build_input_shape")
        if shape is not None and not model.built:
            model.build(tuple(shape))
        return model


def _known_input_shape(layer):
    """The batch input shape a first layer declares: ``input_shape=`` or, for a
    built model nested in the stack, its own input shape."""
    if layer._input_shape is not None:
        return (None,) + tuple(layer._input_shape)
    if isinstance(layer, Model) and layer.built:
        shape = getattr(layer, "input_shape", None)
        if isinstance(shape, tuple):
            return (None,) + tuple(shape)[1:]
    return None
