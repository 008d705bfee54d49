"""Trigger-word detection on synthesized audio (the course's setup, made offline).

Each clip is ``--seconds`` of 8 kHz audio: a background of coloured noise and
hum, with 0-3 *trigger* patterns and 0-3 *distractors* inserted at random,
non-overlapping times. The trigger is an "activate"-like sequence of three
syllables (a rising chirp, a short tone, a falling chirp), randomly pitched,
stretched and scaled; distractors are other syllable sequences, including the
trigger played backwards. Spectrograms come from ``scipy.signal.spectrogram``.

The label has one output per model step: 1 for ``--label-steps`` steps right
after the end of each trigger, 0 elsewhere. The model is the course's::

    Conv1D(filters, 15, strides=4) -> BatchNorm -> ReLU -> Dropout
    -> GRU(units, return_sequences) -> Dropout -> BatchNorm
    -> GRU(units, return_sequences) -> Dropout -> BatchNorm -> Dropout
    -> TimeDistributed(Dense(1, sigmoid))

Reported on held-out clips: per-step F1 at threshold 0.5, the detection rate
(triggers whose label window holds an output > 0.5) and false alarms (runs of
outputs > 0.5 that touch no trigger's window).

Run::

    python examples/trigger_word.py
    python examples/trigger_word.py --epochs 1 --limit 40 --test 10
    python examples/trigger_word.py --device cuda   # on a GPU (CuPy)
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small GEMMs: threads contend

import numpy as np  # noqa: E402
from example_cli import add_device_flag, make_parser

import numnet  # noqa: E402
from numnet import layers, models, optimizers  # noqa: E402

RATE = 8000
NPERSEG, HOP = 200, 80  # 25 ms windows every 10 ms: 101 frequency bins
KERNEL, STRIDE = 15, 4


def chirp(f0, f1, seconds, rng):
    """A sine sweeping f0 -> f1 with a smooth envelope and a second harmonic."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds))
    wave = np.sin(phase) + 0.3 * np.sin(2 * phase + rng.uniform(0, np.pi))
    return wave * np.hanning(n)


def trigger(rng, reverse=False):
    """The "activate" pattern: rising chirp, tone, falling chirp (+ jitter)."""
    pitch, speed = rng.uniform(0.9, 1.1), rng.uniform(0.9, 1.1)
    gap = np.zeros(int(0.04 * RATE * speed))
    parts = [
        chirp(400 * pitch, 1200 * pitch, 0.15 * speed, rng),
        gap,
        chirp(900 * pitch, 900 * pitch, 0.10 * speed, rng),
        gap,
        chirp(1500 * pitch, 600 * pitch, 0.20 * speed, rng),
    ]
    wave = np.concatenate(parts)
    return wave[::-1].copy() if reverse else wave


def distractor(rng):
    """Another pattern: the reversed trigger, or 1-3 random syllables."""
    if rng.random() < 0.3:
        return trigger(rng, reverse=True)
    parts = []
    for _ in range(rng.integers(1, 4)):
        f0, f1 = rng.uniform(300, 1800, size=2)
        parts += [chirp(f0, f1, rng.uniform(0.08, 0.2), rng), np.zeros(300)]
    return np.concatenate(parts)


def background(n, rng):
    """Brown + white noise and mains-like hum at random levels."""
    brown = np.cumsum(rng.normal(size=n))
    brown -= np.convolve(brown, np.ones(400) / 400, mode="same")
    brown /= np.abs(brown).max() + 1e-9
    t = np.arange(n) / RATE
    hum = np.sin(2 * np.pi * rng.uniform(50, 120) * t)
    return (
        rng.uniform(0.05, 0.3) * brown
        + rng.uniform(0.01, 0.1) * rng.normal(size=n)
        + rng.uniform(0, 0.1) * hum
    )


def make_clip(seconds, rng):
    """(audio, [(start, end) sample ranges of the triggers])."""
    n = int(seconds * RATE)
    audio, taken, triggers = background(n, rng), [], []
    events = [("t", trigger(rng)) for _ in range(rng.integers(0, 4))]
    events += [("d", distractor(rng)) for _ in range(rng.integers(0, 4))]
    for kind, wave in events:
        for _ in range(20):  # random non-overlapping position
            start = int(rng.integers(0, n - len(wave)))
            end = start + len(wave)
            if all(end < s or start > e for s, e in taken):
                audio[start:end] += rng.uniform(0.3, 1.0) * wave
                taken.append((start, end))
                if kind == "t":
                    triggers.append((start, end))
                break
    return audio, triggers


