"""SimpleRNN, GRU, LSTM, Bidirectional, TimeDistributed: contract and semantics."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.layers.helpers import run_layer_test

import numnet
import numnet.functional as F
from numnet import layers
from numnet.autograd import strict_dtypes

N, T, D, U = 2, 4, 3, 3


def _padded_mask():
    mask = np.ones((N, T), bool)
    mask[1, 2:] = False
    return mask


RNN_CASES = {
    "lstm": (lambda **kw: layers.LSTM(U, **kw), 4 * U * (D + U + 1)),
    "gru": (lambda **kw: layers.GRU(U, **kw), 3 * U * (D + U + 2)),
    "gru_v1": (
        lambda **kw: layers.GRU(U, reset_after=False, **kw),
        3 * U * (D + U + 1),
    ),
    "simple_rnn": (lambda **kw: layers.SimpleRNN(U, **kw), U * (D + U + 1)),
}


@pytest.mark.parametrize("kind", list(RNN_CASES))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_rnn_layer_contract(kind, return_sequences, go_backwards):
    make, n_params = RNN_CASES[kind]
    run_layer_test(
        lambda: make(return_sequences=return_sequences, go_backwards=go_backwards),
        (N, T, D),
        expected_output_shape=(N, T, U) if return_sequences else (N, U),
        expected_trainable_params=n_params,
    )


@pytest.mark.parametrize("kind", list(RNN_CASES))
def test_rnn_layer_with_dropout_differs_in_training(kind):
    make, _ = RNN_CASES[kind]
    run_layer_test(
        lambda: make(dropout=0.3, recurrent_dropout=0.4, return_sequences=True),
        (N, T, D),
        train_differs=True,
        loss_decrease=False,
    )


@pytest.mark.parametrize(
    "make, shapes",
    [
        (lambda: layers.LSTM(5), [(3, 20), (5, 20), (20,)]),
        (lambda: layers.GRU(5), [(3, 15), (5, 15), (2, 15)]),
        (lambda: layers.GRU(5, reset_after=False), [(3, 15), (5, 15), (15,)]),
        (lambda: layers.SimpleRNN(5), [(3, 5), (5, 5), (5,)]),
        (lambda: layers.LSTM(5, use_bias=False), [(3, 20), (5, 20)]),
    ],
)
def test_keras_weight_layouts(make, shapes):
    layer = make()
    layer(np.zeros((1, 2, 3), np.float32))
    assert [w.shape for w in layer.get_weights()] == shapes
    assert [w.name.split("/")[-1] for w in layer.weights][:2] == [
        "kernel",
        "recurrent_kernel",
    ]


def test_lstm_default_initializers():
    layer = layers.LSTM(4)
    layer(np.zeros((1, 2, 3), np.float32))
    kernel, recurrent, bias = layer.get_weights()
    # orthogonal recurrent kernel (U, 4U): orthonormal rows
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(4), atol=1e-5)
    # unit_forget_bias: gates i, f, c, o -> only f starts at 1
    np.testing.assert_array_equal(bias, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    limit = np.sqrt(6 / (3 + 16))  # glorot_uniform on (3, 16)
    assert np.abs(kernel).max() <= limit
    plain = layers.LSTM(4, unit_forget_bias=False)
    plain(np.zeros((1, 2, 3), np.float32))
    np.testing.assert_array_equal(plain.get_weights()[2], 0)


def test_set_weights_reproduces_a_reference_computation(rng):
    """Weights in Keras layout give the textbook LSTM equations (NumPy reference)."""
    layer = layers.LSTM(U, return_sequences=True)
    x = rng.normal(size=(N, T, D)).astype(np.float32)
    layer(x)
    K, R, b = (rng.normal(size=w.shape).astype(np.float32) * 0.5
               for w in layer.get_weights())  # fmt: skip
    layer.set_weights([K, R, b])
    h, c, expected = np.zeros((N, U)), np.zeros((N, U)), []
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    for t in range(T):
        z = x[:, t] @ K + h @ R + b
        i, f, g, o = (
            sig(z[:, :U]),
            sig(z[:, U : 2 * U]),
            np.tanh(z[:, 2 * U : 3 * U]),
            sig(z[:, 3 * U :]),
        )  # noqa: E501
        c = f * c + i * g
        h = o * np.tanh(c)
        expected.append(h)
    np.testing.assert_allclose(
        layer(x).data, np.stack(expected, 1), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("kind", list(RNN_CASES))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_gradcheck_with_mask_and_initial_state(float64, rng, kind, return_sequences):
    make, _ = RNN_CASES[kind]
    layer = make(return_sequences=return_sequences, return_state=True)
    x = rng.normal(size=(N, T, D))
    n_states = 2 if kind == "lstm" else 1
    states = [rng.normal(size=(N, U)) for _ in range(n_states)]
    mask = _padded_mask()
    layer(x, initial_state=states, mask=mask)

    def fn(x, *states):
        return tuple(layer(x, initial_state=list(states), mask=mask))

    assert numnet.gradcheck(fn, [x, *states], wrt=layer.trainable_weights)


def test_return_state_lists_output_and_states(rng):
    layer = layers.LSTM(U, return_state=True)
    out, h, c = layer(rng.normal(size=(N, T, D)))
    np.testing.assert_array_equal(out.data, h.data)
    assert c.shape == (N, U)


def test_mask_attribute_is_read_and_propagated(rng):
    x = numnet.tensor(rng.normal(size=(N, T, D)).astype(np.float32))
    x._keras_mask = _padded_mask()
    first = layers.GRU(U, return_sequences=True)
    y = first(x)
    np.testing.assert_array_equal(y._keras_mask, x._keras_mask)
    np.testing.assert_array_equal(y.data[1, 2:], 0)
    explicit = first(x.detach(), mask=_padded_mask())
    np.testing.assert_array_equal(explicit.data, y.data)
    last = layers.LSTM(U)(y)  # stacked: the second layer skips the same steps
    assert not hasattr(last, "_keras_mask")


def test_stacked_rnns_gradcheck(float64, rng):
    lower = layers.LSTM(U, return_sequences=True)
    upper = layers.GRU(2)
    x = rng.normal(size=(N, T, D))
    upper(lower(x))

    def fn(t):
        t._keras_mask = _padded_mask()
        return upper(lower(t))

    weights = lower.trainable_weights + upper.trainable_weights
    assert numnet.gradcheck(fn, [x], wrt=weights)


def test_input_dropout_uses_one_mask_per_sequence():
    layer = layers.SimpleRNN(3, activation=None, dropout=0.5, use_bias=False,
                             return_sequences=True)  # fmt: skip
    x = np.ones((4, 5, 3), np.float32)
    layer(x)
    layer.set_weights([np.eye(3, dtype=np.float32), np.zeros((3, 3), np.float32)])
    out = layer(x, training=True).data  # y_t = x_t * mask / (1 - rate)
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert 0 < (out == 0).mean() < 1
    np.testing.assert_array_equal(out, np.repeat(out[:, :1], 5, axis=1))
    np.testing.assert_array_equal(layer(x).data, 1.0)  # eval: no dropout


def test_recurrent_dropout_uses_one_mask_per_sequence():
    layer = layers.SimpleRNN(3, activation=None, recurrent_dropout=0.5,
                             use_bias=False, return_sequences=True)  # fmt: skip
    x = np.zeros((4, 5, 3), np.float32)
    layer(x)
    layer.set_weights([np.zeros((3, 3), np.float32), np.eye(3, dtype=np.float32)])
    h0 = np.ones((4, 3), np.float32)
    out = layer(x, training=True, initial_state=[h0]).data  # h_t = h_{t-1} m / 0.5
    keep = out[:, 0] != 0
    np.testing.assert_array_equal(out[:, 0], keep * 2.0)
    np.testing.assert_array_equal(out[:, 4], keep * 32.0)  # the same mask 5 times
    np.testing.assert_array_equal(layer(x, initial_state=[h0]).data, 1.0)  # eval


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_gradcheck_each_merge_mode(float64, rng, merge_mode):
    bi = layers.Bidirectional(layers.LSTM(U, return_sequences=True),
                              merge_mode=merge_mode)  # fmt: skip
    x = rng.normal(size=(N, T, D))
    mask = _padded_mask()
    bi(x, mask=mask)

    def fn(t):
        out = bi(t, mask=mask)
        return tuple(out) if isinstance(out, list) else out

    assert numnet.gradcheck(fn, [x], wrt=bi.trainable_weights)


def test_bidirectional_halves_are_forward_and_reversed_backward(rng):
    bi = layers.Bidirectional(layers.GRU(U, return_sequences=True))
    x = rng.normal(size=(N, T, D)).astype(np.float32)
    out = bi(x).data
    fw = F.gru(x, *bi.forward_layer.weights[:2], bi.forward_layer.bias,
               return_sequences=True)[0].data  # fmt: skip
    bw = F.gru(x[:, ::-1], *bi.backward_layer.weights[:2], bi.backward_layer.bias,
               return_sequences=True)[0].data[:, ::-1]  # fmt: skip
    np.testing.assert_allclose(out, np.concatenate([fw, bw], -1), rtol=1e-6)
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards
    assert len(bi.get_weights()) == 6


def test_bidirectional_return_state_and_initial_state(float64, rng):
    bi = layers.Bidirectional(layers.LSTM(U, return_state=True), merge_mode="sum")
    x = rng.normal(size=(N, T, D))
    states = [rng.normal(size=(N, U)) for _ in range(4)]
    outs = bi(x, initial_state=states)
    assert len(outs) == 5 and outs[0].shape == (N, U)
    np.testing.assert_allclose(outs[0].data, outs[1].data + outs[3].data)

    def fn(x, *states):
        return tuple(bi(x, initial_state=list(states)))

    assert numnet.gradcheck(fn, [x, *states], wrt=bi.trainable_weights)


def test_bidirectional_config_round_trip(rng):
    bi = layers.Bidirectional(layers.LSTM(U, return_sequences=True), merge_mode="ave")
    x = rng.normal(size=(N, T, D)).astype(np.float32)
    bi(x)
    clone = layers.Bidirectional.from_config(json.loads(json.dumps(bi.get_config())))
    clone(x)
    clone.set_weights(bi.get_weights())
    np.testing.assert_allclose(clone(x).data, bi(x).data, rtol=1e-6)


def test_time_distributed_contract_and_mask(rng):
    run_layer_test(lambda: layers.TimeDistributed(layers.Dense(4)), (N, T, D),
                   expected_output_shape=(N, T, 4),
                   expected_trainable_params=D * 4 + 4)  # fmt: skip
    x = numnet.tensor(rng.normal(size=(N, T, D)).astype(np.float32))
    x._keras_mask = _padded_mask()
    y = layers.TimeDistributed(layers.Dense(4))(x)
    np.testing.assert_array_equal(y._keras_mask, x._keras_mask)


def test_float32_end_to_end(rng):
    model = [layers.Bidirectional(layers.GRU(U, return_sequences=True)),
             layers.LSTM(U), layers.Dense(2)]  # fmt: skip
    x = numnet.tensor(rng.normal(size=(N, T, D)).astype(np.float32))
    with strict_dtypes():
        y = x
        for layer in model:
            y = layer(y, training=True)
        (y * y).sum().backward()
    assert y.dtype == np.float32
    assert all(w.grad.dtype == np.float32 for m in model for w in m.trainable_weights)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: layers.LSTM(0), "argument 'units'"),
        (lambda: layers.GRU(3, activation="elu"), "argument 'activation'"),
        (lambda: layers.LSTM(3, dropout=1.5), "argument 'dropout'"),
        (lambda: layers.LSTM(3, return_sequences="yes"), "return_sequences"),
        (lambda: layers.SimpleRNN(3, recurrent_activation="tanh"), "no gates"),
        (lambda: layers.Bidirectional(layers.LSTM(3), merge_mode="max"), "merge_mode"),
        (lambda: layers.Bidirectional("lstm"), "argument 'layer'"),
        (lambda: layers.LSTM(3)(np.zeros((2, 3), np.float32)), "expected ndim=3"),
        (lambda: layers.LSTM(3)(np.zeros((2, 3, 4)), initial_state=[np.zeros((2, 3))]),
         "initial_state"),
    ],
)  # fmt: skip
def test_errors(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build()


def test_input_width_change_is_reported():
    layer = layers.GRU(3)
    layer(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="expected axis -1"):
        layer(np.zeros((2, 3, 5), np.float32))


def test_sequence_model_save_load_round_trip(tmp_path, rng):
    from numnet import models

    model = models.Sequential([
        layers.Input((6,)),
        layers.Embedding(20, 8, mask_zero=True),
        layers.Bidirectional(layers.GRU(5, return_sequences=True), merge_mode="sum"),
        layers.TimeDistributed(layers.Dense(3)),
        layers.LSTM(4, go_backwards=True),
        layers.Dense(2, activation="softmax"),
    ])  # fmt: skip
    x = rng.integers(1, 20, size=(5, 6))
    x[:, 4:] = 0
    path = tmp_path / "seq.npz"
    model.save(path)
    loaded = models.load_model(path)
    np.testing.assert_array_equal(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert loaded.layers[1].merge_mode == "sum" and loaded.layers[3].go_backwards


# -- issue: layers.RNN(cell), the cells, stateful=True, bool/int inputs --------
class MinimalRNNCell(layers.Layer):
    """The custom cell of Keras's RNN guide (``state_size`` + ``call(x, states)``)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="random_uniform",
            name="kernel",
        )  # fmt: skip
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer="random_uniform",
            name="recurrent_kernel",
        )  # fmt: skip
        self.built = True

    def call(self, inputs, states):
        output = inputs @ self.kernel + F.tanh(states[0] @ self.recurrent_kernel)
        return output, [output]


