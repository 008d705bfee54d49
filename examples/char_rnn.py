"""Character-level LSTM language model trained on the license texts shipped with Debian.

The corpus is every file in ``/usr/share/common-licenses`` (GPL, LGPL, Apache,
MPL, GFDL, Artistic, ...: about 270,000 characters of real English legal prose),
so nothing is downloaded. The model reads 100 characters and predicts the next
character at every position::

    Embedding(V, 32) -> LSTM(256, return_sequences=True) -> Dense(V) (logits)

It reports the per-character cross-entropy (nats) on held-out text before and
after training, then generates text with temperature sampling. Sampling runs
the fused ``numnet.functional.lstm`` op one character at a time, carrying the
state ``(h, c)`` between calls with ``initial_state``.

Run::

    python examples/char_rnn.py                 # full run
    python examples/char_rnn.py --epochs 1 --limit 20000 --sample-length 100
    python examples/char_rnn.py --device cuda   # on a GPU (CuPy)
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
import numnet.functional as F
from numnet import decoding, layers, losses, models, optimizers

CORPUS_DIR = Path("/usr/share/common-licenses")


def parse_args(argv=None):
    p = make_parser(__doc__)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--limit", type=int, default=None, help="use the first N chars")
    p.add_argument("--seq-len", type=int, default=100)
    p.add_argument("--units", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--sample-length", type=int, default=400)
    p.add_argument("--temperatures", default="0.5,1.0")
    p.add_argument("--seed", type=int, default=0)
    add_device_flag(p)
    return p.parse_args(argv)


def load_corpus(limit=None) -> str:
    """The license texts, each file once (symlinks such as GPL -> GPL-3 skipped)."""
    files = sorted(
        p for p in CORPUS_DIR.iterdir() if p.is_file() and not p.is_symlink()
    )
    text = "\n\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)
    return text if limit is None else text[:limit]


def make_windows(ids: np.ndarray, seq_len: int):
    """Non-overlapping windows: inputs ids[k : k+L], targets ids[k+1 : k+L+1]."""
    n = (len(ids) - 1) // seq_len
    x = ids[: n * seq_len].reshape(n, seq_len)
    y = ids[1 : n * seq_len + 1].reshape(n, seq_len)
    return x, y


def build(vocab: int, units: int, seq_len: int, lr: float):
    model = models.Sequential(
        [
            layers.Input((seq_len,)),
            layers.Embedding(vocab, 32),
            layers.LSTM(units, return_sequences=True),
            layers.Dense(vocab),  # logits for the next character at every step
        ]
    )
    model.compile(
        optimizer=optimizers.Adam(learning_rate=lr, clipnorm=5.0),
        loss=losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def sample(model, stoi, itos, prime: str, length: int, temperature: float, rng):
    """Generate ``length`` characters after ``prime``, one fused LSTM step at a time
    (``numnet.decoding.sample_sequence`` draws each one at ``temperature``)."""
    emb, lstm, dense = (layer for layer in model.layers if layer.weights)

    def step(tokens, state):
        x = emb(tokens[:, None])  # (1, 1, 32)
        _, h, c = F.lstm(x, lstm.kernel, lstm.recurrent_kernel, lstm.bias, state)
        return dense(h).data, [h, c]

    state = None
    prime = "".join(ch for ch in prime if ch in stoi) or itos[0]
    with numnet.no_grad():
        for ch in prime[:-1]:  # warm the state up on the prime text
            _, state = step(np.array([stoi[ch]]), state)
        ids, _ = decoding.sample_sequence(
            step, stoi[prime[-1]], state, length, temperature=temperature, rng=rng
        )
    return prime + "".join(itos[k] for k in ids[0])


def main(argv=None) -> dict:
    args = parse_args(argv)
    numnet.manual_seed(args.seed)
    text = load_corpus(args.limit)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(len(ids) * 0.95)  # the last 5% of the text is held out
    x_train, y_train = make_windows(ids[:split], args.seq_len)
    x_val, y_val = make_windows(ids[split:], args.seq_len)
    print(
        f"corpus: {len(text):,} characters from {CORPUS_DIR}, vocabulary "
        f"{len(chars)}; {len(x_train)} training and {len(x_val)} held-out windows "
        f"of {args.seq_len}"
    )
    model = build(len(chars), args.units, args.seq_len, args.lr).to(args.device)
    before = model.evaluate(x_val, y_val, batch_size=256, verbose=0)
    print(f"held-out loss before training: {before:.3f} nats/char "
          f"(uniform guess: ln {len(chars)} = {np.log(len(chars)):.3f})")  # fmt: skip
    start = time.perf_counter()
    model.fit(
        x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=2
    )
    seconds = time.perf_counter() - start
    after = model.evaluate(x_val, y_val, batch_size=256, verbose=0)
    bits = after / np.log(2)
    print(f"held-out loss after training: {after:.3f} nats/char ({bits:.2f} "
          f"bits/char); training took {seconds:.1f} s")  # fmt: skip
    rng = np.random.default_rng(args.seed)
    for temperature in (float(t) for t in args.temperatures.split(",")):
        generated = sample(model, stoi, chars, "This License ", args.sample_length,
                           temperature, rng)  # fmt: skip
        print(f"\n--- sample at temperature {temperature} ---\n{generated}\n")
    return {"loss_before": before, "loss_after": after, "seconds": seconds}


if __name__ == "__main__":
    main()
