"""Tensor (an ndarray plus autograd bookkeeping) and Parameter.

Every operator and method of ``Tensor`` is defined statically (the methods in
``_tensor_methods.py``) and looks its implementation up in ``OPS``, a table
that ``numnet.functional`` fills when it is imported (dependency inversion:
autograd never imports the ops above it).
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd._tensor_methods import OPS as OPS  # filled by numnet.functional
from numnet.autograd._tensor_methods import TensorMethods, _op
from numnet.autograd._tensor_methods_inplace import InPlaceMethods
from numnet.autograd._tensor_methods_torch import TorchMethods


class Tensor(TensorMethods, TorchMethods, InPlaceMethods):
    """An n-dimensional array that records the operations applied to it.

    Attributes:
        data: the underlying ``numpy.ndarray``.
        grad: the accumulated gradient (an ndarray) after ``backward()``, or None.
        requires_grad: whether operations on this tensor are recorded.
        creator: the Function that produced it (None for leaves).
    """

    __array_ufunc__ = None  # make NumPy defer ``ndarray + Tensor`` to __radd__
    __hash__ = object.__hash__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        array = backend.to_array(data, dtype)
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"tensor: only floating-point tensors can require grad. "
                f"Received dtype={array.dtype}"
            )
        self._set(array, bool(requires_grad))

    def _set(self, array: np.ndarray, requires_grad: bool) -> None:
        self.data = array
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad
        self.creator = None
        self.generation = 0
        self.name: str | None = None
        self._retains_grad = False

    @classmethod
    def _from_op(cls, array: np.ndarray) -> Tensor:
        """Wrap an op's raw output without copying or casting."""
        t = cls.__new__(cls)
        t._set(backend.as_array(array), False)
        return t

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data``."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        """The dtype of ``data``."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    @property
    def T(self) -> Tensor:
        """The transpose (all axes reversed)."""
        return _op("transpose")(self)

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        return bool(self.data)  # one element only, as NumPy (ambiguous otherwise)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        # ``np.asarray(t)`` gives the data (plotting, metrics); never differentiable
        data = backend.get_ops(self.data).to_numpy(self.data)
        return data if dtype is None else data.astype(dtype, copy=False)

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), prefix="tensor(")
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"tensor({body}, dtype={self.dtype}{grad})"

    def numpy(self) -> np.ndarray:
        """Return the data as a NumPy ndarray (shared, not copied, when on NumPy)."""
        return backend.get_ops(self.data).to_numpy(self.data)

    @property
    def device(self):
        """The :class:`~numnet.Device` the data lives on (``device(type='cpu')``)."""
        from numnet.backend.device import device_of

        return device_of(self.data)

    def to(self, device=None, dtype=None) -> Tensor:
        """This tensor on ``device`` (and/or cast to ``dtype``), PyTorch's ``to``.

        Returns ``self`` when nothing changes. The move is differentiable: the
        gradient is moved back to this tensor's device in backward.

        Args:
            device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a Device.
            dtype: a dtype, also accepted as the first argument (``t.to("float64")``
                is read as a device name first, a dtype if it is not one).
        """
        from numnet.backend.device import Device
        from numnet.backend.device import device as as_device

        if dtype is None and isinstance(device, str) and _is_dtype_name(device):
            device, dtype = None, device
        out = self
        if device is not None:
            target = device if isinstance(device, Device) else as_device(device)
            if target != self.device:
                from numnet.autograd.transfer import ToDevice

                if self.requires_grad:
                    out = ToDevice(target)(self)
                else:
                    out = Tensor._from_op(target.put(self.data))
        if dtype is not None and np.dtype(dtype) != out.dtype:
            out = out.astype(dtype)
        return out

    def cpu(self) -> Tensor:
        """This tensor on the CPU (PyTorch's ``cpu()``)."""
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Tensor:
        """This tensor on GPU ``index`` (PyTorch's ``cuda()``; needs CuPy)."""
        return self.to(f"cuda:{index}")

    def item(self) -> float:
        """Return the value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python "
                f"scalar; the tensor has shape {self.shape}"
            )
        return self.data.item()

    def tolist(self):
        """The data as nested Python lists (a device tensor is copied to the host)."""
        return self.numpy().tolist()

    def astype(self, dtype) -> Tensor:
        """Return a copy cast to ``dtype`` (differentiable for float dtypes)."""
        return _op("astype")(self, dtype)

    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf requiring grad.

        Args:
            grad: the upstream gradient; may be omitted for one-element tensors.
            retain_graph: keep the graph so that backward can run through it again.

        Raises:
            RuntimeError: on a non-scalar output without ``grad``, or a second
                backward through a freed graph.
        """
        from numnet.autograd.engine import run_backward

        run_backward(self, grad, retain_graph)

    def detach(self) -> Tensor:
        """Return a tensor sharing the data, cut from the graph."""
        return Tensor._from_op(self.data)

    def zero_grad(self) -> None:
        """Reset ``.grad`` to None."""
        self.grad = None

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = True

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf and return self."""
        if self.creator is not None:
            raise RuntimeError("requires_grad_: only leaf tensors can change it")
        if flag and self.dtype.kind != "f":
            raise TypeError(f"requires_grad_: dtype {self.dtype} cannot require grad")
        self.requires_grad = flag
        return self

    def __add__(self, other):
        return _op("add")(self, other)

    def __radd__(self, other):
        return _op("add")(other, self)

    def __sub__(self, other):
        return _op("sub")(self, other)

    def __rsub__(self, other):
        return _op("sub")(other, self)

    def __mul__(self, other):
        return _op("mul")(self, other)

    def __rmul__(self, other):
        return _op("mul")(other, self)

    def __truediv__(self, other):
        return _op("div")(self, other)

    def __rtruediv__(self, other):
        return _op("div")(other, self)

    def __pow__(self, other):
        return _op("pow")(self, other)

    def __rpow__(self, other):
        return _op("pow")(other, self)

    def __neg__(self):
        return _op("neg")(self)

    def __abs__(self):
        return _op("abs")(self)

    # In-place operators (``w -= lr * w.grad``), PyTorch's rule: a leaf that
    # requires grad may only be updated in place under ``no_grad()``.
    def __iadd__(self, other):
        return self._inplace("add", "add", other)

    def __isub__(self, other):
        return self._inplace("sub", "subtract", other)

    def __imul__(self, other):
        return self._inplace("mul", "multiply", other)

    def __itruediv__(self, other):
        return self._inplace("div", "divide", other)

    def _inplace(self, name: str, ufunc_name: str, other):
        from numnet.autograd.function import is_grad_enabled

        grad_mode = is_grad_enabled()
        if grad_mode and self.requires_grad and self.creator is None:
            raise RuntimeError(
                "a leaf tensor that requires grad (a weight) is being used in an "
                "in-place operation; update it under numnet.no_grad(): "
                "`with numnet.no_grad(): w -= lr * w.grad`"
            )
        other_graph = isinstance(other, Tensor) and other.requires_grad
        if self.creator is not None or (grad_mode and other_graph):
            return _op(name)(self, other)  # part of a graph: a new tensor
        xp = backend.get_array_module(self.data)
        result = getattr(xp, ufunc_name)(self.data, _raw(other))
        if result.dtype.kind != self.data.dtype.kind:  # int += float: refuse
            raise TypeError(
                f"in-place {name}: the result has dtype {result.dtype}, which a "
                f"tensor of dtype {self.data.dtype} cannot hold; write x = x {name} y"
            )
        self.data[...] = result
        return self

    def assign(self, value) -> Tensor:
        """Set the data in place to ``value`` (Keras ``Variable.assign``); the
        shape must match. Returns self."""
        value = backend.get_array_module(self.data).asarray(_raw(value))
        if value.shape != self.shape and value.size != 1:
            raise ValueError(
                f"assign: value of shape {value.shape} does not match the tensor "
                f"{self.name or ''} of shape {self.shape}"
            )
        self.data[...] = value
        return self

    def assign_add(self, value) -> Tensor:
        """``self.data += value`` in place (Keras ``Variable.assign_add``)."""
        return self.assign(self.data + _raw(value))

    def assign_sub(self, value) -> Tensor:
        """``self.data -= value`` in place (Keras ``Variable.assign_sub``)."""
        return self.assign(self.data - _raw(value))

    @property
    def value(self) -> Tensor:
        """Keras's ``Variable.value``: the tensor itself (usable in ops)."""
        return self

    def __matmul__(self, other):
        return _op("matmul")(self, other)

    def __rmatmul__(self, other):
        return _op("matmul")(other, self)

    def __getitem__(self, index):
        return _op("getitem")(self, index)

    # Comparisons give non-differentiable boolean tensors. ``==`` is left to
    # identity on purpose, so that tensors can live in lists and dicts safely.
    def __lt__(self, other):
        return Tensor._from_op(self.data < _raw(other))

    def __le__(self, other):
        return Tensor._from_op(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor._from_op(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor._from_op(self.data >= _raw(other))


class Parameter(Tensor):
    """A trainable leaf tensor (a layer weight): requires grad by default."""

    def __init__(self, data, requires_grad: bool = True, dtype=None, name=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)
        self.name = name

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.shape}, dtype={self.dtype})"


