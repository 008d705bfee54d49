"""The overridable steps of ``fit``/``evaluate``/``predict`` (Keras 3 extension points).

``fit`` calls ``model.train_step(data)`` once per batch, ``evaluate`` calls
``model.test_step(data)`` and ``predict`` calls ``model.predict_step(data)``.
``data`` is what one batch holds, packed as Keras packs it: ``x`` alone when
there are no targets, ``(x, y)``, or ``(x, y, sample_weight)``;
:func:`unpack_x_y_sample_weight` undoes it. ``train_step``/``test_step`` return
the logs dict the callbacks and the History see (running values over the
epoch, as Keras's stateful metrics give); fit resets every metric in
``model.metrics`` at the start of each epoch.

Override ``train_step`` for a GAN or any custom update (call ``self(x,
training=True)``, compute a loss, ``backward()``, and apply the optimizer
yourself); override ``compute_loss`` to change only the loss. The default
steps::

    y_pred = self(x, training=True)
    loss = self.compute_loss(x, y, y_pred, sample_weight)   # + self.losses
    zero grads; loss.backward(); self.optimizer.apply(grads, weights)
    return self.compute_metrics(x, y, y_pred, sample_weight)
"""

from __future__ import annotations

import numpy as np

from numnet import _comm, backend
from numnet.autograd.tensor import Tensor
from numnet.models import data_adapter as da


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Pack one batch as Keras does: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``."""
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """Return ``(x, y, sample_weight)`` from a batch (missing parts are None).

    Example:
        >>> from numnet.models.steps import unpack_x_y_sample_weight
        >>> unpack_x_y_sample_weight(([1.0], [2.0]))
        ([1.0], [2.0], None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(
        f"unpack_x_y_sample_weight: expected x, (x,), (x, y) or (x, y, "
        f"sample_weight). Received a tuple of length {len(data)}"
    )


def to_numpy(out):
    """Tensors (or lists of them) to ndarrays (on the host, from any device)."""
    if isinstance(out, (list, tuple)):
        return [to_numpy(o) for o in out]
    raw = out.data if isinstance(out, Tensor) else out
    if backend.is_array(raw):
        return backend.get_ops(raw).to_numpy(raw)
    return np.asarray(raw)


def _raw(value):
    """A Tensor's data or an array as it is (device arrays stay on the device)."""
    if isinstance(value, Tensor):
        return value.data
    return value if backend.is_array(value) else np.asarray(value)


def as_list(value) -> list:
    """A model's outputs or targets as a list (dicts give their values)."""
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if da._is_container(value) else [value]


def targets(model, y) -> list:
    """``y`` as one target per output (a dict is ordered by output names)."""
    names = getattr(model, "output_names", None)
    if isinstance(y, dict) and names:
        missing = [n for n in names if n not in y]
        if missing:
            raise ValueError(
                f"{model.name}: y is missing targets for outputs {missing}; "
                f"expected keys {names}"
            )
        return [y[n] for n in names]
    return as_list(y)


def batch_size_of(x) -> int:
    """The number of samples in a batch ``x`` (0 when it holds no array)."""
    leaves = da.flatten(x)
    return len(leaves[0]) if leaves else 0


def log_value(value):
    """A log entry as a Python float where it is a scalar (Tensor, ndarray, metric)."""
    if not backend.is_array(value) and callable(getattr(value, "result", None)):
        value = value.result()
    raw = value.data if isinstance(value, Tensor) else value
    if isinstance(raw, np.generic) or (backend.is_array(raw) and raw.size == 1):
        return float(raw.reshape(()))  # on a device: the one host sync of a log
    return value


def _scalar(loss):
    """A loss value for a tracker: a float on NumPy, a device scalar elsewhere
    (no host sync per batch)."""
    raw = loss.data
    return float(raw) if isinstance(raw, np.ndarray) else raw


#: Attribute types that are never metrics (``_attribute_metrics`` runs per step).
_PLAIN_TYPES = frozenset((type(None), bool, int, float, str, list, tuple, dict, set))


def _is_metric(value) -> bool:
    if type(value) in _PLAIN_TYPES:
        return False
    return all(callable(getattr(value, m, None))
               for m in ("update_state", "result", "reset_state"))  # fmt: skip


class TrainingSteps:
    """The Keras 3 step methods of :class:`~numnet.models.Model` (a mixin)."""

    def train_step(self, data) -> dict:
        """One training step on one batch; return the logs (see the module doc)."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self.compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
        )
        params = self._step_params()
        for p in params:
            p.grad = None
        loss.backward()
        self.optimizer.apply([p.grad for p in params], params)
        self._track_loss(loss, x)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data) -> dict:
        """Loss and metrics on one batch in inference mode; return the logs."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False
        )
        self._track_loss(loss, x)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs for one batch (``predict`` turns them to ndarrays)."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """The total loss: the compiled loss(es), plus ``self.losses``.

        ``self.losses`` holds what layers added with ``add_loss`` during the
        last forward pass and the weight and activity regularization penalties.

        Raises:
            ValueError: when there is nothing to optimize (no compiled loss and
                no added loss), or targets are missing for a compiled loss.
        """
        self._loss_parts = None
        total = None
        compiled = self.compiled
        if compiled is not None and compiled.loss_spec is not None:
            y_true, y_pred_list = self._pair_outputs(y, y_pred)
            total, self._loss_parts = compiled.loss(y_true, y_pred_list, sample_weight)
        for term in self._extra_losses():
            total = term if total is None else total + term
        if total is None:
            raise ValueError(
                f"{self.name}: no loss to optimize. Pass loss=... to compile() or "
                f"add a loss in call() with self.add_loss(value)."
            )
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """Update the compiled metrics with one batch; return every metric's result."""
        compiled = self.compiled
        if compiled is not None and y is not None and y_pred is not None:
            y_true, y_pred_list = self._pair_outputs(y, y_pred)
            compiled.update_metrics(
                [_raw(t) for t in y_true], [_raw(p) for p in y_pred_list],
                sample_weight,
            )  # fmt: skip
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """``{name: value}`` of the loss trackers, compiled and attribute metrics."""
        logs = {k: m.result() for k, m in self._loss_trackers().items()}
        if self.compiled is not None:
            logs.update(self.compiled.metric_results())
        for m in self._attribute_metrics():
            logs[m.name] = log_value(m)
        return logs

    @property
    def metrics(self) -> list:
        """Every metric ``fit`` resets per epoch: loss trackers, compiled metrics,
        and Metric objects assigned as attributes (``self.loss_tracker = Mean()``)."""
        out = list(self._loss_trackers().values())
        if self.compiled is not None:
            out += [t.metric for ts in self.compiled.trackers for t in ts]
        return out + self._attribute_metrics()

    @property
    def metrics_names(self) -> list[str]:
        """The names of :attr:`metrics`."""
        return [getattr(m, "name", type(m).__name__) for m in self.metrics]

    def reset_metrics(self) -> None:
        """Reset every metric in :attr:`metrics` (fit does it at each epoch start)."""
        for m in self.metrics:
            m.reset_state()

    # -- helpers ----------------------------------------------------------
    def _pair_outputs(self, y, y_pred):
        y_pred_list = as_list(y_pred)
        if y is None:
            raise ValueError(
                f"{self.name}: the compiled loss needs targets, but y is None. "
                f"Pass y to fit()/evaluate(), or compile without a loss and use "
                f"add_loss()."
            )
        y_true = targets(self, y)
        if len(y_true) != len(y_pred_list):
            raise ValueError(
                f"{self.name}: the model has {len(y_pred_list)} output(s) but y "
                f"holds {len(y_true)} target array(s)"
            )
        compiled = self.compiled
        if not compiled.built:
            compiled.build(
                [to_numpy(t) for t in y_true], [to_numpy(p) for p in y_pred_list]
            )
        return y_true, y_pred_list

    def _extra_losses(self) -> list:
        if not (self._regularized_cache or self._has_added_losses()):
            return []
        return self.losses

    def _step_params(self) -> list:
        cached = getattr(self, "_params_cache", None)
        return self.trainable_weights if cached is None else cached

    def _loss_trackers(self) -> dict:
        trackers = self.__dict__.get("_loss_tracker_map")
        if trackers is None:
            from numnet.metrics.base import Mean  # L4, below models

            trackers = {"loss": Mean(name="loss")}
            object.__setattr__(self, "_loss_tracker_map", trackers)
        return trackers

    def _track_loss(self, loss, x) -> None:
        from numnet.metrics.base import Mean

        if _comm.padding_batch():  # a data-parallel filler batch weighs nothing
            return
        n = max(batch_size_of(x), 1)
        trackers = self._loss_trackers()
        trackers["loss"].update_state(_scalar(loss), sample_weight=n)
        parts = self._loss_parts
        if parts is not None and len(parts) > 1:
            for name, part in zip(self.compiled.names, parts, strict=True):
                if part is not None:
                    key = f"{name}_loss"
                    if key not in trackers:
                        trackers[key] = Mean(name=key)
                    trackers[key].update_state(_scalar(part), sample_weight=n)

    def _attribute_metrics(self) -> list:
        skip = ("_loss_tracker_map", "compiled", "optimizer", "history")
        return [v for k, v in vars(self).items() if k not in skip and _is_metric(v)]
