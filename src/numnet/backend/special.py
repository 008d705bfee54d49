"""The standard normal CDF in float32 on the CPU, for GELU: NumPy passes, blocked.

SciPy's ``erf`` is a scalar loop (about 10 ns an element); the exact GELU of a
Transformer block spends most of its time there. Here Phi(x) = erfc(-x/sqrt(2))/2
is computed from Numerical Recipes' Chebyshev fit of erfc (``erfcc``: relative
error below 1.2e-7 for every argument, so the tail Phi(x) for x << 0 keeps its
relative precision, where ``(1 + erf(x/sqrt(2)))/2`` cancels), with z = |x|/sqrt(2)
and t = 1/(1 + z/2)::

    erfc(z) = t exp(-z^2 + c0 + t (c1 + t (c2 + ... + t c9)))
    Phi(x) = erfc(z)/2 for x < 0, 1 - erfc(z)/2 otherwise

as about thirty NumPy passes over blocks of ``BLOCK`` elements that stay in
the L2 cache (SIMD ufuncs: a few ns an element in all). float32 rounding adds a
few units in the last place (absolute error below 5e-7 against the exact
value; PyTorch's float32 GELU has ~6e-8 for x > 0 and loses the tail to
cancellation). float64 keeps SciPy's exact ``ndtr``.
"""

from __future__ import annotations

import math

import numpy as np

#: Elements per block (two float32 scratch rows of this size stay in L2).
BLOCK = 1 << 16
#: Numerical Recipes' erfcc coefficients c0..c9.
ERFC_COEFFICIENTS = (
    -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
    0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277,
)  # fmt: skip


def normal_cdf_float32(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Phi(x) of a C-contiguous float32 array into ``out`` (same shape)."""
    flat, result, f = x.reshape(-1), out.reshape(-1), np.float32
    n = flat.size
    t_buf, p_buf = np.empty(min(BLOCK, n), f), np.empty(min(BLOCK, n), f)
    coefficients = [f(c) for c in ERFC_COEFFICIENTS]
    for a in range(0, n, BLOCK):
        xb, yb = flat[a : a + BLOCK], result[a : a + BLOCK]
        t, p = t_buf[: xb.size], p_buf[: xb.size]
        np.abs(xb, out=t)
        t *= f(0.5 / math.sqrt(2.0))  # z / 2
        t += f(1.0)
        np.reciprocal(t, out=t)
        np.multiply(t, coefficients[9], out=p)
        for c in coefficients[8:0:-1]:  # Horner: p = c1 + t (c2 + ... + t c9)
            p += c
            p *= t
        p += coefficients[0]
        np.multiply(xb, xb, out=yb)
        yb *= f(0.5)  # z^2
        p -= yb
        np.exp(p, out=p)
        p *= t
        p *= f(0.5)  # q = erfc(z) / 2 = Phi(-|x|)
        np.greater_equal(xb, 0, out=yb, casting="unsafe")  # s = 1 where x >= 0
        np.multiply(p, f(-2.0), out=t)
        t += f(1.0)
        yb *= t  # Phi = q + s (1 - 2q)
        yb += p
    return out


def gelu_grad_float32(gy, x, cdf, out: np.ndarray) -> np.ndarray:
    """``gy (Phi(x) + x phi(x))`` for C-contiguous float32 arrays of one shape,
    into ``out``: GELU's backward, one block at a time (seven in-cache passes)."""
    f = np.float32
    flat = [a.reshape(-1) for a in (gy, x, cdf, out)]
    n = flat[1].size
    scratch = np.empty(min(BLOCK, n), f)
    for a in range(0, n, BLOCK):
        g, xb, c, yb = (v[a : a + BLOCK] for v in flat)
        t = scratch[: xb.size]
        np.multiply(xb, xb, out=t)
        t *= f(-0.5)
        np.exp(t, out=t)
        t *= xb
        t *= f(1.0 / math.sqrt(2.0 * math.pi))  # x phi(x)
        t += c
        np.multiply(t, g, out=yb)
    return out
