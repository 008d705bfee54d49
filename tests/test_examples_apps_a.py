"""Smoke runs of the application examples (autoencoder, siamese triplet, word2vec,
style transfer) on tiny subsets: seconds each. Full runs are quoted in
docs/applications.md."""

from __future__ import annotations

import math

from tests.example_helpers import load_example, needs_fashion_mnist


@needs_fashion_mnist
def test_autoencoder_smoke(tmp_path, capsys):
    argv = ["--limit", "128", "--test-limit", "64", "--epochs", "1",
            "--verbose", "0", "--out", str(tmp_path)]  # fmt: skip
    results = load_example("autoencoder").main(argv)
    assert (tmp_path / "autoencoder_reconstructions.png").stat().st_size > 1000
    assert len(results) == 5 and all(0 < v < 1 for v in results.values())
    assert "conv denoiser (test MSE)" in capsys.readouterr().out


@needs_fashion_mnist
def test_siamese_triplet_smoke(capsys):
    argv = ["--limit", "512", "--val", "256", "--test-limit", "256", "--pairs",
            "200", "--epochs", "1", "--verbose", "0"]  # fmt: skip
    results = load_example("siamese_triplet").main(argv)
    for key in ("embedding", "pixels"):
        assert 0.4 <= results[key]["test_accuracy"] <= 1.0
        assert results[key]["val_accuracy"] >= 0.5  # the best threshold beats chance
    assert "test pairs" in capsys.readouterr().out


def test_pair_sampling_and_threshold():
    import numpy as np

    module = load_example("siamese_triplet")
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    a, b, same = module.sample_pairs(labels, 50, np.random.default_rng(0))
    assert np.all(a != b)
    np.testing.assert_array_equal(labels[a] == labels[b], same)
    dist = np.array([0.1, 0.2, 0.9, 1.5, 0.3])
    threshold, accuracy = module.best_threshold(dist, np.array([1, 1, 0, 0, 1], bool))
    assert 0.3 < threshold < 0.9 and accuracy == 1.0


def test_word2vec_smoke(capsys):
    argv = ["--limit", "30000", "--epochs", "1", "--dim", "16",
            "--clf-epochs", "1", "--batch-size", "1024"]  # fmt: skip
    results = load_example("word2vec_skipgram").main(argv)
    out = capsys.readouterr().out
    assert "nearest neighbours" in out and "analogies:" in out
    assert "embedding unchanged: True" in out  # the frozen layer stayed frozen
    assert results["vocab"] > 100
    assert 0.0 <= results["word2vec (frozen)"] <= 1.0


def test_skipgram_pairs_stay_inside_paragraphs():
    import numpy as np

    module = load_example("word2vec_skipgram")
    ids = np.arange(10)
    para = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    c, o = module.skipgram_pairs(ids, para, np.ones(10), 2, np.random.default_rng(0))
    assert c.size > 0 and np.all(para[c] == para[o]) and np.all(c != o)
    assert np.all(np.abs(c - o) <= 2)


@needs_fashion_mnist
def test_style_transfer_smoke(tmp_path, capsys):
    argv = ["--train-limit", "64", "--steps", "5", "--out", str(tmp_path)]
    results = load_example("style_transfer").main(argv)
    for name in ("content", "style", "generated"):
        assert (tmp_path / f"style_{name}.png").exists()
    start, final = results["J"]
    assert math.isfinite(final) and final < start
    assert "J_style" in capsys.readouterr().out
