"""Neural machine translation with attention: human-readable dates -> ISO dates.

The data is generated here from Python's calendar: random dates from 1950 to
2049 written in 14 formats ("3 May 1979", "tuesday 10 march 2009", "05.09.78",
"jan 5, 2003", ...), each to be translated to "YYYY-MM-DD". Two-digit years
00-49 mean 20xx, 50-99 mean 19xx.

The model is Bahdanau et al.'s attention decoder over a bidirectional LSTM
encoder, written with the Keras functional API and the layers it shares::

    a         = Bidirectional(LSTM(32, return_sequences=True))(Embedding(x))
    keys      = Dense(32)(a)                              # U_a h_j, computed once
    s_0, c_0  = Dense(64, tanh)(mean(a)), Dense(64)(mean(a))
    step t:   context, alpha_t = AdditiveAttention([Dense(32)(s_t-1), a, keys])
              s_t, c_t = LSTM(64)([context, Embedding(y_t-1)],
                                  initial_state=[s_t-1, c_t-1])
              P(y_t) = softmax(Dense(11)(s_t))

Training uses teacher forcing (the true previous character). Inference runs the
same layers step by step in a second graph (symbolic ``initial_state``), with
``numnet.decoding``'s greedy search on the 1,000 held-out dates and beam search
on a subset; the attention map of one date is saved as a picture.

Run::

    python examples/nmt_dates.py                    # full run
    python examples/nmt_dates.py --epochs 1 --limit 500 --test 50
    python examples/nmt_dates.py --device cuda   # on a GPU (CuPy)
"""

from __future__ import annotations

import calendar
import os
import time

# The GEMMs here are small (batch 100, 16-128 features): OpenBLAS's threads only
# contend for the cores (measured 17x slower per step on a busy 2-core machine).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from example_cli import add_device_flag, make_parser

import numnet  # noqa: E402
from numnet import decoding, layers, losses, models, optimizers  # noqa: E402
from numnet.layers import Layer  # noqa: E402

TX, TY = 30, 10
IN_CHARS = "<>" + " ,-./0123456789abcdefghijklmnopqrstuvwxyz"  # < pad, > unknown
OUT_CHARS = "0123456789-"
START = len(OUT_CHARS)  # the decoder's start token (an input only)


def _formats(rng, y, m, d, weekday):
    month, mon = calendar.month_name[m].lower(), calendar.month_abbr[m].lower()
    day_name = calendar.day_name[weekday].lower()
    yy = f"{y % 100:02d}"
    return [
        f"{d} {calendar.month_name[m]} {y}",
        f"{day_name} {d} {month} {y}",
        f"{d:02d}.{m:02d}.{yy}",
        f"{d} {mon} {y}",
        f"{mon} {d}, {y}",
        f"{month} {d} {y}",
        f"{d:02d}/{m:02d}/{y}",
        f"{d}/{m}/{yy}",
        f"{d:02d} {mon} {y}",
        f"{day_name}, {month} {d}, {y}",
        f"{d} {month}, {y}",
        f"{d:02d} {m:02d} {yy}",
        f"{y}.{m:02d}.{d:02d}",
        f"{day_name[:3]} {d} {mon} {yy}",
    ]


def make_dates(n: int, seed: int):
    """n (human-readable, ISO) pairs of random dates in random formats."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("1950-01-01")
    days = rng.integers(0, 365 * 100 + 24, size=n)
    pairs = []
    for offset, choice in zip(days, rng.integers(0, 14, size=n), strict=True):
        day = (start + offset).astype(object)
        text = _formats(rng, day.year, day.month, day.day, day.weekday())[choice]
        pairs.append((text.lower() if choice % 2 else text, day.isoformat()))
    return pairs


def encode(pairs):
    """Inputs (n, TX) char ids (padded with 0), targets (n, TY) ISO char ids."""
    index = {c: i for i, c in enumerate(IN_CHARS)}
    x = np.zeros((len(pairs), TX), dtype=np.int64)
    for row, (text, _) in enumerate(pairs):
        ids = [index.get(c, 1) for c in text.lower()[:TX]]
        x[row, : len(ids)] = ids
    y = np.array([[OUT_CHARS.index(c) for c in iso] for _, iso in pairs])
    return x, y


class TimeStep(Layer):
    """Step ``t`` of a (N, T) token sequence as (N, 1): the teacher's input."""

    def __init__(self, t: int, **kwargs):
        super().__init__(**kwargs)
        self.t = int(t)

    def call(self, x):
        return x[:, self.t : self.t + 1]

    def get_config(self) -> dict:
        return {**super().get_config(), "t": self.t}


