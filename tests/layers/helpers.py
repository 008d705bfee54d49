"""``run_layer_test``: the one-call layer check every layer test uses.

Usage (from any test module under tests/)::

    from tests.layers.helpers import run_layer_test

    def test_dense():
        run_layer_test(
            lambda: layers.Dense(3, activation="tanh"),
            input_shape=(4, 5),
            expected_output_shape=(4, 3),
            expected_trainable_params=18,
        )

What it checks, in order (each step can be switched off by an argument):

1. float32: output shape and dtype, every weight float32, parameter counts
   (scalars, as ``summary()`` counts them); a train-mode forward+backward under
   ``strict_dtypes()`` keeps every gradient float32.
2. train vs eval: eval is deterministic; train-mode output differs from eval
   iff ``train_differs`` (Dropout, BatchNormalization). Layer state (BN moving
   statistics) is restored afterwards.
3. ``get_config`` is JSON-serialisable and round-trips: ``from_config`` gives the
   same config, and with the same weights the same eval output.
4. gradcheck in float64 (``numnet.gradcheck``, random upstream gradient) with
   respect to the input *and every trainable weight*, in eval mode and, when
   ``train_differs``, in train mode too. Before every evaluation the layer state
   is restored and numnet's global generator re-seeded, so BN statistics and
   dropout masks are pinned across finite differences. (Layers built with
   their own ``seed=`` keep a private generator: don't pass seed in a factory.)
5. a few steps of plain gradient descent on a squared error towards a random
   target lower the loss (layers with trainable weights only).

Args of :func:`run_layer_test`:
    layer_factory: ``() -> Layer``; called several times (fresh layers for the
        float32, round-trip, float64 and training checks).
    input_shape: the full input shape, batch axis included.
    expected_output_shape: the full output shape, or None to skip.
    expected_trainable_params, expected_non_trainable_params: scalar counts.
    input_fn: ``rng -> float64 ndarray`` for inputs away from kinks (default
        standard normal).
    train_differs: whether train-mode output must differ from eval output.
    gradcheck: run step 4. ``gradcheck_train`` forces train mode on/off.
    loss_decrease: run step 5; ``lr`` and ``steps`` tune it.
    seed: seeds the data and numnet's generator.

Returns:
    The float32 layer (built), for extra assertions.
"""

from __future__ import annotations

import json

import numpy as np

import numnet
from numnet import backend
from numnet.autograd import strict_dtypes


def _snapshot(layer) -> list[np.ndarray]:
    return [w.data.copy() for w in layer.non_trainable_weights]


def _restore(layer, state) -> None:
    for w, value in zip(layer.non_trainable_weights, state, strict=True):
        w.data[...] = value


def _call(layer, x, training: bool, state, pin: int):
    """Call with state restored and the global RNG re-seeded (pinned masks)."""
    _restore(layer, state)
    numnet.manual_seed(pin)
    return layer(x, training=training)


def _check_float32(layer, x, expected_output_shape, trainable, non_trainable, pin):
    y = layer(x.astype(np.float32), training=False)
    assert y.dtype == np.float32, f"output dtype {y.dtype}, expected float32"
    if expected_output_shape is not None:
        assert y.shape == tuple(expected_output_shape), (y.shape, expected_output_shape)
    for w in layer.weights:
        assert w.dtype == np.float32, f"{w.name} has dtype {w.dtype}"
    n_train = sum(w.size for w in layer.trainable_weights)
    n_frozen = sum(w.size for w in layer.non_trainable_weights)
    if trainable is not None:
        assert n_train == trainable, f"{n_train} trainable params, expected {trainable}"
    if non_trainable is not None:
        assert n_frozen == non_trainable, (n_frozen, non_trainable)
    state = _snapshot(layer)
    xt = numnet.tensor(x, requires_grad=True)
    with strict_dtypes():
        out = _call(layer, xt, True, state, pin)
        (out * out).sum().backward()
    assert xt.grad is not None and xt.grad.dtype == np.float32
    for w in layer.trainable_weights:
        assert w.grad is not None, f"no gradient reached {w.name}"
        assert w.grad.dtype == np.float32, f"{w.name}.grad is {w.grad.dtype}"
    layer.zero_grad()
    _restore(layer, state)
    return y


