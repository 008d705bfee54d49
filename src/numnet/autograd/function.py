"""The Function base class: how an op is wired into the graph.

An op is a ``Function`` subclass with ``forward(*arrays)`` and ``backward(*grads)``
written on raw ndarrays, side by side. ``Function.__call__`` turns the inputs into
Tensors, runs ``forward`` and, when gradients are wanted, records itself as the
creator of its outputs. The engine (``autograd/engine.py``) later calls
``backward`` and reduces every input gradient back to its input's shape
(un-broadcasting happens there, once, never inside ops).

Example:
    >>> import numpy as np, numnet
    >>> from numnet.autograd import Function
    >>> class Square(Function):
    ...     def forward(self, x):
    ...         self.x = x
    ...         return x * x
    ...     def backward(self, gy):
    ...         return 2 * self.x * gy          # d(x^2)/dx = 2x
    >>> x = numnet.tensor([3.0], requires_grad=True)
    >>> Square()(x).backward(np.ones(1, np.float32))
    >>> x.grad
    array([6.], dtype=float32)
"""

from __future__ import annotations

import weakref

import numpy as np

from numnet import backend, config
from numnet.autograd.tensor import Tensor, as_tensor


def is_grad_enabled() -> bool:
    """Return True when operations record a graph for backward (this thread)."""
    return config.get().grad_enabled


def no_grad():
    """Context manager in which no graph is recorded (inference, weight updates).

    It is ``numnet.config.using(grad_enabled=False)``: it applies to the
    current thread only.

    Example:
        >>> import numnet
        >>> w = numnet.tensor([1.0], requires_grad=True)
        >>> with numnet.no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """
    return config.using(grad_enabled=False)


def enable_grad():
    """Context manager that turns graph recording back on inside ``no_grad()``."""
    return config.using(grad_enabled=True)


