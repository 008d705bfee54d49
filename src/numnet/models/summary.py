"""``summary()`` tables and ``layer_outputs()`` for Sequential and subclassed models.

Both run the model while recording what each top-level layer returns: every
child gets a temporary instance attribute ``call`` that wraps its class's
``call`` and keeps the output. For ``summary`` the run is a dry run on zeros
(batch of one, inference mode, no graph), so it needs the input shape; an
unbuilt model raises an error listing how to build it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from numnet.autograd.function import no_grad
from numnet.autograd.tensor import Tensor
from numnet.layers.input_layer import InputLayer
from numnet.layers.symbolic import inference_mode

_NOT_BUILT = (
    "{name}: this model has not yet been built, so its output shapes and "
    "parameter counts are unknown. Build it first, in one of these ways:\n"
    "  - give the first layer an input shape: layers.Dense(64, input_shape=(784,))\n"
    "  - start a Sequential model with layers.Input(shape=(784,))\n"
    "  - call model.build(input_shape=(None, 784))\n"
    "  - call the model on a batch of data, or fit it"
)


def _traced_layers(model) -> list:
    return [layer for layer in model.layers if not isinstance(layer, InputLayer)]


@contextlib.contextmanager
def recording(layers) -> Iterator[list]:
    """Record ``(layer, output)`` for each call of ``layers`` inside the block."""
    records: list = []

    def wrap(layer):
        original = type(layer).call

        def call(x, *args, **kwargs):
            out = original(layer, x, *args, **kwargs)
            records.append((layer, out))
            return out

        return call

    for layer in layers:
        layer.call = wrap(layer)
    try:
        yield records
    finally:
        for layer in layers:
            vars(layer).pop("call", None)


def zeros_for(input_shape, dtype):
    """A batch of one zero sample for a shape with a None batch axis (or a list)."""
    if isinstance(input_shape, list):
        return [zeros_for(s, dtype) for s in input_shape]
    shape = tuple(1 if d is None else int(d) for d in input_shape)
    return np.zeros(shape, dtype=dtype)


def _run(model, x) -> list:
    layers = _traced_layers(model)
    with no_grad(), inference_mode(model), recording(layers) as records:
        model(x, training=False)
    return records


def layer_outputs(model, x) -> list[tuple[str, np.ndarray]]:
    """``[(layer name, ndarray output)]`` for every top-level layer call."""
    return [(layer.name, _array(out)) for layer, out in _run(model, x)]


def _array(out):
    if isinstance(out, (list, tuple)):
        return [_array(o) for o in out]
    return out.data if isinstance(out, Tensor) else np.asarray(out)


def _shape_text(out) -> str:
    if isinstance(out, (list, tuple)):
        return "[" + ", ".join(_shape_text(o) for o in out) + "]"
    shape = (None,) + tuple(out.shape[1:])
    return "(" + ", ".join(str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def output_shapes(model) -> dict[int, str]:
    """id(layer) -> output shape text, from a dry run of the built model."""
    input_shape = getattr(model, "_build_input_shape", None)
    if not model.built or input_shape is None:
        raise ValueError(_NOT_BUILT.format(name=model.name))
    shapes: dict[int, str] = {}
    for layer, out in _run(model, zeros_for(input_shape, model.dtype)):
        shapes.setdefault(id(layer), _shape_text(out))
    return shapes


def format_bytes(n: int) -> str:
    """``879.04 KB`` style sizes (powers of 1024, as Keras)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"


def summary_text(model, line_length: int = 65) -> str:
    """The Keras table: ``Layer (type)``, ``Output Shape``, ``Param #``, totals.

    An unbuilt model gets what is known (its layers, with ``?`` shapes and
    ``0 (unbuilt)`` params, as Keras prints) and a note on how to build it.
    """
    built = model.built and getattr(model, "_build_input_shape", None) is not None
    shapes = output_shapes(model) if built else {}
    stops = [int(line_length * f) for f in (0.45, 0.85)] + [line_length]

    def row(cells) -> str:
        text, start = "", 0
        for cell, stop in zip(cells, stops, strict=True):
            width = stop - start
            last = stop == stops[-1]  # the last column may overflow, never cut
            cell = cell if len(cell) < width or last else cell[: width - 2] + "…"
            text += cell.ljust(width)
            start = stop
        return " " + text.rstrip()

    lines = [f'Model: "{model.name}"', "_" * line_length]
    lines += [row(["Layer (type)", "Output Shape", "Param #"]), "=" * line_length]
    layers = _traced_layers(model)
    for i, layer in enumerate(layers):
        label = f"{layer.name} ({type(layer).__name__})"
        shape = shapes.get(id(layer), "?")
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        lines.append(row([label, shape, params]))
        if i < len(layers) - 1:
            lines.append("")
    trainable = model.trainable_weights
    frozen = model.non_trainable_weights
    total = trainable + frozen

    def count(ws):
        n = sum(w.size for w in ws)
        return f"{n:,} ({format_bytes(sum(w.data.nbytes for w in ws))})"

    lines += [
        "=" * line_length,
        f"Total params: {count(total)}",
        f"Trainable params: {count(trainable)}",
        f"Non-trainable params: {count(frozen)}",
        "_" * line_length,
    ]
    if not built:
        lines.append(_NOT_BUILT.format(name=model.name))
    return "\n".join(lines)