CELL_CASES = {
    "simple": (layers.SimpleRNNCell, layers.SimpleRNN),
    "gru": (layers.GRUCell, layers.GRU),
    "lstm": (layers.LSTMCell, layers.LSTM),
}


@pytest.mark.parametrize("kind", list(CELL_CASES))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_rnn_of_a_builtin_cell_passes_the_layer_contract(kind, return_sequences):
    cell_cls, _ = CELL_CASES[kind]
    run_layer_test(
        lambda: layers.RNN(cell_cls(U), return_sequences=return_sequences),
        (N, T, D),
        expected_output_shape=(N, T, U) if return_sequences else (N, U),
    )


@pytest.mark.parametrize("kind", list(CELL_CASES))
def test_rnn_of_a_cell_equals_the_fused_layer_and_the_step_loop(kind, rng):
    cell_cls, layer_cls = CELL_CASES[kind]
    x = rng.normal(size=(N, T, D)).astype(np.float32)
    fused = layer_cls(U, return_sequences=True, go_backwards=True)
    expected = fused(x).data
    rnn = layers.RNN(cell_cls(U), return_sequences=True, go_backwards=True)
    rnn(x)
    rnn.set_weights(fused.get_weights())
    np.testing.assert_allclose(rnn(x).data, expected, rtol=1e-6, atol=1e-6)
    cell = rnn.cell  # one step at a time, as a user's own loop would run it
    states = [np.zeros((N, U), np.float32)] * (2 if kind == "lstm" else 1)
    for t in reversed(range(T)):
        out, states = cell(x[:, t], states)
        np.testing.assert_allclose(out.data, expected[:, T - 1 - t], atol=1e-6)


