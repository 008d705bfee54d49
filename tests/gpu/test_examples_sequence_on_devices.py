"""The sequence and text examples run with ``--device``: the smoke run of each
(the arguments of its CPU smoke test, ``tests/test_examples_*.py``), on the
"strict" device everywhere and on "cuda" where CuPy finds a GPU (the ``device``
fixture of ``tests/conftest.py``). Every model the example trains (and its decoder
models) lives on the device; glove and word2vec move their own parameters and
batches there. Nothing may slip past the array seam."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from tests.example_helpers import load_example, needs_fashion_mnist
from tests.strict_namespace import SLIPS, STRICT

needs_licenses = pytest.mark.skipif(
    not Path("/usr/share/common-licenses").is_dir(), reason="no license texts"
)
needs_docs = pytest.mark.skipif(
    not Path("/usr/share/doc").is_dir(), reason="no documentation"
)


def _char_rnn(result, out):
    assert math.isfinite(result["loss_before"]) and math.isfinite(result["loss_after"])
    assert out.count("--- sample at temperature") == 2


def _sequence_classification(result, out):
    assert 0.0 <= result["accuracy"] <= 1.0
    assert result["padding_drift"] < 1e-5  # masked padding changes nothing
    assert "majority-class baseline" in out


def _nmt_dates(result, out):
    assert 0.0 <= result["exact_match"] <= 1.0
    assert 0.0 <= result["beam_exact_match"] <= 1.0
    assert Path(result["attention_map"]).stat().st_size > 0
    assert "exact match, greedy decoding" in out


def _transformer_char_lm(result, out):
    assert math.isfinite(result["transformer"]["loss"])
    assert math.isfinite(result["lstm"]["loss"])
    assert "transformer sample" in out


def _glove(result, out):
    assert Path(result["vectors"]).stat().st_size > 0
    assert "J = " in out and "J = nan" not in out


def _trigger_word(result, out):
    assert 0.0 <= result["f1"] <= 1.0 and 0.0 <= result["detection_rate"] <= 1.0
    assert "held-out per-step F1" in out


def _word2vec_skipgram(result, out):
    assert "embedding unchanged: True" in out  # the frozen layer stayed frozen
    assert result["vocab"] > 100 and 0.0 <= result["word2vec (frozen)"] <= 1.0
    assert "loss nan" not in out


def _hyperparameter_search(result, out):
    assert result["trials"] == 2 and 0.0 <= result["best_score"] <= 1.0


def _case(name, argv, check, *marks):
    return pytest.param(name, argv, check, marks=marks, id=name)


CASES = [
    _case(
        "char_rnn",
        ["--epochs", "1", "--limit", "4000", "--units", "16", "--seq-len", "20",
         "--sample-length", "30"],
        _char_rnn,
        needs_licenses,
    ),
    _case(
        "sequence_classification",
        ["--epochs", "1", "--limit", "300", "--units", "8", "--max-len", "24",
         "--packages", "json,logging"],
        _sequence_classification,
    ),
    _case(
        "nmt_dates",
        ["--epochs", "1", "--limit", "200", "--test", "20", "--beam-subset", "2"],
        _nmt_dates,
    ),
    _case(
        "transformer_char_lm",
        ["--minutes", "0.05", "--epochs", "1", "--limit", "6000", "--seq-len", "16",
         "--dim", "16", "--heads", "2", "--blocks", "1", "--units", "8",
         "--sample-length", "20"],
        _transformer_char_lm,
        needs_licenses,
    ),
    _case(
        "glove",
        ["--epochs", "1", "--limit", "200000", "--vocab", "400", "--dim", "8"],
        _glove,
        needs_docs,
    ),
    _case(
        "trigger_word",
        ["--epochs", "1", "--limit", "12", "--test", "4", "--seconds", "2",
         "--filters", "8", "--units", "8"],
        _trigger_word,
    ),
    _case(
        "word2vec_skipgram",
        ["--limit", "30000", "--epochs", "1", "--dim", "16", "--clf-epochs", "1",
         "--batch-size", "1024"],
        _word2vec_skipgram,
    ),
    _case(
        "hyperparameter_search",
        ["--trials", "2", "--epochs", "1", "--limit", "600"],
        _hyperparameter_search,
        needs_fashion_mnist,
    ),
]  # fmt: skip


@pytest.mark.parametrize("name, argv, check", CASES)
def test_sequence_example_trains_on_the_device(
    name, argv, check, device, capsys, tmp_path, monkeypatch
):
    puts = []  # arrays put on the strict device: the example used it
    if device == "strict":
        asarray = STRICT.asarray
        monkeypatch.setattr(
            STRICT, "asarray", lambda *a, **k: puts.append(1) or asarray(*a, **k)
        )
    if name in ("nmt_dates", "glove"):
        argv = [*argv, "--out", str(tmp_path)]
    result = load_example(name).main([*argv, "--device", device])
    check(result, capsys.readouterr().out)
    assert puts or device != "strict"
    assert not SLIPS
