"""max/avg/global pooling and upsampling: gradchecks, ties, Keras semantics, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import numnet
import numnet.functional as F
from numnet._kernels.im2col import make_geometry
from numnet.autograd import strict_dtypes


def distinct(rng, shape):
    """Values at least 0.1 apart, so every window has one maximum (no kink)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 + rng.uniform(0, 0.05, n)).reshape(shape)


@st.composite
def pool_cases(draw):
    """Overlapping (stride < pool), tiling and gapped windows, both paddings."""
    H, W, C = draw(st.integers(1, 7)), draw(st.integers(1, 7)), draw(st.integers(1, 3))
    size = draw(
        st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))
    )
    strides = draw(
        st.one_of(
            st.none(),
            st.integers(1, 3),
            st.tuples(st.integers(1, 3), st.integers(1, 3)),
        )
    )
    padding = draw(st.sampled_from(["valid", "same"]))
    try:
        make_geometry(H, W, size, size if strides is None else strides, padding)
    except ValueError:
        assume(False)
    x = distinct(np.random.default_rng(draw(st.integers(0, 2**16))), (2, H, W, C))
    return x, {"pool_size": size, "strides": strides, "padding": padding}  # fmt: skip


@given(pool_cases())
def test_max_pool2d_gradcheck(case):
    x, options = case
    assert numnet.gradcheck(lambda x: F.max_pool2d(x, **options), [x])


@given(pool_cases())
def test_avg_pool2d_gradcheck(case):
    x, options = case
    assert numnet.gradcheck(lambda x: F.avg_pool2d(x, **options), [x])


@given(pool_cases(), st.sampled_from(["auto", "offsets", "reference"]))
def test_max_pool2d_gradcheck_every_method(case, method):
    x, options = case
    assert numnet.gradcheck(lambda x: F.max_pool2d(x, **options, method=method), [x])