class Function:
    """Base class of every differentiable op.

    Subclasses implement ``forward(*xs)`` returning an ndarray or a tuple of
    ndarrays, and ``backward(*gys)`` returning one gradient (or None) per input,
    at the full broadcast size (the engine sums it down to the input's shape and
    casts it to the input's dtype). Forward stores what backward needs as
    attributes of ``self``. Options go to ``__init__``. ``self.needs_input_grad``
    (a tuple of bools, one per input) is set before ``forward`` so an op can skip
    work for inputs that need no gradient. ``backward`` must not modify its
    ``gys`` in place: the same array may be handed to several ops.

    Both run on the inputs' array namespace: ``self.xp`` (``numpy``, ``cupy``,
    ...) and ``self.ops`` (its kernels, :func:`numnet.backend.get_ops`) are set
    before ``forward``; array math is written ``self.xp.exp(x)``, never
    ``np.exp(x)``.
    """

    #: Indices of inputs that are never differentiable (labels, indices).
    nondifferentiable: tuple[int, ...] = ()
    #: True when forward and backward use their inputs in ufuncs only (which
    #: take scalars): a Python number beside device arrays is then passed as a
    #: NumPy scalar instead of being copied to the device (see ``_constant``).
    scalar_operands = False
    #: True once ``release`` dropped the saved state (the graph is freed).
    freed = False

    def __call__(self, *inputs):
        # every line here runs once per op: the host cost of a GPU step
        tensors = _to_tensors(inputs, self.nondifferentiable, self.scalar_operands)
        if config.get().grad_enabled:
            needs = [t.requires_grad for t in tensors]
            for i in self.nondifferentiable:
                if 0 <= i < len(needs):
                    needs[i] = False
            self.needs_input_grad = needs = tuple(needs)
        else:
            self.needs_input_grad = needs = (False,) * len(tensors)
        arrays = tuple([t.data for t in tensors])
        self.xp, self.ops = backend.namespace_and_ops(arrays)
        try:
            raw = self.forward(*arrays)
        except Exception as error:
            _raise_if_mixed_devices(type(self).__name__, arrays, error)
            raise
        if isinstance(raw, tuple):
            outputs = tuple([Tensor._from_op(y) for y in raw])
            if True in needs:
                self._link(tensors, outputs)
            return outputs
        output = Tensor._from_op(raw)
        if True in needs:
            self._link(tensors, (output,))
        return output

    def _link(self, tensors, outputs) -> None:
        self.inputs = tensors
        generation = 0
        for t in tensors:
            if t.generation > generation:
                generation = t.generation
        self.generation = generation
        self.outputs = [weakref.ref(y) for y in outputs]
        self.output_meta = [(y.data.shape, y.data.dtype) for y in outputs]
        for y in outputs:
            y.creator = self
            y.generation = generation + 1
            y.requires_grad = True

    def forward(self, *xs):
        """Compute the op on raw ndarrays; store what ``backward`` needs on self."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self, *gys):
        """Return the gradient w.r.t. each input (None where there is none)."""
        raise NotImplementedError(f"{type(self).__name__}.backward is not implemented")

    def release(self) -> None:
        """Drop saved state and inputs after backward (the graph is freed)."""
        self.__dict__.clear()
        self.freed = True


def _raise_if_mixed_devices(op: str, arrays, error: Exception) -> None:
    """After a failed forward: a clear error when the inputs span two devices."""
    from numnet.backend import device  # only on this error path

    mixed = device.mixed_devices(arrays)
    if mixed is not None:
        raise RuntimeError(
            f"{op}: expected all inputs on the same device, but found inputs on "
            f"{mixed}. Move them first with tensor.to(device) or model.to(device)."
        ) from error


def _to_tensors(inputs, keep=(), scalars=False) -> tuple[Tensor, ...]:
    """Wrap non-Tensor inputs; floating constants take the dtype of a float operand.

    Casting here is what keeps ``x * 0.5`` float32: a bare Python float wrapped by
    ``np.asarray`` would be float64 and upcast the whole result. Python scalars,
    lists and float ndarrays are cast; integer and boolean ndarrays (labels,
    indices, masks) and every input at a ``keep`` position (nondifferentiable
    labels) are kept as they are.
    """
    for item in inputs:
        if not isinstance(item, Tensor):
            break
    else:
        return inputs  # the common case: nothing to wrap
    reference = None
    for item in inputs:
        if isinstance(item, Tensor) and item.dtype.kind == "f":
            reference = item.dtype
            break
    out = []
    for i, item in enumerate(inputs):
        if isinstance(item, Tensor):
            out.append(item)
        elif reference is None or i in keep:
            out.append(as_tensor(item))
        elif backend.is_array(item) and not _host_scalar_array(item, inputs):
            cast = item.dtype.kind == "f" and item.dtype != reference
            out.append(Tensor._from_op(item.astype(reference) if cast else item))
        elif backend.is_array(item) or isinstance(
            item, (bool, int, float, np.number, list, tuple)
        ):
            xp = backend.get_array_module(
                *(t.data for t in inputs if isinstance(t, Tensor))
            )
            out.append(_constant(xp, item, reference, scalars))
        else:
            out.append(as_tensor(item))
    return tuple(out)


def _constant(xp, item, dtype, scalars: bool) -> Tensor:
    """A constant operand in ``dtype`` for arrays of ``xp``, as a Tensor.

    For an op that takes scalars (``Function.scalar_operands``: its arrays
    meet only ufuncs), a number (or a 0-d NumPy array) beside device arrays
    becomes a NumPy scalar, which array libraries pass to their kernels as an
    argument: no host-to-device copy per call (``x * 0.5`` on a GPU).
    Everything else is ``xp.asarray`` (on NumPy always: a 0-d array).
    """
    if (
        scalars
        and xp is not np
        and (
            isinstance(item, (bool, int, float, np.number))
            or (backend.get_array_module(item) is np and getattr(item, "ndim", 1) == 0)
        )
    ):
        constant = Tensor.__new__(Tensor)
        constant._set(np.dtype(dtype).type(item), False)  # not an array: no as_array
        return constant
    return Tensor._from_op(xp.asarray(item, dtype=dtype))


def _host_scalar_array(item, inputs) -> bool:
    """A 0-d NumPy array beside device tensors: a number (PyTorch lets a 0-d CPU
    tensor join a CUDA op), copied over like one."""
    if item.ndim != 0 or backend.get_array_module(item) is not np:
        return False
    tensors = [t.data for t in inputs if isinstance(t, Tensor)]
    return backend.get_array_module(*tensors) is not np


def zero_grad(tensors) -> None:
    """Reset ``.grad`` to None on every tensor of an iterable (e.g. parameters).

    Example:
        >>> import numnet
        >>> w = numnet.tensor([1.0, 2.0], requires_grad=True)
        >>> (w * w).sum().backward()
        >>> numnet.zero_grad([w])
        >>> w.grad is None
        True
    """
    for t in tensors:
        t.grad = None


def unbroadcast(grad, shape: tuple[int, ...]):
    """Sum ``grad`` down to ``shape``: the adjoint of NumPy broadcasting.

    Leading axes that broadcasting added are summed away; axes that were 1 in
    ``shape`` are summed with keepdims.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise ValueError(
            f"gradient of shape {grad.shape} has fewer axes than the input shape "
            f"{shape}"
        )
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    if axes == tuple(range(lead)):  # only added leading axes (a bias): a GEMV
        out = backend.sum_leading(grad, lead)
    else:
        out = grad.sum(axis=axes, keepdims=True) if axes else grad
        if lead:
            out = out.reshape(out.shape[lead:])
    if out.shape != shape:
        raise ValueError(
            f"gradient of shape {grad.shape} cannot be reduced to input shape {shape}"
        )
    return out
