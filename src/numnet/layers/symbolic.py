"""Symbolic tensors: the graph-recording half of the Keras functional API.

``layers.Input(shape)`` returns a :class:`SymbolicTensor`: a placeholder with a
shape (batch axis ``None``), a dtype and a history (the layer and the
:class:`Node` that produced it). Calling any layer on symbolic inputs does not
compute anything: ``Layer.__call__`` hands the call to :func:`symbolic_call`,
which records a ``Node`` (layer, inputs, constant keyword arguments) and returns
new symbolic outputs. ``models.Model(inputs, outputs)`` then walks the nodes back
from the outputs and replays them on real tensors.

Output shapes are found by running the layer once on a zeros batch of size 1 in
inference mode under ``no_grad()`` (so BatchNorm statistics are untouched and
the layer gets built, as in Keras). No layer needs a ``compute_output_shape``.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
from collections.abc import Iterator

import numpy as np

from numnet.autograd.function import no_grad
from numnet.autograd.tensor import Tensor

_node_ids = itertools.count()

# Sizes substituted for unknown (None) non-batch axes during the dry run; an
# output axis whose size differs between the two runs is reported as None.
_PROBE_SIZES = (32, 40)


class SymbolicTensor:
    """A placeholder for a batch of data flowing through a functional graph.

    Attributes:
        shape: the shape, batch axis first and ``None`` (unknown axes are None).
        dtype: the NumPy dtype of the values it stands for.
        node: the :class:`Node` that produced it.
        index: which output of that node it is.
        name: a readable name, ``"<layer name>/<index>"`` or the Input's name.
    """

    def __init__(self, shape, dtype, node: Node, index: int = 0, name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.index = index
        self.name = name or f"{node.layer.name}/{index}"

    @property
    def ndim(self) -> int:
        """The number of axes, batch axis included."""
        return len(self.shape)

    @property
    def layer(self):
        """The layer whose call produced this tensor."""
        return self.node.layer

    def __repr__(self) -> str:
        return (
            f"<SymbolicTensor shape={self.shape} dtype={self.dtype} name={self.name!r}>"
        )

    def __array__(self, *args, **kwargs):
        raise TypeError(
            f"SymbolicTensor {self.name!r} has no value: it is a placeholder of a "
            "functional model. Call layers on it (use layers.Lambda for custom "
            "operations) and build models.Model(inputs, outputs)."
        )

    def _no_math(self, *args):
        raise TypeError(
            f"SymbolicTensor {self.name!r}: arithmetic on placeholders is not "
            "recorded. Use merge layers (layers.Add, layers.Multiply, ...) or "
            "layers.Lambda inside a functional model."
        )

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _no_math
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __neg__ = _no_math
    __pow__ = __getitem__ = _no_math
    __hash__ = object.__hash__


class Node:
    """One call of a layer inside a graph: which inputs, which outputs.

    Attributes:
        layer: the layer that was called.
        inputs: the flat list of input :class:`SymbolicTensor` s (empty for Input):
            those of the first argument, then those of the symbolic keyword
            arguments (e.g. ``initial_state``) in ``tensor_kwargs`` order.
        input_is_list: whether the layer received a list (merge layers) or a tensor.
        kwargs: the constant keyword arguments of the call (e.g. ``training``).
        tensor_kwargs: ``{name: (count, is_list)}`` for keyword arguments that
            were symbolic; their tensors follow the first argument's in ``inputs``.
        outputs: the flat list of output symbolic tensors.
        output_is_list: whether the layer returned a list/tuple.
        id: a global creation counter; creation order is a topological order.
    """

    def __init__(
        self, layer, inputs, input_is_list: bool, kwargs: dict, tensor_kwargs=None
    ):
        self.layer = layer
        self.inputs = list(inputs)
        self.input_is_list = input_is_list
        self.kwargs = dict(kwargs)
        self.tensor_kwargs = dict(tensor_kwargs or {})
        self.outputs: list[SymbolicTensor] = []
        self.output_is_list = False
        self.id = next(_node_ids)

    @property
    def input_tensors(self):
        """The symbolic input(s): one tensor, or a list for a list call."""
        return list(self.inputs) if self.input_is_list else self.inputs[0]

    @property
    def output_tensors(self):
        """The symbolic output(s): one tensor, or a list for several outputs."""
        return list(self.outputs) if self.output_is_list else self.outputs[0]

    @property
    def parents(self) -> list[Node]:
        """The nodes that produced this node's inputs."""
        return [t.node for t in self.inputs]

    def __repr__(self) -> str:
        return f"<Node {self.layer.name} #{self.id}>"

    def call_arguments(self, values: list) -> tuple:
        """Split values aligned with ``inputs`` into (first argument, kwargs)."""
        return split_call_values(
            values, self.input_is_list, self.tensor_kwargs, self.kwargs
        )


