"""MPI collectives for data parallelism, through ``mpi4py`` (the ``[mpi]`` extra).

This is the low-level seam of :mod:`numnet.distributed`: the process group
(``MPI.COMM_WORLD``), its rank and size, and the few collectives numnet uses,
on arrays of any namespace (``backend.get_array_module``). It sits at the
bottom of the layer stack so that ``SyncBatchNormalization`` (a layer) can
reduce statistics without importing the training machinery.

Before :func:`init` (or in a plain ``python script.py`` run) there is one
process: ``rank() == 0``, ``size() == 1``, ``is_main()`` is True and every
collective returns its input, so library code can call them unconditionally.
``mpi4py`` is imported only by :func:`init`.
"""

from __future__ import annotations

import json
import sys
import time
import traceback

import numpy as np

from numnet import backend


class _State:
    comm = None  # an mpi4py communicator once init() ran
    mpi = None  # the mpi4py.MPI module
    padding_batch = False  # this rank's current batch is filler (no real samples)


_state = _State()

INSTALL_HINT = (
    'numnet.distributed needs mpi4py and an MPI runtime: pip install "numnet[mpi]" '
    "(mpi4py with the MPICH wheel), or mpi4py on top of a system MPI"
)


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as exc:  # absent, or no MPI library for it to load
        raise ImportError(f"{INSTALL_HINT}. Import failed: {exc}") from exc
    return MPI


def init(comm=None):
    """Join the MPI job (``MPI.COMM_WORLD`` by default); return the communicator.

    Safe to call more than once. In a job of several ranks it also installs an
    exception hook: an uncaught exception (or Ctrl-C) on any rank prints the
    rank's traceback and aborts the whole job with ``MPI_Abort``, so the other
    ranks never wait forever in a collective.

    Args:
        comm: an mpi4py communicator to use instead of the world.

    Raises:
        ImportError: when mpi4py (or its MPI library) is missing; the message
            names the ``[mpi]`` extra.
    """
    if _state.comm is not None and comm is None:
        return _state.comm
    _state.mpi = _import_mpi()
    _state.comm = comm if comm is not None else _state.mpi.COMM_WORLD
    if _state.comm.Get_size() > 1 and not getattr(sys.excepthook, "_numnet", False):
        sys.excepthook = _abort_hook(sys.excepthook)
    return _state.comm


def is_initialized() -> bool:
    """Whether :func:`init` has run in this process."""
    return _state.comm is not None


def rank() -> int:
    """This process's index in the job, 0 .. size() - 1 (0 before init)."""
    return _state.comm.Get_rank() if _state.comm is not None else 0


def size() -> int:
    """The number of processes in the job (1 before init)."""
    return _state.comm.Get_size() if _state.comm is not None else 1


def is_main() -> bool:
    """True on rank 0, the one that prints and writes files."""
    return rank() == 0


def active() -> bool:
    """True when there are other ranks to talk to (init ran, size > 1)."""
    return size() > 1


def barrier() -> None:
    """Wait until every rank reaches this call."""
    if active():
        _state.comm.Barrier()


def _host(a):
    """CuPy buffers go to MPI as they are only with a CUDA-aware MPI; we stage.

    (A CUDA-aware MPI could take the device pointer directly after a stream
    synchronize; staging through the host works with every MPI.)
    """
    xp = backend.get_array_module(a)
    if xp is np:
        return a, None
    return xp.asnumpy(a), xp


def allreduce_sum(x, out=None):
    """The elementwise sum of ``x`` over all ranks (every rank gets it).

    Args:
        x: an array (NumPy or another namespace) of the same shape and dtype
            on every rank.
        out: optional array to write the result to (may be ``x`` itself).
    """
    x_host, xp = _host(x)
    if not active():
        result = x_host.copy() if out is None else out
        if out is not None and out is not x:
            out[...] = x
        return result if xp is None else xp.asarray(result)
    x_host = np.ascontiguousarray(x_host)
    if out is x and xp is None:
        _state.comm.Allreduce(_state.mpi.IN_PLACE, x_host)
        return x
    result = np.empty_like(x_host)
    _state.comm.Allreduce(x_host, result)
    if xp is not None:
        result = xp.asarray(result)
    if out is not None:
        out[...] = result
        return out
    return result


def allreduce_mean(x):
    """The elementwise mean of ``x`` over all ranks (a new array).

    >>> import numpy as np
    >>> allreduce_mean(np.array([1.0, 3.0]))   # one process: unchanged
    array([1., 3.])
    """
    total = allreduce_sum(x)
    return total / size()


def allgather(x):
    """Stack ``x`` from every rank: shape ``(size(),) + x.shape``, rank order."""
    x_host, xp = _host(x)
    x_host = np.ascontiguousarray(x_host)
    out = np.empty((size(),) + x_host.shape, x_host.dtype)
    if active():
        _state.comm.Allgather(x_host, out)
    else:
        out[0] = x_host
    return out if xp is None else xp.asarray(out)


def broadcast(x, root: int = 0):
    """Rank ``root``'s value on every rank.

    Arrays are sent as raw buffers and written into ``x`` in place (so ``x``
    must have the same shape and dtype everywhere); anything else must be
    JSON data (numbers, strings, lists, dicts) and is returned. No pickle is
    involved, so a rank never unpickles bytes.
    """
    if not active():
        return x
    if backend.is_array(x):
        x_host, xp = _host(x)
        buffer = np.ascontiguousarray(x_host)
        _state.comm.Bcast(buffer, root=root)
        if buffer is not x:
            x[...] = buffer if xp is None else xp.asarray(buffer)
        return x
    payload = json.dumps(x).encode() if rank() == root else b""
    length = np.array([len(payload)], np.int64)
    _state.comm.Bcast(length, root=root)
    data = np.frombuffer(payload, np.uint8).copy() if rank() == root else None
    if data is None:
        data = np.empty(int(length[0]), np.uint8)
    _state.comm.Bcast(data, root=root)
    return json.loads(data.tobytes().decode())


def abort(message: str, code: int = 1) -> None:
    """Print ``message`` (with this rank's number) and end every rank now."""
    sys.stdout.flush()
    sys.stderr.write(f"[numnet.distributed rank {rank()}/{size()}] {message}\n")
    sys.stderr.flush()
    if active():
        # a moment for the launcher to forward this rank's last output: on
        # MPI_Abort it tears the job down, and a dying rank's output was lost
        time.sleep(0.5)
        _state.comm.Abort(code)
    raise SystemExit(code)


def _abort_hook(previous):
    def hook(exc_type, exc, tb):
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        what = "interrupted (Ctrl-C)" if exc_type is KeyboardInterrupt else "failed"
        abort(f"{what}; aborting all ranks (MPI_Abort).\n{text}")

    hook._numnet = True
    hook.previous = previous
    return hook


def set_padding_batch(flag: bool) -> None:
    """Mark this rank's current batch as filler (see ``numnet.distributed``)."""
    _state.padding_batch = bool(flag)


def padding_batch() -> bool:
    """Whether this rank's current batch is filler with no real samples."""
    return _state.padding_batch
