"""numnet's benchmark suite: ``python -m benchmarks`` (see benchmarks/README.md).

This package imports nothing heavy at import time, so that ``__main__`` can set the
BLAS/OpenMP thread counts before NumPy and PyTorch are loaded.
"""