def test_rnn_with_a_custom_cell_trains_and_gradchecks(rng):
    run_layer_test(
        lambda: layers.RNN(MinimalRNNCell(U), return_sequences=True),
        (N, T, D),
        expected_output_shape=(N, T, U),
        expected_trainable_params=D * U + U * U,
        check_config=False,
    )
    rnn = layers.RNN(MinimalRNNCell(U), return_state=True, go_backwards=True)
    x = rng.normal(size=(N, T, D)).astype(np.float32)
    out, h = rnn(x, mask=_padded_mask())
    assert out.shape == (N, U) and h.shape == (N, U)


def test_rnn_cell_config_round_trip_and_custom_objects():
    rnn = layers.RNN(layers.LSTMCell(4, unit_forget_bias=False), return_sequences=True)
    again = layers.deserialize(json.loads(json.dumps(layers.serialize(rnn))))
    assert isinstance(again.cell, layers.LSTMCell) and again.return_sequences
    assert again.cell.unit_forget_bias is False
    custom = layers.RNN(MinimalRNNCell(2))
    spec = layers.serialize(custom)
    with pytest.raises(ValueError, match="Unknown layer class 'MinimalRNNCell'"):
        layers.deserialize(spec)
    with pytest.raises(TypeError, match="give it to layers.RNN"):
        layers.LSTMCell(3, return_sequences=True)


