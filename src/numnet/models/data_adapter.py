"""Turn what ``fit``/``evaluate``/``predict`` receive into batches.

Accepted inputs:

* arrays: ``x`` (an ndarray, or a list/dict of them for multi-input models)
  with ``y`` (same nesting for multi-output); batched by ``batch_size``,
  shuffled each epoch with numnet's seeded generator;
* a re-iterable of batches (``iter()`` gives a fresh pass each time, e.g.
  ``numnet.data.DataLoader``): each item ``(x, y)``, ``(x, y, sample_weight)``
  or ``x`` alone for ``predict``;
* a one-shot iterator/generator: consumed across epochs, ``steps_per_epoch``
  batches at a time (required).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Tensor


def _is_container(data) -> bool:
    """Lists/tuples of arrays (several inputs) are nests; lists of numbers are data."""
    if isinstance(data, dict):
        return True
    return isinstance(data, (list, tuple)) and any(
        isinstance(v, (Tensor, dict)) or backend.is_array(v) or _is_container(v)
        for v in data
    )


def map_structure(fn, data):
    """Apply ``fn`` to every array leaf of a nest of lists/tuples/dicts."""
    if data is None:
        return None
    if isinstance(data, dict):
        return {k: map_structure(fn, v) for k, v in data.items()}
    if _is_container(data):
        return type(data)(map_structure(fn, v) for v in data)
    return fn(data)


def flatten(data) -> list:
    """The array leaves of a nest, in order."""
    if data is None:
        return []
    if isinstance(data, dict):
        return [leaf for v in data.values() for leaf in flatten(v)]
    if _is_container(data):
        return [leaf for v in data for leaf in flatten(v)]
    return [data]


def _as_array(value):
    if isinstance(value, Tensor):
        return value.data
    if backend.is_array(value):
        return value
    return np.asarray(value)


def as_arrays(data):
    """Every leaf of a nest as an ndarray (Python lists of numbers become arrays)."""
    return map_structure(_as_array, data)


def is_array_data(x) -> bool:
    """True for an ndarray/Tensor or a list/tuple/dict nest of them."""
    if isinstance(x, Tensor) or backend.is_array(x):
        return True
    if isinstance(x, dict):
        return bool(x) and all(is_array_data(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return bool(x) and all(
            isinstance(v, (Tensor, list, tuple, dict, int, float))
            or backend.is_array(v)
            for v in x
        )
    return False


def is_batch_source(x) -> bool:
    """True for an iterable of batches (DataLoader, generator), not arrays."""
    return hasattr(x, "__iter__") and not is_array_data(x) and not isinstance(x, str)


def _num_samples(owner: str, x, y, sample_weight) -> int:
    lengths = {}
    for name, data in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        for leaf in flatten(data):
            lengths.setdefault(name, set()).add(len(leaf))
    sizes = {n for s in lengths.values() for n in s}
    if len(sizes) > 1:
        detail = ", ".join(f"{k} sizes: {sorted(v)}" for k, v in lengths.items())
        raise ValueError(
            f"{owner}: data cardinality is ambiguous: make sure all arrays contain "
            f"the same number of samples. Received: {detail}"
        )
    if not sizes:
        raise ValueError(f"{owner}: received no input data (x is empty)")
    return sizes.pop()


class ArrayBatches:
    """Batches of in-memory arrays; reshuffled at each ``epoch_iterator()``."""

    def __init__(
        self,
        owner,
        x,
        y=None,
        sample_weight=None,
        batch_size=32,
        shuffle=False,
        steps=None,
    ):
        self.x = map_structure(_as_array, x)
        self.y = map_structure(_as_array, y)
        self.sample_weight = map_structure(_as_array, sample_weight)
        self.n = _num_samples(owner, self.x, self.y, self.sample_weight)
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int)
            or (batch_size < 1)
        ):
            raise ValueError(
                f"{owner}: invalid value for argument 'batch_size'. Expected a "
                f"positive int. Received: batch_size={batch_size!r}"
            )
        self.batch_size = batch_size
        self.shuffle = shuffle
        full = math.ceil(self.n / batch_size)
        self.steps = full if steps is None else min(int(steps), full)

    def epoch_iterator(self) -> Iterator[tuple]:
        """Yield ``(x, y, sample_weight)`` batches for one epoch."""
        order = backend.get_rng().permutation(self.n) if self.shuffle else None
        for step in range(self.steps):
            lo = step * self.batch_size
            hi = min(lo + self.batch_size, self.n)
            if order is None:
                index = slice(lo, hi)
            else:
                index = np.sort(order[lo:hi])  # sorted: faster, same batch content

            def take(a, index=index):
                if isinstance(index, slice) or isinstance(a, np.ndarray):
                    return a[index]
                # a dataset already on a device: the batch's rows are picked there
                return a[backend.get_array_module(a).asarray(index)]

            yield (
                map_structure(take, self.x),
                map_structure(take, self.y),
                map_structure(take, self.sample_weight),
            )


class IterableBatches:
    """Batches from a re-iterable source or a one-shot iterator."""

    def __init__(self, owner, source, steps=None, needs_y=True):
        self.owner = owner
        self.source = source
        self.needs_y = needs_y
        self.one_shot = iter(source) is source
        if self.one_shot and steps is None:
            raise ValueError(
                f"{owner}: a generator or iterator is consumed once, so "
                f"'steps_per_epoch' (or 'steps') must say how many batches make "
                f"an epoch. Received: steps=None for {type(source).__name__}"
            )
        self._iterator = source if self.one_shot else None
        if steps is None:
            try:
                steps = len(source)
            except TypeError:
                steps = None  # unknown: the epoch ends when the source does
        self.steps = steps

    def epoch_iterator(self) -> Iterator[tuple]:
        """Yield ``(x, y, sample_weight)`` batches for one epoch."""
        iterator = self._iterator if self.one_shot else iter(self.source)
        step = 0
        while self.steps is None or step < self.steps:
            try:
                item = next(iterator)
            except StopIteration:
                if self.one_shot and self.steps is not None:
                    warnings.warn(
                        f"{self.owner}: the input ran out of data after {step} "
                        f"of {self.steps} steps in this epoch; make sure the "
                        f"generator yields at least steps_per_epoch * epochs batches",
                        stacklevel=2,
                    )
                return
            yield self._unpack(item)
            step += 1

    def _unpack(self, item) -> tuple:
        if isinstance(item, tuple) and len(item) in (2, 3):
            x, y, *rest = item
            return x, y, (rest[0] if rest else None)
        if isinstance(item, tuple) and len(item) == 1:
            item = item[0]
        if self.needs_y:
            raise ValueError(
                f"{self.owner}: each batch must be a tuple (x, y) or "
                f"(x, y, sample_weight). Received: {type(item).__name__}"
            )
        return item, None, None


def make_batches(
    owner,
    x,
    y=None,
    sample_weight=None,
    batch_size=None,
    shuffle=False,
    steps=None,
    needs_y=True,
):
    """Choose the adapter for ``x``; see the module docstring.

    Raises:
        ValueError: when ``y`` is given with a batch source, or lengths differ.
    """
    if is_batch_source(x):
        if y is not None:
            raise ValueError(
                f"{owner}: when x is a {type(x).__name__} that yields batches, "
                f"y must be None (the batches carry the targets). "
                f"Received: y of type {type(y).__name__}"
            )
        return IterableBatches(owner, x, steps=steps, needs_y=needs_y)
    if x is None:
        raise ValueError(f"{owner}: x is required")
    if needs_y and y is None:
        raise ValueError(
            f"{owner}: y is required with array inputs (or pass a DataLoader or a "
            f"generator of (x, y) batches as x)"
        )
    size = 32 if batch_size is None else batch_size
    return ArrayBatches(owner, x, y, sample_weight, size, shuffle, steps)


def split_validation(owner: str, x, y, sample_weight, validation_split: float):
    """Keras's validation_split: the *last* fraction of the arrays, before shuffling."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(
            f"{owner}: invalid value for argument 'validation_split'. Expected a "
            f"float in (0, 1). Received: validation_split={validation_split!r}"
        )
    if is_batch_source(x):
        raise ValueError(
            f"{owner}: validation_split is only supported for array inputs; with "
            f"a {type(x).__name__} pass validation_data instead"
        )
    n = _num_samples(owner, map_structure(_as_array, x), y, sample_weight)
    cut = int(n * (1.0 - validation_split))
    if cut == 0 or cut == n:
        raise ValueError(
            f"{owner}: validation_split={validation_split} leaves an empty training "
            f"or validation set for {n} samples"
        )

    def head(a):
        return _as_array(a)[:cut]

    def tail(a):
        return _as_array(a)[cut:]

    train = tuple(map_structure(head, d) for d in (x, y, sample_weight))
    val = tuple(map_structure(tail, d) for d in (x, y, sample_weight))
    return train, val