def _check_train_eval(layer, x, train_differs: bool, pin: int) -> None:
    state = _snapshot(layer)
    a = layer(x, training=False).data
    b = layer(x, training=False).data
    np.testing.assert_array_equal(a, b, err_msg="eval mode is not deterministic")
    t = _call(layer, x, True, state, pin).data
    _restore(layer, state)
    differs = t.shape != a.shape or not np.allclose(t, a, rtol=1e-5, atol=1e-6)
    assert differs == train_differs, (
        f"train-mode output {'equals' if not differs else 'differs from'} eval output; "
        f"expected train_differs={train_differs}"
    )


def _check_config(layer_factory, layer, x) -> None:
    config = layer.get_config()
    text = json.dumps(config, sort_keys=True)
    clone = type(layer).from_config(json.loads(text))
    assert json.dumps(clone.get_config(), sort_keys=True) == text
    clone(x, training=False)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(
        clone(x, training=False).data, layer(x, training=False).data, rtol=1e-6
    )


def _check_gradients(layer_factory, x64, modes, pin) -> None:
    with backend.floatx_scope("float64"):
        numnet.manual_seed(pin)
        layer = layer_factory()
        layer(x64, training=False)  # build
        state = _snapshot(layer)
        for training in modes:

            def fn(t, training=training):
                return _call(layer, t, training, state, pin)

            numnet.gradcheck(fn, [x64], wrt=layer.trainable_weights)
        _restore(layer, state)


def _check_loss_decrease(layer_factory, x64, rng, lr, steps, pin) -> None:
    with backend.floatx_scope("float64"):
        numnet.manual_seed(pin)
        layer = layer_factory()
        out = layer(x64, training=False)
        if not layer.trainable_weights:
            return
        target = rng.normal(size=out.shape)
        losses = []
        for _ in range(steps):
            layer.zero_grad()
            numnet.manual_seed(pin)
            diff = layer(x64, training=True) - target
            loss = (diff * diff).mean()
            loss.backward()
            losses.append(loss.item())
            with numnet.no_grad():
                for w in layer.trainable_weights:
                    w.data -= lr * w.grad
        assert losses[-1] < losses[0], f"loss did not decrease: {losses}"


def run_layer_test(
    layer_factory,
    input_shape,
    *,
    expected_output_shape=None,
    expected_trainable_params=None,
    expected_non_trainable_params=None,
    input_fn=None,
    train_differs: bool = False,
    check_config: bool = True,
    gradcheck: bool = True,
    gradcheck_train: bool | None = None,
    loss_decrease: bool = True,
    lr: float = 0.05,
    steps: int = 10,
    seed: int = 0,
):
    """Run the standard layer checks; see the module docstring."""
    rng = np.random.default_rng(seed)
    x64 = input_fn(rng) if input_fn is not None else rng.normal(size=input_shape)
    x64 = np.asarray(x64, dtype=np.float64)
    pin = seed + 17
    numnet.manual_seed(pin)
    layer = layer_factory()
    x32 = x64.astype(np.float32)
    _check_float32(
        layer,
        x32,
        expected_output_shape,
        expected_trainable_params,
        expected_non_trainable_params,
        pin,
    )
    _check_train_eval(layer, x32, train_differs, pin)
    if check_config:
        _check_config(layer_factory, layer, x32)
    if gradcheck:
        train = train_differs if gradcheck_train is None else gradcheck_train
        _check_gradients(layer_factory, x64, (False, True) if train else (False,), pin)
    if loss_decrease:
        _check_loss_decrease(layer_factory, x64, rng, lr, steps, pin)
    return layer
