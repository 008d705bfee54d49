"""A small decoder-only Transformer character language model (GPT-style).

Same corpus, vocabulary, windows and held-out split as ``char_rnn.py`` (the
license texts in ``/usr/share/common-licenses``, the last 5% held out)::

    h = Embedding(V, d)(x) + Embedding(L, d)(positions)
    repeat n_blocks times (pre-norm residual blocks):
        h = h + MultiHeadAttention(heads, d/heads)(LN(h), LN(h), use_causal_mask=True)
        h = h + Dense(d)(gelu(Dense(4d)(LN(h))))
    logits = Dense(V)(LN(h))

Both models train for the same CPU-time budget (``--minutes``) with the same
loop (``train_on_batch``, Adam), so the held-out nats/char compare at equal
training time (the held-out loss is printed after every pass, with the best
one: both models overfit this small corpus when trained long enough);
``--no-lstm`` trains the Transformer only. Samples are drawn with
``numnet.decoding.sample_logits`` over a sliding context window.

Run::

    python examples/transformer_char_lm.py --minutes 10
    python examples/transformer_char_lm.py --epochs 1 --limit 20000 --seq-len 32
    python examples/transformer_char_lm.py --device cuda   # on a GPU (CuPy)
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small GEMMs: threads contend

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import char_rnn  # noqa: E402
from example_cli import add_device_flag, make_parser

import numnet  # noqa: E402
import numnet.functional as F  # noqa: E402
from numnet import decoding, layers, losses, models, optimizers  # noqa: E402
from numnet.layers import Layer  # noqa: E402


class TokenAndPosition(Layer):
    """Token embedding plus a learned embedding of each position 0..L-1."""

    def __init__(self, vocab: int, length: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.vocab, self.length, self.dim = vocab, length, dim
        self.tokens = layers.Embedding(vocab, dim)
        self.positions = layers.Embedding(length, dim)

    def call(self, x):
        steps = np.arange(x.shape[1])[None]
        return self.tokens(x) + self.positions(steps)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "vocab": self.vocab,
            "length": self.length,
            "dim": self.dim,
        }


class Gelu(Layer):
    """GELU activation as a layer."""

    def call(self, x):
        return F.gelu(x)


def block(h, d: int, heads: int, index: int):
    a = layers.LayerNormalization(epsilon=1e-5, name=f"ln_attn_{index}")(h)
    a = layers.MultiHeadAttention(heads, d // heads, name=f"mha_{index}")(
        a, a, use_causal_mask=True
    )
    h = layers.Add()([h, a])
    f = layers.LayerNormalization(epsilon=1e-5, name=f"ln_ffn_{index}")(h)
    f = layers.Dense(d, name=f"ffn_out_{index}")(
        Gelu()(layers.Dense(4 * d, name=f"ffn_in_{index}")(f))
    )
    return layers.Add()([h, f])


def build(vocab: int, length: int, d: int, heads: int, n_blocks: int, lr: float):
    x = layers.Input((length,), dtype="int64")
    h = TokenAndPosition(vocab, length, d)(x)
    for i in range(n_blocks):
        h = block(h, d, heads, i)
    logits = layers.Dense(vocab)(layers.LayerNormalization(epsilon=1e-5)(h))
    model = models.Model(x, logits)
    model.compile(
        optimizer=optimizers.Adam(learning_rate=lr, clipnorm=1.0),
        loss=losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def train_for(model, data, batch_size, seconds, epochs, rng, label):
    """train_on_batch until ``seconds`` of CPU time or ``epochs`` passes are done.

    The budget is this process's CPU time (``time.process_time``; one BLAS
    thread), so that a busy machine slows both models alike. The held-out loss
    is measured after every pass (outside the budget); returns
    ``(cpu seconds, steps, [held-out loss per pass])``.
    """
    x, y, x_val, y_val = data
    spent, wall, steps, history = 0.0, time.perf_counter(), 0, []
    for epoch in range(epochs):
        start, order = time.process_time(), rng.permutation(len(x))
        for i in range(0, len(x), batch_size):
            batch = order[i : i + batch_size]
            loss = float(model.train_on_batch(x[batch], y[batch]))
            steps += 1
            if spent + time.process_time() - start > seconds:
                break
        spent += time.process_time() - start
        history.append(model.evaluate(x_val, y_val, batch_size=128, verbose=0))
        print(
            f"{label}: epoch {epoch + 1}, {steps} steps, train loss {loss:.3f}, "
            f"held-out {history[-1]:.3f}, {spent:.0f} s CPU, "
            f"{time.perf_counter() - wall:.0f} s wall"
        )
        if spent > seconds:
            break
    return spent, steps, history


def sample(model, stoi, itos, prime: str, length: int, temperature: float, rng):
    """Generate with a sliding window of the model's context length."""
    L = model.inputs[0].shape[1]
    ids = [stoi[c] for c in prime if c in stoi] or [0]
    with numnet.no_grad():
        for _ in range(length):
            window = ids[-L:]
            x = np.zeros((1, L), dtype=np.int64)
            x[0, : len(window)] = window
            logits = model(x).data[0, len(window) - 1]
            ids.append(decoding.sample_logits(logits, temperature, rng))
    return "".join(itos[i] for i in ids)