class Seq2Seq:
    """The shared layers and the three graphs built from them."""

    def __init__(self, n_a=32, n_s=64, d=32):
        self.embed_in = layers.Embedding(len(IN_CHARS), 16)
        self.encoder = layers.Bidirectional(layers.LSTM(n_a, return_sequences=True))
        self.keys = layers.Dense(d, use_bias=False, name="keys")
        self.pool = layers.GlobalAveragePooling1D()
        self.s0 = layers.Dense(n_s, activation="tanh", name="s0")
        self.c0 = layers.Dense(n_s, name="c0")
        self.query = layers.Dense(d, name="query")
        self.as_step = layers.Reshape((1, d))
        self.attention = layers.AdditiveAttention(name="bahdanau")
        self.embed_out = layers.Embedding(len(OUT_CHARS) + 1, 16)
        self.join = layers.Concatenate(axis=-1)
        self.decoder = layers.LSTM(n_s, return_state=True, name="decoder")
        self.logits = layers.Dense(len(OUT_CHARS), name="logits")
        self.n_s, self.n_a = n_s, n_a

    def encode(self, x):
        a = self.encoder(self.embed_in(x))
        pooled = self.pool(a)
        return a, self.keys(a), self.s0(pooled), self.c0(pooled)

    def step(self, y_prev, s, c, a, keys):
        """One decoder step on symbolic or real tensors: (logits, s, c, alpha)."""
        q = self.as_step(self.query(s))
        context, alpha = self.attention([q, a, keys], return_attention_scores=True)
        x = self.join([context, self.embed_out(y_prev)])
        h, s, c = self.decoder(x, initial_state=[s, c])
        return self.logits(h), s, c, alpha

    def training_model(self):
        x = layers.Input((TX,), dtype="int64", name="x")
        y_in = layers.Input((TY,), dtype="int64", name="y_in")  # start + y[:-1]
        a, keys, s, c = self.encode(x)
        outputs = []
        for t in range(TY):
            logits, s, c, _ = self.step(TimeStep(t)(y_in), s, c, a, keys)
            outputs.append(layers.Reshape((1, len(OUT_CHARS)))(logits))
        return models.Model([x, y_in], layers.Concatenate(axis=1)(outputs))

    def inference_models(self):
        x = layers.Input((TX,), dtype="int64")
        a0, keys0, s0, c0 = self.encode(x)
        encoder = models.Model(x, [s0, c0, a0, keys0])  # the decoder's state
        y_prev = layers.Input((1,), dtype="int64")
        s, c = layers.Input((self.n_s,)), layers.Input((self.n_s,))
        a = layers.Input((TX, 2 * self.n_a))
        keys = layers.Input((TX, self.keys.units))
        step = models.Model(
            [y_prev, s, c, a, keys], list(self.step(y_prev, s, c, a, keys))
        )
        return encoder, step


def step_function(step_model, record=None):
    """A ``numnet.decoding`` step function over the inference graph."""

    def step(tokens, state):
        s, c, a, keys = state
        logits, s, c, alpha = step_model.predict(
            [tokens[:, None], s, c, a, keys], batch_size=4096
        )
        if record is not None:
            record.append(alpha[:, 0])
        return logits, (s, c, a, keys)

    return step


def teacher_inputs(y):
    return np.concatenate([np.full((len(y), 1), START), y[:, :-1]], axis=1)


def decode_text(ids) -> str:
    return "".join(OUT_CHARS[i] for i in ids)


