"""Matrix products: matmul (batched, NumPy rules) and linear (x @ w + b)."""

from __future__ import annotations

from numnet import backend
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor


class _MatMul(Function):
    """y = a @ b with NumPy's rules (1-D operands promoted, batch axes broadcast)."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(
                "matmul: operands must be at least 1-D (use * for scalars). "
                f"Received shapes {a.shape} and {b.shape}"
            )
        k_a, k_b = a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(
                f"matmul: inner dimensions do not match: a has shape {a.shape}, "
                f"b has shape {b.shape} ({k_a} != {k_b})"
            )
        self.a, self.b = a, b
        try:
            return self.xp.matmul(a, b)
        except ValueError:
            raise ValueError(
                f"matmul: batch axes could not be broadcast together. Received "
                f"shapes {a.shape} and {b.shape}"
            ) from None

    def backward(self, gy):
        # dL/da = gy @ b^T, dL/db = a^T @ gy; a 1-D a is a row (1, K), a 1-D b a
        # column (K, 1), and gy gets the matching length-1 axis back
        a = self.a[None, :] if self.a.ndim == 1 else self.a
        b = self.b[:, None] if self.b.ndim == 1 else self.b
        if self.a.ndim == 1:
            gy = self.xp.expand_dims(gy, -1 if self.b.ndim == 1 else -2)
        if self.b.ndim == 1:
            gy = gy[..., None]
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = gy @ self.xp.swapaxes(b, -1, -2)
            ga = ga.reshape(ga.shape[:-2] + (-1,)) if self.a.ndim == 1 else ga
        if self.needs_input_grad[1]:
            gb = self.xp.swapaxes(a, -1, -2) @ gy
            gb = gb[..., 0] if self.b.ndim == 1 else gb
        return ga, gb  # batch axes added by broadcasting: summed by the engine


class _Linear(Function):
    """y = x @ w + b for x (..., D_in), w (D_in, D_out), b (D_out,): one GEMM."""

    def forward(self, x, w, b=None):
        if x.shape[-1] != w.shape[0]:
            raise ValueError(
                f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the "
                f"kernel expects {w.shape[0]} (kernel shape {w.shape})"
            )
        self.x, self.w = x, w
        x2 = x.reshape(-1, x.shape[-1])
        y = x2 @ w
        if b is not None:
            y += b
        return y.reshape(x.shape[:-1] + (w.shape[1],))

    def backward(self, gy):
        g2 = gy.reshape(-1, gy.shape[-1])
        gx = (g2 @ self.w.T).reshape(self.x.shape) if self.needs_input_grad[0] else None
        gw = (
            self.x.reshape(-1, self.x.shape[-1]).T @ g2
            if self.needs_input_grad[1]
            else None
        )
        if len(self.needs_input_grad) == 2:
            return gx, gw
        gb = backend.sum_leading(g2, 1) if self.needs_input_grad[2] else None
        return gx, gw, gb


def matmul(a, b) -> Tensor:
    """Matrix product ``a @ b``, batched over leading axes like ``np.matmul``.

    Shape:
        a: (..., N, K) or (K,), b: (..., K, M) or (K,) -> (..., N, M); batch
            axes broadcast, a 1-D operand's axis is dropped from the result, as NumPy.
    """
    return _MatMul()(a, b)


def linear(x, w, b=None) -> Tensor:
    """Affine map ``x @ w + b`` (Keras kernel layout (D_in, D_out)), fused.

    Shape:
        x: (..., D_in), w: (D_in, D_out), b: (D_out,) -> (..., D_out)
    """
    return _Linear()(x, w) if b is None else _Linear()(x, w, b)
