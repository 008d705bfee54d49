"""BLEU against hand computation and against sacrebleu (when installed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numnet.metrics import corpus_bleu, sentence_bleu

HYPS = [
    "the cat the cat on the mat",
    "there is a cat on the mat",
    "a dog sat",
    "it is a guide to action which ensures that the military always obeys the "
    "commands of the party",
    "the",
]
REFS = [
    ["the cat is on the mat", "there is a cat on the mat"],
    ["a cat is on the mat"],
    ["the dog sat on the log", "a dog sat there"],
    [
        "it is a guide to action that ensures that the military will forever heed "
        "party commands",
        "it is the guiding principle which guarantees the military forces always "
        "being under the command of the party",
    ],
    ["the end"],
]


def test_modified_precision_clips_counts():
    # "the the the the the the the" vs "the cat is on the mat": p1 = 2/7 (clipped)
    result = sentence_bleu("the " * 7, ["the cat is on the mat"], max_order=1)
    assert result.precisions[0] == pytest.approx(2 / 7)
    assert result.brevity_penalty == 1.0


def test_brevity_penalty_uses_closest_reference():
    result = corpus_bleu(["a b c"], [["a b c d e", "a b c d x y z"]], max_order=1)
    assert result.ref_len == 5 and result.hyp_len == 3
    assert result.score == pytest.approx(math.exp(1 - 5 / 3))


def test_identical_is_one_and_disjoint_is_zero():
    assert corpus_bleu(["a b c d e"], [["a b c d e"]]).score == pytest.approx(1.0)
    assert corpus_bleu(["a b c d"], [["w x y z"]], smooth_method="none").score == 0.0
    tokens = corpus_bleu([["a", "b", "c", "d"]], [[["a", "b", "c", "d"]]])
    assert tokens.score == pytest.approx(1.0)


def test_errors():
    with pytest.raises(ValueError, match="one list of references"):
        corpus_bleu(["a"], [])
    with pytest.raises(ValueError, match="smooth_method"):
        corpus_bleu(["a"], [["a"]], smooth_method="magic")


@pytest.mark.parametrize("smooth", ["none", "exp", "floor", "add-k"])
def test_corpus_bleu_matches_sacrebleu(smooth):
    sacrebleu = pytest.importorskip("sacrebleu")
    ours = corpus_bleu(HYPS, REFS, smooth_method=smooth)
    width = max(len(r) for r in REFS)
    streams = [[r[i] if i < len(r) else None for r in REFS] for i in range(width)]
    theirs = sacrebleu.corpus_bleu(HYPS, streams, tokenize="none", smooth_method=smooth)
    assert ours.score * 100 == pytest.approx(theirs.score, abs=1e-9)
    assert ours.brevity_penalty == pytest.approx(theirs.bp)
    assert (ours.hyp_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)


@pytest.mark.parametrize("smooth", ["none", "exp", "floor", "add-k"])
def test_sentence_bleu_matches_sacrebleu(smooth):
    sacrebleu = pytest.importorskip("sacrebleu")
    for hyp, refs in zip(HYPS, REFS, strict=True):
        ours = sentence_bleu(hyp, refs, smooth_method=smooth)
        theirs = sacrebleu.sentence_bleu(
            hyp, refs, tokenize="none", smooth_method=smooth
        )
        assert ours.score * 100 == pytest.approx(theirs.score, abs=1e-9), hyp


def test_random_corpora_match_sacrebleu(rng):
    sacrebleu = pytest.importorskip("sacrebleu")
    words = "a b c d e f".split()
    hyps = [" ".join(rng.choice(words, rng.integers(1, 9))) for _ in range(30)]
    refs = [" ".join(rng.choice(words, rng.integers(1, 9))) for _ in range(30)]
    ours = corpus_bleu(hyps, [[r] for r in refs])
    theirs = sacrebleu.corpus_bleu(hyps, [refs], tokenize="none")
    assert ours.score * 100 == pytest.approx(theirs.score, abs=1e-9)
    assert np.isfinite(ours.score)