def centred(x):
    """``distinct`` values shifted to straddle 0, each at least 0.025 from it
    (away from the ReLU's kink)."""
    middle = np.sort(x.ravel())[x.size // 2]
    return x - middle + 0.025


@given(pool_cases(), st.sampled_from(["auto", "offsets", "reference"]))
def test_max_pool2d_relu_gradcheck(case, method):
    x, options = case
    fn = lambda x: F.max_pool2d_relu(x, **options, method=method)  # noqa: E731
    assert numnet.gradcheck(fn, [centred(x)])


@given(pool_cases(), st.integers(0, 2**16))
def test_max_pool2d_relu_matches_both_composed_twins(case, seed):
    # relu(max_pool(x)) and max_pool(relu(x)), two ops each: the same output and
    # gradient, ties and all-negative windows included (values rounded to 0.5)
    x, options = case
    x = np.round(centred(x) * 2 + np.random.default_rng(seed).normal(0, 1, x.shape)) / 2
    results = []
    for fn in (
        lambda t: F.max_pool2d_relu(t, **options),
        lambda t: F.relu(F.max_pool2d(t, **options)),
        lambda t: F.max_pool2d(F.relu(t), **options),
    ):
        t = numnet.tensor(x, requires_grad=True, dtype=np.float64)
        y = fn(t)
        y.backward(np.random.default_rng(seed).standard_normal(y.shape))
        results.append((y.numpy(), t.grad))
    for other in results[1:]:
        np.testing.assert_array_equal(results[0][0], other[0])
        np.testing.assert_allclose(results[0][1], other[1], rtol=0, atol=1e-15)


@pytest.mark.parametrize("method", ["auto", "offsets", "reference"])
@pytest.mark.parametrize("strides", [1, 2])
def test_max_pool2d_relu_never_writes_into_its_input(method, strides):
    # a 1x1 window's maximum is the input itself: the ReLU in place on the
    # output must not reach the caller's array
    x = np.array([-1.0, 2.0, -3.0, 4.0]).reshape(1, 2, 2, 1)
    before = x.copy()
    y = F.max_pool2d_relu(x, 1, strides=strides, method=method)
    np.testing.assert_array_equal(x, before)
    assert (y.numpy() >= 0).all()


def test_max_pool2d_relu_keeps_the_input_and_float32():
    x = np.random.default_rng(0).standard_normal((2, 4, 4, 3)).astype(np.float32)
    before = x.copy()
    t = numnet.tensor(x, requires_grad=True)
    y = F.max_pool2d_relu(t, 2)
    y.backward(np.ones(y.shape, np.float32))
    np.testing.assert_array_equal(x, before)
    assert y.dtype == np.float32 and t.grad.dtype == np.float32
    assert (y.numpy() >= 0).all()


def test_max_pool_hand_example():
    x = np.array([[1.0, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]])
    y = F.max_pool2d(x.reshape(1, 4, 4, 1), 2).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(y, [[9, 2], [6, 3]])
    overlapping = F.max_pool2d(x.reshape(1, 4, 4, 1), 3, strides=1).numpy()
    np.testing.assert_array_equal(overlapping[0, :, :, 0], [[9, 9], [9, 9]])


def test_overlapping_windows_accumulate_the_gradient():
    # the 9 wins all four 3x3 windows (stride 1): it receives the sum of their grads
    x = np.array([[1.0, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]])
    t = numnet.tensor(x.reshape(1, 4, 4, 1), requires_grad=True, dtype=np.float64)
    F.max_pool2d(t, 3, strides=1).backward(np.array([1.0, 2, 3, 4]).reshape(1, 2, 2, 1))
    expected = np.zeros((4, 4))
    expected[1, 1] = 10.0
    np.testing.assert_array_equal(t.grad[0, :, :, 0], expected)


@pytest.mark.parametrize(
    "strides, padding", [(None, "valid"), (1, "valid"), (1, "same")]
)
def test_max_pool_ties_send_the_gradient_to_the_first_cell(strides, padding):
    t = numnet.tensor(np.zeros((1, 4, 4, 2)), requires_grad=True, dtype=np.float64)
    y = F.max_pool2d(t, 2, strides=strides, padding=padding)
    y.backward(np.ones(y.shape))
    s = 2 if strides is None else 1
    expected = np.zeros((4, 4))
    for oh in range(y.shape[1]):
        for ow in range(y.shape[2]):
            expected[oh * s, ow * s] += 1  # top-left cell of each window
    np.testing.assert_array_equal(t.grad[0, :, :, 0], expected)
    np.testing.assert_array_equal(t.grad[0, :, :, 1], expected)


def test_same_padding_never_lets_the_padding_win():
    x = -np.ones((1, 3, 3, 1))  # all negative: a zero pad would win
    y = F.max_pool2d(x, 2, padding="same").numpy()
    assert y.shape == (1, 2, 2, 1) and (y == -1).all()


def test_avg_pool_same_averages_only_valid_cells():
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    y = F.avg_pool2d(x, 2, padding="same").numpy()[0, :, :, 0]
    # windows: {1,2,4,5}, {3,6}, {7,8}, {9} (Keras/TensorFlow semantics)
    np.testing.assert_array_equal(y, [[3.0, 4.5], [7.5, 9.0]])
    ones = F.avg_pool2d(np.ones((1, 5, 4, 2)), 3, strides=2, padding="same")
    np.testing.assert_array_equal(ones.numpy(), 1.0)


def test_valid_pooling_drops_the_partial_windows():
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    t = numnet.tensor(x, requires_grad=True, dtype=np.float64)
    y = F.avg_pool2d(t, 2)
    assert y.shape == (1, 2, 2, 1)
    y.backward(np.ones(y.shape))
    assert (t.grad[0, 4, :, 0] == 0).all() and (t.grad[0, :, 4, 0] == 0).all()


def test_global_pools(rng):
    x = distinct(rng, (2, 3, 4, 5))
    np.testing.assert_allclose(F.global_avg_pool2d(x).numpy(), x.mean(axis=(1, 2)))
    np.testing.assert_array_equal(F.global_max_pool2d(x).numpy(), x.max(axis=(1, 2)))
    assert F.global_avg_pool2d(x).shape == (2, 5)
    assert numnet.gradcheck(F.global_avg_pool2d, [x])
    assert numnet.gradcheck(F.global_max_pool2d, [x])


def test_global_max_pool_tie_has_one_winner():
    t = numnet.tensor(np.ones((1, 2, 2, 1)), requires_grad=True, dtype=np.float64)
    F.global_max_pool2d(t).backward(np.ones((1, 1)))
    np.testing.assert_array_equal(t.grad[0, :, :, 0], [[1, 0], [0, 0]])


def test_upsample2d(rng):
    x = np.arange(4.0).reshape(1, 2, 2, 1)
    y = F.upsample2d(x, size=(2, 3)).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(y, np.repeat(np.repeat(x[0, :, :, 0], 2, 0), 3, 1))
    assert F.upsample2d(np.ones((2, 3, 4, 5))).shape == (2, 6, 8, 5)
    assert numnet.gradcheck(
        lambda x: F.upsample2d(x, 2), [rng.standard_normal((2, 3, 2, 2))]
    )


@pytest.mark.parametrize(
    "op",
    [lambda x: F.max_pool2d(x, 2, strides=1, padding="same"),
     lambda x: F.avg_pool2d(x, 2, padding="same"), lambda x: F.max_pool2d(x, 2),
     lambda x: F.avg_pool2d(x, 3, strides=2), F.global_avg_pool2d,
     F.global_max_pool2d, F.upsample2d],
)  # fmt: skip
def test_float32_stays_float32(rng, op):
    t = numnet.tensor(
        distinct(rng, (2, 5, 5, 3)).astype(np.float32), requires_grad=True
    )
    with strict_dtypes():
        y = op(t)
        assert y.dtype == np.float32
        y.backward(np.ones(y.shape, np.float32))
    assert t.grad.dtype == np.float32


@pytest.mark.parametrize(
    "call, error, message",
    [(lambda x: F.max_pool2d(x, 2, padding="full"), ValueError, "argument 'padding'"),
     (lambda x: F.avg_pool2d(x, 2, padding=1), ValueError, "'valid' or 'same'"),
     (lambda x: F.max_pool2d(x, 0), ValueError, "argument 'pool_size'"),
     (lambda x: F.max_pool2d(x, 2, strides=(1, 0)), ValueError, "argument 'strides'"),
     (lambda x: F.max_pool2d(x, 5), ValueError, "larger than the padded input"),
     (lambda x: F.max_pool2d(x[0], 2), ValueError, r"\(N, H, W, C\)"),
     (lambda x: F.global_avg_pool2d(x[0]), ValueError, r"x.shape=\(4, 4, 1\)"),
     (lambda x: F.upsample2d(x, 0), ValueError, "argument 'size'"),
     (lambda x: F.max_pool2d(x.astype(int), 2), TypeError, "floating-point")],
)  # fmt: skip
def test_errors_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call(np.ones((2, 4, 4, 1)))
