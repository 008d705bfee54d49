"""Each rank's share of every epoch, with the same number of steps everywhere.

Arrays: step k of an epoch takes the k-th global batch of ``size() * b``
samples from one permutation shared by all ranks (its seed is broadcast from
rank 0 each epoch), and rank r trains on the r-th of its ``size()`` parts,
so the shards are disjoint and together cover the epoch. The last global
batch is split as evenly as possible; a rank left without a sample (fewer
samples than ranks) runs a *padding* batch: one real sample with sample
weight 0 and gradient weight 0, so it still takes part in every collective
(gradient allreduce, SyncBatchNormalization) and nobody waits forever.

Batch sources (a ``DataLoader``, a generator with ``steps_per_epoch``):
rank r takes batches r, r + size(), ...; ranks that run out first repeat
their last batch as padding. The number of steps must be known.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from numnet import _comm, backend
from numnet.models import data_adapter as da


def shard_indices(n: int, rank: int, size: int) -> np.ndarray:
    """The contiguous part of ``range(n)`` that rank ``rank`` of ``size`` holds.

    >>> shard_indices(10, 1, 3)
    array([4, 5, 6])
    """
    return np.array_split(np.arange(n), size)[rank]


def _count(batch) -> int:
    leaves = da.flatten(batch)
    return len(leaves[0]) if leaves else 0


class _Step:
    """Tells the optimizer and SyncBatchNormalization what this rank's batch is."""

    def __init__(self, reducer):
        self.reducer = reducer
        self.count = 0

    def set(self, count: int) -> None:
        self.count = count
        if self.reducer is not None:
            self.reducer.local_weight = float(count)
        _comm.set_padding_batch(count == 0)


class ShardedArrays:
    """This rank's batches of in-memory arrays (see the module docstring)."""

    def __init__(self, batches: da.ArrayBatches, step: _Step):
        self.data, self.step = batches, step
        self.size, self.rank = _comm.size(), _comm.rank()
        self.global_batch = batches.batch_size * self.size
        # batches.steps is steps_per_epoch or ceil(n / b), both >= the global count
        self.steps = min(batches.steps, math.ceil(batches.n / self.global_batch))

    def _order(self) -> np.ndarray:
        if not self.data.shuffle:
            return np.arange(self.data.n)
        seed = np.array([backend.get_rng().integers(2**62)], np.int64)
        _comm.broadcast(seed)  # one permutation for all ranks
        return np.random.default_rng(int(seed[0])).permutation(self.data.n)

    def epoch_iterator(self) -> Iterator[tuple]:
        """Yield this rank's ``(x, y, sample_weight)`` for each global step."""
        order, b = self._order(), self.data.batch_size
        for k in range(self.steps):
            chunk = order[k * self.global_batch : (k + 1) * self.global_batch]
            if len(chunk) == self.global_batch:
                mine = chunk[self.rank * b : (self.rank + 1) * b]
            else:
                mine = np.array_split(chunk, self.size)[self.rank]
            self.step.set(len(mine))
            yield self._take(np.sort(mine) if len(mine) else chunk[:1], len(mine))
        self.step.set(0)
        _comm.set_padding_batch(False)

    def _take(self, index, count):
        d = self.data

        def take(a):
            return a[index]

        x, y = da.map_structure(take, d.x), da.map_structure(take, d.y)
        sw = da.map_structure(take, d.sample_weight)
        if count == 0:  # padding: a real sample that weighs nothing
            if sw is None:
                sw = np.zeros(len(index), np.float32)
            else:
                sw = da.map_structure(np.zeros_like, sw)
        return x, y, sw


class ShardedSource:
    """Round-robin batches of a batch source, padded to equal step counts."""

    def __init__(self, batches: da.IterableBatches, step: _Step):
        if batches.steps is None:
            raise ValueError(
                "fit(distributed=True): the batch source has no len(); pass "
                "steps_per_epoch so that every rank runs the same number of steps"
            )
        self.data, self.step = batches, step
        self.size, self.rank = _comm.size(), _comm.rank()
        self.steps = math.ceil(batches.steps / self.size)

    def epoch_iterator(self) -> Iterator[tuple]:
        """Yield this rank's batches; repeat the last one (weight 0) as padding."""
        last = None
        mine = (
            item
            for i, item in enumerate(self.data.epoch_iterator())
            if i % self.size == self.rank
        )
        for _ in range(self.steps):
            item = next(mine, None)
            if item is None and last is None:
                raise ValueError(
                    f"fit(distributed=True): rank {self.rank} received no batch "
                    f"from the data source; give it at least {self.size} batches"
                )
            if item is None:
                x, y, sw = last
                self.step.set(0)
                yield x, y, np.zeros(_count(x), np.float32)
                continue
            last = item
            self.step.set(_count(item[0]))
            yield item
        self.step.set(0)
        _comm.set_padding_batch(False)


class _Empty:
    steps = 0

    def epoch_iterator(self):
        return iter(())


def shard_validation(owner: str, batches):
    """This rank's part of the validation data (no lockstep needed: no collective).

    Arrays are split into contiguous parts; a batch source is dealt out
    round-robin. The losses and metrics are reduced afterwards.
    """
    if isinstance(batches, da.ArrayBatches):
        index = shard_indices(batches.n, _comm.rank(), _comm.size())
        if len(index) == 0:
            return _Empty()

        def take(a):
            return a[index[0] : index[-1] + 1]

        return da.ArrayBatches(
            owner,
            da.map_structure(take, batches.x),
            da.map_structure(take, batches.y),
            da.map_structure(take, batches.sample_weight),
            batches.batch_size,
            False,
        )
    return _RoundRobin(batches)


class _RoundRobin:
    def __init__(self, batches):
        self.batches = batches
        steps = batches.steps
        rank, size = _comm.rank(), _comm.size()
        self.steps = None if steps is None else len(range(rank, steps, size))

    def epoch_iterator(self):
        for i, item in enumerate(self.batches.epoch_iterator()):
            if i % _comm.size() == _comm.rank():
                yield item
