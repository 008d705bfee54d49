"""Fashion-MNIST: 70,000 28x28 grey images of 10 kinds of clothing (Zalando).

Example:
    >>> from numnet.datasets import fashion_mnist
    >>> train, test = fashion_mnist.load_data()  # doctest: +SKIP
    >>> train[0].shape, train[0].dtype, train[1][:3]  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'), array([9, 0, 0], dtype=uint8))
"""

from __future__ import annotations

from numnet.datasets._files import DatasetSpec, load_idx_dataset

#: The label names, index = class id.
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# SHA-256 of the decompressed IDX content (computed from Debian's
# dataset-fashion-mnist, which recompresses the official files; the content
# is the same, the .gz bytes are not).
SPEC = DatasetSpec(
    name="Fashion-MNIST",
    dirname="fashion-mnist",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    checksums={
        "train-images-idx3-ubyte.gz": (
            "idx",
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        "train-labels-idx1-ubyte.gz": (
            "idx",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        "t10k-images-idx3-ubyte.gz": (
            "idx",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "idx",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    },
    system_dirs=("/usr/share/datasets/fashion-mnist",),
    install_hint="install Debian's package (apt-get install dataset-fashion-mnist)",
)


def load_data(path=None, verify=True):
    """Load Fashion-MNIST as uint8 arrays, like ``keras.datasets.fashion_mnist``.

    Args:
        path: a directory holding the four IDX files (gzipped or raw). When
            None they are looked for in ``$NUMNET_DATA``,
            ``/usr/share/datasets/fashion-mnist`` and ``~/.cache/numnet``, and
            downloaded into the cache (with a SHA-256 check) if absent.
        verify: check each file against the SHA-256 of the standard file,
            wherever it was found (hashed once per process); pass False to
            load your own data in the same format.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: images of shape (60000, 28, 28)
        and (10000, 28, 28), labels 0-9 of shape (60000,) and (10000,), uint8.

    Raises:
        DatasetNotFoundError: when the files are nowhere and cannot be
            downloaded; the message says how to get them.
        IDXError: when a file is corrupt, truncated, not the standard file
            (with ``verify``), or holds images/labels of the wrong size/range.
    """
    return load_idx_dataset(SPEC, path, verify=verify)
