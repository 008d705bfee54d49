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
from numnet.models import _relu_past_pool as relu_past_pool

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
    """Record ``(layer, output)`` for each call of ``layers`` inside the block
    (models run every layer as written meanwhile: no ReLU moves past a pool)."""
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
        with relu_past_pool.as_written():
            yield records
    finally:
        for layer in layers:
            vars(layer).pop("call", None)


def zeros_for(input_shape, dtype, fill: int = 1):
    """A batch of one zero sample for a shape with a None batch axis (or a list).

    Unknown (None) non-batch sizes become ``fill``.
    """
    if isinstance(input_shape, list):
        return [zeros_for(s, dtype, fill) for s in input_shape]
    batch = 1 if input_shape[0] is None else int(input_shape[0])
    shape = (batch,) + tuple(fill if d is None else int(d) for d in input_shape[1:])
    return np.zeros(shape, dtype=dtype)


# Sizes tried for unknown (None) non-batch axes, smallest pair first: a pair
# fails when the network shrinks the input below a kernel, and then the next,
# larger pair is tried. Each pair differs by at least 32, the usual total stride,
# so every axis that depends on the input size differs between the two runs
# and is reported as None.
PROBE_PAIRS = ((32, 64), (96, 160), (224, 288))


def has_unknown_sizes(input_shape) -> bool:
    """True when a non-batch axis of ``input_shape`` (or of any in a list) is None."""
    if isinstance(input_shape, list):
        return any(has_unknown_sizes(s) for s in input_shape)
    return any(d is None for d in tuple(input_shape)[1:])


def _shape_of(out):
    if isinstance(out, (list, tuple)):
        return [_shape_of(o) for o in out]
    return (None,) + tuple(out.shape[1:])


def _merge_shapes(a, b):
    if isinstance(a, list):
        return [_merge_shapes(x, y) for x, y in zip(a, b, strict=True)]
    if len(a) != len(b):
        return tuple(None for _ in a)
    return tuple(d if d == e else None for d, e in zip(a, b, strict=True))


def infer_output_shapes(run, input_shape, dtype) -> list:
    """``[(layer, output shape)]`` from dry runs, unknown sizes reported as None.

    ``run(x)`` calls the model on the zeros batch ``x`` and returns the
    ``[(layer, output)]`` records. Without unknown sizes this is one run. With
    them, the model runs twice, the unknown sizes set to each size of a
    :data:`PROBE_PAIRS` pair, and an output axis whose size differs between the
    runs is None; a pair too small for the network moves on to the next.

    Raises:
        ValueError: when no pair of probe sizes runs, with the last error.
    """
    if not has_unknown_sizes(input_shape):
        records = run(zeros_for(input_shape, dtype))
        return [(layer, _shape_of(out)) for layer, out in records]
    error = None
    for pair in PROBE_PAIRS:
        try:
            first, second = (run(zeros_for(input_shape, dtype, p)) for p in pair)
        except ValueError as err:  # too small for a kernel or a pooling window
            error = err
            continue
        return [
            (layer, _merge_shapes(_shape_of(a), _shape_of(b)))
            for (layer, a), (_, b) in zip(first, second, strict=True)
        ]
    raise ValueError(
        f"the model cannot run on inputs of shape {input_shape} (None: any size; "
        f"tried sizes up to {PROBE_PAIRS[-1][1]}): {error}. A layer that needs a "
        f"fixed size after an unknown one (Flatten -> Dense) needs a known input "
        f"size; GlobalAveragePooling2D removes the spatial axes instead."
    ) from error


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


def _shape_text(shape) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return "(" + ", ".join(str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def output_shapes(model) -> dict[int, str]:
    """id(layer) -> output shape text, from dry runs of the built model."""
    input_shape = getattr(model, "_build_input_shape", None)
    if not model.built or input_shape is None:
        raise ValueError(_NOT_BUILT.format(name=model.name))
    shapes: dict[int, str] = {}
    records = infer_output_shapes(lambda x: _run(model, x), input_shape, model.dtype)
    for layer, shape in records:
        shapes.setdefault(id(layer), _shape_text(shape))
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