def _raw(value):
    return value.data if isinstance(value, Tensor) else value


def array_module(*values):
    """The array namespace of some values (Tensors, arrays, Python scalars)."""
    return backend.get_array_module(
        *(v.data if isinstance(v, Tensor) else v for v in values)
    )


def _is_dtype_name(name: str) -> bool:
    try:
        np.dtype(name)
    except TypeError:
        return False
    return True


def tensor(data, requires_grad: bool = False, dtype=None, device=None) -> Tensor:
    """Create a tensor from array-like data (always copies).

    Floating-point data takes the default dtype (float32) unless ``dtype`` is given;
    integer and boolean data keep their dtype (labels, indices).

    Example:
        >>> import numnet
        >>> numnet.tensor([[1, 2], [3, 4.0]], requires_grad=True).dtype
        dtype('float32')

    ``device="cuda"`` creates it on a GPU (see :func:`numnet.device`).
    """
    if device is not None:
        from numnet.backend.device import device as as_device

        data = as_device(device).put(backend.to_array(data, dtype))
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def as_tensor(data) -> Tensor:
    """Return ``data`` if it is a Tensor, else wrap it without requiring grad.

    ndarrays are wrapped as they are (no copy, dtype kept); other floats take
    the default dtype.
    """
    if isinstance(data, Tensor):
        return data
    if backend.is_array(data):
        return Tensor._from_op(data)
    return Tensor(data)
