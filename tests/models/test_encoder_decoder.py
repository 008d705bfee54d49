"""Encoder-decoder graphs: symbolic ``initial_state`` and ``return_state`` wiring."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import layers, models
from numnet.models.functional import Functional

RNNS = {"SimpleRNN": layers.SimpleRNN, "GRU": layers.GRU, "LSTM": layers.LSTM}


def _seq2seq(kind: str, units=6, vocab_in=5, vocab_out=7):
    """Keras's canonical teacher-forced encoder-decoder, plus its two step models."""
    rnn = RNNS[kind]
    enc_in = layers.Input((None, vocab_in), name="enc_in")
    dec_in = layers.Input((None, vocab_out), name="dec_in")
    encoder = rnn(units, return_state=True, name="encoder")
    _, *states = encoder(enc_in)
    decoder = rnn(units, return_sequences=True, return_state=True, name="decoder")
    dense = layers.Dense(vocab_out, activation="softmax", name="probs")
    seq, *_ = decoder(dec_in, initial_state=states)
    train = models.Model([enc_in, dec_in], dense(seq))
    state_in = [layers.Input((units,), name=f"s{i}") for i in range(len(states))]
    step_out, *step_states = decoder(dec_in, initial_state=state_in)
    step = models.Model([dec_in, *state_in], [dense(step_out), *step_states])
    return train, models.Model(enc_in, states), step, (encoder, decoder, dense)


@pytest.mark.parametrize("kind", sorted(RNNS))
def test_teacher_forced_graph_equals_tensor_computation(kind, rng):
    train, _, _, (encoder, decoder, dense) = _seq2seq(kind)
    x = rng.normal(size=(3, 4, 5)).astype(np.float32)
    y = rng.normal(size=(3, 6, 7)).astype(np.float32)
    _, *states = encoder(numnet.tensor(x))
    seq, *_ = decoder(numnet.tensor(y), initial_state=states)
    expected = dense(seq).data
    np.testing.assert_allclose(train.predict([x, y]), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(RNNS))
def test_state_reaches_decoder_and_gradients_flow(kind, rng):
    train, _, _, (encoder, _, _) = _seq2seq(kind)
    x = numnet.tensor(rng.normal(size=(2, 4, 5)))
    y = numnet.tensor(rng.normal(size=(2, 3, 7)))
    out = train([x, y], training=True)
    (out * numnet.tensor(rng.normal(size=out.shape))).sum().backward()
    assert all(np.abs(w.grad).sum() > 0 for w in encoder.trainable_weights)
    # Changing only the encoder input changes the decoder output.
    other = train.predict([rng.normal(size=(2, 4, 5)), y.data])
    assert not np.allclose(other, out.data)


@pytest.mark.parametrize("kind", sorted(RNNS))
def test_step_by_step_inference_matches_teacher_forcing(kind, rng):
    train, encoder_model, step, _ = _seq2seq(kind)
    x = rng.normal(size=(2, 4, 5)).astype(np.float32)
    y = rng.normal(size=(2, 5, 7)).astype(np.float32)
    forced = train.predict([x, y])
    states = encoder_model.predict(x)
    states = states if isinstance(states, list) else [states]
    for t in range(y.shape[1]):
        probs, *states = step.predict([y[:, t : t + 1], *states])
        np.testing.assert_allclose(probs[:, 0], forced[:, t], rtol=1e-5, atol=1e-6)


def test_single_state_may_be_a_bare_tensor(rng):
    enc_in = layers.Input((3, 4))
    _, h = layers.GRU(5, return_state=True)(enc_in)
    out = layers.GRU(5)(enc_in, initial_state=h)
    model = models.Model(enc_in, out)
    assert model.predict(rng.normal(size=(2, 3, 4))).shape == (2, 5)


def test_fit_lowers_loss_and_config_round_trips(rng, tmp_path):
    train, *_ = _seq2seq("LSTM")
    x = rng.normal(size=(16, 4, 5)).astype(np.float32)
    y = np.eye(7, dtype=np.float32)[rng.integers(0, 7, size=(16, 6))]
    train.compile(optimizer="adam", loss="categorical_crossentropy")
    history = train.fit([x, y], y, epochs=8, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    clone = Functional.from_config(train.get_config())
    clone.set_weights(train.get_weights())
    np.testing.assert_allclose(clone.predict([x, y]), train.predict([x, y]), rtol=1e-5)
    path = tmp_path / "seq2seq.npz"
    train.save(path)
    loaded = models.load_model(path)
    np.testing.assert_allclose(loaded.predict([x, y]), train.predict([x, y]), rtol=1e-5)


def test_bad_symbolic_kwarg_names_the_argument():
    enc_in = layers.Input((3, 4))
    with pytest.raises(TypeError, match="initial_state"):
        layers.GRU(5)(enc_in, initial_state=[enc_in, np.zeros((1, 5))])


def test_positional_initial_state_in_a_graph(rng):
    enc_in = layers.Input((3, 4))
    _, h, c = layers.LSTM(5, return_state=True)(enc_in)
    decoder = layers.LSTM(5)
    model = models.Model(enc_in, decoder(enc_in, [h, c]))
    assert model._nodes[-1].tensor_kwargs == {"initial_state": (2, True)}
    assert model.predict(rng.normal(size=(2, 3, 4))).shape == (2, 5)