def parse_args(argv=None):
    p = make_parser(__doc__)
    p.add_argument("--minutes", type=float, default=10.0, help="CPU budget per model")
    p.add_argument("--epochs", type=int, default=1000, help="cap on passes")
    p.add_argument("--limit", type=int, default=None, help="use the first N chars")
    p.add_argument("--seq-len", type=int, default=100)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--blocks", type=int, default=2)
    p.add_argument("--units", type=int, default=256, help="the LSTM's units")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--no-lstm", action="store_true")
    p.add_argument("--sample-length", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    add_device_flag(p)
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    numnet.manual_seed(args.seed)
    text = char_rnn.load_corpus(args.limit)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(len(ids) * 0.95)
    x, y = char_rnn.make_windows(ids[:split], args.seq_len)
    x_val, y_val = char_rnn.make_windows(ids[split:], args.seq_len)
    print(
        f"corpus: {len(text):,} characters, vocabulary {len(chars)}; "
        f"{len(x)} training and {len(x_val)} held-out windows of {args.seq_len}"
    )
    budget = args.minutes * 60
    results = {}
    candidates = [
        (
            "transformer",
            lambda: build(
                len(chars), args.seq_len, args.dim, args.heads, args.blocks, args.lr
            ),
        )
    ]
    if not args.no_lstm:
        candidates.append(
            (
                "lstm",
                lambda: char_rnn.build(len(chars), args.units, args.seq_len, args.lr),
            )
        )
    for label, make in candidates:
        numnet.manual_seed(args.seed)
        model = make().to(args.device)
        params = model.count_params()
        rng = np.random.default_rng(args.seed)
        seconds, steps, history = train_for(
            model,
            (x, y, x_val, y_val),
            args.batch_size,
            budget,
            args.epochs,
            rng,
            label,
        )
        loss, best = history[-1], min(history)
        print(
            f"{label}: {params:,} parameters, {steps} steps in {seconds:.0f} s CPU "
            f"({1000 * seconds / max(steps, 1):.0f} ms/step); held-out loss "
            f"{loss:.3f} nats/char at the end, best {best:.3f} (after pass "
            f"{history.index(best) + 1})"
        )
        results[label] = {
            "loss": loss,
            "best_loss": best,
            "seconds": seconds,
            "steps": steps,
        }
        if label == "transformer":
            generated = sample(
                model, stoi, chars, "This License ", args.sample_length, 0.7, rng
            )
            print(f"\n--- transformer sample at temperature 0.7 ---\n{generated}\n")
    return results


if __name__ == "__main__":
    main()
