"""What ``compile`` stores: the losses per output and the metric trackers.

Losses and metrics are resolved by name through ``numnet.losses.get`` and
``numnet.metrics.get``. ``"accuracy"`` (or ``"acc"``) is resolved by the loss,
as Keras does (``metrics.get(name, loss=...)``): sparse categorical
cross-entropy -> sparse categorical accuracy, categorical -> categorical,
binary -> binary; for any other loss, by the shapes of the first batch.
Metrics are stateful objects updated on ndarrays (no graph) once per batch;
their ``result()`` is the value over the epoch so far.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet import losses as losses_module
from numnet.models import _validation

_ACCURACY_NAMES = ("accuracy", "acc")


def _names_for_outputs(model, n: int) -> list[str]:
    names = getattr(model, "output_names", None)
    if names and len(names) == n:
        return list(names)
    return [f"output_{i + 1}" for i in range(n)]


def _is_per_output(spec) -> bool:
    # {"class_name": ..., "config": ...} is one serialized object, not a mapping
    return isinstance(spec, dict) and "class_name" not in spec


def _per_output(owner: str, spec, names: list[str], argument: str) -> list:
    """Spread a single/list/dict spec over the outputs."""
    if _is_per_output(spec):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(
                f"{owner}: invalid keys {unknown} in '{argument}'. Expected output "
                f"names {names}"
            )
        return [spec.get(name) for name in names]
    if isinstance(spec, (list, tuple)) and len(names) > 1:
        if len(spec) != len(names):
            raise ValueError(
                f"{owner}: '{argument}' has {len(spec)} entries for a model with "
                f"{len(names)} outputs {names}"
            )
        return list(spec)
    return [spec] * len(names)


class MetricTracker:
    """One metric of one output, named for the logs."""

    def __init__(self, name: str, metric):
        self.name = name
        self.metric = metric
        self.reset()

    def reset(self) -> None:
        """Start a new epoch."""
        self.metric.reset_state()

    def update(self, y_true, y_pred, sample_weight=None) -> None:
        """Add one batch (arrays; device arrays go to the host for metrics that
        only run on NumPy)."""
        if not isinstance(y_pred, np.ndarray) and not getattr(
            self.metric, "supports_device", False
        ):
            y_true, y_pred, sample_weight = _to_host((y_true, y_pred, sample_weight))
        self.metric.update_state(y_true, y_pred, sample_weight=sample_weight)

    def result(self) -> float:
        """The value over the batches seen since the last reset (a 0-d device
        array for a metric accumulated on a device: converted when shown; an
        array for a metric with one value per class or threshold, as Keras
        logs it)."""
        value = self.metric.result()
        if backend.is_array(value) and not isinstance(value, np.ndarray):
            return value
        if isinstance(value, np.ndarray) and value.ndim:
            return value.copy()
        return float(value)


def _to_host(arrays):
    return tuple(
        backend.get_ops(a).to_numpy(a) if backend.is_array(a) else a for a in arrays
    )


def _resolve_metric(owner: str, identifier, loss):
    """A fresh Metric for ``identifier``; "accuracy" picks the loss's accuracy."""
    from numnet import metrics as metrics_module  # L4, below models

    try:
        return metrics_module.get(identifier, loss=loss)
    except ValueError as exc:
        raise ValueError(f"{owner}: {exc}") from None


