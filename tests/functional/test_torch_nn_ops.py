"""scaled_dot_product_attention, pixel (un)shuffle and adaptive pooling against
PyTorch, and every new activation and op on the strict second namespace.

numnet's images are channels-last: each image op is compared with PyTorch's on
the transposed input, ``torch_op(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.gpu.strict_device import strict_device
from tests.strict_namespace import StrictArray

import numnet
import numnet.functional as F
from numnet.backend import get_ops

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = {"rtol": 1e-9, "atol": 1e-11}
SEEDS = st.integers(0, 2**32 - 1)


def _both(ours, theirs, arrays, g_seed=0):
    """(values, gradients of every array) from numnet and from torch, float64."""
    n_in = [numnet.tensor(a, dtype=a.dtype, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, y_t = ours(*n_in), theirs(*t_in)
    g = np.random.default_rng(g_seed).standard_normal(y_t.shape)
    (y * g).sum().backward()
    (y_t * torch.tensor(g)).sum().backward()
    assert y.shape == tuple(y_t.shape)
    mine = [y.data] + [t.grad for t in n_in]
    theirs_ = [y_t.detach().numpy()] + [t.grad.numpy() for t in t_in]
    return mine, theirs_


def _assert_same(mine, theirs, **tol):
    for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        np.testing.assert_allclose(a, b, **(tol or TOL), err_msg=f"result {i}")


def _nchw(fn):
    """A torch image op on NHWC arrays (permute in and out)."""
    return lambda t, *a: fn(t.permute(0, 3, 1, 2), *a).permute(0, 2, 3, 1)


@given(
    n=st.integers(1, 2), h=st.integers(1, 3), w=st.integers(1, 3),
    c=st.integers(1, 2), r=st.integers(1, 3), seed=SEEDS,
)  # fmt: skip
def test_pixel_shuffle_and_unshuffle_match_torch_channels_last(n, h, w, c, r, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, c * r * r))
    mine, theirs = _both(
        lambda t: F.pixel_shuffle(t, r),
        _nchw(lambda t: TF.pixel_shuffle(t, r)),
        [x],
    )
    _assert_same(mine, theirs)
    back = F.pixel_unshuffle(F.pixel_shuffle(x, r), r).data
    np.testing.assert_array_equal(back, x)  # the inverse
    image = rng.standard_normal((n, h * r, w * r, c))
    _assert_same(
        *_both(
            lambda t: F.pixel_unshuffle(t, r),
            _nchw(lambda t: TF.pixel_unshuffle(t, r)),
            [image],
        )
    )


@pytest.mark.parametrize("pool", ["avg", "max"])
@given(
    h=st.integers(1, 7), w=st.integers(1, 7), oh=st.integers(1, 5),
    ow=st.one_of(st.none(), st.integers(1, 5)), seed=SEEDS,
)  # fmt: skip
def test_adaptive_pooling_matches_torch_channels_last(pool, h, w, oh, ow, seed):
    rng = np.random.default_rng(seed)
    x = rng.permutation(2 * h * w * 3).reshape(2, h, w, 3) * 0.1  # no ties
    ours = F.adaptive_avg_pool2d if pool == "avg" else F.adaptive_max_pool2d
    theirs = TF.adaptive_avg_pool2d if pool == "avg" else TF.adaptive_max_pool2d
    size = (oh, ow)
    _assert_same(*_both(lambda t: ours(t, size), _nchw(lambda t: theirs(t, size)), [x]))


def test_adaptive_pooling_takes_an_int_and_an_unbatched_image():
    x = np.arange(2 * 5 * 5 * 3, dtype=np.float64).reshape(2, 5, 5, 3)
    np.testing.assert_allclose(
        F.adaptive_avg_pool2d(x, 1).data[:, 0, 0], x.mean(axis=(1, 2))
    )
    np.testing.assert_array_equal(
        F.adaptive_max_pool2d(x[0], 2).data, F.adaptive_max_pool2d(x, 2).data[0]
    )


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x: F.pixel_shuffle(x, 2), "divisible by upscale_factor \\*\\* 2 = 4"),
        (lambda x: F.pixel_unshuffle(x, 2), "H \\(3\\) and W \\(3\\) must be"),
        (lambda x: F.pixel_shuffle(x, 0), "'upscale_factor'. Expected a positive"),
        (lambda x: F.adaptive_avg_pool2d(x, 0), "'output_size'. Expected a positive"),
        (lambda x: F.adaptive_max_pool2d(x, (1, 2, 3)), "'output_size'"),
        (lambda x: F.adaptive_max_pool2d(x[0, 0], 1), "channels-last"),
    ],
)
def test_image_ops_name_what_is_wrong(call, match):
    with pytest.raises(ValueError, match=match):
        call(np.ones((1, 3, 3, 3)))


def _qkv(rng, batch=(2, 3), L=4, S=5, E=6, Ev=3):
    return (
        rng.standard_normal((*batch, L, E)),
        rng.standard_normal((*batch, S, E)),
        rng.standard_normal((*batch, S, Ev)),
    )


SDPA_CASES = {
    "plain": {},
    "causal": {"is_causal": True},
    "scale": {"scale": 0.3},
    "causal_scale": {"is_causal": True, "scale": 2.0},
    "bool_mask": {"attn_mask": "bool"},
    "float_mask": {"attn_mask": "float"},
    "float_mask_inf": {"attn_mask": "float_inf"},
}


def _mask(kind, rng, L=4, S=5):
    if kind == "bool":
        mask = rng.random((3, L, S)) < 0.7
        mask[..., 0] = True  # every row keeps one key (PyTorch: NaN otherwise)
        return mask
    bias = rng.standard_normal((L, S))
    if kind == "float_inf":
        bias[rng.random((L, S)) < 0.3] = -np.inf
        bias[:, 0] = 0.5
    return bias


@pytest.mark.parametrize("name", sorted(SDPA_CASES))
def test_scaled_dot_product_attention_matches_torch(name, rng):
    kwargs = dict(SDPA_CASES[name])
    arrays = list(_qkv(rng))
    if "attn_mask" in kwargs:
        mask = _mask(kwargs.pop("attn_mask"), rng)
        kwargs_t = {**kwargs, "attn_mask": torch.tensor(mask)}
        kwargs = {**kwargs, "attn_mask": mask}
    else:
        kwargs_t = kwargs
    mine, theirs = _both(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, **kwargs_t),
        arrays,
    )
    _assert_same(mine, theirs)


def test_a_float_mask_that_requires_grad_gets_torchs_gradient(rng):
    q, k, v = _qkv(rng)
    bias = rng.standard_normal((4, 5))
    mine, theirs = _both(
        lambda q, k, v, b: F.scaled_dot_product_attention(q, k, v, b),
        lambda q, k, v, b: TF.scaled_dot_product_attention(q, k, v, b),
        [q, k, v, bias],
    )
    _assert_same(mine, theirs)


def test_grouped_query_attention_matches_torch(rng):
    q = rng.standard_normal((2, 6, 4, 8))
    k, v = rng.standard_normal((2, 2, 5, 8)), rng.standard_normal((2, 2, 5, 3))
    mine, theirs = _both(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        [q, k, v],
    )
    _assert_same(mine, theirs)


def test_attention_dropout_scales_the_kept_weights(rng):
    q, k, _ = _qkv(rng, batch=(200,), S=5)
    v = np.broadcast_to(np.eye(5), (200, 5, 5)).copy()  # the output is the weights
    weights = F.scaled_dot_product_attention(q, k, v).data
    numnet.manual_seed(1)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25).data
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], weights[kept] / 0.75, rtol=1e-12)
    assert abs(kept.mean() - 0.75) < 0.02


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"attn_mask": np.ones((4, 5), bool), "is_causal": True}, "not both"),
        ({"dropout_p": 1.0}, "'dropout_p'. Expected a number in \\[0, 1\\)"),
        ({"scale": float("nan")}, "'scale'. Expected a finite number"),
    ],
)
def test_sdpa_refuses_bad_arguments(kwargs, match, rng):
    with pytest.raises(ValueError, match=match):
        F.scaled_dot_product_attention(*_qkv(rng), **kwargs)


# every new function on the strict namespace: the same numbers as on the CPU
STRICT = {
    "silu": F.silu, "mish": F.mish, "hardswish": F.hardswish,
    "hardsigmoid": F.hardsigmoid, "relu6": F.relu6, "logsigmoid": F.logsigmoid,
    "softsign": F.softsign, "tanhshrink": F.tanhshrink, "softshrink": F.softshrink,
    "hardshrink": F.hardshrink, "hardtanh": F.hardtanh, "celu": F.celu,
    "threshold": lambda x: F.threshold(x, 0.3, -1.0),
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "glu": F.glu, "softmin": F.softmin, "sparsemax": F.sparsemax,
    "squareplus": F.squareplus, "sparse_plus": F.sparse_plus,
    "sparse_sigmoid": F.sparse_sigmoid, "rrelu": F.rrelu,
    "prelu": lambda x: F.prelu(x, x[0, 0, 0] * 0.0 + 0.25),
    "pixel_shuffle": lambda x: F.pixel_shuffle(x, 2),
    "pixel_unshuffle": lambda x: F.pixel_unshuffle(x, 2),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
    "adaptive_max_pool2d": lambda x: F.adaptive_max_pool2d(x, (3, 2)),
    "sdpa": lambda x: F.scaled_dot_product_attention(x, x, x, is_causal=True),
    "sdpa_float_mask": lambda x: F.scaled_dot_product_attention(
        x, x, x, x[0, 0] * 0.1
    ),
}  # fmt: skip


KINKS = np.array([-3.0, -1.0, -0.5, 0.0, 0.3, 0.5, 1.0, 3.0])


def _strict_input(rng):
    """Distinct values (no ties), none within 0.01 of a kink."""
    n = 2 * 4 * 4 * 4
    x = (rng.permutation(n) + rng.uniform(0.1, 0.9, n)) * 0.05 - 1.6
    x = np.where(np.abs(x[:, None] - KINKS).min(-1) < 0.01, x + 0.023, x)
    return x.reshape(2, 4, 4, 4)


@pytest.mark.parametrize("name", sorted(STRICT))
def test_every_new_op_runs_and_gradchecks_on_the_strict_namespace(name, rng):
    fn, x = STRICT[name], _strict_input(rng)
    on_cpu = fn(numnet.tensor(x, dtype=np.float64)).data
    with strict_device():
        device = numnet.device("strict")
        t = numnet.tensor(device.put(x), dtype=np.float64, requires_grad=True)
        y = fn(t)
        assert isinstance(y.data, StrictArray)
        y.sum().backward()
        assert isinstance(t.grad, StrictArray)
        np.testing.assert_allclose(get_ops(y.data).to_numpy(y.data), on_cpu, **TOL)
        assert numnet.gradcheck(fn, [device.put(x)])


def test_rrelu_draws_on_the_strict_device_in_training():
    x = -np.linspace(0.5, 2.0, 64)
    with strict_device():
        t = numnet.tensor(numnet.device("strict").put(x), dtype=np.float64)
        numnet.manual_seed(4)
        y = F.rrelu(t, 0.1, 0.3, training=True)
        slopes = get_ops(y.data).to_numpy(y.data) / x
    assert 0.1 <= slopes.min() and slopes.max() < 0.3 and slopes.std() > 0.03
