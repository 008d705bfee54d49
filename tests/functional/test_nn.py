"""Fused nn ops (dropout, batch/layer norm, cross-entropies) against composed twins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numnet
import numnet.functional as F
from numnet.autograd import strict_dtypes


def composed_norm(x, gamma, beta, axes, eps):
    """Oracle: batch/layer norm composed of mean/var ops (autograd differentiates)."""
    mean = F.mean(x, axis=axes, keepdims=True)
    var = F.var(x, axis=axes, keepdims=True)
    return (x - mean) / F.sqrt(var + eps) * gamma + beta


def t64(a, grad=True):
    return numnet.tensor(a, requires_grad=grad, dtype=np.float64)


# ---------------------------------------------------------------- dropout


def test_dropout_identity_at_inference(rng):
    x = numnet.tensor(rng.normal(size=(4, 5)))
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout_pinned_mask_scales_kept_units(rng):
    x = rng.normal(size=(3, 4))
    mask = rng.random((3, 4)) > 0.3
    y = F.dropout(numnet.tensor(x, dtype=np.float64), 0.3, mask=mask)
    np.testing.assert_allclose(y.data, x * mask / 0.7)


def test_dropout_gradcheck_with_pinned_mask(rng):
    mask = rng.random((4, 6)) > 0.5
    assert numnet.gradcheck(
        lambda t: F.dropout(t, 0.5, mask=mask), [rng.normal(size=(4, 6))]
    )


def test_dropout_statistics_keep_the_expectation():
    x = numnet.tensor(np.ones((200, 500), np.float32))
    y = F.dropout(x, 0.25).data
    assert y.dtype == np.float32
    assert abs((y == 0).mean() - 0.25) < 0.01
    assert abs(y.mean() - 1.0) < 0.02
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.75], rtol=1e-6)


def test_dropout_noise_shape_drops_whole_channels():
    x = numnet.tensor(np.ones((8, 5, 5, 16), np.float32))
    y = F.dropout(x, 0.5, noise_shape=(8, 1, 1, 16)).data
    per_channel = y.reshape(8, 25, 16)
    assert np.all(per_channel.min(axis=1) == per_channel.max(axis=1))


def test_dropout_is_reproducible_with_seed():
    x = numnet.tensor(np.ones((10, 10), np.float32))
    a = F.dropout(x, 0.5, rng=3).data
    b = F.dropout(x, 0.5, rng=3).data
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rejects_bad_rate(rate):
    with pytest.raises(ValueError, match="rate"):
        F.dropout(np.ones(3), rate)


def test_dropout_rejects_mask_of_wrong_shape():
    with pytest.raises(ValueError, match=r"mask of shape \(3,\).*\(4, 5\)"):
        F.dropout(numnet.tensor(np.ones((4, 5))), 0.5, mask=np.ones(3, bool))


# ---------------------------------------------------------------- batch norm


@pytest.mark.parametrize(
    "shape, axis", [((6, 4), -1), ((3, 4, 5, 2), -1), ((2, 3, 4, 4), 1), ((5, 1), -1)]
)
def test_batch_norm_train_matches_composed_twin(rng, shape, axis):
    x = rng.normal(2.0, 3.0, size=shape)
    c = shape[axis]
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    axes = tuple(i for i in range(len(shape)) if i != axis % len(shape))
    bshape = [1] * len(shape)
    bshape[axis] = c
    upstream = rng.normal(size=shape)

    fused_in = [t64(x), t64(gamma), t64(beta)]
    y = F.batch_norm(*fused_in, training=True, axis=axis)
    (y * upstream).sum().backward()
    twin_in = [t64(x), t64(gamma), t64(beta)]
    gamma_b, beta_b = twin_in[1].reshape(bshape), twin_in[2].reshape(bshape)
    z = composed_norm(twin_in[0], gamma_b, beta_b, axes, 1e-3)
    (z * upstream).sum().backward()
    np.testing.assert_allclose(y.data, z.data, rtol=1e-10, atol=1e-12)
    for a, b in zip(fused_in, twin_in, strict=True):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    "shape, axis", [((5, 3), -1), ((2, 3, 3, 2), -1), ((2, 3, 2, 2), 1)]
)
def test_batch_norm_gradcheck_train_and_inference(rng, shape, axis):
    c = shape[axis]
    x, gamma, beta = rng.normal(size=shape), rng.normal(size=c), rng.normal(size=c)
    mm, mv = rng.normal(size=c), rng.uniform(0.5, 2.0, size=c)
    for training in (True, False):

        def fn(a, g, b, training=training):
            m, v = mm.copy(), mv.copy()  # keep the state fixed across evaluations
            return F.batch_norm(a, g, b, m, v, training=training, axis=axis)

        assert numnet.gradcheck(fn, [x, gamma, beta])


def test_batch_norm_moving_statistics_follow_keras_momentum(rng):
    x = rng.normal(3.0, 2.0, size=(16, 4, 4, 3)).astype(np.float32)
    moving_mean, moving_var = np.zeros(3, np.float32), np.ones(3, np.float32)
    F.batch_norm(
        x,
        moving_mean=moving_mean,
        moving_variance=moving_var,
        training=True,
        momentum=0.9,
    )
    batch_mean = x.mean(axis=(0, 1, 2))
    batch_var = x.var(axis=(0, 1, 2))  # biased: ddof=0 (documented choice)
    np.testing.assert_allclose(moving_mean, 0.1 * batch_mean, rtol=1e-5)
    np.testing.assert_allclose(moving_var, 0.9 + 0.1 * batch_var, rtol=1e-5)
    assert moving_mean.dtype == np.float32


def test_batch_norm_inference_uses_moving_statistics(rng):
    x = rng.normal(size=(4, 3))
    mm, mv = rng.normal(size=3), rng.uniform(1, 2, 3)
    g, b = rng.normal(size=3), rng.normal(size=3)
    y = F.batch_norm(t64(x), t64(g), t64(b), mm, mv, training=False, epsilon=1e-3)
    np.testing.assert_allclose(y.data, (x - mm) / np.sqrt(mv + 1e-3) * g + b)


def test_batch_norm_train_output_is_normalized(rng):
    x = rng.normal(5.0, 4.0, size=(64, 8))
    y = F.batch_norm(t64(x, False), training=True, epsilon=1e-8).data
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(y.var(axis=0), 1, rtol=1e-6)


def test_batch_norm_keeps_float32_through_backward(rng):
    x = numnet.tensor(rng.normal(size=(8, 4, 4, 3)), requires_grad=True)
    g = numnet.tensor(np.ones(3), requires_grad=True)
    b = numnet.tensor(np.zeros(3), requires_grad=True)
    with strict_dtypes():
        y = F.batch_norm(
            x, g, b, np.zeros(3, np.float32), np.ones(3, np.float32), training=True
        )
        (y * y).sum().backward()
    assert y.dtype == x.grad.dtype == g.grad.dtype == np.float32


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="moving_mean and moving_variance"):
        F.batch_norm(np.ones((2, 3)), training=False)
    with pytest.raises(ValueError, match="axis"):
        F.batch_norm(np.ones((2, 3)), training=True, axis=2)


# ---------------------------------------------------------------- layer norm


@pytest.mark.parametrize(
    "shape, axis", [((4, 6), -1), ((2, 3, 5), -1), ((2, 3, 4), (1, 2))]
)
def test_layer_norm_matches_twin_and_gradchecks(rng, shape, axis):
    axes = (axis,) if isinstance(axis, int) else axis
    pshape = tuple(shape[a] for a in axes)
    x, g, b = rng.normal(size=shape), rng.normal(size=pshape), rng.normal(size=pshape)
    y = F.layer_norm(t64(x), t64(g), t64(b), axis=axis)
    z = composed_norm(t64(x), t64(g), t64(b), tuple(a % len(shape) for a in axes), 1e-3)
    np.testing.assert_allclose(y.data, z.data, rtol=1e-10, atol=1e-12)
    assert numnet.gradcheck(lambda *a: F.layer_norm(*a, axis=axis), [x, g, b])


# ---------------------------------------------------------------- cross-entropies


def composed_ce(z, t):
    return -(t * F.log_softmax(z, axis=-1)).sum(axis=-1)


@given(n=st.integers(1, 4), c=st.integers(1, 6), scale=st.sampled_from([1.0, 30.0]))
def test_softmax_cross_entropy_matches_composed_twin(n, c, scale):
    rng = np.random.default_rng(n * 10 + c)
    z = rng.normal(size=(n, c)) * scale
    t = rng.dirichlet(np.ones(c), size=n)  # soft labels
    np.testing.assert_allclose(
        F.softmax_cross_entropy(t64(z), t).data,
        composed_ce(t64(z), t64(t)).data,
        rtol=1e-10,
        atol=1e-10,
    )
    assert numnet.gradcheck(F.softmax_cross_entropy, [z, t])


def test_softmax_cross_entropy_over_other_axis(rng):
    z, t = rng.normal(size=(3, 4, 2)), rng.dirichlet(np.ones(4), size=(3, 2))
    t = np.moveaxis(t, -1, 1)
    expected = -(t * F.log_softmax(t64(z), axis=1).data).sum(axis=1)
    np.testing.assert_allclose(F.softmax_cross_entropy(z, t, axis=1).data, expected)
    assert numnet.gradcheck(lambda a, b: F.softmax_cross_entropy(a, b, axis=1), [z, t])


@pytest.mark.parametrize("big", [1e3, 1e4, 1e30])
def test_cross_entropies_are_finite_for_huge_logits(big):
    z = t64(np.array([[big, 0.0, -big], [-big, big, 0.0]]))
    t = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = F.softmax_cross_entropy(z, t)
        loss.sum().backward()
    np.testing.assert_allclose(loss.data, [2 * big, 0.0])
    np.testing.assert_allclose(z.grad, [[1, 0, -1], [0, 0, 0]], atol=1e-12)
    zs = t64(np.array([[big, 0.0, -big], [-big, big, 0.0]]))
    sparse = F.sparse_softmax_cross_entropy(zs, np.array([2, 1]))
    sparse.sum().backward()
    np.testing.assert_allclose(sparse.data, loss.data)
    np.testing.assert_allclose(zs.grad, z.grad)


def test_softmax_cross_entropy_ignores_masked_minus_inf_logit():
    z = t64(np.array([[1.0, -np.inf, 0.5]]))
    loss = F.softmax_cross_entropy(z, np.array([[1.0, 0.0, 0.0]]))
    loss.backward(np.ones(1))
    assert np.isfinite(loss.data).all() and np.isfinite(z.grad).all()
    assert z.grad[0, 1] == 0


@given(shape=st.sampled_from([(5,), (2, 3), (1, 1), (2, 2, 2)]), c=st.integers(1, 5))
def test_sparse_cross_entropy_equals_one_hot_version(shape, c):
    rng = np.random.default_rng(c)
    z = rng.normal(size=shape + (c,))
    labels = rng.integers(0, c, size=shape)
    one_hot = np.eye(c)[labels]
    np.testing.assert_allclose(
        F.sparse_softmax_cross_entropy(t64(z), labels).data,
        F.softmax_cross_entropy(t64(z), one_hot).data,
        rtol=1e-12,
    )
    assert numnet.gradcheck(lambda a: F.sparse_softmax_cross_entropy(a, labels), [z])


def test_sparse_cross_entropy_rejects_bad_labels():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"label value of 4 .*\[0, 4\)"):
        F.sparse_softmax_cross_entropy(z, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="label value of -1"):
        F.sparse_softmax_cross_entropy(z, np.array([0, -1, 2]))
    with pytest.raises(ValueError, match="integers"):
        F.sparse_softmax_cross_entropy(z, np.array([0.5, 1, 2]))
    with pytest.raises(ValueError, match=r"labels.shape=\(3, 1\)"):
        F.sparse_softmax_cross_entropy(z, np.zeros((3, 1), int))


def test_softmax_cross_entropy_rejects_shape_mismatch():
    with pytest.raises(
        ValueError, match=r"targets.shape=\(3, 5\), logits.shape=\(3, 4\)"
    ):
        F.softmax_cross_entropy(np.zeros((3, 4)), np.zeros((3, 5)))


def test_sigmoid_bce_matches_formula_and_gradchecks(rng):
    z, t = rng.normal(size=(4, 3)) * 3, rng.uniform(size=(4, 3))
    s = 1 / (1 + np.exp(-z))
    expected = -(t * np.log(s) + (1 - t) * np.log(1 - s))
    np.testing.assert_allclose(F.sigmoid_binary_cross_entropy(z, t).data, expected)
    assert numnet.gradcheck(F.sigmoid_binary_cross_entropy, [z, t])


def test_sigmoid_bce_is_finite_for_huge_logits():
    z = t64(np.array([1e4, -1e4, 1e4, -1e4]))
    t = np.array([1.0, 0.0, 0.0, 1.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = F.sigmoid_binary_cross_entropy(z, t)
        loss.sum().backward()
    np.testing.assert_allclose(loss.data, [0, 0, 1e4, 1e4])
    np.testing.assert_allclose(z.grad, [0, 0, 1, -1])


def test_cross_entropy_targets_do_not_upcast_float32(rng):
    z = numnet.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    t = np.eye(3)[[0, 1, 2, 0]]  # float64 ndarray
    with strict_dtypes():
        loss = F.softmax_cross_entropy(z, t) + F.sparse_softmax_cross_entropy(
            z, [0, 1, 2, 0]
        )
        loss = loss.sum() + F.sigmoid_binary_cross_entropy(z, t).sum()
        loss.backward()
    assert loss.dtype == z.grad.dtype == np.float32
