"""How a :class:`numnet.models.Model` exposes its layers and its symbolic graph.

A mixin of ``Model``: ``layers``, ``get_layer`` and the ``input``/``output``/
``inputs``/``outputs`` of functional and built Sequential models.
"""

from __future__ import annotations

from numnet.layers.base import Layer


class GraphAccess:
    """The layers and symbolic inputs/outputs of a model (see :class:`Model`)."""

    @property
    def layers(self) -> list[Layer]:
        """The direct child layers, in the order they were assigned."""
        return list(self.layers_iter())

    def get_layer(self, name: str | None = None, index: int | None = None):
        """Return a layer of :attr:`layers` by name or by index (Keras).

        Raises:
            ValueError: for an unknown name or an index out of range.
        """
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"{self.name}: was asked to retrieve layer at index {index} "
                    f"but the model only has {len(layers)} layers"
                )
            return layers[index]
        if isinstance(name, int) and not isinstance(name, bool):
            return self.get_layer(index=name)
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"{self.name}: no layer named {name!r}. Available layers: "
            f"{[layer.name for layer in layers]}"
        )

    @property
    def input(self):
        """The symbolic input (a list for several inputs); see :attr:`inputs`."""
        inputs = self.inputs
        return inputs[0] if len(inputs) == 1 else inputs

    @property
    def output(self):
        """The symbolic output (a list for several outputs)."""
        outputs = self.outputs
        return outputs[0] if len(outputs) == 1 else outputs

    @property
    def inputs(self) -> list:
        """The symbolic inputs of a functional or built Sequential model."""
        graph = self.__dict__.get("_graph_io")
        if graph is None:
            raise AttributeError(
                f"{self.name}: a subclassed model has no symbolic inputs; they "
                f"exist for functional models and built Sequential models"
            )
        return graph[0]

    @inputs.setter
    def inputs(self, value) -> None:
        outputs = self.__dict__.get("_graph_io", (None, None))[1]
        object.__setattr__(self, "_graph_io", (value, outputs))

    @property
    def outputs(self) -> list:
        """The symbolic outputs of a functional or built Sequential model."""
        graph = self.__dict__.get("_graph_io")
        if graph is None or graph[1] is None:
            raise AttributeError(
                f"{self.name}: a subclassed model has no symbolic outputs; they "
                f"exist for functional models and built Sequential models"
            )
        return graph[1]

    @outputs.setter
    def outputs(self, value) -> None:
        inputs = self.__dict__.get("_graph_io", (None, None))[0]
        object.__setattr__(self, "_graph_io", (inputs, value))
