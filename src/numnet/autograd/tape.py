"""Gradients w.r.t. chosen tensors: ``grad`` (PyTorch), ``GradientTape`` (Keras).

``loss.backward()`` accumulates into the ``.grad`` of every leaf of the graph.
:func:`grad` instead *returns* the gradients of an output with respect to the
tensors you name and leaves every ``.grad`` in the graph as it was, so a GAN
can differentiate the generator's loss without disturbing the
discriminator's gradients. It runs the ordinary engine: the ``.grad`` of every
leaf reached is saved before and restored after.

Example:
    >>> import numnet
    >>> w = numnet.tensor([1.0, 2.0], requires_grad=True)
    >>> b = numnet.tensor([0.5], requires_grad=True)
    >>> loss = ((w * w).sum() + b).sum()
    >>> (gw,) = numnet.autograd.grad(loss, [w])
    >>> gw.numpy(), w.grad, b.grad
    (array([2., 4.], dtype=float32), None, None)
    >>> with numnet.autograd.GradientTape() as tape:
    ...     loss = (w * 3.0).sum()
    >>> tape.gradient(loss, w).numpy()
    array([3., 3.], dtype=float32)
"""

from __future__ import annotations

from numnet import backend
from numnet.autograd.engine import run_backward
from numnet.autograd.tensor import Tensor


def _graph_tensors(output: Tensor) -> list[Tensor]:
    """Every tensor the engine may write a ``.grad`` to: leaves needing grad and
    non-leaves that retain theirs."""
    found, seen, stack = [], set(), [output.creator] if output.creator else []
    if output.creator is None:
        return [output]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        for x in getattr(fn, "inputs", ()):
            if x.creator is None or x._retains_grad:
                found.append(x)
            if x.creator is not None:
                stack.append(x.creator)
    return found


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool = False):
    """Gradients of ``outputs`` with respect to each tensor of ``inputs``.

    Args:
        outputs: a Tensor (a one-element loss, or any shape with ``grad_outputs``).
        inputs: a Tensor or a list of Tensors (weights, or intermediate tensors).
        grad_outputs: the upstream gradient for a non-scalar ``outputs``.
        retain_graph: keep the graph to differentiate it again.

    Returns:
        A tuple with one Tensor per input (None for an input that ``outputs``
        does not depend on). No ``.grad`` attribute anywhere is changed.

    Raises:
        RuntimeError: when ``outputs`` has no graph (nothing requires grad).
    """
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"grad: inputs[{i}] must be a Tensor. Received: {type(x).__name__}"
            )
    if not isinstance(outputs, Tensor) or not outputs.requires_grad:
        raise RuntimeError(
            "grad: the output does not require grad and has no graph; compute it "
            "from tensors with requires_grad=True (e.g. layer weights)"
        )
    touched = {id(t): t for t in _graph_tensors(outputs) + inputs}
    saved = {k: (t.grad, t._retains_grad) for k, t in touched.items()}
    try:
        for x in inputs:
            x.grad = None
            if x.creator is not None:
                x._retains_grad = True
        run_backward(outputs, grad_outputs, retain_graph)
        results = [None if x.grad is None else Tensor._from_op(x.grad) for x in inputs]
    finally:
        for k, t in touched.items():
            t.grad, t._retains_grad = saved[k]
    return results[0] if single else tuple(results)


class GradientTape:
    """Keras/TensorFlow's tape: ``with GradientTape() as tape: ...``, then
    ``tape.gradient(loss, model.trainable_weights)``.

    numnet records every operation on tensors that require grad anyway, so the
    tape only marks the region; :meth:`watch` makes a plain tensor (an input
    image, say) differentiable inside it.

    Args:
        persistent: allow several :meth:`gradient` calls (the graph is kept).

    Example:
        >>> import numpy as np, numnet
        >>> from numnet import layers, optimizers
        >>> dense = layers.Dense(1)
        >>> x = np.ones((4, 3), np.float32)
        >>> opt = optimizers.SGD(learning_rate=0.1)
        >>> with numnet.autograd.GradientTape() as tape:
        ...     loss = (dense(x) ** 2).mean()
        >>> grads = tape.gradient(loss, dense.trainable_weights)
        >>> opt.apply_gradients(zip(grads, dense.trainable_weights))
    """

    def __init__(self, persistent: bool = False):
        self.persistent = persistent
        self._watched: list[Tensor] = []
        self._used = False

    def __enter__(self) -> GradientTape:
        return self

    def __exit__(self, *exc) -> bool:
        for t in self._watched:
            t.requires_grad = False  # the recorded graph keeps working
        self._watched = []
        return False

    def watch(self, tensor) -> None:
        """Make the leaf tensor(s) ``tensor`` differentiable inside the tape."""
        for t in tensor if isinstance(tensor, (list, tuple)) else [tensor]:
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"GradientTape.watch: expected a Tensor (wrap arrays with "
                    f"numnet.tensor). Received: {type(t).__name__}"
                )
            if not t.requires_grad and t.creator is None:
                t.requires_grad_(True)
                self._watched.append(t)

    def gradient(self, target, sources, output_gradients=None):
        """Gradients of ``target`` with respect to ``sources`` (a Tensor or a list).

        A non-scalar target is summed first (Keras). Returns Tensors, None for
        a source the target does not depend on.

        Raises:
            RuntimeError: on a second call of a non-persistent tape.
        """
        if self._used and not self.persistent:
            raise RuntimeError(
                "GradientTape.gradient can only be called once on a non-persistent "
                "tape; use GradientTape(persistent=True) to call it several times"
            )
        self._used = True
        if output_gradients is None and target.size != 1:
            xp = backend.get_array_module(target.data)
            output_gradients = xp.ones(target.shape, dtype=target.dtype)
        return grad(target, sources, output_gradients, retain_graph=self.persistent)
