"""PyTorch's in-place methods and factories of :class:`Tensor`: ``zero_``,
``fill_``, ``copy_``, ``add_``/``sub_``/``mul_``/``div_``, ``clamp_`` and
``new_zeros``/``new_ones``/``new_full``/``new_empty``/``new_tensor``.

In-place methods follow numnet's in-place rule (the one of ``w -= lr * g``): a
tensor that requires grad may be changed in place only under ``no_grad()``, and
never one that is an op's output in a graph (its old value may be saved for
backward, and numnet keeps no version counters to notice the change). Where
``x += y`` would fall back to a new tensor, the method raises instead: its
result could otherwise be lost silently.
"""

from __future__ import annotations

from numnet import backend


class InPlaceMethods:
    """In-place methods and ``new_*`` factories of :class:`Tensor`."""

    def zero_(self):
        """Set every element to 0 in place; returns self."""
        _check_in_place(self, "zero_", None)
        self.data[...] = 0
        return self

    def fill_(self, value):
        """Set every element to ``value`` in place; returns self."""
        _check_in_place(self, "fill_", value)
        self.data[...] = _raw(value)
        return self

    def copy_(self, src):
        """Copy ``src`` (broadcast to this shape, cast to this dtype) in place."""
        _check_in_place(self, "copy_", src)
        xp = backend.get_array_module(self.data)
        try:
            self.data[...] = xp.broadcast_to(xp.asarray(_raw(src)), self.shape)
        except ValueError:
            raise ValueError(
                f"copy_: a source of shape {tuple(getattr(_raw(src), 'shape', ()))} "
                f"does not broadcast to the tensor's shape {self.shape}"
            ) from None
        return self

    def add_(self, other, alpha=1):
        """``self += alpha * other`` in place; returns self."""
        _check_in_place(self, "add_", other)
        return self._inplace("add", "add", _scaled(other, alpha))

    def sub_(self, other, alpha=1):
        """``self -= alpha * other`` in place; returns self."""
        _check_in_place(self, "sub_", other)
        return self._inplace("sub", "subtract", _scaled(other, alpha))

    def mul_(self, other):
        """``self *= other`` in place; returns self."""
        _check_in_place(self, "mul_", other)
        return self._inplace("mul", "multiply", other)

    def div_(self, other):
        """``self /= other`` in place; returns self."""
        _check_in_place(self, "div_", other)
        return self._inplace("div", "divide", other)

    def clamp_(self, min=None, max=None):  # noqa: A002
        """Clamp into [min, max] in place; returns self."""
        _check_in_place(self, "clamp_", None)
        if min is None and max is None:
            raise ValueError("clamp_: at least one of 'min' and 'max' must be given")
        xp = backend.get_array_module(self.data)
        self.data[...] = xp.clip(self.data, _raw(min), _raw(max))
        return self

    def new_zeros(self, *size, dtype=None, requires_grad: bool = False):
        """Zeros of ``size`` with this tensor's dtype (or ``dtype``) and device."""
        return self.new_full(_size(size, "new_zeros"), 0, dtype, requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad: bool = False):
        """Ones of ``size`` with this tensor's dtype (or ``dtype``) and device."""
        return self.new_full(_size(size, "new_ones"), 1, dtype, requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad: bool = False):
        """A tensor of ``size`` on this device (zero-filled: never garbage)."""
        return self.new_full(_size(size, "new_empty"), 0, dtype, requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad: bool = False):
        """``fill_value`` everywhere, with this tensor's dtype (or ``dtype``) and
        device."""
        xp = backend.get_array_module(self.data)
        shape = _size((size,), "new_full")
        data = xp.full(shape, fill_value, dtype=dtype or self.dtype)
        return _tensor(data, requires_grad)

    def new_tensor(self, data, dtype=None, requires_grad: bool = False):
        """A copy of ``data`` with this tensor's dtype (or ``dtype``) and device."""
        xp = backend.get_array_module(self.data)
        array = xp.asarray(_raw(data), dtype=dtype or self.dtype)
        return _tensor(array.copy(), requires_grad)


def _raw(value):
    from numnet.autograd.tensor import Tensor  # tensor.py imports this module

    return value.data if isinstance(value, Tensor) else value


def _tensor(array, requires_grad: bool):
    from numnet.autograd.tensor import Tensor  # a plain Tensor, also for a Parameter

    return Tensor._from_op(array).requires_grad_(requires_grad)


def _scaled(other, alpha):
    return other if alpha == 1 else _raw(other) * alpha


def _check_in_place(t, op: str, other) -> None:
    """Refuse an in-place change that the graph could not see (see the module)."""
    from numnet.autograd.function import is_grad_enabled

    if t.creator is not None:
        raise RuntimeError(
            f"{op}: the tensor is the output of an op in a graph; changing it in "
            f"place would corrupt backward. Write x = x.op(...) out of place instead"
        )
    grad_mode = is_grad_enabled()
    if grad_mode and t.requires_grad:
        raise RuntimeError(
            f"{op}: a tensor that requires grad (a weight) may be changed in place "
            f"only under numnet.no_grad(): `with numnet.no_grad(): w.{op}(...)`"
        )
    if grad_mode and getattr(other, "requires_grad", False):
        raise RuntimeError(
            f"{op}: the argument requires grad, so the result would need a graph; "
            f"write x = x + y out of place (or call it under numnet.no_grad())"
        )


def _size(args, op: str) -> tuple[int, ...]:
    one_sequence = len(args) == 1 and isinstance(args[0], (tuple, list))
    shape = tuple(args[0]) if one_sequence else args
    for n in shape:
        if isinstance(n, bool) or not hasattr(n, "__index__") or n < 0:
            raise ValueError(
                f"{op}: invalid size. Expected non-negative ints, as {op}((2, 3)) or "
                f"{op}(2, 3). Received: {shape!r}"
            )
    return tuple(int(n) for n in shape)
