"""Greedy, sampled and beam-search decoding of a model that lives on a device.

The step function runs a small GRU decoder on the device (its tokens come from
the host, its scores and state stay on the device); the search runs on the
host. The sequences, scores and log-probabilities equal the CPU's. The
``device`` fixture (``tests/conftest.py``) gives "strict" everywhere and "cuda"
where CuPy finds a GPU.
"""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import decoding, layers

V, H = 7, 5


def _decoder(device):
    numnet.manual_seed(0)
    embed, cell, head = layers.Embedding(V, 4), layers.GRUCell(H), layers.Dense(V)
    put = numnet.device(device).put

    def step(tokens, state):
        h, (new,) = cell(embed(tokens), [state])
        return head(h), new

    step(np.zeros(1, np.int64), np.zeros((1, H), np.float32))  # build, on the CPU
    for layer in (embed, cell, head):
        layer.to(device)
    return step, put(np.zeros((1, H), np.float32))


SEARCHES = {
    "greedy": lambda step, s0: decoding.greedy_decode(step, 0, s0, max_length=6),
    "sample": lambda step, s0: decoding.sample_sequence(
        step, 0, s0, max_length=6, rng=3
    ),
    "beam": lambda step, s0: decoding.beam_search(
        step, 0, s0, beam_width=3, max_length=6, end_token=6
    ),
}


@pytest.mark.parametrize("search", sorted(SEARCHES))
def test_decoding_a_device_model_matches_the_cpu(search, device):
    on_cpu = SEARCHES[search](*_decoder("cpu"))
    on_device = SEARCHES[search](*_decoder(device))
    if search == "beam":
        assert [list(t) for t, _, _ in on_device] == [list(t) for t, _, _ in on_cpu]
        on_cpu = [s for _, s, _ in on_cpu]
        on_device = [s for _, s, _ in on_device]
        np.testing.assert_allclose(on_device, on_cpu, rtol=1e-5)
    else:
        np.testing.assert_array_equal(on_device[0], on_cpu[0])
        np.testing.assert_allclose(on_device[1], on_cpu[1], rtol=1e-5)


def test_sampling_with_an_int_seed_repeats_and_none_follows_manual_seed():
    step, s0 = _decoder("cpu")
    draw = SEARCHES["sample"]
    np.testing.assert_array_equal(draw(step, s0)[0], draw(step, s0)[0])
    runs = []
    for _ in range(2):
        numnet.manual_seed(11)
        runs.append(decoding.sample_sequence(step, 0, s0, max_length=6)[0])
    np.testing.assert_array_equal(runs[0], runs[1])