def unpack_validation(owner: str, validation_data):
    """``(x, y)``/``(x, y, sample_weight)`` tuples or a batch source."""
    if is_batch_source(validation_data) and not isinstance(validation_data, tuple):
        return validation_data, None, None
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
        x, y, *rest = validation_data
        return x, y, (rest[0] if rest else None)
    raise ValueError(
        f"{owner}: invalid value for argument 'validation_data'. Expected a tuple "
        f"(x_val, y_val) or (x_val, y_val, sample_weight), or an iterable of "
        f"batches. Received: {type(validation_data).__name__}"
    )


def class_weight_to_sample_weight(owner: str, class_weight: dict, y) -> np.ndarray:
    """Per-sample weights from ``{class index: weight}`` and integer/one-hot ``y``."""
    y = backend.to_host(_as_array(y))  # weights are built on the host, then moved
    labels = y.argmax(axis=-1) if y.ndim >= 2 and y.shape[-1] > 1 else y.reshape(-1)
    if y.ndim >= 2 and y.shape[-1] == 1 and y.dtype.kind == "f":
        labels = np.rint(labels)  # binary targets 0.0/1.0
    labels = labels.astype(np.int64)
    table = np.ones(int(labels.max()) + 1 if labels.size else 1, np.float32)
    for cls, weight in class_weight.items():
        if not isinstance(cls, (int, np.integer)) or cls < 0:
            raise ValueError(
                f"{owner}: invalid class_weight key {cls!r}: expected class indices "
                f"(non-negative ints)"
            )
        if cls < len(table):
            table[cls] = weight
    return table[labels]