def split_call_values(values, input_is_list, tensor_kwargs, kwargs) -> tuple:
    """Rebuild a call's first argument and keyword arguments from flat values.

    ``values`` holds the first argument's tensors, then each symbolic keyword
    argument's (``tensor_kwargs`` maps its name to ``(count, is_list)``).
    """
    n_tensor_kwargs = sum(count for count, _ in tensor_kwargs.values())
    n_main = len(values) - n_tensor_kwargs
    x = list(values[:n_main]) if input_is_list else values[0]
    kwargs, start = dict(kwargs), n_main
    for name, (count, is_list) in tensor_kwargs.items():
        chunk = list(values[start : start + count])
        kwargs[name] = chunk if is_list else chunk[0]
        start += count
    return x, kwargs


def is_symbolic(x) -> bool:
    """True when ``x`` is a SymbolicTensor or a list/tuple holding one."""
    if isinstance(x, SymbolicTensor):
        return True
    return isinstance(x, (list, tuple)) and any(
        isinstance(v, SymbolicTensor) for v in x
    )


def symbolic_call(layer, x, args: tuple, training, kwargs: dict):
    """Record ``layer(x, *args, training=training, **kwargs)`` as a graph node.

    Called by ``Layer.__call__`` when its input is symbolic. The layer is built
    and its output shapes are inferred by a dry run (see the module docstring).

    Returns:
        A SymbolicTensor, or a list of them when the layer returns several outputs.

    Extra positional arguments are recorded by the name of the matching
    parameter of ``layer.call`` (``mha(q, v)`` records ``value=v``); symbolic
    keyword arguments become node inputs (``initial_state=[h, c]``).

    Raises:
        TypeError: when a list input mixes symbolic tensors with other values, or
            when more positional arguments are given than ``layer.call`` takes.
    """
    inputs, input_is_list = _flatten_inputs(layer, x)
    kwargs = {**_positional_as_keywords(layer, args), **kwargs}
    tensor_kwargs = {}
    for name in [k for k, v in kwargs.items() if is_symbolic(v)]:
        flat, is_list = _flatten_inputs(layer, kwargs.pop(name), name)
        inputs.extend(flat)
        tensor_kwargs[name] = (len(flat), is_list)
    if training is not None:
        kwargs = {**kwargs, "training": bool(training)}
    node = Node(layer, inputs, input_is_list, kwargs, tensor_kwargs)
    outputs, output_is_list = _infer_outputs(node)
    node.outputs = [
        SymbolicTensor(shape, dtype, node, i)
        for i, (shape, dtype) in enumerate(outputs)
    ]
    node.output_is_list = output_is_list
    if hasattr(layer, "_inbound_nodes"):
        layer._inbound_nodes.append(node)  # Layer.input / Layer.output
    return list(node.outputs) if output_is_list else node.outputs[0]


