"""One converter per numnet layer class: ``convert(graph, layer, inputs) -> output``.

Weights are written in ONNX's layouts: Dense kernels stay ``(in, out)`` for
MatMul; Conv2D kernels go from ``(KH, KW, C_in, C_out)`` to ``(C_out, C_in, KH,
KW)``; LSTM gates from Keras's ``i, f, c, o`` to ONNX's ``i, o, f, c``; GRU keeps
``z, r, h`` and maps ``reset_after=True`` to ``linear_before_reset=1``.
"""

from __future__ import annotations

import numpy as np

from numnet.onnx._graph import Graph, UnsupportedLayerError

_ACTIVATIONS = {
    "relu": "Relu",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "softplus": "Softplus",
    "softsign": "Softsign",
    "elu": "Elu",
    "selu": "Selu",
}


#: Keras activations that are one ONNX op with attributes (Keras's defaults)
_WITH_ATTRIBUTES = {
    "leaky_relu": ("LeakyRelu", {"alpha": 0.2}),
    "hard_sigmoid": ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}),  # relu6(x+3)/6
    "hard_silu": ("HardSwish", {}),
    "hard_swish": ("HardSwish", {}),
    "exponential": ("Exp", {}),
    "celu": ("Celu", {"alpha": 1.0}),
    "soft_shrink": ("Shrink", {"bias": 0.5, "lambd": 0.5}),
    "hard_shrink": ("Shrink", {"bias": 0.0, "lambd": 0.5}),
}


def _number(g: Graph, value: float, hint: str) -> str:
    return g.constant(np.float32(value), hint)


def _composed(g: Graph, x: str, name: str) -> str | None:
    """The Keras activations written as a few ONNX ops (None: not one of them)."""
    if name in ("silu", "swish"):  # x sigmoid(x)
        return g.op("Mul", [x, g.op("Sigmoid", [x], name)], name)
    if name == "mish":  # x tanh(softplus(x))
        return g.op("Mul", [x, g.op("Tanh", [g.op("Softplus", [x], name)], name)], name)
    if name in ("relu6", "hard_tanh"):
        low, high = (0.0, 6.0) if name == "relu6" else (-1.0, 1.0)
        bounds = [_number(g, low, "low"), _number(g, high, "high")]
        return g.op("Clip", [x, *bounds], name)
    if name == "log_sigmoid":  # -softplus(-x), no overflow
        return g.op("Neg", [g.op("Softplus", [g.op("Neg", [x], name)], name)], name)
    if name == "tanh_shrink":
        return g.op("Sub", [x, g.op("Tanh", [x], name)], name)
    if name == "gelu":  # the exact GELU: x (1 + erf(x / sqrt(2))) / 2
        erf = g.op("Erf", [g.op("Mul", [x, _number(g, 0.5**0.5, "c")], name)], name)
        half = g.op("Mul", [x, _number(g, 0.5, "half")], name)
        return g.op(
            "Mul", [half, g.op("Add", [erf, _number(g, 1.0, "one")], name)], name
        )
    if name == "squareplus":  # (x + sqrt(x^2 + 4)) / 2, Keras's b = 4
        root = g.op(
            "Sqrt",
            [g.op("Add", [g.op("Mul", [x, x], name), _number(g, 4.0, "b")], name)],
            name,
        )
        total = g.op("Add", [x, root], name)
        return g.op("Mul", [total, _number(g, 0.5, "half")], name)
    return None


def _activation_name(layer) -> str:
    return layer.get_config().get("activation") or "linear"


def apply_activation(g: Graph, x: str, name: str, who: str) -> str:
    """``x`` through a Keras activation given by name."""
    if name == "linear":
        return x
    layout = g.layout.get(x)
    if name == "softmax":
        x = g.in_layout(x, "nhwc")  # softmax over the channel axis (last)
        return g.op("Softmax", [x], "softmax", axis=-1)
    if name == "log_softmax":
        x = g.in_layout(x, "nhwc")
        return g.op("LogSoftmax", [x], "log_softmax", axis=-1)
    if name in _ACTIVATIONS:
        return g.set_layout(g.op(_ACTIVATIONS[name], [x], name), layout)
    if name in _WITH_ATTRIBUTES:
        op_type, attributes = _WITH_ATTRIBUTES[name]
        return g.set_layout(g.op(op_type, [x], name, **attributes), layout)
    composed = _composed(g, x, name)
    if composed is None:
        raise UnsupportedLayerError(
            f"ONNX export: layer {who!r} uses activation {name!r}, which the "
            f"exporter does not support"
        )
    return g.set_layout(composed, layout)