class Compiled:
    """Losses, loss weights and metric trackers of a compiled model.

    Output-dependent parts are resolved at the first batch (``build``), when
    the number of outputs and the shapes are known.
    """

    def __init__(self, model, loss, metrics=None, loss_weights=None):
        self.owner = model.name
        self.model = model
        self.loss_spec = loss
        self.metrics_spec = metrics
        _validation.check_loss_weights(f"{model.name}.compile", loss_weights)
        self.loss_weights_spec = loss_weights
        self._check_loss(loss)
        self._check_metrics(metrics)
        self.built = False
        self.losses: list = []
        self.trackers: list[list[MetricTracker]] = []
        self.names: list[str] = []

    def _check_metrics(self, metrics) -> None:
        items = (
            metrics.values()
            if _is_per_output(metrics)
            else (metrics if isinstance(metrics, (list, tuple)) else [metrics])
        )
        for item in items:
            if isinstance(item, (list, tuple)):
                self._check_metrics(item)
            elif item is not None:
                _resolve_metric(self.owner, item, None)  # lists the valid names

    def _check_loss(self, loss) -> None:
        items = (
            loss.values()
            if _is_per_output(loss)
            else (loss if isinstance(loss, (list, tuple)) else [loss])
        )
        for item in items:
            if item is not None:
                losses_module.get(item)  # raises, listing the valid names

    def build(self, y_true: list, y_pred: list) -> None:
        """Resolve losses and metrics for these outputs."""
        n = len(y_pred)
        self.names = _names_for_outputs(self.model, n)
        specs = _per_output(self.owner, self.loss_spec, self.names, "loss")
        self.losses = [losses_module.get(s) if s is not None else None for s in specs]
        if all(fn is None for fn in self.losses):
            raise ValueError(f"{self.owner}: no loss to optimize (loss=None)")
        weights = self.loss_weights_spec
        self.weights = (
            [1.0] * n
            if weights is None
            else [
                1.0 if w is None else float(w)
                for w in _per_output(self.owner, weights, self.names, "loss_weights")
            ]
        )
        metric_specs = self._metric_specs(n)
        self.trackers = []
        for i, specs_i in enumerate(metric_specs):
            trackers = []
            for spec in specs_i or []:
                metric = _resolve_metric(self.owner, spec, self.losses[i])
                name = metric.name
                if n > 1:
                    name = f"{self.names[i]}_{name}"
                trackers.append(MetricTracker(name, metric))
            self.trackers.append(trackers)
        self.built = True

    def _metric_specs(self, n: int) -> list:
        spec = self.metrics_spec
        if spec is None:
            return [[] for _ in range(n)]
        if _is_per_output(spec):
            per = _per_output(self.owner, spec, self.names, "metrics")
            # an output missing from the dict (None) simply has no metrics
            return [list(m) if isinstance(m, (list, tuple)) else [m] if m else []
                    for m in per]  # fmt: skip
        if (
            n > 1
            and isinstance(spec, (list, tuple))
            and all(isinstance(m, (list, tuple)) or m is None for m in spec)
        ):
            return [
                list(m or [])
                for m in _per_output(self.owner, spec, self.names, "metrics")
            ]
        spec = list(spec) if isinstance(spec, (list, tuple)) else [spec]
        return [spec for _ in range(n)]

    def loss(self, y_true: list, y_pred: list, sample_weight=None):
        """The weighted total loss Tensor and the per-output loss values."""
        total, parts = None, []
        for fn, w, t, p in zip(self.losses, self.weights, y_true, y_pred, strict=True):
            if fn is None:
                parts.append(None)
                continue
            value = fn(t, p, sample_weight=sample_weight)
            parts.append(value)
            term = value if w == 1.0 else value * w
            total = term if total is None else total + term
        return total, parts

    def update_metrics(self, y_true: list, y_pred: list, sample_weight=None) -> None:
        """Update every tracker with one batch (ndarrays)."""
        for trackers, t, p in zip(self.trackers, y_true, y_pred, strict=True):
            for tracker in trackers:
                tracker.update(t, p, sample_weight)

    def reset_metrics(self) -> None:
        """Start a new epoch."""
        for trackers in self.trackers:
            for tracker in trackers:
                tracker.reset()

    def metric_results(self) -> dict[str, float]:
        """``{name: value}`` of every tracker."""
        return {t.name: t.result() for ts in self.trackers for t in ts}

    def get_config(self) -> dict:
        """The compile arguments as JSON data (built-in losses and names only)."""
        return {
            "loss": _serialize_nest(self.loss_spec, losses_module),
            "metrics": _serialize_nest(self.metrics_spec, _metrics_module()),
            "loss_weights": self.loss_weights_spec,
        }


def _metrics_module():
    from numnet import metrics

    return metrics


def _serialize_nest(spec, module):
    if spec is None or isinstance(spec, (str, int, float)):
        return spec
    if _is_per_output(spec):
        return {k: _serialize_nest(v, module) for k, v in spec.items()}
    if isinstance(spec, dict):
        return spec
    if isinstance(spec, (list, tuple)):
        return [_serialize_nest(v, module) for v in spec]
    return module.serialize(spec)
