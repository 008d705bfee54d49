"""DataParallel: what ``fit(..., distributed=True)`` does differently.

The training loop calls these hooks at a few marked places; everything about
MPI stays here:

* ``prepare``: shard the training data (equal step counts), shard the
  validation data, keep the progress bar and file-writing callbacks on rank 0;
* ``scope``: build the model if needed, broadcast rank 0's weights and
  optimizer state, install the packed-gradient allreduce, silence stdout on
  the other ranks, and turn an exception on any rank into ``MPI_Abort``;
* ``train_logs`` / ``test_logs``: the global loss and metrics (one small
  allreduce of sums, counts and metric states), so History, the progress bar
  and every deciding callback (EarlyStopping, ReduceLROnPlateau,
  TerminateOnNaN) see the same numbers on every rank; Ctrl-C and
  ``stop_training`` are OR-ed over ranks in the same message;
* ``epoch_end``: average the non-trainable state (plain BatchNormalization's
  moving statistics) so every rank holds, and rank 0 saves, the same model.
"""

from __future__ import annotations

import contextlib
import copy
import io
import signal
import threading
import traceback

import numpy as np

from numnet import _comm, backend
from numnet.autograd.function import no_grad
from numnet.callbacks.misc import CSVLogger
from numnet.distributed import data as data_module
from numnet.distributed.optimizer import (
    GradientAllreduce,
    broadcast_optimizer_state,
    broadcast_weights,
)
from numnet.layers.symbolic import inference_mode
from numnet.models import data_adapter as da

#: callbacks that only write files: kept on rank 0 only
_WRITERS = (CSVLogger,)


def _state_keys(metric) -> list[str]:
    """The attributes reset_state zeroes (sums, counts, confusion matrices)."""
    fresh = copy.copy(metric)
    fresh.reset_state()
    keys = []
    for key, value in sorted(vars(fresh).items()):
        is_float = isinstance(value, (float, np.floating)) or (
            isinstance(value, np.ndarray) and value.dtype.kind == "f"
        )
        if is_float and not np.any(value):
            keys.append(key)
    return keys


class _MetricStates:
    """Sum every metric's state (loss trackers too) over ranks; read the results."""

    def __init__(self, model):
        self.model = model
        self.entries = [(m, _state_keys(m)) for m in model.metrics]

    def pack(self) -> list[np.ndarray]:
        return [  # a device model's metric states come to the host (MPI sends them)
            np.ravel(backend.to_host(getattr(m, k)).astype(np.float64))
            for m, keys in self.entries
            for k in keys
        ]

    def global_results(self, values: np.ndarray) -> dict:
        saved, offset = [], 0
        for m, keys in self.entries:
            for k in keys:
                local = getattr(m, k)
                n = local.size if backend.is_array(local) else 1
                value = values[offset : offset + n]
                offset += n
                saved.append((m, k, local))
                if backend.is_array(local):
                    setattr(m, k, value.reshape(local.shape).astype(local.dtype))
                else:
                    setattr(m, k, float(value[0]))
        try:
            return self.model.get_metrics_result()
        finally:
            for m, k, local in saved:
                setattr(m, k, local)


