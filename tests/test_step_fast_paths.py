"""The per-step fast paths of training (one-walk train_mode, the loss tracker's
float update, small work without a thread-count lookup) behave as the general
paths they skip."""

from __future__ import annotations

import numpy as np
import pytest

from numnet import config, layers, models
from numnet.backend import threads
from numnet.metrics.base import Mean
from numnet.models.training import train_mode
from numnet.optimizers import _parallel


def _flags(model):
    return [layer.training for layer in [model, *model.layers]]


class _Holder(layers.Layer):
    def __init__(self, *children):
        super().__init__()
        for i, child in enumerate(children):
            setattr(self, f"child{i}", child)


def test_train_mode_sets_and_restores_every_flag_once():
    shared = layers.Dropout(0.5)  # reached twice through the tree
    a, b = _Holder(shared), _Holder(shared)
    root = _Holder(a, b, layers.Dense(2))
    everything = [root, a, b, shared, root.child2]
    root.eval()
    shared.training = True  # a mixed state, restored as it was
    before = [layer.training for layer in everything]
    with train_mode(root):
        assert all(layer.training for layer in everything)
    assert [layer.training for layer in everything] == before
    with pytest.raises(RuntimeError, match="boom"):
        with train_mode(root):
            raise RuntimeError("boom")
    assert [layer.training for layer in everything] == before


class _NeverTrains(layers.Dropout):
    def train(self, mode=True):  # a layer that stays in inference mode
        self.training = False
        return self


def test_train_mode_calls_a_custom_train():
    frozen = _NeverTrains(0.5)
    model = models.Sequential([layers.Dense(2), frozen])
    model.build((None, 3))
    with train_mode(model):
        assert model.training and model.layers[0].training
        assert not frozen.training
    assert not any(_flags(model))


@pytest.mark.parametrize("weight", [None, 3, 2.5, 0, -(2**63), 2**63 - 1])
def test_mean_float_fast_path_matches_the_array_path(weight):
    fast, general = Mean(), Mean()
    for value in (0.1, 1e200, -3.3, 7.0):
        fast.update_state(value, sample_weight=weight)
        general.update_state(np.float64(value), sample_weight=weight)
    assert (fast.total, fast.count) == (general.total, general.count)
    assert type(fast.total) is type(general.total) is float
    assert fast.result() == general.result() or weight == 0


def test_mean_overflow_and_nan_behave_as_the_array_path():
    with pytest.warns(RuntimeWarning, match="overflow"):
        Mean().update_state(1e300, sample_weight=2**62)
    m = Mean()
    m.update_state(float("nan"))
    assert np.isnan(m.result()) and m.count == 1.0


def test_mean_other_weights_take_the_general_path():
    m = Mean()
    m.update_state(2.0, sample_weight=True)
    m.update_state(2.0, sample_weight=[3.0])
    assert (m.total, m.count) == (8.0, 4.0)
    with pytest.raises(TypeError, match="sample_weight|values|dtype"):
        Mean().update_state(1.0, sample_weight=2**70)  # object dtype: refused


def _refuse_lookup():
    raise AssertionError("the thread count was looked up for small work")


def test_small_work_skips_the_thread_count(monkeypatch):
    monkeypatch.setattr(config, "num_threads", _refuse_lookup)
    seen = []
    threads.over_batch(lambda a, b: seen.append((a, b)), 8, threads.MIN_ELEMENTS - 1)
    threads.over_batch(lambda a, b: seen.append((a, b)), 1, 10**9)
    assert seen == [(0, 8), (0, 1)]
    w, g = np.ones(4), np.full(4, 2.0)
    _parallel.run_updates(lambda w, g, s: np.subtract(w, g, out=w), [(w, g, {})])
    assert w.tolist() == [-1.0] * 4


def test_large_work_still_splits(monkeypatch):
    monkeypatch.setattr(config, "num_threads", lambda: 2)
    seen = []
    threads.over_batch(lambda a, b: seen.append((a, b)), 8, threads.MIN_ELEMENTS)
    assert sorted(seen) == [(0, 4), (4, 8)]
    n = _parallel.MIN_ELEMENTS
    w, g = np.ones(n), np.full(n, 2.0)
    calls = []

    def update(w, g, slots):
        calls.append(w.size)
        np.subtract(w, g, out=w)

    _parallel.run_updates(update, [(w, g, {})])
    assert calls == [n // 2, n // 2] and np.all(w == -1.0)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (128, 10), (33, 5)])
def test_loss_mean_reduction_is_sum_over_n(dtype, shape, rng):
    import numnet
    import numnet.functional as F
    from numnet import losses

    y_true = rng.standard_normal(shape).astype(dtype)
    y_pred = numnet.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    g = np.asarray(rng.standard_normal(), dtype)
    loss = losses.MeanSquaredError()(y_true, y_pred)
    loss.backward(g)
    grad, y_pred.grad = y_pred.grad, None
    d = y_pred - y_true
    values = F.mean(d * d, axis=-1) if len(shape) > 1 else d * d
    expected = F.sum(values) / float(values.size)  # the definition
    expected.backward(g)
    assert loss.dtype == expected.dtype
    np.testing.assert_array_equal(loss.numpy(), expected.numpy())
    np.testing.assert_array_equal(grad, y_pred.grad)
