"""Attention ops: masked softmax, fused dot-product attention vs its composed twin."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numnet
import numnet.functional as F
from numnet.functional.attention import attention_composed


def _reference_softmax(x, mask, axis):
    e = np.where(mask, np.exp(x - x.max(axis=axis, keepdims=True)), 0)
    total = e.sum(axis=axis, keepdims=True)
    return e / np.where(total > 0, total, 1)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_masked_softmax_matches_reference_and_zero_rows(rng, axis):
    x = rng.normal(size=(3, 4, 5))
    mask = rng.random((3, 4, 5)) > 0.4
    mask[0] = False  # a fully masked slice along every axis choice
    y = F.masked_softmax(x, mask, axis=axis).data
    np.testing.assert_allclose(y, _reference_softmax(x, mask, axis), atol=1e-12)
    assert np.all(np.isfinite(y)) and np.all(y[~mask] == 0)


def test_masked_softmax_ignores_huge_masked_scores(rng):
    x = rng.normal(size=(2, 6))
    x[:, 0] = 1e30
    mask = np.ones((2, 6), bool)
    mask[:, 0] = False
    y = F.masked_softmax(x, mask).data
    np.testing.assert_allclose(y[:, 1:], _reference_softmax(x[:, 1:], mask[:, 1:], -1))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_masked_softmax_ignores_non_finite_masked_scores(rng, bad):
    # the CPU kernel adds a -inf bias; a masked inf or NaN takes the exact path
    x = rng.normal(size=(3, 5)).astype(np.float32)
    x[1, 2] = bad
    mask = np.ones((3, 5), bool)
    mask[1, 2] = False
    y = F.masked_softmax(x, mask).data
    finite = np.where(mask, x, 0)
    np.testing.assert_allclose(y, _reference_softmax(finite, mask, -1), rtol=1e-6)
    assert y.dtype == np.float32 and y[1, 2] == 0


@settings(deadline=None)
@given(st.integers(0, 2**16), st.sampled_from(["full", "rows", "keys", "causal"]),
       st.sampled_from([np.float32, np.float64]))  # fmt: skip
def test_numpy_masked_softmax_equals_the_portable_reference(seed, kind, dtype):
    from numnet.backend import get_ops
    from numnet.backend.ops import Ops

    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(2, 3, 4, 6)) * 5).astype(dtype)
    shape = {"full": (2, 3, 4, 6), "rows": (2, 1, 4, 1), "keys": (2, 1, 1, 6),
             "causal": (4, 6)}[kind]  # fmt: skip
    mask = rng.random(shape) > 0.3 if kind != "causal" else np.tri(4, 6, dtype=bool)
    fast = get_ops(np).masked_softmax(x, mask, -1)
    reference = Ops(np).masked_softmax(x, mask, -1)
    assert fast.dtype == x.dtype
    np.testing.assert_allclose(fast, reference, rtol=1e-6 if dtype == np.float32
                               else 1e-13, atol=1e-7)  # fmt: skip


def test_masked_softmax_without_mask_is_softmax(rng):
    x = rng.normal(size=(3, 5))
    np.testing.assert_allclose(F.masked_softmax(x).data, F.softmax(x).data)


@pytest.mark.parametrize("axis", [-1, 1])
def test_masked_softmax_gradcheck(rng, axis):
    x = rng.normal(size=(2, 3, 4))
    mask = rng.random((2, 1, 4)) > 0.3  # broadcast mask
    numnet.gradcheck(lambda t: F.masked_softmax(t, mask, axis=axis), [x])


def _qkv(rng, batch=(2,), tq=3, tv=4, d=5, dv=2):
    return (
        rng.normal(size=(*batch, tq, d)),
        rng.normal(size=(*batch, tv, d)),
        rng.normal(size=(*batch, tv, dv)),
    )


@settings(max_examples=15, deadline=None)
@given(
    batch=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    tq=st.integers(1, 5),
    tv=st.integers(1, 5),
    causal=st.booleans(),
    masked=st.booleans(),
)
def test_fused_attention_equals_composed_twin(batch, tq, tv, causal, masked):
    rng = np.random.default_rng(len(batch) * 100 + tq * 10 + tv)
    q, k, v = _qkv(rng, tuple(batch), tq, tv)
    mask = rng.random((*batch, tq, tv)) > 0.3 if masked else None
    tensors = [numnet.tensor(a, requires_grad=True, dtype="float64") for a in (q, k, v)]
    twins = [numnet.tensor(a, requires_grad=True, dtype="float64") for a in (q, k, v)]
    out, w = F.attention(*tensors, mask=mask, scale=0.7, causal=causal)
    ref_out, ref_w = attention_composed(*twins, mask=mask, scale=0.7, causal=causal)
    np.testing.assert_allclose(out.data, ref_out.data, atol=1e-12)
    np.testing.assert_allclose(w.data, ref_w.data, atol=1e-12)
    g_out, g_w = rng.normal(size=out.shape), rng.normal(size=w.shape)
    ((out * g_out).sum() + (w * g_w).sum()).backward()
    ((ref_out * g_out).sum() + (ref_w * g_w).sum()).backward()
    for a, b in zip(tensors, twins, strict=True):
        np.testing.assert_allclose(a.grad, b.grad, atol=1e-10)


@pytest.mark.parametrize("causal", [False, True])
def test_fused_attention_gradcheck_with_masks(rng, causal):
    q, k, v = _qkv(rng, (2,), 4, 4)
    mask = rng.random((2, 4, 4)) > 0.3
    numnet.gradcheck(
        lambda a, b, c: F.attention(a, b, c, mask=mask, scale=0.5, causal=causal),
        [q, k, v],
    )


def test_causal_attention_ignores_the_future(rng):
    q, k, v = _qkv(rng, (1,), 4, 4)
    out, w = F.attention(q, k, v, causal=True)
    assert np.all(np.triu(w.data[0], 1) == 0)
    v2 = v.copy()
    v2[:, -1] += 10.0  # changing the last step changes only the last output
    out2, _ = F.attention(q, k, v2, causal=True)
    np.testing.assert_allclose(out.data[:, :-1], out2.data[:, :-1])


def test_additive_attention_matches_numpy_and_gradchecks(rng):
    q, k, v = _qkv(rng, (2,), 3, 4, d=3)
    w = rng.normal(size=(3,))
    mask = rng.random((2, 1, 4)) > 0.3
    out, weights = F.additive_attention(q, k, v, w=w, mask=mask)
    scores = (w * np.tanh(q[:, :, None, :] + k[:, None, :, :])).sum(-1)
    expected = _reference_softmax(scores, np.broadcast_to(mask, scores.shape), -1)
    np.testing.assert_allclose(weights.data, expected, atol=1e-12)
    np.testing.assert_allclose(out.data, expected @ v, atol=1e-12)
    numnet.gradcheck(
        lambda a, b, c, s: F.additive_attention(a, b, c, w=s, mask=mask, causal=True),
        [q, k, v, w],
    )


def test_attention_shape_errors_name_the_op(rng):
    q, k, v = _qkv(rng)
    with pytest.raises(ValueError, match="attention: expected query"):
        F.attention(q, k[..., :2], v)
