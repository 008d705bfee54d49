"""Time W6 (LSTM(128)) and W7 (GRU(128)) Adam steps on CUDA with and without
the fused recurrent cell kernels, against PyTorch CUDA (a GPU is needed).

    python benchmarks/gpu_rnn_cells.py [--repeats 30]

"fused" runs the recurrent ops as they ship (one cell kernel per time step,
forward and backward); "array ops" turns the kernels off (the per-step gate
math as separate CuPy array calls, as before they were wired).
"""

from __future__ import annotations

import argparse
import sys

from benchmarks import gpu


def main(argv) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/gpu_rnn_cells.py")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)
    from numnet.functional import recurrent_cells

    shape = (128, 28, 28)
    for name, kind in (("W6", "lstm"), ("W7", "gru")):
        row = {}
        for label, backends in (("fused", ("cupy",)), ("array ops", ())):
            recurrent_cells.FUSED_CELL_BACKENDS = backends
            row[label], error = gpu._time_side(
                gpu._nn_step(gpu._nn_rnn(kind), shape), gpu._sync_numnet, 5,
                args.repeats,
            )  # fmt: skip
            if error:
                print(name, label, error)
        recurrent_cells.FUSED_CELL_BACKENDS = ("cupy",)
        row["torch"], error = gpu._time_side(
            gpu._torch_step(gpu._t_rnn(kind), shape), gpu._sync_torch, 5, args.repeats
        )
        print(name, {k: None if v is None else round(v, 3) for k, v in row.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
