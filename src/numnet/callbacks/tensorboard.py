"""The TensorBoard callback: event files TensorBoard reads, with no TensorFlow.

Layout and tags follow Keras 3: ``<log_dir>/train`` gets ``epoch_loss``,
``epoch_<metric>`` and ``epoch_learning_rate`` per epoch (step = epoch index),
``<log_dir>/validation`` gets the ``val_`` metrics under the same tags, so
TensorBoard draws training and validation curves on one chart. Run
``tensorboard --logdir <log_dir>`` to see them.
"""

from __future__ import annotations

import os

from numnet import backend
from numnet.callbacks._events import EventFileWriter
from numnet.callbacks.base import Callback


class TensorBoard(Callback):
    """Write losses, metrics, the learning rate and weight histograms for TensorBoard.

    Args:
        log_dir: the directory of the run (``train/`` and ``validation/``
            subdirectories are created in it).
        histogram_freq: every this many epochs, write a histogram of every
            weight (tag ``<weight name>/histogram``); 0 writes none.
        update_freq: ``"epoch"`` (default), ``"batch"`` or an int N: also
            write ``batch_<metric>`` every N training batches (step = the
            global batch count).
        **kwargs: Keras's ``write_graph``, ``write_images``,
            ``write_steps_per_second``, ``profile_batch``, ``embeddings_freq``
            and ``embeddings_metadata`` are accepted and ignored (numnet writes
            no graph, image or profile data).

    Example:
        >>> import tempfile
        >>> from numnet import callbacks
        >>> board = callbacks.TensorBoard(log_dir=tempfile.mkdtemp())
    """

    _IGNORED = ("write_graph", "write_images", "write_steps_per_second",
                "profile_batch", "embeddings_freq", "embeddings_metadata")  # fmt: skip

    def __init__(self, log_dir="logs", histogram_freq=0, update_freq="epoch",
                 **kwargs):  # fmt: skip
        super().__init__()
        unknown = sorted(set(kwargs) - set(self._IGNORED))
        if unknown:
            raise TypeError(f"TensorBoard: unexpected keyword argument(s) {unknown}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not (
            isinstance(update_freq, int) and update_freq > 0
        ):
            raise ValueError(
                "TensorBoard: invalid value for argument 'update_freq'. Expected "
                f"'epoch', 'batch' or a positive int. Received: {update_freq!r}"
            )
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.update_freq = update_freq
        self._writers: dict[str, EventFileWriter] = {}
        self._batches = 0

    def _writer(self, kind: str) -> EventFileWriter:
        if kind not in self._writers:
            self._writers[kind] = EventFileWriter(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def on_train_begin(self, logs=None):
        self._batches = 0
        self._writer("train")

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.update_freq == "epoch" or self._batches % self.update_freq:
            return
        values = {f"batch_{k}": v for k, v in (logs or {}).items() if _is_number(v)}
        self._writer("train").scalars(self._batches, values)

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: v for k, v in (logs or {}).items() if _is_number(v)}
        train = {f"epoch_{k}": v for k, v in logs.items() if not k.startswith("val_")}
        lr = getattr(getattr(self.model, "optimizer", None), "learning_rate", None)
        if _is_number(lr):
            train["epoch_learning_rate"] = lr
        self._writer("train").scalars(epoch, train)
        val = {f"epoch_{k[4:]}": v for k, v in logs.items() if k.startswith("val_")}
        if val:
            self._writer("validation").scalars(epoch, val)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)

    def _write_histograms(self, epoch: int) -> None:
        arrays = {}
        for i, w in enumerate(getattr(self.model, "weights", [])):
            name = (getattr(w, "name", None) or f"weight_{i}").replace(":", "_")
            arrays[f"{name}/histogram"] = backend.to_host(w)  # from any device
        self._writer("train").histograms(epoch, arrays)

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, (str, bytes))