@pytest.mark.parametrize("make", [
    lambda: layers.LSTM(U, stateful=True),
    lambda: layers.GRU(U, stateful=True, return_sequences=True),
    lambda: layers.RNN(layers.SimpleRNNCell(U), stateful=True),
    lambda: layers.RNN(MinimalRNNCell(U), stateful=True),
])  # fmt: skip
def test_stateful_layers_carry_states_across_batches(make, rng):
    x = rng.normal(size=(N, 2 * T, D)).astype(np.float32)
    stateful = make()
    stateful(x[:, :T])
    second = stateful(x[:, T:]).data
    whole = make()  # a fresh layer run on the whole sequence at once
    whole(x)
    whole.set_weights(stateful.get_weights())
    whole.stateful = False
    expected = whole(x).data
    expected = expected[:, T:] if expected.ndim == 3 else expected
    np.testing.assert_allclose(second, expected, rtol=1e-5, atol=1e-6)
    stateful.reset_states()  # Keras: back to zeros
    np.testing.assert_allclose(stateful(x[:, :T]).data, whole(x[:, :T]).data,
                               atol=1e-6)  # fmt: skip
    with pytest.raises(ValueError, match="every batch must have 2 sequences"):
        stateful(x[:1, :T])
    stateful.reset_states()
    assert stateful(x[:1, :T]).shape[0] == 1


