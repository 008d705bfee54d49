"""The memoized geometry and plans give what a fresh computation gives, for every
key input, and leave validation, errors and overrides as they were."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests._kernels.strategies import geometries, naive_im2col

import numnet
import numnet.functional as F
from numnet import config
from numnet._kernels import conv_plan
from numnet._kernels import im2col as k
from numnet._kernels.conv_plan import ConvPlan, plan_conv
from numnet.functional import pooling

BASE = dict(H=9, W=8, kernel_size=(3, 3), stride=1, padding="valid", dilation=1)


@pytest.mark.parametrize(
    "change",
    [
        {"H": 10},
        {"W": 11},
        {"kernel_size": (2, 3)},
        {"stride": (2, 1)},
        {"padding": "same"},
        {"padding": (1, 2)},
        {"dilation": 2},
    ],
)
def test_make_geometry_memo_follows_every_argument(change):
    first = k.make_geometry(*BASE.values())
    args = {**BASE, **change}
    g = k.make_geometry(*args.values())
    assert g == k._resolve_geometry(*args.values(), "conv2d") != first
    assert (g.OH, g.OW) == (
        k.conv_output_size(g.H, g.KH, g.sh, (g.pt, g.pb), g.dh),
        k.conv_output_size(g.W, g.KW, g.sw, (g.pl, g.pr), g.dw),
    )
    assert k.make_geometry(*args.values()) is g  # a memo hit


def test_make_geometry_validates_what_is_not_plain():
    k.make_geometry(5, 5, (1, 3))  # cached: (True, 3) must not hit it (True == 1)
    with pytest.raises(ValueError, match=r"kernel_size=\(True, 3\)"):
        k.make_geometry(5, 5, (True, 3))
    g = k.make_geometry(5, 5, [np.int64(3), 3], np.int64(2), [1, 1], op="x")
    assert (g.KH, g.KW, g.sh, g.pt, g.OH) == (3, 3, 2, 1, 3)
    for op in ("conv2d", "max_pool2d"):  # the op is part of the key and the error
        with pytest.raises(ValueError, match=f"{op}: invalid value for argument 'pa"):
            k.make_geometry(5, 5, 3, 1, "full", 1, op)
        with pytest.raises(ValueError, match=f"{op}: the window"):
            k.make_geometry(2, 5, 3, 1, "valid", 1, op)


def test_geometry_derived_sizes_and_equality():
    g = k.Geometry(7, 6, 3, 2, 2, 1, 1, 2, 1, 0, 1, 1)
    fresh = k.Geometry(7, 6, 3, 2, 2, 1, 1, 2, 1, 0, 1, 1)
    assert (g.OH, g.OW, g.span_w, g.groups, g.padded) == (3, 6, 3, 3, True)
    assert g == fresh and hash(g) == hash(fresh) and repr(g) == repr(fresh)
    assert g.padded_shape(4, 5)[:3] == (4, 8, g.padded_shape(1, 1)[2])
    with pytest.raises(AttributeError):  # still frozen
        g.H = 3


@given(geometries(), st.integers(1, 3), st.integers(0, 2**16))
def test_im2col_padded_matches_naive_loop(g, C, seed):
    x = np.random.default_rng(seed).standard_normal((2, g.H, g.W, C))
    x_padded = k.pad_into(x, g) if g.padded else x  # with col2im's slack
    np.testing.assert_array_equal(k.im2col_padded(x_padded, g), naive_im2col(x, g))


def test_im2col_padded_refuses_a_too_small_input():
    g = k.make_geometry(6, 6, 3, padding=1)
    with pytest.raises(ValueError, match="smaller than the windows"):
        k.im2col_padded(np.zeros((1, 6, 6, 1)), g)  # not padded


def _plan_args(**change):
    g = k.make_geometry(12, 12, 3)
    args = dict(g=g, device="cpu", C=1, O=4, N=2, itemsize=4, weight_grad=True,
                bias=True, relu=False)  # fmt: skip
    return {**args, **change}


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"g": k.make_geometry(12, 12, 3, 2)},
        {"device": "cupy"},
        {"device": "other"},
        {"C": 8},
        {"O": 1},
        {"weight_grad": False},
        {"bias": False},
        {"relu": True},
        {"N": 10**6},
        {"itemsize": 8, "N": 10**5},
    ],
)
def test_plan_conv_memo_follows_every_argument(change):
    args = _plan_args(**change)
    g = args.pop("g")
    expected = conv_plan._plan(g, *args.values())
    plan = plan_conv(g, args.pop("device"), **args)
    assert plan == expected and plan.reasons == expected.reasons
    assert plan.explain() == expected.explain()


def test_plan_conv_memo_follows_the_memory_budget():
    args = _plan_args(N=64)
    g, device = args.pop("g"), args.pop("device")
    assert plan_conv(g, device, **args).keep_columns
    with config.using(memory_budget=1024):
        assert not plan_conv(g, device, **args).keep_columns
    assert plan_conv(g, device, **args).keep_columns


def test_config_plan_override_still_applies_after_memo_hits(rng):
    x = numnet.tensor(rng.standard_normal((2, 6, 6, 2)), requires_grad=True)
    w = numnet.tensor(rng.standard_normal((3, 3, 2, 3)), requires_grad=True)
    for _ in range(2):
        assert F.conv2d(x, w).creator.state.plan.executor == "cpu"
    plan = ConvPlan(executor="reference", reasons=("mine",))
    with config.using(kernel_plans={"conv2d": plan}):
        y = F.conv2d_relu(x, w)
        used = y.creator.state.plan
        assert (used.executor, used.fused_relu, used.reasons) == (
            "reference", True, ("mine",)
        )  # fmt: skip
    assert F.conv2d(x, w).creator.state.plan.executor == "cpu"
    inference = F.conv2d(x, w.data)  # no weight gradient: no kept columns
    assert not inference.creator.state.plan.keep_columns


def test_conv_results_follow_shape_changes_through_the_memos(rng):
    w = rng.standard_normal((3, 3, 2, 3))
    for shape in ((1, 6, 6, 2), (2, 7, 5, 2), (1, 6, 6, 2)):
        x = rng.standard_normal(shape)
        for options in ({}, {"padding": "same"}, {"stride": 2}, {"dilation": 2}):
            y = F.conv2d(x, w, **options).numpy()
            ref = F.conv2d(x, w, plan=ConvPlan(executor="reference"), **options)
            np.testing.assert_allclose(y, ref.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "args",
    [
        (2, None, "valid"),
        (3, None, "valid"),
        (2, 1, "valid"),
        (2, None, "same"),
        ((2, 3), (1, 2), "same"),
    ],
)
def test_pool_geometry_memo_follows_every_argument(args):
    x = np.zeros((1, 7, 6, 1))
    g = pooling._pool_geometry("max_pool2d", x, *args)
    assert g == pooling._resolve_pool_geometry("max_pool2d", 7, 6, *args)
    assert pooling._pool_geometry("max_pool2d", x, *args) is g
    other = pooling._pool_geometry("max_pool2d", np.zeros((1, 9, 6, 1)), *args)
    assert other.H == 9 and other.OH != g.OH


def test_pool_geometry_validation_is_unchanged():
    x = np.zeros((1, 6, 6, 1))
    pooling._pool_geometry("max_pool2d", x, 2, None, "valid")  # cached
    with pytest.raises(ValueError, match="max_pool2d: invalid value for argument 'pad"):
        pooling._pool_geometry("max_pool2d", x, 2, None, "full")
    with pytest.raises(ValueError, match="avg_pool2d: invalid value for argument 'poo"):
        pooling._pool_geometry("avg_pool2d", x, True, None, "valid")
    with pytest.raises(ValueError, match="shape"):
        pooling._pool_geometry("max_pool2d", np.zeros((6, 6, 1)), 2, None, "valid")
    g = pooling._pool_geometry("max_pool2d", x, np.int64(3), [2, 2], "VALID")
    assert (g.KH, g.sh, g.OH) == (3, 2, 2)


def test_pool_method_override_still_applies(rng):
    x = numnet.tensor(rng.standard_normal((2, 6, 6, 3)), requires_grad=True)
    expected = F.max_pool2d(x, 2).numpy()
    with config.using(kernel_plans={"max_pool2d": "offsets"}):
        y = F.max_pool2d(x, 2)
        assert y.creator.method == "offsets"
    np.testing.assert_array_equal(y.numpy(), expected)
    assert F.max_pool2d(x, 2).creator.method == "two_stage"