def dense(g: Graph, layer, x: str) -> str:
    x = g.in_layout(x, "nhwc")
    kernel, *bias = layer.get_weights()
    y = g.op("MatMul", [x, g.constant(kernel, f"{layer.name}_kernel")], layer.name)
    if bias:
        y = g.op("Add", [y, g.constant(bias[0], f"{layer.name}_bias")], layer.name)
    g.set_layout(y, "nhwc" if x in g.layout else None)  # a 4-D input stays 4-D
    return apply_activation(g, y, _activation_name(layer), layer.name)


def _conv_attrs(layer, who: str) -> dict:
    if tuple(getattr(layer, "dilation_rate", (1, 1))) != (1, 1):
        raise UnsupportedLayerError(f"ONNX export: {who!r}: dilation is not supported")
    attrs = {"strides": list(layer.strides)}
    if layer.padding == "same":
        attrs["auto_pad"] = "SAME_UPPER"  # Keras pads the extra row/column at the end
    return attrs


def conv2d(g: Graph, layer, x: str) -> str:
    x = g.in_layout(x, "nchw")
    kernel, *bias = layer.get_weights()
    w = g.constant(kernel.transpose(3, 2, 0, 1), f"{layer.name}_kernel")
    inputs = [x, w] + ([g.constant(bias[0], f"{layer.name}_bias")] if bias else [])
    y = g.op(
        "Conv",
        inputs,
        layer.name,
        kernel_shape=list(kernel.shape[:2]),
        **_conv_attrs(layer, layer.name),
    )
    g.set_layout(y, "nchw")
    return apply_activation(g, y, _activation_name(layer), layer.name)


def _depthwise(g: Graph, layer, x: str, kernel, bias) -> str:
    kh, kw, c_in, multiplier = kernel.shape
    # output channel c * multiplier + m reads input channel c (Keras's order)
    w = kernel.transpose(2, 3, 0, 1).reshape(c_in * multiplier, 1, kh, kw)
    inputs = [x, g.constant(w, f"{layer.name}_kernel")]
    inputs += [g.constant(bias[0], f"{layer.name}_bias")] if bias else []
    y = g.op(
        "Conv",
        inputs,
        layer.name,
        kernel_shape=[kh, kw],
        group=c_in,
        **_conv_attrs(layer, layer.name),
    )
    return g.set_layout(y, "nchw")


def depthwise_conv2d(g: Graph, layer, x: str) -> str:
    kernel, *bias = layer.get_weights()
    y = _depthwise(g, layer, g.in_layout(x, "nchw"), kernel, bias)
    return apply_activation(g, y, _activation_name(layer), layer.name)


def separable_conv2d(g: Graph, layer, x: str) -> str:
    """A depthwise conv, then a 1x1 pointwise conv carrying the bias."""
    depthwise, pointwise, *bias = layer.get_weights()
    y = _depthwise(g, layer, g.in_layout(x, "nchw"), depthwise, [])
    w = g.constant(pointwise.transpose(3, 2, 0, 1), f"{layer.name}_pointwise")
    inputs = [y, w] + ([g.constant(bias[0], f"{layer.name}_bias")] if bias else [])
    y = g.set_layout(g.op("Conv", inputs, layer.name, kernel_shape=[1, 1]), "nchw")
    return apply_activation(g, y, _activation_name(layer), layer.name)


def _pool(op_type: str):
    def convert(g: Graph, layer, x: str) -> str:
        x = g.in_layout(x, "nchw")
        attrs = {"kernel_shape": list(layer.pool_size), "strides": list(layer.strides)}
        if layer.padding == "same":
            attrs["auto_pad"] = "SAME_UPPER"
        return g.set_layout(g.op(op_type, [x], layer.name, **attrs), "nchw")

    return convert


def _global_pool(op_type: str):
    def convert(g: Graph, layer, x: str) -> str:
        y = g.op(op_type, [g.in_layout(x, "nchw")], layer.name)
        if layer.get_config().get("keepdims"):
            return g.set_layout(y, "nchw")
        return g.op("Flatten", [y], layer.name, axis=1)

    return convert


def batch_normalization(g: Graph, layer, x: str) -> str:
    gamma, beta, mean, var = _bn_weights(layer)
    x = g.in_layout(x, "nchw")
    names = [
        g.constant(a, f"{layer.name}_{k}")
        for k, a in zip(
            ("gamma", "beta", "mean", "var"), (gamma, beta, mean, var), strict=False
        )
    ]
    y = g.op("BatchNormalization", [x, *names], layer.name, epsilon=layer.epsilon)
    return g.set_layout(y, g.layout.get(x))