def test_stateful_model_reset_states_and_set_states(rng):
    model = numnet.Sequential([layers.LSTM(U, stateful=True, input_shape=(T, D)),
                               layers.Dense(1)])  # fmt: skip
    x = rng.normal(size=(N, T, D)).astype(np.float32)
    first = model.predict(x, verbose=0)
    assert not np.allclose(model.predict(x, verbose=0), first)
    model.reset_states()
    np.testing.assert_allclose(model.predict(x, verbose=0), first, atol=1e-6)
    lstm = model.layers[0]
    lstm.reset_states([np.zeros((N, U)), np.zeros((N, U))])
    np.testing.assert_allclose(model.predict(x, verbose=0), first, atol=1e-6)
    with pytest.raises(ValueError, match="expected 2 state"):
        lstm.reset_states([np.zeros((N, U))])
    with pytest.raises(AttributeError, match="stateful=True"):
        layers.LSTM(2).reset_states()


@pytest.mark.parametrize("make", [lambda: layers.LSTM(U), lambda: layers.GRU(U),
                                  lambda: layers.SimpleRNN(U)])  # fmt: skip
@pytest.mark.parametrize("dtype", [bool, np.int64, np.uint8])
def test_recurrent_layers_cast_bool_and_int_inputs_like_dense(make, dtype):
    x = (np.arange(N * T * D).reshape(N, T, D) % 2).astype(dtype)
    layer = make()
    out = layer(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, layer(x.astype(np.float32)).data)


def test_stateful_model_trains_on_consecutive_chunks(rng):
    """Keras's stateful-LSTM program: chunks of long sequences, shuffle=False, the
    states reset by a callback at each epoch start."""
    from numnet import callbacks

    series = np.sin(np.linspace(0, 12, 4 * 6 * 5)).astype(np.float32)
    x = series.reshape(4, 6 * 5)  # 4 long sequences of 30 steps, cut into 6 chunks
    chunks = x.reshape(4, 6, 5).transpose(1, 0, 2).reshape(24, 5, 1)
    targets = np.roll(x, -1, axis=1).reshape(4, 6, 5)[:, :, -1].T.reshape(24, 1)
    model = numnet.Sequential([layers.LSTM(8, stateful=True, input_shape=(5, 1)),
                               layers.Dense(1)])  # fmt: skip
    model.compile(optimizer="adam", loss="mse")
    reset = callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: model.reset_states()
    )
    history = model.fit(chunks, targets, batch_size=4, epochs=15, shuffle=False,
                        verbose=0, callbacks=[reset])  # fmt: skip
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert model.layers[0].states[0].shape == (4, 8)
