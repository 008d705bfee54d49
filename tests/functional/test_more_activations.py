"""The PyTorch- and Keras-named activations of ``numnet.functional``.

* every PyTorch name: values and input gradients against ``torch.nn.functional``
  in float64 on hypothesis shapes, with the kink points mixed into the values
  (so the sub-gradient conventions are PyTorch's);
* every Keras 3 name: values against Keras 3's formulas (written out below from
  ``keras/src/backend/*/nn.py``), with its default arguments;
* each fused op against its composed twin, a float64 gradcheck, float32 in ->
  float32 out;
* ``Dense(4, activation=name)`` for every new Keras name builds, trains a step,
  saves and reloads with the same outputs;
* an MLP with swish (and one with mish) learns Fashion-MNIST.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import numnet
import numnet.functional as F
from numnet import layers, models
from numnet.autograd import strict_dtypes
from numnet.functional.activations import ACTIVATIONS, get_activation
from numnet.functional.activations_keras import KERAS_ACTIVATIONS

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = {"rtol": 1e-10, "atol": 1e-12}  # float64, the same formula
# PyTorch's float64 backward of hardsigmoid (1/6) and celu (1/alpha) uses float32
# constants: agreement to ~3e-8 relative there
GRAD_TOL = {"rtol": 1e-7, "atol": 1e-9}


def _values(rng, shape, kinks, spread=3.0):
    """Normal values times ``spread``, about a third replaced by kink points."""
    x = rng.standard_normal(shape) * spread
    if kinks:
        at = rng.random(shape) < 0.35
        x = np.where(at, rng.choice(np.asarray(kinks, float), shape), x)
    return np.asarray(x, dtype=np.float64)  # a 0-d array, not a NumPy scalar


# name -> (numnet call, torch call, kink points)
TORCH = {
    "silu": (F.silu, TF.silu, [0.0]),
    "swish": (F.swish, TF.silu, [0.0]),
    "mish": (F.mish, TF.mish, [0.0]),
    "hardswish": (F.hardswish, TF.hardswish, [-3.0, 0.0, 3.0]),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid, [-3.0, 3.0]),
    "relu6": (F.relu6, TF.relu6, [0.0, 6.0]),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid, [0.0, -40.0, 40.0]),
    "softsign": (F.softsign, TF.softsign, [0.0]),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink, [0.0]),
    "softshrink": (F.softshrink, TF.softshrink, [-0.5, 0.5, 0.0]),
    "softshrink_1.2": (
        lambda x: F.softshrink(x, 1.2),
        lambda t: TF.softshrink(t, 1.2),
        [-1.2, 1.2],
    ),
    "hardshrink": (
        lambda x: F.hardshrink(x, lambd=0.7),
        lambda t: TF.hardshrink(t, lambd=0.7),
        [-0.7, 0.7, 0.0],
    ),
    "hardtanh": (F.hardtanh, TF.hardtanh, [-1.0, 1.0]),
    "hardtanh_args": (
        lambda x: F.hardtanh(x, min_val=-2.0, max_val=0.5),
        lambda t: TF.hardtanh(t, min_val=-2.0, max_val=0.5),
        [-2.0, 0.5],
    ),
    "threshold": (
        lambda x: F.threshold(x, 0.25, -2.0),
        lambda t: TF.threshold(t, 0.25, -2.0),
        [0.25],
    ),
    "celu": (F.celu, TF.celu, [0.0]),
    "celu_0.6": (
        lambda x: F.celu(x, alpha=0.6),
        lambda t: TF.celu(t, alpha=0.6),
        [0.0],
    ),
    "elu": (lambda x: F.elu(x, alpha=0.5), lambda t: TF.elu(t, alpha=0.5), [0.0]),
    "selu": (F.selu, TF.selu, [0.0]),
    "leaky_relu": (
        lambda x: F.leaky_relu(x, negative_slope=0.01),
        lambda t: TF.leaky_relu(t, negative_slope=0.01),
        [0.0],
    ),
    "gelu": (F.gelu, TF.gelu, [0.0]),
    "gelu_none": (
        lambda x: F.gelu(x, approximate="none"),
        lambda t: TF.gelu(t, approximate="none"),
        [0.0],
    ),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda t: TF.gelu(t, approximate="tanh"),
        [0.0],
    ),
    "rrelu_eval": (F.rrelu, TF.rrelu, [0.0]),
    "rrelu_eval_args": (
        lambda x: F.rrelu(x, 0.1, 0.4),
        lambda t: TF.rrelu(t, 0.1, 0.4),
        [0.0],
    ),
}

# name -> (numnet call, torch call) for ops along an axis (no kinks)
TORCH_AXIS = {
    "glu": (lambda x, a: F.glu(x, a), lambda t, a: TF.glu(t, a)),
    "glu_dim": (lambda x, a: F.glu(x, dim=a), lambda t, a: TF.glu(t, dim=a)),
    "softmin": (lambda x, a: F.softmin(x, a), lambda t, a: TF.softmin(t, a)),
    "softmin_dim": (
        lambda x, a: F.softmin(x, dim=a),
        lambda t, a: TF.softmin(t, dim=a),
    ),
}

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
SEEDS = st.integers(0, 2**32 - 1)


def _numnet_value_and_grad(fn, x, g, *extra):
    t = numnet.tensor(x, dtype=x.dtype, requires_grad=True)
    y = fn(t, *extra)
    (y * g).sum().backward()
    return y.data, t.grad


def _torch_value_and_grad(fn, x, g, *extra):
    t = torch.tensor(x, requires_grad=True)
    y = fn(t, *extra)
    (y * torch.tensor(g)).sum().backward()
    return y.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("name", sorted(TORCH))
@given(shape=SHAPES, seed=SEEDS)
def test_values_and_gradients_match_torch_including_the_kinks(name, shape, seed):
    ours, theirs, kinks = TORCH[name]
    rng = np.random.default_rng(seed)
    x = _values(rng, shape, kinks)
    g = np.asarray(rng.standard_normal(shape))
    y, gx = _numnet_value_and_grad(ours, x, g)
    y_ref, gx_ref = _torch_value_and_grad(theirs, x, g)
    assert y.dtype == np.float64 and y.shape == y_ref.shape
    np.testing.assert_allclose(y, y_ref, **TOL, err_msg=f"{name} values")
    np.testing.assert_allclose(gx, gx_ref, **GRAD_TOL, err_msg=f"{name} gradients")


@pytest.mark.parametrize("name", sorted(TORCH_AXIS))
@given(data=st.data())
def test_axis_ops_match_torch(name, data):
    ours, theirs = TORCH_AXIS[name]
    shape = list(data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    if name.startswith("glu"):
        shape[axis] *= 2  # glu halves the axis
    rng = np.random.default_rng(data.draw(SEEDS))
    x = rng.standard_normal(shape) * 3
    g = rng.standard_normal(np.shape(theirs(torch.tensor(x), axis)))
    for a, b in zip(
        _numnet_value_and_grad(ours, x, g, axis),
        _torch_value_and_grad(theirs, x, g, axis),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, **TOL, err_msg=name)


@given(data=st.data())
def test_prelu_matches_torch_with_one_or_per_channel_weights(data):
    """numnet's weight is along the last (channel) axis; torch's along axis 1."""
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=4, max_side=4))
    per_channel = data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(SEEDS))
    x = _values(rng, shape, [0.0])
    w = rng.uniform(-0.5, 0.5, shape[-1] if per_channel else 1)
    g = rng.standard_normal(shape)
    x_t, w_t = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    channels_first = x_t.movedim(-1, 1)
    y_t = TF.prelu(channels_first, w_t).movedim(1, -1)
    (y_t * torch.tensor(g)).sum().backward()
    x_n = numnet.tensor(x, dtype=np.float64, requires_grad=True)
    w_n = numnet.tensor(w, dtype=np.float64, requires_grad=True)
    y = F.prelu(x_n, w_n)
    (y * g).sum().backward()
    np.testing.assert_allclose(y.data, y_t.detach().numpy(), **TOL)
    np.testing.assert_allclose(x_n.grad, x_t.grad.numpy(), **TOL)
    np.testing.assert_allclose(w_n.grad, w_t.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_rrelu_in_training_draws_a_slope_per_element_in_its_interval():
    x = -np.linspace(0.5, 3.0, 4000)  # all negative: every element gets a slope
    numnet.manual_seed(3)
    t = numnet.tensor(x, dtype=np.float64, requires_grad=True)
    y = F.rrelu(t, 0.1, 0.3, training=True)
    y.sum().backward()
    slopes = y.data / x
    assert 0.1 <= slopes.min() and slopes.max() < 0.3
    assert slopes.std() > 0.05  # drawn per element, about U(0.1, 0.3)'s 0.058
    assert abs(slopes.mean() - 0.2) < 0.01
    np.testing.assert_allclose(t.grad, slopes)  # the same draw in backward
    numnet.manual_seed(3)
    np.testing.assert_array_equal(F.rrelu(x, 0.1, 0.3, training=True).data, y.data)
    positive = np.abs(x)
    np.testing.assert_array_equal(F.rrelu(positive, training=True).data, positive)


# Keras 3's formulas (keras/src/backend/{numpy,tensorflow}/nn.py), with its defaults
def _k_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _k_softplus(x):
    return np.logaddexp(x, 0.0)


def _k_relu6(x):
    return np.minimum(np.maximum(x, 0.0), 6.0)


def _k_glu(x, axis=-1):
    a, b = np.split(x, 2, axis=axis)
    return a * _k_sigmoid(b)


def _k_sparsemax(x, axis=-1):
    z = -np.sort(-x, axis=axis)
    cumsum = np.cumsum(z, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    r = np.arange(1, x.shape[axis] + 1).reshape(shape)
    support = z - (cumsum - 1) / r > 0
    k = np.sum(support, axis=axis, keepdims=True)
    tau = (np.sum(np.where(support, z, 0), axis=axis, keepdims=True) - 1) / k
    return np.maximum(x - tau, 0)


KERAS = {
    "silu": lambda x: x * _k_sigmoid(x),
    "swish": lambda x: x * _k_sigmoid(x),
    "mish": lambda x: x * np.tanh(_k_softplus(x)),
    "relu6": _k_relu6,
    "hard_sigmoid": lambda x: _k_relu6(x + 3.0) / 6.0,
    "hard_silu": lambda x: x * _k_relu6(x + 3.0) / 6.0,
    "hard_swish": lambda x: x * _k_relu6(x + 3.0) / 6.0,
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "exponential": np.exp,
    "log_sigmoid": lambda x: -_k_softplus(-x),
    "celu": lambda x, alpha=1.0: (
        np.maximum(x, 0.0) + alpha * np.expm1(np.minimum(x, 0.0) / alpha)
    ),
    "glu": _k_glu,
    "hard_tanh": lambda x: np.clip(x, -1.0, 1.0),
    "sparse_plus": lambda x: np.where(
        x <= -1, np.zeros_like(x), np.where(x < 1, (1 / 4) * (x + 1) ** 2, x)
    ),
    "sparse_sigmoid": lambda x: np.where(
        x <= -1, 0.0, np.where(x >= 1, 1.0, 0.5 * (x + 1))
    ),
    "sparsemax": _k_sparsemax,
    "squareplus": lambda x, b=4: (x + np.sqrt(x**2 + b)) / 2,
    "tanh_shrink": lambda x: x - np.tanh(x),
    "soft_shrink": lambda x, threshold=0.5: np.where(
        x > threshold, x - threshold, np.where(x < -threshold, x + threshold, 0.0)
    ),
    "hard_shrink": lambda x, threshold=0.5: np.where(np.abs(x) > threshold, x, 0.0),
    "threshold": lambda x, threshold, default_value: np.where(
        x > threshold, x, default_value
    ),
}
KERAS_ARGS = {  # non-default arguments, by keyword as Keras names them
    "celu": {"alpha": 0.4},
    "glu": {"axis": 0},
    "sparsemax": {"axis": 0},
    "squareplus": {"b": 0.5},
    "soft_shrink": {"threshold": 1.1},
    "hard_shrink": {"threshold": 0.2},
    "threshold": {"threshold": 0.3, "default_value": -1.5},
}
KERAS_KINKS = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0]


def test_every_keras_3_name_is_registered_and_tested():
    keras_3 = {
        "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid",
        "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear",
        "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid",
        "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus",
        "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
        "tanh_shrink", "threshold",
    }  # fmt: skip
    assert set(ACTIVATIONS) == keras_3
    assert set(KERAS) == set(KERAS_ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(KERAS))
@given(seed=SEEDS)
def test_keras_names_follow_keras_3_formulas_and_defaults(name, seed):
    rng = np.random.default_rng(seed)
    x = _values(rng, (4, 6), KERAS_KINKS)
    fn = get_activation(name)
    args = KERAS_ARGS.get(name, {})
    if name != "threshold":  # the one without defaults
        np.testing.assert_allclose(fn(x).data, KERAS[name](x), **TOL, err_msg=name)
    if args:
        np.testing.assert_allclose(
            fn(x, **args).data, KERAS[name](x, **args), **TOL, err_msg=name
        )


def test_gelu_keeps_the_exact_form_by_default_and_takes_keras_approximate():
    x = np.linspace(-4, 4, 17)
    exact = TF.gelu(torch.tensor(x)).numpy()
    tanh = TF.gelu(torch.tensor(x), approximate="tanh").numpy()
    assert np.abs(exact - tanh).max() > 1e-4  # the two forms differ
    np.testing.assert_allclose(F.gelu(x).data, exact, **TOL)
    np.testing.assert_allclose(F.gelu(x, approximate=False).data, exact, **TOL)
    np.testing.assert_allclose(F.gelu(x, approximate=True).data, tanh, **TOL)
    np.testing.assert_allclose(get_activation("gelu")(x).data, exact, **TOL)


# fused op -> its composed twin (the oracle the brief keeps)
COMPOSED = {
    F.silu: lambda x: x * F.sigmoid(x),
    F.mish: lambda x: x * F.tanh(F.softplus(x)),
    F.hardsigmoid: lambda x: F.clip(x + 3.0, 0.0, 6.0) / 6.0,
    F.hardswish: lambda x: x * F.clip(x + 3.0, 0.0, 6.0) / 6.0,
    F.relu6: lambda x: F.clip(x, 0.0, 6.0),
    F.softsign: lambda x: x / (F.abs(x) + 1.0),
    F.logsigmoid: lambda x: -F.softplus(-x),
    F.tanhshrink: lambda x: x - F.tanh(x),
    F.celu: lambda x: F.where(x.data > 0, x, F.exp(F.minimum(x, 0.0)) - 1.0),
    F.squareplus: lambda x: (x + F.sqrt(x * x + 4.0)) / 2.0,
    F.sparse_plus: lambda x: (
        F.clip(x + 1.0, 0.0, 2.0) ** 2 / 4.0 + F.maximum(x - 1.0, 0.0)
    ),
    F.glu: lambda x: x[..., :2] * F.sigmoid(x[..., 2:]),
}


@pytest.mark.parametrize("fn", list(COMPOSED), ids=lambda f: f.__name__)
def test_fused_ops_match_their_composed_twins(fn, rng):
    x = rng.standard_normal((5, 4)) * 4  # away from kinks
    g = rng.standard_normal(np.shape(fn(x).data))
    for a, b in zip(
        _numnet_value_and_grad(fn, x, g),
        _numnet_value_and_grad(COMPOSED[fn], x, g),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _away_from_kinks(rng, shape):
    x = rng.standard_normal(shape) * 3
    kinks = np.array(KERAS_KINKS + [-6.0, -1.2, 1.2, -0.7, 0.7, 0.25, 0.3])
    near = np.abs(x[..., None] - kinks).min(-1) < 0.02
    return np.where(near, x + 0.05, x)


GRADCHECKED = {
    **{name: fn for name, (fn, _, _) in TORCH.items()},
    **{f"keras_{name}": fn for name, fn in KERAS_ACTIVATIONS.items()},
    "keras_threshold": lambda x: get_activation("threshold")(x, 0.3, -1.0),
    "glu_axis0": lambda x: F.glu(x, 0),
    "softmin": lambda x: F.softmin(x, 0),
    "sparsemax_axis0": lambda x: F.sparsemax(x, 0),
    "squareplus_b0": lambda x: F.squareplus(x, 0.0),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKED))
def test_gradcheck_float64(name, rng):
    x = _away_from_kinks(rng, (4, 6))
    assert numnet.gradcheck(GRADCHECKED[name], [x]), name


@pytest.mark.parametrize("name", sorted(GRADCHECKED))
def test_float32_in_float32_out(name, rng):
    x = numnet.tensor(_away_from_kinks(rng, (4, 6)).astype(np.float32))
    x.requires_grad_()
    with strict_dtypes():
        y = GRADCHECKED[name](x)
        assert y.dtype == np.float32, f"{name}: {y.dtype}"
        (y * rng.standard_normal(y.shape).astype(np.float32)).sum().backward()
    assert x.grad.dtype == np.float32 and np.all(np.isfinite(x.grad))


def test_stability_at_large_inputs():
    x = np.array([-1e4, -50.0, 50.0, 1e4])
    for fn in (F.silu, F.mish, F.logsigmoid, F.celu, F.softsign, F.squareplus):
        t = numnet.tensor(x, dtype=np.float64, requires_grad=True)
        y = fn(t)
        y.sum().backward()
        assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(t.grad)), fn
    np.testing.assert_allclose(F.logsigmoid(x).data[[0, 3]], [-1e4, 0.0])
    np.testing.assert_allclose(F.mish(x).data[[0, 3]], [0.0, 1e4])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x: F.glu(x[:, :3]), "glu: the halved axis 1 must have an even size"),
        (lambda x: F.hardtanh(x, 1.0, -1.0), "hardtanh: expected min_val <= max_val"),
        (lambda x: F.gelu(x, approximate="fast"), "'none' or 'tanh'"),
        (lambda x: F.softshrink(x, -1.0), "'lambd'. Expected a finite number >= 0"),
        (lambda x: F.celu(x, 0.0), "nonzero"),
        (lambda x: F.rrelu(x, 0.5, 0.1), "lower <= upper"),
        (lambda x: F.squareplus(x, -1.0), "'b'. Expected a finite number >= 0"),
        (lambda x: F.prelu(x, np.ones(3)), "prelu: the weight of shape \\(3,\\)"),
    ],
)
def test_bad_arguments_name_the_function_and_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call(np.ones((2, 4)))


def test_threshold_takes_pytorch_or_keras_spelling_of_its_value():
    x = np.array([-1.0, 2.0])
    np.testing.assert_array_equal(F.threshold(x, 0.0, value=-5.0).data, [-5.0, 2.0])
    keras = F.threshold(x, 0.0, default_value=-5.0).data
    np.testing.assert_array_equal(keras, [-5.0, 2.0])
    for kwargs in ({}, {"value": 1.0, "default_value": 1.0}):
        with pytest.raises(TypeError, match="threshold: expected exactly one of"):
            F.threshold(x, 0.0, **kwargs)


def test_integer_inputs_are_refused_with_the_function_name():
    with pytest.raises(TypeError, match="silu: .*Expected a floating-point tensor"):
        F.silu(np.arange(3))


NEW_KERAS = sorted(set(KERAS_ACTIVATIONS) - {"threshold"})  # threshold needs args


@pytest.mark.parametrize("name", NEW_KERAS)
def test_dense_with_each_new_activation_trains_saves_and_reloads(name, tmp_path, rng):
    numnet.manual_seed(0)
    model = models.Sequential(
        [layers.Input((3,)), layers.Dense(4, activation=name), layers.Dense(1)]
    )
    model.compile("sgd", "mse")
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.standard_normal((8, 1)).astype(np.float32)
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(x, y)
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(before, model.get_weights(), strict=True)
    )
    assert model.layers[0].get_config()["activation"] in (name, _alias(name))
    model.save(tmp_path / "m.npz")
    clone = models.load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(
        clone.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    act = layers.Activation(name)
    again = layers.Activation.from_config(act.get_config())
    x4 = rng.standard_normal((8, 4)).astype(np.float32)  # glu halves the last axis
    np.testing.assert_array_equal(again(x4).data, act(x4).data)


def _alias(name: str) -> str:
    """The first registered name of the same function (swish saves as silu)."""
    fn = ACTIVATIONS[name]
    return next(n for n, f in ACTIVATIONS.items() if f is fn)


@pytest.mark.parametrize("activation", ["swish", "mish"])
def test_an_mlp_learns_fashion_mnist(activation):
    from tests.example_helpers import fashion_mnist_subset, needs_fashion_mnist

    if needs_fashion_mnist.args[0]:
        pytest.skip(needs_fashion_mnist.kwargs["reason"])
    (x, y), (x_test, y_test) = fashion_mnist_subset(2000, 500)
    numnet.manual_seed(0)
    model = models.Sequential(
        [
            layers.Input((784,)),
            layers.Dense(64, activation=activation),
            layers.Dense(10),
        ]
    )
    model.compile(
        numnet.optimizers.Adam(0.003),
        numnet.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    accuracy = (model.predict(x_test, verbose=0).argmax(-1) == y_test).mean()
    # chance is 0.10; a 64-unit MLP reaches ~0.8 after one epoch on 2,000 images
    assert accuracy > 0.7, (activation, accuracy)
