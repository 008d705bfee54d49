"""Shared hypothesis strategies and naive loop oracles for the kernel tests."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from numnet._kernels import im2col as k


@st.composite
def geometries(draw, max_side=7, max_stride=3):
    """A valid Geometry with every padding mode, stride, dilation and kernel shape."""
    H, W = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    KH, KW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(
        st.one_of(
            st.sampled_from(["valid", "same"]),
            st.integers(0, 2),
            st.tuples(st.integers(0, 2), st.integers(0, 2)),
        )
    )
    try:
        return k.make_geometry(H, W, (KH, KW), stride, padding, dilation)
    except ValueError:
        assume(False)


def naive_im2col(x, g):
    """One window at a time: the definition of the column buffer."""
    xp = np.pad(x, ((0, 0), (g.pt, g.pb), (g.pl, g.pr), (0, 0)))
    cols = np.zeros((x.shape[0], g.OH, g.OW, g.KH, g.KW, x.shape[3]))
    for oh in range(g.OH):
        for ow in range(g.OW):
            for i in range(g.KH):
                for j in range(g.KW):
                    cols[:, oh, ow, i, j] = xp[
                        :, oh * g.sh + i * g.dh, ow * g.sw + j * g.dw
                    ]
    return cols


@st.composite
def pool_geometries(draw):
    H, W = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    size = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same"]))
    try:
        return k.make_geometry(H, W, size, strides, padding, 1, "max_pool2d")
    except ValueError:
        assume(False)


def naive_conv(x, w, b, g):
    """y[n, oh, ow] = sum over (i, j) of x_pad[n, oh*sh + i*dh, ...] @ w[i, j]."""
    xp = np.pad(x, ((0, 0), (g.pt, g.pb), (g.pl, g.pr), (0, 0)))
    y = np.zeros((x.shape[0], g.OH, g.OW, w.shape[3]))
    for oh in range(g.OH):
        for ow in range(g.OW):
            for i in range(g.KH):
                for j in range(g.KW):
                    pixel = xp[:, oh * g.sh + i * g.dh, ow * g.sw + j * g.dw]
                    y[:, oh, ow] += pixel @ w[i, j]
    return y + b
