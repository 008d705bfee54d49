"""PyTorch's per-sample datasets: fetch samples one at a time and collate them.

numnet's own map-style protocol (:class:`numnet.data.Dataset`) hands a whole
index array to ``__getitem__`` and gets a batch back: one gather, no loop. A
dataset written for PyTorch instead answers ``ds[i]`` for one int ``i`` with
one sample, e.g. ``(image, label)``; :class:`~numnet.data.DataLoader` serves
such objects (any object with ``__len__`` and ``__getitem__`` that is not a
numnet ``Dataset``) as PyTorch's does: it calls ``ds[i]`` for each index of a
batch (or ``ds.__getitems__(indices)`` when the dataset has PyTorch's batched
hook) and stacks the samples with :func:`default_collate`.

Example:
    >>> import numpy as np
    >>> samples = [(np.zeros(2), 0), (np.ones(2), 1)]
    >>> x, y = default_collate(samples)
    >>> x.shape, x.dtype, y
    ((2, 2), dtype('float32'), array([0, 1]))
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from numnet import backend


def default_collate(samples: list):
    """Stack a list of samples into a batch, PyTorch's ``default_collate`` rules.

    Arrays, Tensors and numbers are stacked along a new first axis (Tensors by
    their data, copied to the host); tuples and lists are collated field by
    field into a tuple; dicts key by key; None stays None. Floating point
    becomes numnet's float dtype (float32 by default: PyTorch makes Python
    floats float64), integers int64, booleans bool.

    Raises:
        TypeError: for samples of mixed structure or of another type, naming it.
    """
    first = samples[0]
    if first is None:
        return None
    if isinstance(first, Mapping):
        return {k: default_collate([_field(s, k) for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        width = len(first)
        if any(not isinstance(s, (tuple, list)) or len(s) != width for s in samples):
            raise TypeError(
                f"DataLoader: every sample must have the structure of the first, a "
                f"{type(first).__name__} of {width} items"
            )
        return tuple(default_collate([s[i] for s in samples]) for i in range(width))
    return _stack(samples)


def _field(sample, key):
    if not isinstance(sample, Mapping) or key not in sample:
        raise TypeError(
            f"DataLoader: every sample must be a dict with the key {key!r}, as the "
            f"first one. Received: {type(sample).__name__}"
        )
    return sample[key]


def _stack(values: list) -> np.ndarray:
    arrays = [backend.to_host(getattr(v, "data", v)) for v in values]
    try:
        batch = np.stack([np.asarray(a) for a in arrays])
    except ValueError:
        shapes = sorted({np.shape(a) for a in arrays}, key=str)
        raise ValueError(
            f"DataLoader: the samples of a batch must have one shape to be stacked. "
            f"Received shapes {shapes}"
        ) from None
    if batch.dtype.kind == "f":
        return batch.astype(backend.floatx(), copy=False)
    if batch.dtype.kind in "iu":
        return batch.astype(np.int64, copy=False)
    if batch.dtype.kind == "b":
        return batch
    raise TypeError(
        f"DataLoader: cannot collate samples of dtype {batch.dtype} (type "
        f"{type(values[0]).__name__}); return arrays, Tensors or numbers"
    )


def fetch(dataset, indices: np.ndarray):
    """The batch of ``indices`` from a per-sample dataset, collated."""
    if hasattr(dataset, "__getitems__"):  # PyTorch's batched hook
        samples = list(dataset.__getitems__(indices.tolist()))
    else:
        samples = [dataset[int(i)] for i in indices]
    return default_collate(samples)


def as_pair(batch):
    """A collated batch as DataLoader's ``(x, y)``: a pair, or ``(x, None)``."""
    if isinstance(batch, tuple):
        if len(batch) == 2:
            return batch
        if len(batch) == 1:
            return batch[0], None
        raise TypeError(
            f"DataLoader: a sample must be an input, or an (input, target) pair. "
            f"Received samples of {len(batch)} items"
        )
    return batch, None
