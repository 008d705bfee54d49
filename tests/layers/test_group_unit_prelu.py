"""GroupNormalization, UnitNormalization and PReLU: standard checks, Keras's
formulas, PyTorch, the composed twin of group_norm, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.layers.helpers import run_layer_test

import numnet
import numnet.functional as F
from numnet import layers


def _keras_group_norm(x, gamma, beta, groups, axis, epsilon):
    """Keras's GroupNormalization formula, in NumPy (float64)."""
    a = axis % x.ndim
    C = x.shape[a]
    grouped = x.reshape(x.shape[:a] + (groups, C // groups) + x.shape[a + 1 :])
    axes = tuple(i for i in range(1, grouped.ndim) if i != a)
    mean = grouped.mean(axis=axes, keepdims=True)
    var = grouped.var(axis=axes, keepdims=True)
    shape = [1] * x.ndim
    shape[a] = C
    y = ((grouped - mean) / np.sqrt(var + epsilon)).reshape(x.shape)
    return y * gamma.reshape(shape) + beta.reshape(shape)


def _composed_group_norm(x, gamma, beta, groups, axis, epsilon):
    """The composed twin of F.group_norm: mean, var and elementwise ops."""
    a = axis % x.ndim
    C = x.shape[a]
    grouped = F.reshape(x, x.shape[:a] + (groups, C // groups) + x.shape[a + 1 :])
    axes = tuple(i for i in range(1, grouped.ndim) if i != a)
    centred = grouped - F.mean(grouped, axis=axes, keepdims=True)
    var = F.mean(centred * centred, axis=axes, keepdims=True)
    y = F.reshape(centred / F.sqrt(var + epsilon), x.shape)
    shape = [1] * x.ndim
    shape[a] = C
    return y * F.reshape(gamma, tuple(shape)) + F.reshape(beta, tuple(shape))


@pytest.mark.parametrize(
    "factory, shape",
    [
        (lambda: layers.GroupNormalization(2), (3, 4, 4, 6)),
        (lambda: layers.GroupNormalization(-1, epsilon=1e-5), (2, 5, 4)),
        (lambda: layers.GroupNormalization(1, axis=1, center=False), (2, 4, 3, 3)),
    ],
    ids=["images", "instance", "axis1"],
)
def test_group_normalization_standard_checks(factory, shape):
    layer = run_layer_test(factory, shape, expected_output_shape=shape)
    C = shape[layer._axis]
    assert [w.shape for w in layer.weights] == [(C,)] * len(layer.weights)
    assert layer.weights[0].name.endswith("gamma")  # Keras's order: gamma, beta


@pytest.mark.parametrize("groups, axis", [(3, -1), (2, 1), (6, 3), (1, -1)])
def test_group_norm_matches_the_keras_formula_and_the_composed_twin(rng, groups, axis):
    x = rng.normal(2.0, 3.0, (2, 4, 5, 6))
    C = x.shape[axis]
    gamma, beta = rng.normal(size=C), rng.normal(size=C)
    t = [numnet.tensor(v, dtype=np.float64) for v in (x, gamma, beta)]
    y = F.group_norm(*t, groups=groups, axis=axis, epsilon=1e-3)
    np.testing.assert_allclose(
        y.data, _keras_group_norm(x, gamma, beta, groups, axis, 1e-3), atol=1e-12
    )
    # gradients of the fused op equal the composed twin's (random upstream)
    g = rng.normal(size=x.shape)
    grads = []
    for fn in (F.group_norm, _composed_group_norm):
        ts = [
            numnet.tensor(v, requires_grad=True, dtype=np.float64)
            for v in (x, gamma, beta)
        ]
        (fn(*ts, groups, axis, 1e-3) * g).sum().backward()
        grads.append([v.grad for v in ts])
    for fused, composed in zip(*grads, strict=True):
        np.testing.assert_allclose(fused, composed, rtol=1e-9, atol=1e-11)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 3),
    spatial=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    groups=st.sampled_from([1, 2, 3]),
    per_group=st.integers(1, 3),
)
def test_group_norm_gradchecks_on_many_shapes(n, spatial, groups, per_group):
    rng = np.random.default_rng(n * 100 + groups * 10 + per_group)
    C = groups * per_group
    shape = (n, *spatial, C)
    if np.prod(shape[1:]) // groups < 2:  # one value per group: var 0, x_hat 0
        shape = (n, 2, *spatial, C)
    x, gamma, beta = rng.normal(size=shape), rng.normal(size=C), rng.normal(size=C)
    assert numnet.gradcheck(
        lambda *t: F.group_norm(*t, groups=groups), [x, gamma, beta]
    )


@settings(max_examples=15, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    data=st.data(),
)
def test_unit_norm_gradchecks_on_many_shapes_and_axes(shape, data):
    axes = data.draw(
        st.lists(st.integers(1, len(shape) - 1), min_size=1, unique=True), "axes"
    )
    rng = np.random.default_rng(len(shape) * 10 + len(axes))
    x = rng.normal(size=shape)
    layer = layers.UnitNormalization(axis=axes)
    y = layer(numnet.tensor(x, dtype=np.float64)).data
    norms = np.sqrt((y**2).sum(axis=tuple(axes)))
    np.testing.assert_allclose(norms, 1.0, rtol=1e-12)
    assert numnet.gradcheck(layer, [x])


@pytest.mark.parametrize("axis", [1, 2, -2])
def test_group_norm_on_other_axes_gradchecks(rng, axis):
    x = rng.normal(size=(2, 4, 6, 3))
    C = x.shape[axis]
    gamma, beta = rng.normal(size=C), rng.normal(size=C)
    assert numnet.gradcheck(
        lambda *t: F.group_norm(*t, groups=2, axis=axis), [x, gamma, beta]
    )


def test_group_normalization_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(1.0, 2.0, (3, 5, 4, 8)).astype(np.float32)
    layer = layers.GroupNormalization(4, epsilon=1e-5)
    layer(x)
    gamma, beta = rng.normal(size=8), rng.normal(size=8)
    layer.set_weights([gamma, beta])
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)  # NHWC -> NCHW
    ref = torch.nn.functional.group_norm(
        xt, 4, torch.tensor(gamma, dtype=torch.float32),
        torch.tensor(beta, dtype=torch.float32), eps=1e-5,
    )  # fmt: skip
    g = rng.normal(size=x.shape).astype(np.float32)
    (ref * torch.tensor(g.transpose(0, 3, 1, 2))).sum().backward()
    xn = numnet.tensor(x, requires_grad=True)
    (layer(xn) * g).sum().backward()
    expected = ref.detach().numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-4, atol=1e-5)
    grad = xt.grad.numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(xn.grad, grad, rtol=1e-3, atol=1e-4)


