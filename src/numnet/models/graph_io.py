"""Functional graphs as text and data: ``summary()`` and ``get_config``/``from_config``.

A functional model's config is JSON data: the layers (class name + config, in
topological order) and the nodes (each layer call, in creation order) with their
inputs as ``[layer_name, node_index, tensor_index]`` references, where
``node_index`` counts the calls of that layer inside the model (0 for the first
call of a shared layer, 1 for the second...). Rebuilding replays the calls on
fresh symbolic inputs, so shapes are re-inferred and weights re-created; the
saving module then loads the weights by layer.
"""

from __future__ import annotations

import math

from numnet.layers.symbolic import split_call_values
from numnet.models import registry

_CONFIG_KEYS = ("layers", "nodes", "inputs", "outputs")


def _ref(model, tensor) -> list:
    return [tensor.layer.name, model._node_index[tensor.node.id], tensor.index]


def _tensor_kwargs_config(node) -> dict:
    """``{"tensor_kwargs": {name: [count, is_list]}}`` when a kwarg was symbolic."""
    if not node.tensor_kwargs:
        return {}
    return {"tensor_kwargs": {k: list(v) for k, v in node.tensor_kwargs.items()}}


def graph_config(model) -> dict:
    """The JSON-friendly description of ``model``'s graph (see the module doc)."""
    nodes = []
    for node in model._nodes:
        nodes.append(
            {
                "layer": node.layer.name,
                "inputs": [_ref(model, t) for t in node.inputs],
                "input_is_list": node.input_is_list,
                "kwargs": dict(node.kwargs),
                **_tensor_kwargs_config(node),
            }
        )
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": [
            {
                "class_name": type(layer).__name__,
                "name": layer.name,  # also when a custom get_config omits it
                "config": layer.get_config(),
            }
            for layer in model.layers
        ],
        "nodes": nodes,
        "inputs": [_ref(model, t) for t in model.inputs],
        "outputs": [_ref(model, t) for t in model.outputs],
        "input_is_list": model._input_is_list,
        "output_is_list": model._output_is_list,
    }


def rebuild_graph(config: dict, custom_objects: dict | None = None):
    """Recreate layers and replay the node calls; return (inputs, outputs, name).

    Raises:
        ValueError: when the config is missing keys or references unknown layers.
    """
    missing = [k for k in _CONFIG_KEYS if k not in config]
    if missing:
        raise ValueError(
            f"Functional.from_config: the config lacks the key(s) {missing}; "
            f"expected the output of Functional.get_config()."
        )
    layers = {}
    for spec in config["layers"]:
        layer = registry.deserialize_layer(spec, custom_objects)
        config_name = spec.get("config", {}).get("name")
        name = config_name or spec.get("name")  # the latter: get_config lacks it
        if isinstance(name, str) and name != layer.name:
            layer.name = name  # the graph refers to layers by their saved name
        layers[layer.name] = layer
    produced = {name: [] for name in layers}
    for name, layer in layers.items():
        if hasattr(layer, "output") and type(layer).__name__ == "InputLayer":
            produced[name].append([layer.output])

    def lookup(ref):
        name, node_index, tensor_index = ref
        try:
            return produced[name][node_index][tensor_index]
        except (KeyError, IndexError):
            raise ValueError(
                f"Functional.from_config: the reference {ref} points to no "
                f"recorded call (layer name, call index, output index)."
            ) from None

    for node in config["nodes"]:
        if node["layer"] not in layers:
            raise ValueError(
                f"Functional.from_config: node of unknown layer {node['layer']!r}"
            )
        tensor_kwargs = {k: tuple(v) for k, v in node.get("tensor_kwargs", {}).items()}
        x, kwargs = split_call_values(
            [lookup(ref) for ref in node["inputs"]],
            node["input_is_list"],
            tensor_kwargs,
            node["kwargs"],
        )
        out = layers[node["layer"]](x, **kwargs)
        produced[node["layer"]].append(list(out) if isinstance(out, list) else [out])
    inputs = [lookup(ref) for ref in config["inputs"]]
    outputs = [lookup(ref) for ref in config["outputs"]]
    if not config.get("input_is_list", True):
        inputs = inputs[0]
    if not config.get("output_is_list", True):
        outputs = outputs[0]
    return inputs, outputs, config.get("name")


def _layer_rows(model) -> list[tuple[str, str, str, list[str]]]:
    """(name (type), output shape, params, connections) for each layer."""
    calls = {id(layer): [] for layer in model.layers}
    for node in [t.node for t in model.inputs] + model._nodes:
        calls[id(node.layer)].append(node)
    rows = []
    for layer in model.layers:
        nodes = calls[id(layer)]
        shapes = [t.shape for node in nodes for t in node.outputs]
        shape = str(shapes[0]) if len(shapes) == 1 else str(shapes)
        links = [
            f"{t.layer.name}[{model._node_index[t.node.id]}][{t.index}]"
            for node in nodes
            for t in node.inputs
        ]
        rows.append(
            (f"{layer.name} ({type(layer).__name__})", shape,
             str(layer.count_params()), links)
        )  # fmt: skip
    return rows


def summary_text(model, line_length: int = 98) -> str:
    """The Keras-style summary table of a functional model, as a string."""
    rows = _layer_rows(model)
    widths = [int(line_length * f) for f in (0.31, 0.25, 0.11)]
    widths[0] = max(widths[0], 2 + max(len(r[0]) for r in rows))  # no truncation
    widths[1] = max(widths[1], 2 + max(len(r[1]) for r in rows))
    widths[2] = max(widths[2], 10)
    links = [len(link) for r in rows for link in r[3]]
    widths.append(max(line_length - sum(widths), 2 + max(links, default=0)))
    line_length = sum(widths)

    def fmt(cells) -> str:
        return "".join(
            (c if len(c) < w else c[: w - 2] + "…").ljust(w)
            for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    lines = [f'Model: "{model.name}"', "_" * line_length]
    lines += [fmt(["Layer (type)", "Output Shape", "Param #", "Connected to"])]
    lines.append("=" * line_length)
    for i, (label, shape, params, links) in enumerate(rows):
        lines.append(fmt([label, shape, params, links[0] if links else ""]))
        lines += [fmt(["", "", "", link]) for link in links[1:]]
        last = i == len(model.layers) - 1
        lines.append(("=" if last else "_") * line_length)
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    frozen = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    lines += [
        f"Total params: {trainable + frozen:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {frozen:,}",
        "_" * line_length,
    ]
    return "\n".join(lines)