def _positional_as_keywords(layer, args: tuple) -> dict:
    """Name extra positional call arguments after ``layer.call``'s parameters."""
    if not args:
        return {}
    params = list(inspect.signature(layer.call).parameters.values())[1:]
    # ``training`` is a mode flag, never data: skip it (Keras's RNN signature
    # ``call(x, initial_state, ...)`` then maps ``lstm(x, [h, c])`` as Keras does)
    named = [
        p for p in params if p.kind == p.POSITIONAL_OR_KEYWORD and p.name != "training"
    ]
    if len(args) > len(named):
        raise TypeError(
            f"{layer.name}: {type(layer).__name__}.call takes at most "
            f"{len(named) + 1} positional argument(s). Received {len(args) + 1}."
        )
    return {p.name: value for p, value in zip(named[: len(args)], args, strict=True)}


def _flatten_inputs(layer, x, argument=None) -> tuple[list[SymbolicTensor], bool]:
    if isinstance(x, SymbolicTensor):
        return [x], False
    bad = [type(v).__name__ for v in x if not isinstance(v, SymbolicTensor)]
    if bad:
        where = f"argument '{argument}'" if argument else "a list input"
        raise TypeError(
            f"{layer.name}: {where} of a functional graph must contain only "
            f"symbolic tensors (from layers.Input or other layer calls). "
            f"Received elements of type {bad}."
        )
    return list(x), True


def _infer_outputs(node: Node):
    """Dry-run the layer on zeros; return ([(shape, dtype)...], output_is_list)."""
    unknown = any(d is None for t in node.inputs for d in t.shape[1:])
    runs = [_dry_run(node, size) for size in (_PROBE_SIZES if unknown else (None,))]
    first, is_list = runs[0]
    shapes = []
    for i, array in enumerate(first):
        dims = [None] + list(array.shape[1:])
        for other, _ in runs[1:]:
            dims = [
                d if d is None or d == o else None
                for d, o in zip(dims, (None,) + other[i].shape[1:], strict=True)
            ]
        shapes.append((tuple(dims), array.dtype))
    return shapes, is_list


def _dry_run(node: Node, probe: int | None):
    values = []
    target = node.layer.__dict__.get("_device")  # the layer's device (Layer.to)
    for t in node.inputs:
        shape = (1,) + tuple(probe if d is None else d for d in t.shape[1:])
        zeros = np.zeros(shape, dtype=t.dtype)
        values.append(Tensor._from_op(zeros if target is None else target.put(zeros)))
    x, kwargs = node.call_arguments(values)
    kwargs["training"] = False
    with no_grad(), inference_mode(node.layer), dry_run():
        try:
            out = node.layer(x, **kwargs)
        except (ValueError, TypeError, IndexError) as err:
            shapes = [t.shape for t in node.inputs]
            hint = ""
            if any(None in tuple(s)[1:] for s in shapes):
                hint = (
                    ". A layer that needs a fixed size after an unknown one "
                    "(Flatten -> Dense) needs a known input size; "
                    "GlobalAveragePooling2D removes the spatial axes instead"
                )
            raise type(err)(
                f"{node.layer.name} ({type(node.layer).__name__}) could not be "
                f"called on symbolic input(s) of shape {shapes}: {err}{hint}"
            ) from err
    is_list = isinstance(out, (list, tuple))
    outs = list(out) if is_list else [out]
    return [o.data if isinstance(o, Tensor) else np.asarray(o) for o in outs], is_list


_dry_runs = 0


@contextlib.contextmanager
def dry_run() -> Iterator[None]:
    """Mark a build/shape-inference run on zeros: layers keep no state from it
    (a stateful RNN does not carry its states into the first real batch)."""
    global _dry_runs
    _dry_runs += 1
    try:
        yield
    finally:
        _dry_runs -= 1


def in_dry_run() -> bool:
    """True inside :func:`dry_run`."""
    return _dry_runs > 0


@contextlib.contextmanager
def inference_mode(layer) -> Iterator[None]:
    """Put ``layer`` and all its children in eval mode, then restore each flag."""
    saved, stack = [], [layer]
    while stack:
        current = stack.pop()
        saved.append((current, current.training))
        current.training = False
        stack.extend(current.layers_iter())
    try:
        yield
    finally:
        for current, flag in saved:
            current.training = flag
