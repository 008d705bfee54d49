"""Functional models: a graph of layer calls built from symbolic inputs.

>>> from numnet import layers, models
>>> inputs = layers.Input((8,), name="features")
>>> hidden = layers.Dense(16, activation="relu")(inputs)
>>> class_out = layers.Dense(3, name="label")(hidden)
>>> score_out = layers.Dense(1, name="score")(hidden)
>>> model = models.Model(inputs, [class_out, score_out])
>>> model.output_names
['label', 'score']

``models.Model(inputs, outputs)`` walks the recorded :class:`Node` s back from the
outputs, checks that every path ends at one of the given inputs, and stores the
nodes in creation order, which is a topological order (a node is created after
the tensors it consumes). ``call`` replays them on real tensors. Calling the same
layer twice records two nodes with one set of weights (shared layers), and a
model is a layer, so models nest.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Tensor
from numnet.layers.symbolic import Node, SymbolicTensor
from numnet.models import _relu_past_pool as relu_past_pool
from numnet.models import graph_io
from numnet.models.model import Model


class Functional(Model):
    """A model defined by ``Model(inputs, outputs)`` over symbolic tensors.

    Args:
        inputs: a SymbolicTensor from ``layers.Input``, or a list of them.
        outputs: a SymbolicTensor computed from the inputs, or a list of them.
        name: the model's name.

    Called on a single array/Tensor (one input) or a list or a dict keyed by
    input names; returns a Tensor, or a list of Tensors when ``outputs`` is a list.

    Raises:
        ValueError: when the graph is disconnected (an output needs an Input not
            listed in ``inputs``), an input does not reach any output, or a tensor
            is listed twice.
        TypeError: when inputs/outputs are not symbolic tensors.
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._input_is_list = isinstance(inputs, (list, tuple))
        self._output_is_list = isinstance(outputs, (list, tuple))
        self.inputs = _as_tensor_list(inputs, "inputs", self.name)
        self.outputs = _as_tensor_list(outputs, "outputs", self.name)
        self._nodes = _discover_nodes(self.inputs, self.outputs, self.name)
        self._graph_layers = _unique_layers(self.inputs, self._nodes, self.name)
        self._node_index = _index_nodes(self.inputs, self._nodes)
        self._relu_pairs = relu_past_pool.graph_pairs(self._nodes, self.outputs)
        self.built = True

    @property
    def layers(self) -> list:
        """The layers of the graph in topological order, InputLayers included."""
        return list(self._graph_layers)

    @property
    def input_names(self) -> list[str]:
        """The names of the inputs (their InputLayers' names)."""
        return [t.layer.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        """Output names (the producing layers' names): the keys of dict losses."""
        names, seen = [], {}
        for t in self.outputs:
            name = t.layer.name
            if name in seen:
                seen[name] += 1
                name = f"{name}_{seen[name]}"
            else:
                seen[name] = 0
            names.append(name)
        return names

    @property
    def input_shape(self):
        """The input shape(s), batch axis None."""
        shapes = [t.shape for t in self.inputs]
        return shapes if self._input_is_list else shapes[0]

    @property
    def output_shape(self):
        """The output shape(s), batch axis None."""
        shapes = [t.shape for t in self.outputs]
        return shapes if self._output_is_list else shapes[0]

    def call(self, x, training: bool = False):
        """Run the graph on real data; see the class docstring for ``x``."""
        values = {}
        for t, value in zip(self.inputs, self._standardize(x), strict=True):
            values[id(t)] = t.layer(value)  # InputLayer casts floats to its dtype
        moved = relu_past_pool.roles(self._relu_pairs)  # models/_relu_past_pool.py
        for node in self._nodes:
            args, kwargs = node.call_arguments([values[id(t)] for t in node.inputs])
            kwargs = {"training": training, **kwargs}
            out = relu_past_pool.call_as(moved.get(node.id), node.layer, args, **kwargs)
            outs = out if node.output_is_list else (out,)
            for t, value in zip(node.outputs, outs, strict=True):
                values[id(t)] = value
        results = [values[id(t)] for t in self.outputs]
        return results if self._output_is_list else results[0]

    def _standardize(self, x) -> list:
        """Map ``x`` (array, list or dict by name) to one value per input."""
        if isinstance(x, dict):
            missing = [n for n in self.input_names if n not in x]
            if missing:
                raise ValueError(
                    f"{self.name}: missing input(s) {missing} in the dict passed "
                    f"to the model. Expected keys {self.input_names}, "
                    f"received {sorted(x)}"
                )
            x = [x[n] for n in self.input_names]
        elif not isinstance(x, (list, tuple)):
            x = [x]
        if len(x) != len(self.inputs):
            raise ValueError(
                f"{self.name}: expected {len(self.inputs)} input(s) "
                f"{self.input_names}, received {len(x)}"
            )
        for t, value in zip(self.inputs, x, strict=True):
            _check_shape(self.name, t, value)
        return list(x)

    def summary_string(self, line_length: int | None = None) -> str:
        """The layer table with a "Connected to" column, as :meth:`summary` prints."""
        return graph_io.summary_text(self, line_length or 98)

    def get_config(self) -> dict:
        """Layer configs and node connections (JSON data, no weights)."""
        return graph_io.graph_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        """Rebuild the graph from :meth:`get_config` output (fresh weights)."""
        inputs, outputs, name = graph_io.rebuild_graph(config, custom_objects)
        return cls(inputs, outputs, name=name, trainable=config.get("trainable", True))


def _as_tensor_list(value, argument: str, model_name: str) -> list[SymbolicTensor]:
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    bad = [type(v).__name__ for v in items if not isinstance(v, SymbolicTensor)]
    if not items or bad:
        raise TypeError(
            f"{model_name}: invalid value for argument '{argument}'. Expected a "
            f"symbolic tensor (from layers.Input or a layer call) or a non-empty "
            f"list of them. Received: {type(value).__name__} {bad or ''}"
        )
    if argument == "inputs" and any(t.node.inputs for t in items):
        names = [t.name for t in items if t.node.inputs]
        raise ValueError(
            f"{model_name}: every model input must come from layers.Input; "
            f"{names} are outputs of other layers."
        )
    if len({id(t) for t in items}) != len(items):
        raise ValueError(f"{model_name}: a tensor is listed twice in '{argument}'")
    return items


def _discover_nodes(inputs, outputs, model_name: str) -> list[Node]:
    """The nodes between inputs and outputs, in topological (creation) order."""
    input_ids = {id(t) for t in inputs}
    reached_inputs, found = set(), {}
    stack = [(t, None) for t in outputs]
    while stack:
        tensor, consumer = stack.pop()
        if id(tensor) in input_ids:
            reached_inputs.add(id(tensor))
            continue
        node = tensor.node
        if node.id in found:
            continue
        if not node.inputs:
            raise ValueError(
                f"{model_name}: graph disconnected. Cannot obtain the value of "
                f"{tensor.name!r} (shape {tensor.shape}) needed by "
                f"{consumer or 'the outputs'}: it comes from an Input that is not "
                f"among the model's inputs {[t.name for t in inputs]}."
            )
        found[node.id] = node
        stack.extend((t, node.layer.name) for t in node.inputs)
    unused = [t.name for t in inputs if id(t) not in reached_inputs]
    if unused:
        raise ValueError(
            f"{model_name}: input(s) {unused} are not connected to any output; "
            f"remove them from 'inputs' or use them to compute an output."
        )
    return [found[k] for k in sorted(found)]


def _unique_layers(inputs, nodes, model_name: str) -> list:
    layers, seen, names = [], set(), set()
    for layer in [t.layer for t in inputs] + [n.layer for n in nodes]:
        if id(layer) in seen:
            continue
        if layer.name in names:
            raise ValueError(
                f"{model_name}: two different layers are named {layer.name!r}; "
                f"layer names must be unique within a model."
            )
        seen.add(id(layer))
        names.add(layer.name)
        layers.append(layer)
    return layers


def _index_nodes(inputs, nodes) -> dict[int, int]:
    """node.id -> the index of that call among its layer's calls in this model."""
    counts, index = {}, {}
    for node in [t.node for t in inputs] + nodes:
        index[node.id] = counts.get(id(node.layer), 0)
        counts[id(node.layer)] = index[node.id] + 1
    return index


def _check_shape(model_name: str, t: SymbolicTensor, value) -> None:
    is_array = isinstance(value, Tensor) or backend.is_array(value)
    shape = value.shape if is_array else np.shape(value)
    expected = t.shape
    ok = len(shape) == len(expected) and all(
        e is None or e == s for e, s in zip(expected[1:], shape[1:], strict=True)
    )
    if not ok:
        raise ValueError(
            f"{model_name}: input {t.name!r} expected data of shape {expected}, "
            f"received shape {tuple(shape)}"
        )