def spectrogram(audio):
    from scipy import signal

    _, _, sxx = signal.spectrogram(
        audio, fs=RATE, nperseg=NPERSEG, noverlap=NPERSEG - HOP
    )
    return np.log(sxx.T + 1e-10).astype(np.float32)  # (frames, 101)


def make_dataset(n, seconds, label_steps, seed):
    rng = np.random.default_rng(seed)
    xs, ys, events = [], [], []
    for _ in range(n):
        audio, triggers = make_clip(seconds, rng)
        spec = spectrogram(audio)
        ty = (len(spec) - KERNEL) // STRIDE + 1
        y = np.zeros((ty, 1), np.float32)
        ends = []
        for _, end in triggers:
            step = int(end / HOP - NPERSEG / (2 * HOP)) // STRIDE  # the output step
            y[step + 1 : step + 1 + label_steps] = 1
            ends.append(step)
        xs.append(spec)
        ys.append(y)
        events.append(ends)
    x = np.stack(xs)
    return x, np.stack(ys), events


def build(frames, freqs, filters, units, dropout, lr):
    model = models.Sequential(
        [
            layers.Input((frames, freqs)),
            layers.Conv1D(filters, KERNEL, strides=STRIDE),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Dropout(dropout),
            layers.GRU(units, return_sequences=True),
            layers.Dropout(dropout),
            layers.BatchNormalization(),
            layers.GRU(units, return_sequences=True),
            layers.Dropout(dropout),
            layers.BatchNormalization(),
            layers.Dropout(dropout),
            layers.TimeDistributed(layers.Dense(1, activation="sigmoid")),
        ]
    )
    model.compile(optimizer=optimizers.Adam(lr), loss="binary_crossentropy")
    return model


def runs(flags):
    """(start, end) index ranges of consecutive True values."""
    padded = np.concatenate([[False], flags, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2], edges[1::2], strict=True))


def score(pred, y, events, label_steps):
    on, truth = pred[..., 0] > 0.5, y[..., 0] > 0.5
    tp, fp, fn = (on & truth).sum(), (on & ~truth).sum(), (~on & truth).sum()
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    detected = total = false_alarms = 0
    for row, ends in enumerate(events):
        windows = [(e + 1, e + 1 + label_steps) for e in ends]
        total += len(ends)
        detected += sum(on[row, a:b].any() for a, b in windows)
        for a, b in runs(on[row]):
            # a run that touches a trigger's window (with 3 steps of slack) counts
            if not any(a < w1 + 3 and b > w0 - 3 for w0, w1 in windows):
                false_alarms += 1
    return float(f1), detected / max(total, 1), false_alarms, total


def parse_args(argv=None):
    p = make_parser(__doc__)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--limit", type=int, default=1500, help="training clips")
    p.add_argument("--test", type=int, default=300, help="held-out clips")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--label-steps", type=int, default=10)
    p.add_argument("--filters", type=int, default=64)
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    add_device_flag(p)
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    numnet.manual_seed(args.seed)
    start = time.perf_counter()
    x, y, _ = make_dataset(args.limit, args.seconds, args.label_steps, args.seed)
    x_test, y_test, events = make_dataset(
        args.test, args.seconds, args.label_steps, args.seed + 1
    )
    mean, std = x.mean(axis=(0, 1)), x.std(axis=(0, 1)) + 1e-6
    x, x_test = (x - mean) / std, (x_test - mean) / std
    data_s = time.perf_counter() - start
    print(
        f"{len(x)} training and {len(x_test)} held-out clips of {args.seconds} s: "
        f"spectrograms {x.shape[1:]} -> labels {y.shape[1:]}; "
        f"{sum(len(e) for e in events)} held-out triggers; "
        f"{y.mean():.3f} of the label steps are 1"
    )
    model = build(
        x.shape[1], x.shape[2], args.filters, args.units, args.dropout, args.lr
    ).to(args.device)
    start = time.perf_counter()
    model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=2)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = model.predict(x_test, batch_size=64)
    f1, rate, alarms, total = score(pred, y_test, events, args.label_steps)
    predict_s = time.perf_counter() - start
    print(
        f"held-out per-step F1 {f1:.3f}; detection rate {rate:.3f} "
        f"({total} triggers); false alarms {alarms} in {len(x_test)} clips"
    )
    print(
        f"time: data {data_s:.1f} s, training {train_s:.1f} s, "
        f"prediction {predict_s:.1f} s"
    )
    return {
        "f1": f1,
        "detection_rate": rate,
        "false_alarms": alarms,
        "seconds": train_s,
    }


if __name__ == "__main__":
    main()
