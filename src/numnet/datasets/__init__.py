"""Real datasets as NumPy arrays: ``fashion_mnist`` and ``mnist`` (IDX files).

Example:
    >>> from numnet.datasets import fashion_mnist
    >>> train, test = fashion_mnist.load_data()  # doctest: +SKIP
"""

from numnet.datasets import fashion_mnist, mnist
from numnet.datasets._files import DatasetNotFoundError, DatasetSpec, cache_dir
from numnet.datasets.idx import IDXError, read_idx, write_idx

__all__ = [
    "DatasetNotFoundError",
    "DatasetSpec",
    "IDXError",
    "cache_dir",
    "fashion_mnist",
    "mnist",
    "read_idx",
    "write_idx",
]
