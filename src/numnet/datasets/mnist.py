"""MNIST: 70,000 28x28 grey images of handwritten digits.

Example:
    >>> from numnet.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
"""

from __future__ import annotations

from numnet.datasets._files import DatasetSpec, load_idx_dataset

# SHA-256 of the .gz files as the mirrors serve them (the values published with
# TensorFlow Datasets' MNIST checksums).
SPEC = DatasetSpec(
    name="MNIST",
    dirname="mnist",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    checksums={
        "train-images-idx3-ubyte.gz": (
            "gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        "train-labels-idx1-ubyte.gz": (
            "gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
        "t10k-images-idx3-ubyte.gz": (
            "gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    },
    system_dirs=("/usr/share/datasets/mnist",),
)


def load_data(path=None, verify=True):
    """Load MNIST as uint8 arrays, like ``keras.datasets.mnist``.

    Args:
        path: a directory holding the four IDX files (gzipped or raw). When
            None they are looked for in ``$NUMNET_DATA``, ``/usr/share/datasets/mnist``
            and ``~/.cache/numnet``, and downloaded into the cache (with a
            SHA-256 check) if absent.
        verify: check each file against the SHA-256 of the standard file,
            wherever it was found (hashed once per process); pass False to
            load your own data in the same format.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: (60000, 28, 28) and
        (10000, 28, 28) uint8 images, uint8 labels 0-9.

    Raises:
        DatasetNotFoundError: when the files are nowhere and cannot be
            downloaded; the message says how to get them.
        IDXError: when a file is corrupt, truncated, not the standard file
            (with ``verify``), or holds images/labels of the wrong size/range.
    """
    return load_idx_dataset(SPEC, path, verify=verify)