def save_attention_map(path, text, alphas, output):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    n = min(len(text), TX)
    ax.imshow(np.array(alphas)[:, :n], cmap="viridis", aspect="auto")
    ax.set_xticks(range(n), list(text[:n]))
    ax.set_yticks(range(len(output)), list(output))
    ax.set_xlabel("input")
    ax.set_ylabel("output")
    ax.set_title("attention weights alpha<t, t'>")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def evaluate(net, x, y, beam_subset, beam_width, device="cpu"):
    encoder, step_model = (m.to(device) for m in net.inference_models())
    start = time.perf_counter()
    state = tuple(encoder.predict(x, batch_size=1024))
    seqs, _ = decoding.greedy_decode(
        step_function(step_model), np.full(len(x), START), state, max_length=TY
    )
    greedy = float(np.mean([s == list(t) for s, t in zip(seqs, y, strict=True)]))
    greedy_s = time.perf_counter() - start
    start = time.perf_counter()
    hits = 0
    for i in range(min(beam_subset, len(x))):
        one = tuple(s[i : i + 1] for s in state)
        best = decoding.beam_search(
            step_function(step_model),
            START,
            one,
            beam_width=beam_width,
            max_length=TY,
            alpha=0.7,
        )
        hits += best[0][0] == list(y[i])
    beam = hits / max(min(beam_subset, len(x)), 1)
    return greedy, greedy_s, beam, time.perf_counter() - start, encoder, step_model


def parse_args(argv=None):
    p = make_parser(__doc__)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--limit", type=int, default=10000, help="training dates")
    p.add_argument("--test", type=int, default=1000, help="held-out dates")
    p.add_argument("--beam-subset", type=int, default=100)
    p.add_argument("--beam-width", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--out", default=os.path.join("examples", "out"))
    p.add_argument("--seed", type=int, default=0)
    add_device_flag(p)
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    numnet.manual_seed(args.seed)
    start = time.perf_counter()
    train = make_dates(args.limit, args.seed)
    seen = {text for text, _ in train}
    test = [p for p in make_dates(args.test * 3, args.seed + 1) if p[0] not in seen]
    test = test[: args.test]
    x, y = encode(train)
    x_test, y_test = encode(test)
    data_s = time.perf_counter() - start
    print(f"{len(train)} training dates, {len(test)} held-out (none seen in training)")
    for text, iso in test[:3]:
        print(f"  {text!r:32} -> {iso}")
    net = Seq2Seq()
    model = net.training_model()
    model.compile(
        optimizer=optimizers.Adam(args.lr, clipnorm=5.0),
        loss=losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.to(args.device)
    start = time.perf_counter()
    model.fit(
        [x, teacher_inputs(y)],
        y,
        batch_size=args.batch_size,
        epochs=args.epochs,
        verbose=2,
    )
    train_s = time.perf_counter() - start
    forced = model.predict([x_test, teacher_inputs(y_test)]).argmax(-1)
    greedy, greedy_s, beam, beam_s, encoder, step_model = evaluate(
        net, x_test, y_test, args.beam_subset, args.beam_width, args.device
    )
    print(
        f"teacher-forced character accuracy (held out): {np.mean(forced == y_test):.4f}"
    )
    print(
        f"exact match, greedy decoding, {len(test)} held-out dates: {greedy:.4f} "
        f"(target >= 0.99: {'met' if greedy >= 0.99 else 'not met'})"
    )
    print(
        f"exact match, beam search (width {args.beam_width}) on the first "
        f"{min(args.beam_subset, len(test))}: {beam:.4f}"
    )
    record = []
    text = test[0][0]
    state = tuple(encoder.predict(x_test[:1]))
    seq, _ = decoding.greedy_decode(
        step_function(step_model, record), START, state, max_length=TY
    )
    path = os.path.join(args.out, "nmt_attention.png")
    save_attention_map(path, text, [r[0] for r in record], decode_text(seq[0]))
    print(f"{text!r} -> {decode_text(seq[0])}; attention map saved to {path}")
    print(
        f"time: data {data_s:.1f} s, training {train_s:.1f} s, greedy decoding "
        f"{greedy_s:.1f} s, beam search {beam_s:.1f} s"
    )
    return {
        "exact_match": greedy,
        "beam_exact_match": beam,
        "seconds": train_s,
        "attention_map": path,
    }


if __name__ == "__main__":
    main()