def _put_leaf(target, leaf):
    if isinstance(leaf, Tensor):
        return Tensor._from_op(target.put(leaf.data))
    return target.put(leaf) if backend.is_array(leaf) else target.put(np.asarray(leaf))


def to_device(target, data):
    """Every array leaf of a nest on device ``target`` (None: unchanged)."""
    if target is None or data is None:
        return data
    return map_structure(lambda leaf: _put_leaf(target, leaf), data)


def device_batches(batches, target):
    """``(x, y, sample_weight)`` batches moved to ``target`` (None: as they are).

    A device kind with a ``prefetch`` (CuPy: pinned memory and a copy stream)
    copies batch i+1 while batch i computes; otherwise each batch is moved
    when it is taken.
    """
    if target is None or target.type == "cpu":
        yield from batches
        return
    prefetch = target._kind.prefetch
    if prefetch is not None:
        yield from prefetch(batches, target.index or 0, _map_raw_leaves)
        return
    for part in batches:
        yield tuple(to_device(target, p) for p in part)


def _map_raw_leaves(fn, data):
    return map_structure(lambda v: fn(v.data if isinstance(v, Tensor) else v), data)


def model_device(model):
    """The device ``fit`` moves batches to: the one given to ``model.to``, or None."""
    return model.__dict__.get("_device")