class DataParallel:
    """Synchronous data parallelism over the MPI world (see the module docstring).

    Args:
        model: the compiled model ``fit`` trains.
    """

    def __init__(self, model):
        _comm.init()
        self.model = model
        self.step = data_module._Step(None)
        self._metrics: _MetricStates | None = None
        self._last: dict = {}
        self._ctrl_c = False  # seen locally, not yet agreed on

    def prepare(self, owner, data, val, callbacks, verbose):
        """This rank's data, callbacks and verbosity."""
        if isinstance(data, da.ArrayBatches):
            data = data_module.ShardedArrays(data, self.step)
        else:
            data = data_module.ShardedSource(data, self.step)
        if val is not None:
            val = data_module.shard_validation(owner, val)
        if not _comm.is_main():
            callbacks = [c for c in callbacks or [] if not isinstance(c, _WRITERS)]
            verbose = 0
        return data, val, callbacks, verbose

    @contextlib.contextmanager
    def scope(self, data):
        """Synchronized start, gradient allreduce, rank-0 output, abort on error."""
        model, optimizer = self.model, self.model.optimizer
        previous = getattr(optimizer, "gradient_reducer", None)
        quiet = contextlib.nullcontext() if _comm.is_main() else _silenced()
        try:
            with quiet, self._deferred_ctrl_c():
                self._build(data)
                params = model.trainable_weights
                broadcast_weights(model)
                broadcast_optimizer_state(optimizer, params)
                self.step.reducer = GradientAllreduce(params)
                optimizer.gradient_reducer = self.step.reducer
                yield self
        except BaseException as exc:  # noqa: B036 - any failure must end every rank
            if _comm.active():
                text = "".join(traceback.format_exception(exc))
                _comm.abort(f"fit(distributed=True) stopped: {exc!r}; aborting "
                            f"all ranks (MPI_Abort).\n{text}")  # fmt: skip
            raise
        finally:
            optimizer.gradient_reducer = previous
            _comm.set_padding_batch(False)

    @contextlib.contextmanager
    def _deferred_ctrl_c(self):
        """Ctrl-C only marks a request; the ranks agree on it in the next reduction.

        A rank that stopped on its own flag while the others go on would leave
        them waiting in the next collective (the signal reaches the ranks at
        different moments). A second Ctrl-C raises KeyboardInterrupt (abort).
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            if self._ctrl_c:
                raise KeyboardInterrupt
            self._ctrl_c = True

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _build(self, data) -> None:
        if self.model.built and self.model.weights:
            return
        source = getattr(data, "data", None)
        if not isinstance(source, da.ArrayBatches):
            raise ValueError(
                f"{self.model.name}: fit(distributed=True) with a batch source "
                f"needs a built model (give Sequential an Input, or call the "
                f"model on one batch first) so rank 0's weights can be broadcast"
            )
        first = da.map_structure(lambda a: a[:1], source.x)
        with no_grad(), inference_mode(self.model):
            self.model(first, training=False)

    def begin_epoch(self) -> None:
        """Start an epoch (the metrics were reset by ``fit``)."""
        self._last = {}

    def train_logs(self, logs: dict, interrupt) -> dict:
        """The epoch's global running logs after this rank's batch.

        One allreduce carries every metric's state (the loss tracker's weighted
        sum and count included) and the stop and Ctrl-C flags.
        """
        flags = [float(bool(self.model.stop_training)), float(self._ctrl_c)]
        global_logs, flags = self._reduce(flags)
        self.model.stop_training = self.model.stop_training or flags[0] > 0
        interrupt.raised = interrupt.raised or flags[1] > 0
        self._last = {**logs, **global_logs}
        return self._last

    def epoch_logs(self) -> dict:
        """The epoch's global logs; makes the model state equal on every rank."""
        _average_state(self.model)
        return dict(self._last)

    def test_logs(self, logs: dict) -> dict:
        """Global validation logs: the metrics' states summed over the shards."""
        global_logs, _ = self._reduce([])
        return {**logs, **global_logs}

    def agree_stop(self, interrupt) -> None:
        """Stop on every rank when a callback or Ctrl-C stopped any rank."""
        flags = np.array([float(bool(self.model.stop_training)), float(self._ctrl_c)])
        flags = _comm.allreduce_sum(flags)
        self.model.stop_training = bool(flags[0] > 0)
        interrupt.raised = interrupt.raised or bool(flags[1] > 0)

    def _reduce(self, flags: list[float]) -> tuple[dict, list[float]]:
        metrics = self._metrics
        if metrics is None or len(metrics.entries) != len(self.model.metrics):
            self._metrics = _MetricStates(self.model)  # trackers are added lazily
        parts = [np.asarray(flags, np.float64), *self._metrics.pack()]
        packed = _comm.allreduce_sum(np.concatenate(parts))
        logs = self._metrics.global_results(packed[len(flags) :])
        return {k: float(v) for k, v in logs.items()}, list(packed[: len(flags)])


def _average_state(model) -> None:
    """Average the float non-trainable weights (moving statistics) over ranks."""
    state = [w.data for w in model.non_trainable_weights if w.data.dtype.kind == "f"]
    if not state or not _comm.active():
        return
    xp = backend.get_array_module(state[0])  # the model's device
    flat = xp.concatenate([a.reshape(-1).astype(np.float64) for a in state])
    flat = _comm.allreduce_sum(flat) / _comm.size()
    offset = 0
    for a in state:
        a[...] = flat[offset : offset + a.size].reshape(a.shape)
        offset += a.size


@contextlib.contextmanager
def _silenced():
    with contextlib.redirect_stdout(io.StringIO()):
        yield
