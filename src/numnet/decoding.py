"""Decoding a sequence model: temperature sampling, greedy search, beam search.

Every decoder works with any *step function*::

    scores, state = step_fn(tokens, state)

``tokens`` is an int array (B,) of the previous tokens of B hypotheses and
``state`` whatever the model carries between steps (an array with a leading
batch axis, a list/tuple/dict of them, or None); ``scores`` (B, V) are logits
(default), probabilities or log-probabilities (``output=``). A Keras-style
inference decoder fits directly: ``probs, h, c = step_model.predict([x, h, c])``.

Beam search keeps the ``beam_width`` most probable prefixes, moves a prefix
that emits ``end_token`` to the finished list, and ranks finished sequences by
the length-normalized log-probability of the course notes,
``(1 / Ty^alpha) * sum_t log P(y_t | x, y_<t)`` (alpha=0: raw log-probability,
alpha=1: per-token average). Ty counts the emitted tokens, the end token
included; the start token is not emitted.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Tensor

_OUTPUTS = ("logits", "probs", "log_probs")


def _host(value) -> np.ndarray:
    """Scores as float64 NumPy (a GPU model's scores come to the host: the
    search itself is a few small host operations per step)."""
    return backend.to_host(value).astype(np.float64, copy=False)


def _log_probs(scores, output: str) -> np.ndarray:
    scores = _host(scores)
    if scores.ndim == 1:
        scores = scores[None]
    if output == "log_probs":
        return scores
    if output == "probs":
        with np.errstate(divide="ignore"):
            return np.log(scores)
    shifted = scores - scores.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _check_output(output: str, owner: str) -> None:
    if output not in _OUTPUTS:
        raise ValueError(
            f"{owner}: invalid value for argument 'output'. Expected one of "
            f"{list(_OUTPUTS)}. Received: output={output!r}"
        )


def _select(state, index):
    """Rows ``index`` of every array in ``state`` (reorders beams)."""
    if state is None:
        return None
    if isinstance(state, (list, tuple)):
        return type(state)(_select(s, index) for s in state)
    if isinstance(state, dict):
        return {k: _select(v, index) for k, v in state.items()}
    data = state.data if isinstance(state, Tensor) else state
    if backend.is_array(data) and not isinstance(data, np.ndarray):
        return data[backend.get_array_module(data).asarray(index)]  # stays there
    return np.asarray(data)[index]


def sample_logits(logits, temperature: float = 1.0, rng=None):
    """Draw token ids from ``softmax(logits / temperature)``.

    Low temperatures sharpen the distribution (0 gives the argmax), high ones
    flatten it.

    Args:
        logits: (V,) or (B, V) unnormalized log-probabilities.
        temperature: >= 0.
        rng: an int seed or a NumPy Generator (default: numnet's generator,
            seeded by ``numnet.manual_seed``).

    Returns:
        An int for (V,) logits, else an int array (B,).
    """
    if not isinstance(temperature, (int, float)) or temperature < 0:
        raise ValueError(
            f"sample_logits: invalid value for argument 'temperature'. Expected a "
            f"number >= 0. Received: temperature={temperature!r}"
        )
    logits = _host(logits)
    flat = logits.reshape(-1, logits.shape[-1])
    if temperature == 0:
        ids = flat.argmax(axis=-1)
    else:
        p = np.exp(_log_probs(flat / temperature, "logits"))
        u = backend.get_rng(rng).random((len(p), 1))
        ids = np.minimum((p.cumsum(axis=-1) < u).sum(axis=-1), p.shape[-1] - 1)
    return int(ids[0]) if logits.ndim == 1 else ids


def _starts(start_token) -> np.ndarray:
    return np.atleast_1d(np.asarray(start_token, dtype=np.int64))


def _run(step_fn, start_token, state, max_length, end_token, output, pick):
    tokens = _starts(start_token)
    done = np.zeros(len(tokens), bool)
    steps, total = [], np.zeros(len(tokens))
    for _ in range(max_length):
        scores, state = step_fn(tokens, state)
        logp = _log_probs(scores, output)
        tokens = np.where(done, end_token if end_token is not None else 0, pick(logp))
        total += np.where(done, 0.0, logp[np.arange(len(tokens)), tokens])
        steps.append(tokens)
        if end_token is not None:
            done |= tokens == end_token
            if done.all():
                break
    return _trim(np.stack(steps, axis=1), end_token), total


def _trim(steps: np.ndarray, end_token) -> list[list[int]]:
    out = []
    for row in steps.tolist():
        if end_token is not None and end_token in row:
            row = row[: row.index(end_token) + 1]
        out.append(row)
    return out


def greedy_decode(
    step_fn, start_token, state=None, max_length=20, end_token=None, output="logits"
):
    """Pick the most probable token at every step.

    Args:
        step_fn: see the module docstring.
        start_token: an int, or an int array (B,) to decode B sequences at once.
        state: the initial state (e.g. the encoder's final states).
        max_length: the most tokens emitted.
        end_token: stop a sequence after it emits this token.
        output: what step_fn returns: "logits", "probs" or "log_probs".

    Returns:
        ``(sequences, log_probs)``: a list of token lists (each ends with
        ``end_token`` if it was emitted) and their summed log-probabilities.
    """
    _check_output(output, "greedy_decode")
    return _run(step_fn, start_token, state, max_length, end_token, output,
                lambda logp: logp.argmax(axis=-1))  # fmt: skip


def sample_sequence(
    step_fn,
    start_token,
    state=None,
    max_length=20,
    end_token=None,
    temperature=1.0,
    rng=None,
    output="logits",
):
    """Like :func:`greedy_decode`, but draw each token at ``temperature``.

    ``rng``: an int seed (the same int, the same draws), a NumPy Generator, or
    None for numnet's generator (seeded by ``numnet.manual_seed``).
    """
    _check_output(output, "sample_sequence")
    rng = backend.get_rng(rng)  # one generator for the whole sequence
    return _run(step_fn, start_token, state, max_length, end_token, output,
                lambda logp: sample_logits(logp, temperature, rng))  # fmt: skip


def beam_search(
    step_fn,
    start_token: int,
    state=None,
    beam_width: int = 3,
    max_length: int = 20,
    end_token=None,
    alpha: float = 0.7,
    output="logits",
):
    """Beam search with length normalization ``1/Ty^alpha``.

    Args:
        step_fn: see the module docstring; called on up to ``beam_width`` rows.
        start_token: the first input token (one sequence: state has batch 1).
        state: the initial state, batch axis of size 1.
        beam_width: prefixes kept per step (1 = greedy search).
        max_length: the most tokens emitted; unfinished beams end there.
        end_token: the token that finishes a hypothesis.
        alpha: the length-normalization exponent.
        output: what step_fn returns: "logits", "probs" or "log_probs".

    Returns:
        Up to ``beam_width`` ``(tokens, score, log_prob)`` tuples, best first;
        ``score`` is the normalized one they are ranked by.
    """
    _check_output(output, "beam_search")
    if not isinstance(beam_width, (int, np.integer)) or beam_width < 1:
        raise ValueError(
            f"beam_search: invalid value for argument 'beam_width'. Expected a "
            f"positive int. Received: beam_width={beam_width!r}"
        )
    prefixes, logp = [[]], np.zeros(1)
    tokens, finished = np.array([start_token], dtype=np.int64), []
    for _ in range(max_length):
        scores, state = step_fn(tokens, state)
        total = logp[:, None] + _log_probs(scores, output)  # (B, V)
        flat = total.reshape(-1)
        k = min(beam_width, int(np.isfinite(flat).sum()) or 1)
        best = np.argpartition(-flat, k - 1)[:k]
        best = best[np.argsort(-flat[best], kind="stable")]
        parents, words = np.divmod(best, total.shape[1])
        alive = []
        for i, (parent, word) in enumerate(zip(parents, words, strict=True)):
            seq = prefixes[parent] + [int(word)]
            if end_token is not None and word == end_token:
                finished.append((seq, flat[best[i]]))
            else:
                alive.append(i)
        if not alive:
            break
        prefixes = [prefixes[parents[i]] + [int(words[i])] for i in alive]
        logp, tokens = flat[best[alive]], words[alive]
        state = _select(state, parents[alive])
    else:
        finished.extend(zip(prefixes, logp, strict=True))  # cut at max_length
    ranked = sorted(
        ((seq, float(lp) / len(seq) ** alpha, float(lp)) for seq, lp in finished),
        key=lambda item: -item[1],
    )
    return ranked[:beam_width]
