"""Random search: distributions, seeding, scoring, sorting, pruning, fit wiring."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.example_helpers import load_example, needs_fashion_mnist

from numnet.tuning import (
    Choice,
    IntUniform,
    LogUniform,
    RandomSearch,
    Uniform,
    sample_configs,
)


def test_log_uniform_is_ten_to_a_uniform_exponent():
    values = np.array(
        [LogUniform(1e-4, 1.0).sample(r) for r in [np.random.default_rng(0)] * 4000]
    )
    assert values.min() >= 1e-4 and values.max() <= 1.0
    # Each decade gets a quarter of the samples (a uniform draw would put 90%
    # of them in the top decade).
    decades = np.histogram(np.log10(values), bins=[-4, -3, -2, -1, 0])[0] / len(values)
    np.testing.assert_allclose(decades, 0.25, atol=0.03)
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    assert LogUniform(1e-4, 1.0).sample(rng_a) == pytest.approx(
        10 ** rng_b.uniform(-4, 0)
    )


def test_uniform_int_uniform_and_choice(rng):
    u = [Uniform(0.1, 0.5).sample(rng) for _ in range(500)]
    assert 0.1 <= min(u) and max(u) <= 0.5
    ints = {IntUniform(2, 4).sample(rng) for _ in range(200)}
    assert ints == {2, 3, 4}  # both ends included
    picks = {Choice([32, 64, "adam"]).sample(rng) for _ in range(200)}
    assert picks == {32, 64, "adam"}
    assert type(Choice(np.array([1, 2])).sample(rng)) is int  # plain Python values


@pytest.mark.parametrize(
    "make",
    [
        lambda: LogUniform(0.0, 1.0),
        lambda: LogUniform(1e-2, 1e-3),
        lambda: Uniform(1.0, 1.0),
        lambda: IntUniform(3, 2),
        lambda: Choice([]),
        lambda: Choice("abc"),
    ],
)
def test_bad_distributions(make):
    with pytest.raises(ValueError):
        make()


def test_sample_configs_is_seeded_and_keeps_fixed_values():
    space = {"lr": LogUniform(1e-4, 1e-1), "units": IntUniform(8, 64), "epochs": 3}
    a, b = sample_configs(space, 5, seed=1), sample_configs(space, 5, seed=1)
    assert a == b and all(c["epochs"] == 3 for c in a)
    assert a != sample_configs(space, 5, seed=2)
    assert len({c["lr"] for c in a}) == 5


def _quality(config):
    """A deterministic score peaking at lr = 1e-2 and dropout = 0.2."""
    return 1.0 - abs(math.log10(config["lr"]) + 2) / 4 - abs(config["dropout"] - 0.2)


SPACE = {"lr": LogUniform(1e-4, 1.0), "dropout": Uniform(0.0, 0.5)}


def test_search_sorts_and_returns_the_best():
    result = RandomSearch(SPACE, n_trials=12, seed=0, objective="score").search(
        _quality
    )
    scores = [t.score for t in result.trials]
    assert scores == sorted(scores, reverse=True)
    configs = sample_configs(SPACE, 12, seed=0)
    best = max(configs, key=_quality)
    assert result.best_config == best and result.best_score == pytest.approx(
        _quality(best)
    )
    assert sorted(t.number for t in result.trials) == list(range(12))


def test_markdown_table():
    result = RandomSearch(SPACE, n_trials=3, seed=0, objective="score").search(_quality)
    lines = result.to_markdown().splitlines()
    assert (
        lines[0]
        == "| rank | trial | lr | dropout | score | epochs run | status | time (s) |"
    )
    assert lines[1] == "|---|---|---|---|---|---|---|---|"
    assert len(lines) == 5 and lines[2].startswith("| 1 | ")
    assert f"{result.best_score:.4f}" in lines[2]
    assert str(result) == result.to_markdown()


def test_loss_objectives_are_minimized_and_histories_scored_by_best_epoch():
    def train(config):  # a History-like dict of per-epoch lists
        return {"val_loss": [1.0, config["x"], 0.9]}

    result = RandomSearch({"x": Uniform(0.0, 2.0)}, 6, "val_loss", seed=3).search(train)
    assert result.maximize is False
    expected = min(min(c["x"], 0.9) for c in sample_configs({"x": Uniform(0, 2)}, 6, 3))
    assert result.best_score == pytest.approx(expected)
    assert all(len(t.curve) == 3 for t in result.trials)


def test_failed_and_diverged_trials_sort_last():
    def train(config):
        if config["lr"] > 0.3:
            raise FloatingPointError("overflow in exp")
        return math.nan if config["lr"] > 0.1 else config["lr"]

    space = {"lr": LogUniform(1e-3, 1.0)}
    result = RandomSearch(space, 15, "score", seed=0).search(train)
    statuses = [t.status for t in result.trials]
    n_ok = statuses.count("complete")
    assert 0 < n_ok < 15 and set(statuses[n_ok:]) <= {"failed", "diverged"}
    assert "failed" in statuses and "diverged" in statuses
    assert "overflow" in next(t.error for t in result.trials if t.status == "failed")


def test_median_stopping_prunes_bad_trials():
    epochs_run = []

    def train(config, reporter):
        for epoch in range(1, 11):
            # Good configs improve fast, bad ones slowly.
            if reporter.report(config["quality"] * (1 - 0.5**epoch)):
                break
        epochs_run.append(epoch)

    space = {"quality": Uniform(0.0, 1.0)}
    result = RandomSearch(space, 12, "acc", seed=0, prune=True, min_epochs=2).search(
        train
    )
    pruned = [t for t in result.trials if t.status == "pruned"]
    complete = [t for t in result.trials if t.status == "complete"]
    assert pruned and complete and min(epochs_run) < 10
    assert all(len(t.curve) < 10 for t in pruned)
    assert max(t.config["quality"] for t in pruned) < result.best_config["quality"]
    # The winner is the best of all proposed configurations: never pruned.
    assert result.best_config == max(
        sample_configs(space, 12, 0), key=lambda c: c["quality"]
    )


class _FakeModel:
    """Records how the search calls fit; returns a History-like object."""

    calls: list = []

    def __init__(self, config):
        self.config = config
        self.stop_training = False

    def fit(
        self, x, y, epochs, validation_data, batch_size=None, callbacks=(), verbose=1
    ):
        _FakeModel.calls.append({"batch_size": batch_size, "verbose": verbose})
        history = {"val_accuracy": []}
        for callback in callbacks:
            callback.set_model(self)
        for epoch in range(epochs):
            logs = {"val_accuracy": self.config["dropout"] * (epoch + 1)}
            history["val_accuracy"].append(logs["val_accuracy"])
            for callback in callbacks:
                callback.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        return type("History", (), {"history": history})()


def test_model_fn_form_calls_fit_with_the_configured_batch_size():
    _FakeModel.calls = []
    space = {"batch_size": Choice([16, 64]), "dropout": Uniform(0.0, 0.5)}
    x, y = np.zeros((10, 2), np.float32), np.zeros(10)
    result = RandomSearch(space, 4, seed=1).search(
        _FakeModel, x, y, epochs=3, validation_data=(x, y)
    )
    configs = sample_configs(space, 4, seed=1)
    assert [c["batch_size"] for c in _FakeModel.calls] == [
        c["batch_size"] for c in configs
    ]
    assert all(c["verbose"] == 0 for c in _FakeModel.calls)
    assert result.best_score == pytest.approx(3 * max(c["dropout"] for c in configs))
    assert all(len(t.curve) == 3 for t in result.trials)


def test_bad_search_arguments():
    with pytest.raises(ValueError, match="space"):
        RandomSearch({}, 3)
    with pytest.raises(ValueError, match="n_trials"):
        RandomSearch(SPACE, 0)
    with pytest.raises(ValueError, match="direction"):
        RandomSearch(SPACE, 2, direction="up")
    with pytest.raises(KeyError, match="objective"):
        RandomSearch(SPACE, 1, objective="acc").search(lambda c: {"loss": 1.0})


@needs_fashion_mnist
def test_hyperparameter_search_example_smoke(capsys):
    result = load_example("hyperparameter_search").main(
        ["--trials", "2", "--epochs", "1", "--limit", "600"]
    )
    assert result["trials"] == 2 and 0.0 <= result["best_score"] <= 1.0
    assert "search wall time" in capsys.readouterr().out
