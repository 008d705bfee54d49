"""Smoke runs of the attention, Transformer, GloVe and trigger-word examples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.example_helpers import load_example


def test_nmt_dates_smoke(capsys, tmp_path):
    module = load_example("nmt_dates")
    result = module.main(
        [
            "--epochs",
            "1",
            "--limit",
            "200",
            "--test",
            "20",
            "--beam-subset",
            "2",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert 0.0 <= result["exact_match"] <= 1.0
    assert Path(result["attention_map"]).stat().st_size > 0
    assert "exact match, greedy decoding" in out and "time: data" in out


def test_nmt_dates_data_is_consistent():
    module = load_example("nmt_dates")
    pairs = module.make_dates(200, seed=3)
    x, y = module.encode(pairs)
    assert x.shape == (200, module.TX) and y.shape == (200, module.TY)
    for text, iso in pairs:
        year, month, day = (int(v) for v in iso.split("-"))
        assert 1950 <= year <= 2049
        assert str(day) in text or f"{day:02d}" in text
    assert np.all(module.teacher_inputs(y)[:, 0] == module.START)


@pytest.mark.skipif(
    not Path("/usr/share/common-licenses").is_dir(), reason="no license texts"
)
def test_transformer_char_lm_smoke(capsys):
    module = load_example("transformer_char_lm")
    result = module.main(
        [
            "--minutes",
            "0.05",
            "--epochs",
            "1",
            "--limit",
            "6000",
            "--seq-len",
            "16",
            "--dim",
            "16",
            "--heads",
            "2",
            "--blocks",
            "1",
            "--units",
            "8",
            "--sample-length",
            "20",
        ]
    )
    out = capsys.readouterr().out
    assert np.isfinite(result["transformer"]["loss"]) and "lstm" in result
    assert "transformer sample" in out and "ms/step" in out


@pytest.mark.skipif(not Path("/usr/share/doc").is_dir(), reason="no documentation")
def test_glove_smoke(capsys, tmp_path):
    module = load_example("glove")
    result = module.main(
        [
            "--epochs",
            "1",
            "--limit",
            "200000",
            "--vocab",
            "400",
            "--dim",
            "8",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert Path(result["vectors"]).stat().st_size > 0
    assert "J = " in out and "time: read+tokenize" in out


def test_glove_debiasing_math(rng):
    module = load_example("glove")
    g = rng.normal(size=6)
    e = rng.normal(size=6)
    assert abs(module.neutralize(e, g) @ g) < 1e-10
    a, b = module.unit(rng.normal(size=6)), module.unit(rng.normal(size=6))
    ea, eb = module.equalize(a, b, g)
    # symmetric about the neutral subspace: equal and opposite projections on g,
    # the same orthogonal part, unit length
    assert ea @ g == pytest.approx(-(eb @ g))
    np.testing.assert_allclose(module.neutralize(ea, g), module.neutralize(eb, g))
    assert np.linalg.norm(ea) == pytest.approx(1.0)


def test_trigger_word_smoke(capsys):
    module = load_example("trigger_word")
    result = module.main(
        [
            "--epochs",
            "1",
            "--limit",
            "12",
            "--test",
            "4",
            "--seconds",
            "2",
            "--filters",
            "8",
            "--units",
            "8",
        ]
    )
    out = capsys.readouterr().out
    assert 0.0 <= result["f1"] <= 1.0 and 0.0 <= result["detection_rate"] <= 1.0
    assert "held-out per-step F1" in out and "time: data" in out


def test_trigger_word_labels_follow_the_triggers():
    module = load_example("trigger_word")
    x, y, events = module.make_dataset(6, 3.0, 5, seed=1)
    assert x.shape[0] == y.shape[0] == 6
    for row, ends in enumerate(events):
        assert y[row, :, 0].sum() == sum(min(5, y.shape[1] - e - 1) for e in ends)
        for e in ends:
            assert y[row, e + 1, 0] == 1
    f1, rate, alarms, total = module.score(y, y, events, 5)
    assert f1 == 1.0 and rate == 1.0 and alarms == 0
