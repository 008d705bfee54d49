"""Data-parallel training over MPI (``pip install "numnet[mpi]"``).

Launch the same script on several processes (``mpiexec -n 4 python train.py``);
each process is a *rank*. With ``model.fit(..., distributed=True)`` every rank
trains on its own shard of each epoch with ``batch_size`` samples per step,
the gradients are averaged over the ranks in one allreduce per step, and the
ranks stay in lockstep with identical weights: 4 ranks with batch b take the
same steps as 1 process with batch 4b. Only rank 0 prints and writes files.

For a PyTorch-style loop::

    from numnet import distributed as dist
    dist.init()
    dist.broadcast_weights(model)                      # rank 0's start
    opt = dist.DistributedOptimizer(opt, model.trainable_weights)
    for xb, yb in my_shard:                            # same step count per rank
        loss = loss_fn(yb, model(xb, training=True))
        opt.zero_grad(); loss.backward(); opt.step(model.trainable_weights)

Without :func:`init` every function here describes a single process
(``rank() == 0``, ``size() == 1``) and the collectives return their input.
See docs/distributed.md for launching, scaling rules and threads per rank.
"""

from numnet._comm import (
    INSTALL_HINT,
    allgather,
    allreduce_mean,
    allreduce_sum,
    barrier,
    broadcast,
    init,
    is_initialized,
    is_main,
    rank,
    size,
)
from numnet.distributed.data import shard_indices
from numnet.distributed.optimizer import (
    DistributedOptimizer,
    GradientAllreduce,
    broadcast_optimizer_state,
    broadcast_weights,
)
from numnet.distributed.strategy import DataParallel
from numnet.layers.sync_batch_norm import SyncBatchNormalization

__all__ = [
    "INSTALL_HINT",
    "DataParallel",
    "DistributedOptimizer",
    "GradientAllreduce",
    "SyncBatchNormalization",
    "allgather",
    "allreduce_mean",
    "allreduce_sum",
    "barrier",
    "broadcast",
    "broadcast_optimizer_state",
    "broadcast_weights",
    "init",
    "is_initialized",
    "is_main",
    "rank",
    "shard_indices",
    "size",
]
