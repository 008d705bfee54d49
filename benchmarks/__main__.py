"""Entry point: ``python -m benchmarks [--quick] [--only W1,W3] [--json out.json]``.

The thread counts must be in the environment before NumPy (OpenBLAS) or PyTorch
(OpenMP) is imported, so they are set here, first, from ``--threads`` (default 2).
So is ``--blas-timeout N`` (``OPENBLAS_THREAD_TIMEOUT``: how long OpenBLAS's idle
worker threads busy-wait, 2^N cycles; OpenBLAS's default is 2^28), which OpenBLAS
reads once, when NumPy loads it.
"""

import os
import sys


def _option(argv: list[str], name: str, default: str | None) -> str | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


_n = _option(sys.argv[1:], "--threads", "2")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _n
_timeout = _option(sys.argv[1:], "--blas-timeout", None)
if _timeout is not None:
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = _timeout

if _option(sys.argv[1:], "--device", "cpu") != "cpu":  # the GPU table
    from benchmarks.gpu import main as gpu_main

    sys.exit(gpu_main(sys.argv[1:]))

from benchmarks.runner import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