def test_group_normalization_minus_one_is_instance_norm_and_config_names_c():
    layer = layers.GroupNormalization(groups=-1)
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 4))
    y = layer(x).data
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0, atol=1e-5)
    assert layer.get_config()["groups"] == 4  # as Keras: resolved at build


@pytest.mark.parametrize(
    "make, x_shape, match",
    [
        (lambda: layers.GroupNormalization(0), None, r"GroupNormalization: .*'groups'"),
        (lambda: layers.GroupNormalization(2.5), None, r"Received: groups=2.5"),
        (lambda: layers.GroupNormalization(axis="x"), None, r"'axis'"),
        (lambda: layers.GroupNormalization(epsilon=0), None, r"'epsilon'"),
        (
            lambda: layers.GroupNormalization(4),
            (2, 6),
            r"multiple of groups=4.*\(2, 6\)",
        ),
        (lambda: layers.GroupNormalization(8), (2, 4), r"multiple of groups=8"),
        (lambda: layers.GroupNormalization(1, axis=0), (2, 4), r"axis 0 is the batch"),
        (lambda: layers.GroupNormalization(1, axis=3), (2, 4), r"axis=3"),
    ],
)
def test_group_normalization_bad_input(make, x_shape, match):
    with pytest.raises(ValueError, match=match):
        layer = make()
        layer(np.ones(x_shape, np.float32))


def test_group_normalization_checks_the_channels_on_every_call():
    layer = layers.GroupNormalization(2)
    layer(np.ones((2, 3, 4), np.float32))
    with pytest.raises(
        ValueError, match="expected axis -1 of input shape to have value 4"
    ):
        layer(np.ones((2, 3, 6), np.float32))


@pytest.mark.parametrize(
    "axis, shape", [(-1, (3, 5)), ([1, 2], (2, 3, 4)), (1, (2, 3, 4))]
)
def test_unit_normalization_standard_checks(axis, shape):
    run_layer_test(
        lambda: layers.UnitNormalization(axis=axis), shape, expected_output_shape=shape
    )


def test_unit_normalization_is_keras_formula_and_torch_normalize(rng):
    x = rng.normal(size=(4, 3, 5))
    y = layers.UnitNormalization(axis=[1, 2])(numnet.tensor(x, dtype=np.float64))
    expected = x / np.sqrt(np.maximum((x**2).sum(axis=(1, 2), keepdims=True), 1e-12))
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    torch = pytest.importorskip("torch")
    ref = torch.nn.functional.normalize(torch.tensor(x), dim=-1).numpy()
    y = layers.UnitNormalization()(numnet.tensor(x, dtype=np.float64))
    np.testing.assert_allclose(y.data, ref, rtol=1e-12)


