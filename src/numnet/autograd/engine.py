"""Reverse-mode engine: walks the graph from an output back to the leaves.

The walk is iterative (a heap ordered by generation, newest first), never
recursive, so a chain of 10,000 ops is as fine as a chain of ten. A function is
processed only after every function that consumed its outputs, so each gradient
is complete when it is used. Gradients of a tensor used several times add up.
"""

from __future__ import annotations

import heapq

from numnet import backend, config
from numnet.autograd.function import Function, unbroadcast
from numnet.autograd.tensor import Tensor


def strict_dtypes():
    """Raise when an op's backward returns a gradient of another dtype than its input.

    Used by the tests to prove that float32 stays float32 inside every backward;
    outside this context the engine silently casts such gradients. It is
    ``numnet.config.using(strict_dtypes=True)`` (this thread only).
    """
    return config.using(strict_dtypes=True)


def run_backward(root: Tensor, grad=None, retain_graph: bool = False) -> None:
    """Backpropagate from ``root`` and accumulate ``.grad`` on the leaves."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward: the tensor does not require grad and has no graph; "
            "create inputs with requires_grad=True"
        )
    grad = _initial_grad(root, grad)
    # ids of arrays already stored as some .grad, or owned by the caller: a leaf
    # receiving one of them gets a copy, so that every .grad is its own array
    handed = {id(grad)}
    if root.creator is None:
        _accumulate_leaf(root, grad, handed)
        return
    # id(tensor) -> (tensor, grad); holding the tensor keeps it alive (and its id
    # unique) after the consumer that referenced it has been released.
    grads = {id(root): (root, grad)}
    heap: list = []
    seen: set[int] = set()
    _push(root.creator, heap, seen)
    while heap:
        fn = heapq.heappop(heap)[2]
        gxs = fn.backward(*_output_grads(fn, grads))
        if type(gxs) is not tuple:
            gxs = (gxs,)
        if len(gxs) != len(fn.inputs):
            _raise_arity(fn, gxs)
        for x, gx, wanted in zip(fn.inputs, gxs, fn.needs_input_grad, strict=True):
            if gx is None or not wanted:
                continue
            data = x.data  # the common case, same shape and dtype: nothing to fit
            if gx.shape != data.shape or gx.dtype != data.dtype:
                gx = _fit_grad(fn, x, gx)
            creator = x.creator
            if creator is None or x._retains_grad:
                _accumulate_leaf(x, gx, handed)
            if creator is not None:
                key = id(x)
                entry = grads.get(key)
                grads[key] = (x, gx if entry is None else entry[1] + gx)
                if id(creator) not in seen:
                    _push(creator, heap, seen)
        if not retain_graph:
            fn.release()


def _push(fn: Function, heap: list, seen: set) -> None:
    """Queue ``fn`` (newest generation first; ties in first-seen order)."""
    if fn.freed:  # released by an earlier backward
        raise RuntimeError(
            "backward: trying to backward through the graph a second time; "
            "pass retain_graph=True to the first backward()"
        )
    seen.add(id(fn))
    heapq.heappush(heap, (-fn.generation, len(seen), fn))


def _initial_grad(root: Tensor, grad):
    if grad is None:
        if root.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs; "
                f"the output has shape {root.shape}. Pass backward(grad) with a "
                f"gradient of that shape"
            )
        return backend.get_array_module(root.data).ones(root.shape, dtype=root.dtype)
    if isinstance(grad, Tensor):
        g = grad.data
    else:
        xp = backend.get_array_module(grad, root.data)
        g = xp.asarray(grad, dtype=root.dtype)
    if g.shape != root.shape:
        raise ValueError(
            f"backward: gradient shape {g.shape} does not match output shape "
            f"{root.shape}"
        )
    return g.astype(root.dtype, copy=False)


def _output_grads(fn: Function, grads: dict) -> list:
    gys = []
    for ref, (shape, dtype) in zip(fn.outputs, fn.output_meta, strict=True):
        y = ref()
        entry = grads.pop(id(y), None) if y is not None else None
        gys.append(fn.xp.zeros(shape, dtype=dtype) if entry is None else entry[1])
    return gys


def _raise_arity(fn: Function, gxs: tuple) -> None:
    raise RuntimeError(
        f"{type(fn).__name__}.backward returned {len(gxs)} gradients for "
        f"{len(fn.inputs)} inputs"
    )


def _fit_grad(fn: Function, x: Tensor, gx):
    try:
        gx = unbroadcast(gx, x.shape)
    except ValueError as exc:
        raise ValueError(f"{type(fn).__name__}.backward: {exc}") from None
    if gx.dtype != x.dtype:
        if config.get().strict_dtypes:
            raise TypeError(
                f"{type(fn).__name__}.backward returned a {gx.dtype} gradient for a "
                f"{x.dtype} input"
            )
        gx = gx.astype(x.dtype)
    return gx


def _accumulate_leaf(x: Tensor, gx, handed: set[int]) -> None:
    if x.grad is not None:
        # never add in place: x.grad may be an array the user also holds
        x.grad = x.grad + gx
        return
    # gx may be a read-only broadcast view, the caller's array, or the very array
    # another input also received (add): store a private, writable copy then
    if id(gx) in handed:
        gx = gx.copy()
    else:
        gx = backend.get_ops(gx).private_copy(gx)
    handed.add(id(gx))
    x.grad = gx
