"""Entry point: ``python -m benchmarks [--quick] [--only W1,W3] [--json out.json]``.

The thread counts must be in the environment before NumPy (OpenBLAS) or PyTorch
(OpenMP) is imported, so they are set here, first, from ``--threads`` (default 2).
"""

import os
import sys


def _threads(argv: list[str]) -> str:
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "2"


_n = _threads(sys.argv[1:])
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _n

from benchmarks.runner import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
