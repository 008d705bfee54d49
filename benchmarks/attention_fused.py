"""Fused attention op vs its composed twin: forward + backward time, interleaved.

Run: ``python benchmarks/attention_fused.py [--repeats 7]``. Prints one line per
shape with the best time of each variant (alternated within one process, so
machine load affects both alike) and the fused/composed ratio.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import numnet
import numnet.functional as F
from numnet.functional.attention import attention_composed

SHAPES = [(32, 4, 64, 64, 16), (16, 8, 128, 128, 32), (64, 1, 20, 20, 64)]


def _step(fn, q, k, v, mask, g):
    tensors = [numnet.tensor(a, requires_grad=True) for a in (q, k, v)]
    start = time.perf_counter()
    out, _ = fn(*tensors, mask=mask, scale=0.25, causal=True)
    (out * g).sum().backward()
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    for N, H, Tq, Tv, d in SHAPES:
        q, k, v = (
            rng.standard_normal((N, H, t, d), dtype=np.float32) for t in (Tq, Tv, Tv)
        )
        mask = rng.random((N, 1, Tq, Tv)) > 0.1
        g = rng.standard_normal((N, H, Tq, d), dtype=np.float32)
        times = {"fused": [], "composed": []}
        for _ in range(args.repeats):
            times["fused"].append(_step(F.attention, q, k, v, mask, g))
            times["composed"].append(_step(attention_composed, q, k, v, mask, g))
        fused, composed = (float(np.min(times[k])) for k in ("fused", "composed"))
        print(
            f"N={N} H={H} Tq={Tq} Tv={Tv} d={d}: fused {fused * 1e3:.2f} ms, "
            f"composed {composed * 1e3:.2f} ms, ratio {fused / composed:.2f}"
        )


if __name__ == "__main__":
    main()