def _bn_weights(layer):
    weights = dict(
        zip(
            [w.name.split("/")[-1] for w in layer.weights],
            layer.get_weights(),
            strict=False,
        )
    )
    size = weights["moving_mean"].shape
    gamma = weights.get("gamma", np.ones(size, np.float32))
    beta = weights.get("beta", np.zeros(size, np.float32))
    return gamma, beta, weights["moving_mean"], weights["moving_variance"]


def layer_normalization(g: Graph, layer, x: str) -> str:
    x = g.in_layout(x, "nhwc")
    weights = dict(
        zip(
            [w.name.split("/")[-1] for w in layer.weights],
            layer.get_weights(),
            strict=False,
        )
    )
    if layer.get_config().get("axis") not in (-1, [-1]):
        raise UnsupportedLayerError(
            f"ONNX export: {layer.name!r}: LayerNormalization over axis other than -1"
        )
    size = next(iter(weights.values())).shape
    gamma = g.constant(weights.get("gamma", np.ones(size, np.float32)), "gamma")
    beta = g.constant(weights.get("beta", np.zeros(size, np.float32)), "beta")
    y = g.op(
        "LayerNormalization",
        [x, gamma, beta],
        layer.name,
        axis=-1,
        epsilon=layer.epsilon,
    )
    return g.set_layout(y, g.layout.get(x))


def flatten(g: Graph, layer, x: str) -> str:
    return g.op("Flatten", [g.in_layout(x, "nhwc")], layer.name, axis=1)


def reshape(g: Graph, layer, x: str) -> str:
    target = [0] + list(layer.get_config()["target_shape"])  # 0 keeps the batch
    shape = g.constant(np.array(target, np.int64), f"{layer.name}_shape")
    return g.op("Reshape", [g.in_layout(x, "nhwc"), shape], layer.name)


def identity(g: Graph, layer, x: str) -> str:
    return x  # Dropout and friends: identity at inference


def activation(g: Graph, layer, x: str) -> str:
    return apply_activation(g, x, _activation_name(layer), layer.name)


def relu_layer(g: Graph, layer, x: str) -> str:
    config = layer.get_config()
    if config.get("max_value") is not None or config.get("threshold"):
        raise UnsupportedLayerError(f"ONNX export: {layer.name!r}: ReLU with a cap")
    slope = config.get("negative_slope") or 0.0
    layout = g.layout.get(x)
    if slope:
        return g.set_layout(g.op("LeakyRelu", [x], layer.name, alpha=slope), layout)
    return g.set_layout(g.op("Relu", [x], layer.name), layout)


def leaky_relu(g: Graph, layer, x: str) -> str:
    slope = layer.get_config()["negative_slope"]
    return g.set_layout(
        g.op("LeakyRelu", [x], layer.name, alpha=slope), g.layout.get(x)
    )


def softmax_layer(g: Graph, layer, x: str) -> str:
    if layer.get_config().get("axis", -1) != -1:
        raise UnsupportedLayerError(f"ONNX export: {layer.name!r}: softmax axis != -1")
    return apply_activation(g, x, "softmax", layer.name)


def embedding(g: Graph, layer, x: str) -> str:
    (table,) = layer.get_weights()
    indices = g.op("Cast", [x], f"{layer.name}_ids", to=7)  # int64
    return g.op(
        "Gather",
        [g.constant(table, f"{layer.name}_table"), indices],
        layer.name,
        axis=0,
    )


def _merge(op_type: str):
    def convert(g: Graph, layer, xs: list[str]) -> str:
        layouts = {g.layout.get(x) for x in xs}
        want = "nchw" if layouts == {"nchw"} else "nhwc"
        xs = [g.in_layout(x, want) for x in xs]
        y = xs[0]
        for other in xs[1:]:
            y = g.op(op_type, [y, other], layer.name)
        return g.set_layout(y, g.layout.get(xs[0]))

    return convert


def average(g: Graph, layer, xs: list[str]) -> str:
    total = _merge("Add")(g, layer, xs)
    n = g.constant(np.array(len(xs), np.float32), f"{layer.name}_n")
    return g.set_layout(g.op("Div", [total, n], layer.name), g.layout.get(total))


def concatenate(g: Graph, layer, xs: list[str]) -> str:
    layouts = {g.layout.get(x) for x in xs}
    axis = layer.get_config().get("axis", -1)
    if layouts == {"nchw"} and axis in (-1, 3):
        return g.set_layout(g.op("Concat", xs, layer.name, axis=1), "nchw")
    xs = [g.in_layout(x, "nhwc") for x in xs]
    return g.set_layout(g.op("Concat", xs, layer.name, axis=axis), g.layout.get(xs[0]))
