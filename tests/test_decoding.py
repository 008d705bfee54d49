"""Greedy, beam search (vs exhaustive search) and temperature sampling."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from numnet import decoding

V, H, END = 4, 5, 0


def _toy_rnn(seed):
    """A tiny random RNN language model as a step function (history matters)."""
    rng = np.random.default_rng(seed)
    emb, w, u = (
        rng.normal(size=(V, H)),
        rng.normal(size=(H, H)),
        rng.normal(size=(H, V)) * 2,
    )

    def step(tokens, state):
        h = np.tanh(emb[tokens] + state @ w)
        return h @ u, h

    return step, np.zeros((1, H))


def _log_prob(step, state, start, seq):
    total, token = 0.0, np.array([start])
    for word in seq:
        logits, state = step(token, state)
        logits = logits[0] - logits[0].max()
        total += logits[word] - np.log(np.exp(logits).sum())
        token = np.array([word])
    return total


def _exhaustive(step, state, start, max_length, alpha):
    """Every finished hypothesis: ends with END, or reaches max_length."""
    best = None
    for length in range(1, max_length + 1):
        for body in itertools.product(range(1, V), repeat=length - 1):
            tails = [END] if length < max_length else range(V)
            for last in tails:
                seq = [*body, last]
                score = _log_prob(step, state, start, seq) / len(seq) ** alpha
                if best is None or score > best[1]:
                    best = (seq, score)
    return best


@pytest.mark.parametrize("seed,alpha", [(0, 0.0), (1, 0.7), (2, 1.0), (3, 0.7)])
def test_wide_beam_finds_the_exhaustive_best(seed, alpha):
    step, state = _toy_rnn(seed)
    seq, score = _exhaustive(step, state, 1, 4, alpha)
    beams = decoding.beam_search(
        step, 1, state, beam_width=V**4, max_length=4, end_token=END, alpha=alpha
    )
    assert beams[0][0] == seq
    assert beams[0][1] == pytest.approx(score)
    scores = [b[1] for b in beams]
    assert scores == sorted(scores, reverse=True)


def test_beam_scores_are_normalized_log_probs():
    step, state = _toy_rnn(5)
    for seq, score, logp in decoding.beam_search(
        step, 2, state, beam_width=3, max_length=5, end_token=END
    ):
        assert logp == pytest.approx(_log_prob(step, state, 2, seq))
        assert score == pytest.approx(logp / len(seq) ** 0.7)


def test_beam_width_one_is_greedy():
    for seed in range(4):
        step, state = _toy_rnn(seed)
        greedy, logp = decoding.greedy_decode(
            step, 1, state, max_length=6, end_token=END
        )
        beam = decoding.beam_search(
            step, 1, state, beam_width=1, max_length=6, end_token=END, alpha=0.0
        )
        assert beam[0][0] == greedy[0]
        assert beam[0][2] == pytest.approx(logp[0])


def test_beam_beats_greedy_on_a_garden_path():
    # Step 1: "a" (0.6) or "b" (0.4). After "a" everything is uncertain; after
    # "b" the end is certain. Greedy takes "a"; the best sequence is "b <end>".
    root, after_a, after_b = np.log(
        [[1e-9, 0.6, 0.4], [0.34, 0.33, 0.33], [1.0 - 2e-9, 1e-9, 1e-9]]
    )

    def step(tokens, state):  # state rows: (steps taken, first emitted token)
        t, first = state[:, 0], np.where(state[:, 0] == 1, tokens, state[:, 1])
        later = np.where((first == 1)[:, None], after_a, after_b)
        out = np.where((t == 0)[:, None], root, later)
        return out, np.stack([t + 1, first], axis=1)

    greedy, _ = decoding.greedy_decode(
        step, -1, np.zeros((1, 2), int), max_length=2, end_token=0, output="log_probs"
    )
    beams = decoding.beam_search(
        step,
        -1,
        np.zeros((1, 2), int),
        beam_width=2,
        max_length=2,
        end_token=0,
        alpha=0.0,
        output="log_probs",
    )
    assert greedy[0][0] == 1
    assert beams[0][0] == [2, 0]


def test_greedy_batches_stop_at_end_token():
    def step(tokens, state):
        logits = np.full((len(tokens), 3), -5.0)
        logits[:, 2] = np.where(state[:, 0] < np.array([1, 3]), 5.0, -5.0)
        logits[:, 0] = 0.0
        return logits, state + 1

    seqs, logp = decoding.greedy_decode(
        step, [1, 1], np.zeros((2, 1)), max_length=6, end_token=0
    )
    assert seqs == [[2, 0], [2, 2, 2, 0]]
    assert logp.shape == (2,) and np.all(logp < 0)


def test_sample_logits_temperatures(rng):
    logits = np.log([0.5, 0.3, 0.2])
    assert decoding.sample_logits(logits, 0) == 0
    draws = decoding.sample_logits(np.tile(logits, (20000, 1)), 1.0, rng)
    np.testing.assert_allclose(
        np.bincount(draws, minlength=3) / 20000, [0.5, 0.3, 0.2], atol=0.015
    )
    hot = decoding.sample_logits(np.tile(logits, (20000, 1)), 100.0, rng)
    np.testing.assert_allclose(np.bincount(hot, minlength=3) / 20000, 1 / 3, atol=0.02)
    with pytest.raises(ValueError, match="temperature"):
        decoding.sample_logits(logits, -1)


def test_sample_sequence_is_reproducible_and_errors():
    step, state = _toy_rnn(0)
    a = decoding.sample_sequence(step, 1, state, 8, END, 0.8, np.random.default_rng(3))
    b = decoding.sample_sequence(step, 1, state, 8, END, 0.8, np.random.default_rng(3))
    assert a[0] == b[0]
    with pytest.raises(ValueError, match="beam_width"):
        decoding.beam_search(step, 1, state, beam_width=0)
    with pytest.raises(ValueError, match="output"):
        decoding.greedy_decode(step, 1, state, output="scores")
