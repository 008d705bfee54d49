"""im2col/col2im vs naive loops, the adjoint identity, window arithmetic, budget."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests._kernels.strategies import geometries, naive_im2col

from numnet._kernels import im2col as k


@given(geometries(), st.integers(1, 3), st.integers(0, 2**16))
def test_im2col_matches_naive_loop(g, C, seed):
    x = np.random.default_rng(seed).standard_normal((2, g.H, g.W, C))
    np.testing.assert_array_equal(k.im2col(x, g), naive_im2col(x, g))


@given(geometries(), st.integers(1, 3), st.integers(0, 2**16))
def test_adjoint_identity(g, C, seed):
    # <im2col(x), c> = <x, col2im(c)> for every stride, padding and dilation
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, g.H, g.W, C))
    c = rng.standard_normal((2, g.OH, g.OW, g.KH, g.KW, C))
    lhs = np.sum(k.im2col(x, g) * c)
    rhs = np.sum(x * k.col2im(c, g))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


def test_col2im_counts_overlaps():
    # col2im of all-ones columns counts how many windows cover each pixel
    g = k.make_geometry(4, 4, 3, stride=1, padding="valid")
    counts = k.col2im(np.ones((1, 2, 2, 3, 3, 1)), g)[0, :, :, 0]
    np.testing.assert_array_equal(
        counts, [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]
    )


def test_output_size_course_notes():
    # n=39: f=3 s=1 -> 37, then f=5 s=2 -> 17, then f=5 s=2 -> 7
    assert k.conv_output_size(39, 3, 1) == 37
    assert k.conv_output_size(37, 5, 2) == 17
    assert k.conv_output_size(17, 5, 2) == 7
    assert k.conv_output_size(6, 3) == 4
    assert k.conv_output_size(7, 3, 2, 1) == 4
    assert k.conv_output_size(10, 3, 1, (0, 0), 2) == 6  # dilated span 5


@pytest.mark.parametrize(
    "n, f, s, d, expected",
    [(28, 3, 1, 1, (1, 1)), (28, 4, 1, 1, (1, 2)), (28, 1, 1, 1, (0, 0)),
     (32, 5, 2, 1, (1, 2)), (7, 2, 2, 1, (0, 1)), (6, 2, 2, 1, (0, 0)),
     (9, 3, 1, 2, (2, 2))],
)  # fmt: skip
def test_same_padding_is_tensorflows(n, f, s, d, expected):
    assert k.same_padding(n, f, s, d) == expected
    before, after = expected
    assert k.conv_output_size(n, f, s, (before, after), d) == -(-n // s)


def test_geometry_resolves_padding_forms():
    g = k.make_geometry(5, 6, (3, 2), padding=(2, 1))
    assert (g.pt, g.pb, g.pl, g.pr) == (2, 2, 1, 1)
    assert (g.OH, g.OW) == (7, 7)
    g = k.make_geometry(5, 6, (3, 2), padding="SAME")
    assert (g.OH, g.OW) == (5, 6) and (g.pl, g.pr) == (0, 1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"padding": "full"}, "argument 'padding'"),
        ({"padding": -1}, "argument 'padding'"),
        ({"stride": 0}, "argument 'stride'"),
        ({"stride": (1, 2, 3)}, "argument 'stride'"),
        ({"dilation": 1.5}, "argument 'dilation'"),
        ({"kernel_size": 7}, "larger than the padded input"),
        ({"kernel_size": 3, "dilation": 3}, "larger than the padded input"),
    ],
)
def test_geometry_errors_name_the_argument(kwargs, message):
    options = {"kernel_size": 3} | kwargs
    with pytest.raises(ValueError, match=message):
        k.make_geometry(5, 5, **options)


def test_memory_budget_setting_and_validation():
    assert k.get_memory_budget() == k.DEFAULT_MEMORY_BUDGET == 256 * 2**20
    with k.memory_budget(1024):
        assert k.get_memory_budget() == 1024
        assert k.block_size(64, 600, 10**9) == 1
        assert k.block_size(64, 100, 10**9) == 10
    assert k.get_memory_budget() == k.DEFAULT_MEMORY_BUDGET
    assert k.block_size(64, 100, 250) == 2  # the cache target limits too
    for bad in (0, -5, 1.5, True, "1MB"):
        with pytest.raises(ValueError, match="nbytes"):
            k.set_memory_budget(bad)


def test_blocks_cover_the_batch():
    assert k.blocks(7, 3) == [(0, 3), (3, 6), (6, 7)]
    assert k.blocks(2, 5) == [(0, 2)]
