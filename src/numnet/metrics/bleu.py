"""BLEU (Papineni et al. 2002): clipped n-gram precision and a brevity penalty.

For each order n = 1..N the *modified precision* counts each hypothesis n-gram
at most as often as it appears in any single reference (clipping), summed over
the corpus: ``p_n = sum clipped / sum hypothesis n-grams``. With ``c`` the
hypothesis length and ``r`` the closest reference length (ties: the shorter),
summed over the corpus::

    BP   = 1 if c > r else exp(1 - r / c)
    BLEU = BP * exp(mean_n log p_n)

The result is in [0, 1] (sacrebleu reports 100x). Smoothing for zero counts
follows sacrebleu: ``"none"`` (any p_n = 0 gives 0), ``"exp"`` (the k-th zero
count becomes 1 / (2^k * total), sacrebleu's default), ``"floor"`` (a zero count
becomes ``smooth_value``) and ``"add-k"`` (k added to counts and totals for
n > 1). Sentence BLEU uses the *effective order* by default, as sacrebleu:
orders the hypothesis is too short to have are left out.

Example:
    >>> from numnet.metrics import corpus_bleu
    >>> round(corpus_bleu(["the cat is on the mat"],
    ...                   [["the cat is on the mat", "there is a cat"]]).score, 6)
    1.0
"""

from __future__ import annotations

import math
from collections import Counter
from typing import NamedTuple

_SMOOTHING = ("none", "exp", "floor", "add-k")


class BLEUScore(NamedTuple):
    """A BLEU result: ``score`` in [0, 1] and the numbers it comes from."""

    score: float
    precisions: tuple
    brevity_penalty: float
    hyp_len: int
    ref_len: int

    def __float__(self) -> float:
        return self.score


def _tokens(text) -> list:
    """A str is split on whitespace; a sequence of tokens is used as is."""
    return text.split() if isinstance(text, str) else list(text)


def _ngrams(tokens: list, n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _closest_length(hyp_len: int, ref_lens) -> int:
    return min(ref_lens, key=lambda r: (abs(r - hyp_len), r))


def _statistics(hypothesis, references, max_order: int):
    """(clipped matches per order, hypothesis n-grams per order, c, r)."""
    hyp = _tokens(hypothesis)
    refs = [_tokens(r) for r in references]
    if not refs:
        raise ValueError("bleu: every hypothesis needs at least one reference")
    correct, total = [0] * max_order, [0] * max_order
    for n in range(1, max_order + 1):
        counts = _ngrams(hyp, n)
        best = Counter()
        for ref in refs:
            best |= _ngrams(ref, n)  # max count of each n-gram over references
        correct[n - 1] = sum(min(c, best[g]) for g, c in counts.items())
        total[n - 1] = max(len(hyp) - n + 1, 0)
    return correct, total, len(hyp), _closest_length(len(hyp), [len(r) for r in refs])


def _precisions(correct, total, smooth: str, smooth_value: float, effective: bool):
    precisions, order, zeros = [], len(total), 1.0
    for n, (hit, count) in enumerate(zip(correct, total, strict=True), start=1):
        if smooth == "add-k" and n > 1:
            hit, count = hit + smooth_value, count + smooth_value
        if count == 0:
            if effective:
                order = n - 1
                break
            precisions.append(0.0)
            continue
        if hit == 0 and smooth == "exp":
            zeros *= 2
            precisions.append(1.0 / (zeros * count))
        elif hit == 0 and smooth == "floor":
            precisions.append(smooth_value / count)
        else:
            precisions.append(hit / count)
    return precisions, order


def _score(correct, total, c, r, smooth, smooth_value, effective) -> BLEUScore:
    if smooth not in _SMOOTHING:
        raise ValueError(
            f"bleu: invalid value for argument 'smooth_method'. Expected one of "
            f"{list(_SMOOTHING)}. Received: smooth_method={smooth!r}"
        )
    precisions, order = _precisions(correct, total, smooth, smooth_value, effective)
    bp = 1.0 if c > r else (math.exp(1 - r / c) if c > 0 else 0.0)
    used = precisions[:order]
    if c == 0 or not used or min(used) <= 0:
        score = 0.0
    else:
        score = bp * math.exp(sum(math.log(p) for p in used) / order)
    return BLEUScore(score, tuple(precisions), bp, c, r)


def corpus_bleu(
    hypotheses,
    references,
    max_order: int = 4,
    smooth_method: str = "exp",
    smooth_value: float | None = None,
) -> BLEUScore:
    """Corpus BLEU: n-gram statistics and lengths summed over all sentences.

    Args:
        hypotheses: the system outputs, each a str (split on whitespace) or a
            list of tokens.
        references: one list of references per hypothesis.
        max_order: the largest n-gram order N.
        smooth_method: "exp" (default, as sacrebleu), "none", "floor", "add-k".
        smooth_value: for "floor" (default 0.1) and "add-k" (default 1).

    Returns:
        A :class:`BLEUScore`; ``float(result)`` is the score.
    """
    hypotheses, references = list(hypotheses), list(references)
    if len(hypotheses) != len(references):
        raise ValueError(
            f"corpus_bleu: expected one list of references per hypothesis. "
            f"Received {len(hypotheses)} hypotheses and {len(references)} lists"
        )
    correct, total, c, r = [0] * max_order, [0] * max_order, 0, 0
    for hyp, refs in zip(hypotheses, references, strict=True):
        refs = [refs] if isinstance(refs, str) else refs
        hit, count, c_i, r_i = _statistics(hyp, refs, max_order)
        correct = [a + b for a, b in zip(correct, hit, strict=True)]
        total = [a + b for a, b in zip(total, count, strict=True)]
        c, r = c + c_i, r + r_i
    value = _default_smooth_value(smooth_method, smooth_value)
    return _score(correct, total, c, r, smooth_method, value, effective=False)


def sentence_bleu(
    hypothesis,
    references,
    max_order: int = 4,
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    use_effective_order: bool = True,
) -> BLEUScore:
    """BLEU of one hypothesis against its references (see :func:`corpus_bleu`).

    ``use_effective_order`` leaves out the orders longer than the hypothesis.
    """
    references = [references] if isinstance(references, str) else references
    correct, total, c, r = _statistics(hypothesis, references, max_order)
    value = _default_smooth_value(smooth_method, smooth_value)
    return _score(correct, total, c, r, smooth_method, value, use_effective_order)


def _default_smooth_value(method: str, value):
    if value is not None:
        return float(value)
    return {"floor": 0.1, "add-k": 1.0}.get(method, 0.0)
