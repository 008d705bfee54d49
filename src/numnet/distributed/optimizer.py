"""Gradient averaging in one packed allreduce, and rank 0's state on every rank.

One step of data-parallel SGD (ChainerMN's "flat" communicator, Horovod's
tensor fusion with one bucket): every rank copies its gradients, scaled by its
sample count n_r, into one contiguous buffer with n_r in the last slot; one
``Allreduce`` sums the buffers; dividing by N = sum n_r gives

    g = sum_r n_r g_r / N

the gradient of the mean loss over the global batch, also when the ranks'
batches differ in size (the last batch of an epoch). One message per step
instead of one per weight: with ~10 weights and small models latency, not
bandwidth, is what costs (see docs/distributed.md for the measurement).
"""

from __future__ import annotations

import numpy as np

from numnet import _comm, backend


class GradientAllreduce:
    """Average the gradients of ``params`` over all ranks, weighted by batch size.

    Installed as ``optimizer.gradient_reducer``; called with the
    ``(grad, param)`` pairs of one step and returns the averaged pairs. The
    layout is fixed by ``params`` (the same list on every rank), so a weight
    that got no gradient on some rank still lines up (it counts as zero there).

    Attributes:
        local_weight: this rank's sample count for the current step (1 by
            default: a plain mean over ranks). Set it to the local batch size
            when batches may differ (``fit(distributed=True)`` does).
    """

    def __init__(self, params):
        self.params = list(params)
        self.local_weight = 1.0
        self._buffer = None
        sizes = [int(np.prod(p.shape)) for p in self.params]
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._index = {id(p): i for i, p in enumerate(self.params)}

    def _buffer_for(self, dtype, xp):
        # grads | one "has a gradient" flag per weight | the sample count
        n = int(self._offsets[-1]) + len(self.params) + 1
        buf = self._buffer
        if buf is None or buf.dtype != dtype or backend.get_array_module(buf) is not xp:
            buf = self._buffer = xp.empty(n, dtype=dtype)
        return buf

    def __call__(self, grads_and_params):
        grads = {}
        for g, p in grads_and_params:
            if id(p) not in self._index:
                raise ValueError(
                    f"GradientAllreduce: weight {getattr(p, 'name', p)!r} is not "
                    f"among the {len(self.params)} weights it was created for"
                )
            if g is not None:
                grads[id(p)] = g if backend.is_array(g) else g.data  # Tensor
        if not self.params:
            return []
        first = self.params[0].data
        xp = backend.get_array_module(first)
        dtype = np.result_type(*[p.data.dtype for p in self.params])
        buf = self._buffer_for(dtype, xp)
        flags = buf[self._offsets[-1] : -1]
        weight = float(self.local_weight)
        for i, p in enumerate(self.params):
            lo, hi = self._offsets[i], self._offsets[i + 1]
            g = grads.get(id(p))
            if g is None:
                buf[lo:hi] = 0
                flags[i] = 0
            else:
                xp.multiply(g.reshape(-1), weight, out=buf[lo:hi])
                flags[i] = 1
        buf[-1] = weight
        _comm.allreduce_sum(buf, out=buf)
        total = float(buf[-1])
        if total <= 0:  # no rank had a sample: nothing to learn from
            return []
        buf[: self._offsets[-1]] *= dtype.type(1.0 / total)
        return [
            (buf[self._offsets[i] : self._offsets[i + 1]].reshape(p.shape), p)
            for i, p in enumerate(self.params)
            if flags[i] > 0
        ]


def DistributedOptimizer(optimizer, params):  # noqa: N802 (Horovod's spelling)
    """Make ``optimizer`` average gradients over all ranks before each step.

    For a PyTorch-style loop (``loss.backward(); opt.step(params)``): returns
    the same optimizer object with a :class:`GradientAllreduce` for
    ``params`` installed, so its configuration, saving and learning-rate
    changes work as before. ``model.fit(..., distributed=True)`` does this
    by itself.

    Args:
        optimizer: a numnet optimizer.
        params: the weights it updates (``model.trainable_weights``), in the
            same order on every rank.

    Returns:
        ``optimizer``; its ``gradient_reducer.local_weight`` may be set to the
        local batch size when batches differ between ranks.
    """
    optimizer.gradient_reducer = GradientAllreduce(params)
    return optimizer


def broadcast_weights(model_or_weights, root: int = 0) -> None:
    """Copy rank ``root``'s weights (trainable and state) to every rank, in place.

    Sends one packed buffer per dtype. Call it after the model is built and
    before training, so every rank starts from the same point.
    """
    weights = getattr(model_or_weights, "weights", model_or_weights)
    arrays = [w if backend.is_array(w) else w.data for w in weights]
    for dtype in sorted({a.dtype.str for a in arrays}):
        group = [a for a in arrays if a.dtype.str == dtype]
        xp = backend.get_array_module(group[0])
        flat = xp.concatenate([a.reshape(-1) for a in group])
        _comm.broadcast(flat, root=root)
        offset = 0
        for a in group:
            a[...] = flat[offset : offset + a.size].reshape(a.shape)
            offset += a.size


def broadcast_optimizer_state(optimizer, params, root: int = 0) -> None:
    """Copy rank ``root``'s optimizer step counter and slots to every rank.

    Slots that rank ``root`` has not created yet are created (as zeros) on
    every rank, so later steps line up.
    """
    params = list(params)
    optimizer.build(params)
    state = optimizer.get_state(params)
    counters = np.array(
        [int(state.pop("iterations")), int(state.pop("accumulation_calls", 0))],
        np.int64,
    )
    _comm.broadcast(counters, root=root)
    optimizer.iterations = int(counters[0])
    keys = sorted(state)
    if _comm.broadcast(keys, root=root) != keys:
        raise RuntimeError(
            "broadcast_optimizer_state: the ranks' optimizers hold different slots; "
            "create the same model and optimizer on every rank"
        )
    slots = [optimizer._slots[optimizer._index[id(p)]] for p in params]
    broadcast_weights([slots[int(k.split("/")[0])][k.split("/")[1]] for k in keys])
    accumulation = getattr(optimizer, "_accumulation", None)
    if accumulation is not None:  # the window and its weights, as on rank root
        accumulation.restore(int(counters[1]), params, optimizer._slots_of)