def test_unit_normalization_floors_the_squared_norm_at_1e_12():
    x = np.array([[0.0, 0.0], [1e-8, 0.0], [3.0, 4.0]])
    xt = numnet.tensor(x, requires_grad=True, dtype=np.float64)
    y = layers.UnitNormalization()(xt)
    # rsqrt(max(s, 1e-12)): zeros stay 0 (not NaN), tiny rows are scaled by 1e6
    np.testing.assert_allclose(y.data, [[0, 0], [1e-2, 0], [0.6, 0.8]], rtol=1e-12)
    y.sum().backward()
    assert np.isfinite(xt.grad).all()
    np.testing.assert_allclose(xt.grad[0], 1e6)  # below the floor: y = x * 1e6


def test_unit_normalization_bad_axis():
    with pytest.raises(
        ValueError, match=r"UnitNormalization: .*'axis'.*Received: axis=1.5"
    ):
        layers.UnitNormalization(axis=1.5)
    with pytest.raises(ValueError, match=r"axis=3 is out of range .*\(2, 3\)"):
        layers.UnitNormalization(axis=3)(np.ones((2, 3), np.float32))


@pytest.mark.parametrize(
    "kwargs, shape, alpha_shape",
    [
        ({"alpha_initializer": "random_normal"}, (3, 4), (4,)),
        (
            {"alpha_initializer": "random_normal", "shared_axes": [1, 2]},
            (2, 3, 3, 4),
            (1, 1, 4),
        ),
        ({"alpha_initializer": "ones", "shared_axes": 2}, (2, 3, 4), (3, 1)),
    ],
)
def test_prelu_standard_checks(kwargs, shape, alpha_shape):
    def inputs(rng):  # away from the kink at 0
        x = rng.normal(size=shape)
        return np.where(np.abs(x) < 0.05, 0.05 * np.sign(x + 1e-12) + x, x)

    layer = run_layer_test(
        lambda: layers.PReLU(**kwargs),
        shape,
        expected_output_shape=shape,
        expected_trainable_params=int(np.prod(alpha_shape)),
        input_fn=inputs,
    )
    assert layer.alpha.shape == alpha_shape


def test_prelu_is_the_keras_formula_and_matches_torch(rng):
    x = rng.normal(size=(3, 4, 4, 5)).astype(np.float32)
    layer = layers.PReLU(shared_axes=[1, 2])
    y0 = layer(x).data
    np.testing.assert_array_equal(y0, np.maximum(x, 0))  # alpha starts at 0: ReLU
    alpha = rng.uniform(0.05, 0.5, (1, 1, 5)).astype(np.float32)
    layer.set_weights([alpha])
    np.testing.assert_allclose(layer(x).data, np.where(x >= 0, x, alpha * x), rtol=1e-6)
    torch = pytest.importorskip("torch")
    ref = torch.nn.functional.prelu(
        torch.tensor(x.transpose(0, 3, 1, 2)), torch.tensor(alpha.reshape(5))
    )
    np.testing.assert_allclose(
        layer(x).data, ref.numpy().transpose(0, 2, 3, 1), rtol=1e-6
    )


@pytest.mark.parametrize(
    "make, x_shape, match",
    [
        (lambda: layers.PReLU(shared_axes=[0]), None, r"PReLU: .*'shared_axes'"),
        (lambda: layers.PReLU(shared_axes="1"), None, r"Received: shared_axes='1'"),
        (lambda: layers.PReLU(alpha_initializer="nope"), None, r"PReLU: .*alpha_init"),
        (lambda: layers.PReLU(shared_axes=[3]), (2, 4), r"shared_axes=\[3\]"),
        (lambda: layers.PReLU(), (4,), r"expected min_ndim=2"),
    ],
)
def test_prelu_bad_input(make, x_shape, match):
    with pytest.raises(ValueError, match=match):
        make()(np.ones(x_shape, np.float32))


def test_prelu_checks_the_unshared_axes_on_every_call():
    layer = layers.PReLU(shared_axes=[1])
    layer(np.ones((2, 3, 4), np.float32))
    layer(np.ones((5, 7, 4), np.float32))  # the shared axis may change
    with pytest.raises(
        ValueError, match="expected axis 2 of input shape to have value 4"
    ):
        layer(np.ones((2, 3, 5), np.float32))


@pytest.mark.parametrize(
    "shape, groups, axis",
    [((2, 6), 4, -1), ((2, 6), 0, -1), ((2, 6), 2, 0), ((2, 6), 2, 2), ((6,), 2, -1),
     ((2, 6), True, -1), ((2, 6), 2, "x"), ((), 1, -1)],
)  # fmt: skip
def test_functional_group_norm_bad_arguments(shape, groups, axis):
    with pytest.raises(ValueError, match=r"group_norm: .*Received: groups="):
        F.group_norm(np.ones(shape), groups=groups, axis=axis)


def test_functional_group_norm_defaults_and_float32(rng):
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    y = F.group_norm(x, groups=2)
    assert y.dtype == np.float32
    ones, zeros = np.ones(4), np.zeros(4)
    np.testing.assert_allclose(
        y.data, _keras_group_norm(x.astype(float), ones, zeros, 2, -1, 1e-3), atol=1e-5
    )
