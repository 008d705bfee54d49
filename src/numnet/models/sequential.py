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
from numnet.models import registry
from numnet.models.model import Model
from numnet.models.summary import infer_output_shapes


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
        self._input_dtype = None
        self._output_shape = None
        for layer in layers or []:
            self.add(layer)

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
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(
                f"{self.name}: all layers of a Sequential model need unique names; "
                f"{layer.name!r} is already used. Pass name=... to the layer."
            )
        self._stack.append(layer)
        self._sync_children()
        if not self._stack[:-1] and layer._input_shape is not None:
            self.build((None,) + tuple(layer._input_shape))
        elif self._build_input_shape is not None:
            self.built = False
            self.build(self._build_input_shape)

    def pop(self) -> Layer:
        """Remove and return the last layer.

        Raises:
            TypeError: when the model has no layer.
        """
        if not self._stack:
            raise TypeError(f"{self.name}: there are no layers to pop")
        layer = self._stack.pop()
        self._sync_children()
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
            dtype = self._input_dtype or self.dtype
            try:
                records = infer_output_shapes(self._dry_run, shape, dtype)
            except ValueError as err:
                raise ValueError(f"{self.name}: {err}") from err
            self._output_shape = records[-1][1]
        self.built = bool(self._stack)

    def _dry_run(self, x) -> list:
        records = []
        with no_grad(), inference_mode(self):
            for layer in self._stack:
                x = layer(x, training=False)
                records.append((layer, x))
        return records

    @property
    def output_shape(self):
        """The output shape (batch axis None, unknown sizes None), once built."""
        if not self.built:
            raise ValueError(
                f"{self.name}: the output shape is unknown until the model is built"
            )
        return self._output_shape

    def call(self, x, training: bool = False):
        """Apply the layers in order."""
        for layer in self._stack:
            x = layer(x, training=training)
        return x

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
