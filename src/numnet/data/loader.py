"""Datasets and the DataLoader that batches them for ``Model.fit``.

Two kinds of dataset, as in PyTorch:

* **map-style** (:class:`Dataset`): ``len(ds)`` samples, and ``ds[indices]``
  returns the batch ``(x, y)`` for an integer index array. :class:`ArrayDataset`
  wraps in-memory arrays *and* memory-mapped ones (``np.load(path,
  mmap_mode="r")``, ``np.memmap``): only the rows of a batch are read from disk.
  Any other object with ``__len__`` and ``__getitem__`` is read as PyTorch
  reads a dataset, one sample ``ds[i]`` at a time, and the samples are stacked
  (:mod:`numnet.data.collate`).
* **iterable** (:class:`IterableDataset`): a stream of ``(x, y)`` chunks from a
  generator, for data that is produced on the fly. :class:`GeneratorDataset`
  wraps a zero-argument function returning a fresh generator (so every epoch can
  iterate again).

:class:`DataLoader` turns either into a re-iterable of ``(x_batch, y_batch)``
ndarrays with ``__len__`` (the number of batches per epoch), shuffling with a
seeded generator and applying an optional ``transform`` (e.g. augmentation) to
every ``x_batch``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from numnet import backend
from numnet.data import collate


class Dataset:
    """Map-style dataset protocol: subclass it and implement the two methods.

    ``__getitem__`` receives a 1-D integer index array and returns the batch
    ``(x, y)`` as ndarrays whose first axis follows the index order.
    """

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


def _gather(array, indices: np.ndarray) -> np.ndarray:
    """``array[indices]``; a memory map is read in ascending order (sequential I/O)."""
    if type(array) is np.ndarray:
        return array[indices]
    order = np.argsort(indices, kind="stable")
    rows = np.asarray(array[indices[order]])
    out = np.empty_like(rows)
    out[order] = rows
    return out


class ArrayDataset(Dataset):
    """A dataset over arrays indexed on their first axis.

    Args:
        x: inputs: an ndarray, a memory map, or any object with ``len`` and
            integer-array indexing (``x[np.array([3, 1])]``).
        y: targets with the same length, or None (batches are then ``(x, None)``).

    Example:
        >>> import numpy as np
        >>> ds = ArrayDataset(np.arange(10).reshape(5, 2), np.arange(5))
        >>> len(ds), ds[np.array([4, 0])][1]
        (5, array([4, 0]))
    """

    def __init__(self, x, y=None):
        for name, data in (("x", x), ("y", y)):
            if data is not None and (
                isinstance(data, (str, bytes)) or np.ndim(_first_leaf(data)) == 0
            ):
                raise TypeError(
                    f"ArrayDataset: invalid value for argument '{name}'. Expected an "
                    f"array (or a list/dict of arrays) with a sample axis. Received: "
                    f"{type(data).__name__} {data!r:.60}"
                )
        if y is not None and len(x) != len(y):
            raise ValueError(
                "ArrayDataset: x and y must have the same number of samples. "
                f"Received: len(x)={len(x)}, len(y)={len(y)}"
            )
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, indices: np.ndarray):
        indices = np.asarray(indices)
        y = None if self.y is None else _gather(self.y, indices)
        return _gather(self.x, indices), y


class IterableDataset:
    """Stream-style dataset protocol: ``__iter__`` yields ``(x, y)`` chunks.

    A chunk is a pair of arrays holding any number of samples on the first axis;
    the :class:`DataLoader` re-batches the stream to its ``batch_size``. Set
    ``num_samples`` (samples per epoch) so that ``len(loader)`` is known.
    """

    num_samples: int | None = None

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        raise NotImplementedError


class GeneratorDataset(IterableDataset):
    """An iterable dataset over a generator function.

    Args:
        generator_fn: a zero-argument callable returning a new iterator of
            ``(x, y)`` pairs each time it is called (once per epoch).
        num_samples: samples per epoch, if known (needed for ``len(loader)``).
        batched: True if each pair is a chunk of samples (arrays with a leading
            batch axis); False if each pair is a single sample.

    Example:
        >>> import numpy as np
        >>> def chunks():
        ...     for start in range(0, 10, 4):
        ...         x = np.arange(start, min(start + 4, 10), dtype=np.float32)
        ...         yield x[:, None], x % 2
        >>> loader = DataLoader(GeneratorDataset(chunks, num_samples=10), batch_size=3)
        >>> len(loader), [len(xb) for xb, yb in loader]
        (4, [3, 3, 3, 1])
    """

    def __init__(
        self,
        generator_fn: Callable[[], Iterable],
        num_samples: int | None = None,
        batched: bool = True,
    ):
        if not callable(generator_fn):
            raise TypeError(
                "GeneratorDataset: invalid value for argument 'generator_fn'. "
                "Expected a callable returning a fresh iterator (a generator "
                f"function). Received: {type(generator_fn).__name__}"
            )
        self.generator_fn = generator_fn
        self.num_samples = num_samples
        self.batched = batched

    def __iter__(self):
        for x, y in self.generator_fn():
            if self.batched:
                yield np.asarray(x), None if y is None else np.asarray(y)
            else:
                yield np.asarray(x)[None], None if y is None else np.asarray(y)[None]


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"DataLoader: invalid value for argument '{name}'. Expected a positive "
            f"int. Received: {name}={value!r}"
        )
    return int(value)


def _first_leaf(data):
    while isinstance(data, (list, tuple, dict)) and len(data):
        if not isinstance(data, dict) and not hasattr(data[0], "__len__"):
            return data  # a list of numbers: array data
        data = next(iter(data.values())) if isinstance(data, dict) else data[0]
    return data


def _check_seed(seed):
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return seed
    raise ValueError(
        f"DataLoader: invalid value for argument 'seed'. Expected an int >= 0, a "
        f"numpy Generator or None. Received: seed={seed!r}"
    )


def _check_flag(value, name: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(
        f"DataLoader: invalid value for argument '{name}'. Expected True or False. "
        f"Received: {name}={value!r}"
    )


def _as_dataset(data):
    if isinstance(data, (Dataset, IterableDataset)):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return ArrayDataset(*data)
    if isinstance(data, (str, bytes)):
        raise TypeError(
            "DataLoader: invalid value for argument 'dataset'. Expected a Dataset, "
            "an IterableDataset or an (x, y) tuple of arrays. Received: a string"
        )
    if hasattr(data, "__len__") and hasattr(data, "__getitem__"):
        return data  # a per-sample dataset written for PyTorch: ds[i] is a sample
    raise TypeError(
        "DataLoader: invalid value for argument 'dataset'. Expected a Dataset, an "
        "IterableDataset or an (x, y) tuple of arrays. "
        f"Received: {type(data).__name__}"
    )


class DataLoader:
    """Iterate over a dataset in batches of ``(x_batch, y_batch)`` ndarrays.

    Re-iterable: each ``for`` loop is one epoch (a fresh shuffle). ``len(loader)``
    is the number of batches per epoch. ``Model.fit`` accepts a DataLoader in
    place of ``x``/``y`` arrays.

    Args:
        dataset: a :class:`Dataset`, an :class:`IterableDataset` or a tuple
            ``(x, y)`` of arrays (wrapped in an :class:`ArrayDataset`).
        batch_size: samples per batch.
        shuffle: draw a new random order every epoch (map-style datasets only;
            a stream is shuffled by its generator).
        drop_last: drop the last, incomplete batch.
        seed: int or Generator for a private, reproducible shuffle; None uses
            numnet's global generator (``numnet.manual_seed``).
        transform: a callable applied to every ``x_batch`` (e.g. an augmentation
            from :mod:`numnet.data.augment`).

    Example:
        >>> import numpy as np
        >>> x, y = np.zeros((10, 3), np.float32), np.arange(10)
        >>> loader = DataLoader((x, y), batch_size=4, shuffle=True, seed=0)
        >>> len(loader), [yb.shape for _, yb in loader]
        (3, [(4,), (4,), (2,)])
    """

    def __init__(
        self,
        dataset,
        batch_size: int = 32,
        shuffle: bool = False,
        drop_last: bool = False,
        seed=None,
        transform: Callable | None = None,
    ):
        self.dataset = _as_dataset(dataset)
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.iterable = isinstance(self.dataset, IterableDataset)
        if shuffle and self.iterable:
            raise ValueError(
                "DataLoader: shuffle=True is not supported for an IterableDataset "
                "(a stream has no random access). Shuffle inside the generator."
            )
        if transform is not None and not callable(transform):
            raise TypeError(
                "DataLoader: invalid value for argument 'transform'. Expected a "
                f"callable. Received: {type(transform).__name__}"
            )
        self.shuffle = _check_flag(shuffle, "shuffle")
        self.drop_last = _check_flag(drop_last, "drop_last")
        self.transform = transform
        self.rng = backend.get_rng(_check_seed(seed)) if seed is not None else None

    @property
    def num_samples(self) -> int:
        """Samples per epoch (raises TypeError for a stream of unknown length)."""
        if not self.iterable:
            return len(self.dataset)
        if self.dataset.num_samples is None:
            raise TypeError(
                "DataLoader: the length of this IterableDataset is unknown. Pass "
                "num_samples to GeneratorDataset (or set dataset.num_samples)."
            )
        return int(self.dataset.num_samples)

    def __len__(self) -> int:
        n, bs = self.num_samples, self.batch_size
        return n // bs if self.drop_last else -(-n // bs)

    def _apply(self, x, y):
        return (x if self.transform is None else self.transform(x)), y

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self.iterable:
            batches = self._rebatch(iter(self.dataset))
        else:
            batches = self._index_batches()
        for x, y in batches:
            yield self._apply(x, y)

    def _index_batches(self):
        n, bs = len(self.dataset), self.batch_size
        rng = self.rng if self.rng is not None else backend.get_rng()
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % bs if self.drop_last else n
        per_sample = not isinstance(self.dataset, Dataset)
        for start in range(0, stop, bs):
            indices = order[start : start + bs]
            if per_sample:
                yield collate.as_pair(collate.fetch(self.dataset, indices))
            else:
                yield self.dataset[indices]

    def _rebatch(self, chunks):
        """Cut a stream of chunks of any size into batches of ``batch_size``."""
        xs, ys, held = [], [], 0
        for x, y in chunks:
            xs.append(x)
            ys.append(y)
            held += len(x)
            if held >= self.batch_size:
                x_all, y_all = _concat(xs), _concat(ys)
                full = held - held % self.batch_size
                for start in range(0, full, self.batch_size):
                    sl = slice(start, start + self.batch_size)
                    yield x_all[sl], None if y_all is None else y_all[sl]
                xs = [x_all[full:]] if full < held else []
                ys = [None if y_all is None else y_all[full:]] if full < held else []
                held -= full
        if held and not self.drop_last:
            yield _concat(xs), _concat(ys)

    def __repr__(self) -> str:
        known = not self.iterable or self.dataset.num_samples is not None
        return (
            f"DataLoader(batches={len(self) if known else '?'}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last})"
        )


def _concat(parts):
    if not parts or parts[0] is None:
        return None
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
