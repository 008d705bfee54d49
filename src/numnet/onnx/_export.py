"""``export(model, path)``: walk a Sequential or functional model into an ONNX graph."""

from __future__ import annotations

import numpy as np

from numnet.onnx import _layers as L
from numnet.onnx import _recurrent as R
from numnet.onnx._graph import Graph, UnsupportedLayerError
from numnet.saving import atomic_write

#: numnet layer class -> converter(graph, layer, input name(s)) -> output name
CONVERTERS = {
    "Dense": L.dense,
    "Conv2D": L.conv2d,
    "DepthwiseConv2D": L.depthwise_conv2d,
    "SeparableConv2D": L.separable_conv2d,
    "MaxPooling2D": L._pool("MaxPool"),
    "AveragePooling2D": L._pool("AveragePool"),
    "GlobalAveragePooling2D": L._global_pool("GlobalAveragePool"),
    "GlobalMaxPooling2D": L._global_pool("GlobalMaxPool"),
    "BatchNormalization": L.batch_normalization,
    "LayerNormalization": L.layer_normalization,
    "Flatten": L.flatten,
    "Reshape": L.reshape,
    "Dropout": L.identity,
    "SpatialDropout1D": L.identity,
    "SpatialDropout2D": L.identity,
    "SpatialDropout3D": L.identity,
    "GaussianNoise": L.identity,
    "GaussianDropout": L.identity,
    "ActivityRegularization": L.identity,
    "Identity": L.identity,
    "Activation": L.activation,
    "ReLU": L.relu_layer,
    "LeakyReLU": L.leaky_relu,
    "Softmax": L.softmax_layer,
    "Embedding": L.embedding,
    "Add": L._merge("Add"),
    "Subtract": L._merge("Sub"),
    "Multiply": L._merge("Mul"),
    "Maximum": L._merge("Max"),
    "Minimum": L._merge("Min"),
    "Average": L.average,
    "Concatenate": L.concatenate,
    "SimpleRNN": R.recurrent,
    "GRU": R.recurrent,
    "LSTM": R.recurrent,
    "Bidirectional": R.bidirectional,
}


def _convert(g: Graph, layer, inputs):
    converter = CONVERTERS.get(type(layer).__name__)
    if converter is None:
        raise UnsupportedLayerError(
            f"ONNX export: layer {layer.name!r} of class {type(layer).__name__} is "
            f"not supported. Supported: {', '.join(sorted(CONVERTERS))}"
        )
    return converter(g, layer, inputs)


def _graph_input(g: Graph, onnx, tensor_shape, dtype, name: str):
    shape = ["N"] + [
        d if d is not None else f"{name}_d{i}"
        for i, d in enumerate(tensor_shape[1:], 1)
    ]
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    g.set_layout(name, "nhwc" if len(shape) == 4 else None)
    return onnx.helper.make_tensor_value_info(name, elem, shape)


def _walk_sequential(g: Graph, model, x: str) -> list[str]:
    for layer in model.layers:
        if type(layer).__name__ != "InputLayer":
            x = _walk_layer(g, layer, x)
    return [x]


def _walk_layer(g: Graph, layer, x):
    if type(layer).__name__ == "Sequential":
        return _walk_sequential(g, layer, x)[0]
    if hasattr(layer, "_nodes"):  # a nested functional model
        return _walk_functional(g, layer, x if isinstance(x, list) else [x])[0]
    return _convert(g, layer, x)


def _walk_functional(g: Graph, model, inputs: list[str]) -> list[str]:
    names = {id(t): name for t, name in zip(model.inputs, inputs, strict=False)}
    for node in model._nodes:
        args = [names[id(t)] for t in node.inputs]
        out = _walk_layer(g, node.layer, args if node.input_is_list else args[0])
        outs = out if isinstance(out, list) else [out]
        for tensor, name in zip(node.outputs, outs, strict=False):
            names[id(tensor)] = name
    return [names[id(t)] for t in model.outputs]


def _model_inputs(model):
    if hasattr(model, "_nodes"):
        return [(t.shape, t.dtype) for t in model.inputs]
    shape = model.get_config().get("build_input_shape")
    if shape is None:
        raise ValueError("ONNX export: build the model first (call it or fit it)")
    first = model.layers[0]
    dtype = "int64" if type(first).__name__ == "Embedding" else "float32"
    return [(tuple(shape), dtype)]


def _output_ranks(model, specs) -> list[int]:
    """The rank of each output, from one dry run on a batch of zeros."""
    batch = [
        np.zeros((1,) + tuple(d or 1 for d in shape[1:]), dtype)
        for shape, dtype in specs
    ]
    y = model.predict(batch if len(batch) > 1 else batch[0], verbose=0)
    return [np.ndim(out) for out in (y if isinstance(y, list) else [y])]


def export(model, path, opset: int = 17) -> None:
    """Write a built numnet Sequential or functional model as an ONNX file.

    Args:
        model: the model; every layer must be one the exporter knows.
        path: the ``.onnx`` file to write (atomically).
        opset: the ONNX opset, 17 or newer (LayerNormalization needs 17).

    The graph's inputs are named ``input`` (or ``input_0``, ``input_1``, ... for
    several), its outputs ``output`` (``output_0``, ...); the batch axis is
    dynamic. Images stay channels-last at the graph's boundary.

    Raises:
        UnsupportedLayerError: naming the first layer or setting not supported.
        ImportError: without the ``onnx`` package (``pip install "numnet[onnx]"``).
    """
    try:
        import onnx
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "ONNX export needs onnx: pip install 'numnet[onnx]'"
        ) from error
    if opset < 17:
        raise ValueError(f"ONNX export: opset must be 17 or newer. Received: {opset}")
    g = Graph(onnx.helper, onnx.numpy_helper)
    specs = _model_inputs(model)
    in_names = (
        ["input"] if len(specs) == 1 else [f"input_{i}" for i in range(len(specs))]
    )
    inputs = [
        _graph_input(g, onnx, s, d, n)
        for (s, d), n in zip(specs, in_names, strict=False)
    ]
    if hasattr(model, "_nodes"):
        outs = _walk_functional(g, model, in_names)
    else:
        outs = _walk_sequential(g, model, in_names[0])
    out_names = (
        ["output"] if len(outs) == 1 else [f"output_{i}" for i in range(len(outs))]
    )
    outputs = []
    for out, name, rank in zip(
        outs, out_names, _output_ranks(model, specs), strict=False
    ):
        g.nodes.append(
            onnx.helper.make_node("Identity", [g.in_layout(out, "nhwc")], [name])
        )
        shape = ["N"] + [f"{name}_d{i}" for i in range(1, rank)]
        outputs.append(
            onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, shape)
        )
    graph = onnx.helper.make_graph(g.nodes, model.name, inputs, outputs, g.initializers)
    proto = onnx.helper.make_model(
        graph,
        opset_imports=[onnx.helper.make_opsetid("", opset)],
        producer_name="numnet",
    )
    onnx.checker.check_model(proto)
    atomic_write(path, lambda f: f.write(proto.SerializeToString()))
