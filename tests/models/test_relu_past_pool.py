"""Models run a ReLU followed by a max pool as the pool, then the ReLU
(``numnet/models/_relu_past_pool.py``): the same values and gradients as the
layers in their written order, and only where nothing else reads the ReLU's
output."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import numnet
import numnet.functional as F
from numnet import config, layers, models, regularizers
from numnet.layers import _relu_move

OFF = {"kernel_plans": {"relu_past_max_pool": False}}


@pytest.fixture
def fused_calls(monkeypatch):
    """Counts the calls of ``F.max_pool2d_relu`` (how the rewrite shows)."""
    calls = []
    original = F.max_pool2d_relu

    def counted(*args, **kwargs):
        calls.append(args[0].shape)
        return original(*args, **kwargs)

    monkeypatch.setattr(F, "max_pool2d_relu", counted)
    return calls


def sequential_stack():
    return [
        layers.Input((8, 8, 2)),
        layers.Conv2D(3, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(4, 2, padding="same"),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.MaxPooling2D(2, strides=1, padding="same"),
        layers.Conv2D(3, 2),
        layers.ReLU(),
        layers.MaxPooling2D(3, strides=2),
        layers.Flatten(),
        layers.Dense(2),
    ]


def functional_model():
    inputs = layers.Input((8, 8, 2))
    a = layers.Conv2D(3, 3, padding="same", activation="relu")(inputs)
    a = layers.MaxPooling2D(2)(a)  # moved
    b = layers.Conv2D(3, 3, padding="same", activation="relu", name="read_twice")(a)
    pooled = layers.MaxPooling2D(2, padding="same")(b)  # b read twice: not moved
    side = layers.GlobalAveragePooling2D()(b)
    c = layers.Activation("relu")(layers.Conv2D(2, 1)(a))
    c = layers.MaxPooling2D(2)(c)  # moved
    out = layers.Concatenate()([layers.Flatten()(pooled), side, layers.Flatten()(c)])
    return models.Model(inputs, layers.Dense(2)(out))


def run(build, x, seed, settings=None):
    """Output and every gradient of one training-mode call, float64."""
    with config.using(default_dtype=np.float64, **(settings or {})):
        numnet.manual_seed(seed)
        model = build()
        xt = numnet.tensor(x, requires_grad=True, dtype=np.float64)
        y = model(xt, training=True)
        gy = np.random.default_rng(seed).standard_normal(y.shape)
        y.backward(gy)
    grads = [w.grad for w in model.trainable_weights]
    return [y.numpy(), xt.grad, *grads]


def inputs_with_ties(seed):
    """Values on a 0.5 grid around 0: equal maxima, all-negative windows, zeros."""
    return np.round(np.random.default_rng(seed).normal(0, 1.5, (3, 8, 8, 2)) * 2) / 2


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    "build, moved",
    [(lambda: models.Sequential(sequential_stack()), 3), (functional_model, 2)],
    ids=["sequential", "functional"],
)
def test_moved_relu_gives_the_same_values_and_gradients(
    build, moved, seed, fused_calls
):
    x = inputs_with_ties(seed)
    written = run(build, x, seed, OFF)
    assert not fused_calls
    rewritten = run(build, x, seed)
    assert len(fused_calls) == moved  # the rewrite did run, on every pair it may
    for a, b in zip(written, rewritten, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_a_model_with_moved_relus_gradchecks():
    with config.using(default_dtype=np.float64):
        numnet.manual_seed(0)
        model = models.Sequential(sequential_stack())
        model.train()
        x = np.random.default_rng(0).standard_normal((2, 8, 8, 2))
        assert numnet.gradcheck(model, [x], wrt=model.trainable_weights)


@pytest.mark.parametrize(
    "relu",
    [
        lambda: layers.Conv2D(2, 3, activation="relu", activity_regularizer="l2"),
        lambda: layers.ReLU(max_value=6.0),
        lambda: layers.ReLU(negative_slope=0.1),
        lambda: layers.Activation("elu"),
        lambda: layers.Conv2D(2, 3, activation="tanh"),
    ],
)
def test_layers_whose_output_differs_are_left_as_written(relu, fused_calls):
    model = models.Sequential([layers.Input((6, 6, 2)), relu(), layers.MaxPooling2D()])
    model(np.ones((1, 6, 6, 2), np.float32))
    assert not fused_calls


def test_a_relu_before_an_average_pool_is_left_as_written(fused_calls):
    model = models.Sequential(
        [layers.Input((6, 6, 2)), layers.ReLU(), layers.AveragePooling2D()]
    )
    model(np.ones((1, 6, 6, 2), np.float32))
    assert not fused_calls


def test_a_relu_output_the_model_returns_is_left_as_written(fused_calls):
    inputs = layers.Input((6, 6, 1))
    features = layers.Conv2D(2, 3, activation="relu")(inputs)
    model = models.Model(inputs, [features, layers.MaxPooling2D()(features)])
    relu_out, pooled = model(np.random.default_rng(0).standard_normal((1, 6, 6, 1)))
    assert not fused_calls
    assert (relu_out.numpy() >= 0).all()


def test_activity_regularizer_reads_the_relu_output():
    # the penalty is computed on relu(conv), as written: the pair is not moved
    conv = layers.Conv2D(2, 3, activation="relu",
                         activity_regularizer=regularizers.L1(1.0))  # fmt: skip
    model = models.Sequential([layers.Input((6, 6, 1)), conv, layers.MaxPooling2D()])
    x = np.random.default_rng(0).standard_normal((1, 6, 6, 1)).astype(np.float32)
    model(x)
    expected = np.abs(F.conv2d_relu(x, conv.kernel, conv.bias).numpy()).sum()
    np.testing.assert_allclose(float(sum(model.losses).numpy()), expected, rtol=1e-5)


def test_the_flags_are_reset_when_the_pool_raises():
    conv, pool = layers.Conv2D(2, 3, activation="relu"), layers.MaxPooling2D(5)
    model = models.Sequential([layers.Input((None, None, 1)), conv, pool])
    assert model(np.ones((1, 7, 7, 1), np.float32)).shape == (1, 1, 1, 2)
    with pytest.raises(ValueError, match="smaller than pool_size"):
        model(np.ones((1, 6, 6, 1), np.float32))
    assert not _relu_move.relu_deferred(conv) and not _relu_move.relu_fused(pool)
    x = np.random.default_rng(0).standard_normal((1, 5, 5, 1)).astype(np.float32)
    assert (conv(x).numpy() >= 0).all()  # called alone: as written


def test_a_layer_called_from_another_thread_meanwhile_runs_as_written():
    # the moved ReLU is a per-thread (context) setting, not the layer's state
    conv, pool = layers.Conv2D(2, 3, activation="relu"), layers.MaxPooling2D()
    model = models.Sequential([layers.Input((8, 8, 1)), conv, pool])
    x = np.random.default_rng(0).standard_normal((2, 8, 8, 1)).astype(np.float32)
    inside, seen = threading.Event(), threading.Event()
    outputs = []

    def other_thread():
        inside.wait()
        outputs.append(conv(x).numpy())
        seen.set()

    original = F.conv2d

    def conv2d_waiting(*args, **kwargs):  # the model's deferred conv runs here
        inside.set()
        seen.wait(timeout=30)
        return original(*args, **kwargs)

    thread = threading.Thread(target=other_thread)
    thread.start()
    try:
        F.conv2d = conv2d_waiting
        model(x)
    finally:
        F.conv2d = original
        thread.join(timeout=30)
    assert outputs and (outputs[0] >= 0).all()  # relu'd, and it did not hang


def test_fit_trains_the_same_with_and_without_the_rewrite():
    def history(settings):
        with config.using(**settings):
            numnet.manual_seed(0)
            model = models.Sequential(sequential_stack())
            model.compile("adam", "mse")
            rng = np.random.default_rng(0)
            x = rng.standard_normal((16, 8, 8, 2)).astype(np.float32)
            y = rng.standard_normal((16, 2)).astype(np.float32)
            return model.fit(x, y, epochs=2, batch_size=8, verbose=0).history["loss"]

    np.testing.assert_allclose(history({}), history(OFF), rtol=1e-5)


def test_recorded_layer_outputs_are_those_of_the_written_order(fused_calls):
    # layer_outputs and summary record each layer's output: no ReLU moves then
    model = models.Sequential(
        [layers.Input((8, 8, 1)), layers.Conv2D(2, 3, activation="relu"),
         layers.MaxPooling2D(), layers.Conv2D(2, 1), layers.Activation("relu"),
         layers.MaxPooling2D(), layers.Flatten()]
    )  # fmt: skip
    x = np.random.default_rng(0).standard_normal((2, 8, 8, 1)).astype(np.float32)
    outputs = dict(model.layer_outputs(x))
    assert not fused_calls
    assert list(outputs) == [layer.name for layer in model.layers]
    conv = model.layers[0]
    np.testing.assert_allclose(
        outputs[conv.name], F.conv2d_relu(x, conv.kernel, conv.bias).numpy(), rtol=1e-6
    )
    assert (outputs[model.layers[3].name] >= 0).all()  # the Activation ran
    activation_row = next(
        line for line in model.summary_string().splitlines() if "(Activation)" in line
    )
    assert "(None, 3, 3, 2)" in activation_row  # its shape was recorded
    model(x)
    assert len(fused_calls) == 2  # outside the recording, the rewrite runs again
