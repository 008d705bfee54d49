"""The loops behind Model.fit/evaluate/predict and the single-batch steps."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

import numpy as np

from numnet import callbacks as callbacks_module
from numnet.autograd.function import no_grad
from numnet.autograd.tensor import Tensor
from numnet.callbacks.progbar import _dynamic_interval
from numnet.layers.symbolic import inference_mode
from numnet.models import _validation
from numnet.models import data_adapter as da


def to_numpy(out):
    """Tensors (or lists of them) to ndarrays."""
    if isinstance(out, (list, tuple)):
        return [to_numpy(o) for o in out]
    return out.data if isinstance(out, Tensor) else np.asarray(out)


def _as_list(value) -> list:
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if da._is_container(value) else [value]


def _targets(model, y) -> list:
    names = getattr(model, "output_names", None)
    if isinstance(y, dict) and names:
        missing = [n for n in names if n not in y]
        if missing:
            raise ValueError(
                f"{model.name}: y is missing targets for outputs {missing}; "
                f"expected keys {names}"
            )
        return [y[n] for n in names]
    return _as_list(y)


def _batch_size(x) -> int:
    leaves = da.flatten(x)
    return len(leaves[0]) if leaves else 0


@contextlib.contextmanager
def train_mode(model) -> Iterator[None]:
    """Training flags on (Dropout, BatchNorm), restored afterwards."""
    with inference_mode(model):  # records and restores every flag
        model.train()
        yield


def train_step(model, x, y, sample_weight, params) -> dict:
    """Forward, loss, backward, update, metrics; return this batch's logs."""
    total, parts, true_arrays, pred_arrays = _forward_loss(
        model, x, y, sample_weight, training=True
    )
    for p in params:
        p.grad = None
    total.backward()
    model.optimizer.apply(params)
    model.compiled.update_metrics(true_arrays, pred_arrays, sample_weight)
    return _batch_logs(model.compiled, total, parts)


def _forward_loss(model, x, y, sample_weight, training: bool):
    """(total loss incl. regularization, per-output losses, targets, predictions)."""
    compiled = model.compiled
    y_pred = _as_list(model(x, training=training))
    y_true = _targets(model, y)
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"{model.name}: the model has {len(y_pred)} output(s) but y holds "
            f"{len(y_true)} target array(s)"
        )
    pred_arrays = [p.data for p in y_pred]
    true_arrays = [to_numpy(t) for t in y_true]
    if not compiled.built:
        compiled.build(true_arrays, pred_arrays)
    total, parts = compiled.loss(y_true, y_pred, sample_weight)
    reg = model.regularization_loss() if model._regularized_cache else None
    if reg is not None:
        total = total + reg
    return total, parts, true_arrays, pred_arrays


def _batch_logs(compiled, total, parts) -> dict:
    logs = {"loss": float(total.data)}
    if len(parts) > 1:
        for name, part in zip(compiled.names, parts, strict=True):
            if part is not None:
                logs[f"{name}_loss"] = float(part.data)
    return logs


def test_step(model, x, y, sample_weight) -> dict:
    """Loss and metric update for one batch, without gradients."""
    total, parts, true_arrays, pred_arrays = _forward_loss(
        model, x, y, sample_weight, training=False
    )
    model.compiled.update_metrics(true_arrays, pred_arrays, sample_weight)
    return _batch_logs(model.compiled, total, parts)


class _Mean:
    """Batch-size weighted running means of the loss entries."""

    def __init__(self):
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, logs: dict, n: int) -> None:
        for key, value in logs.items():
            self.sums[key] = self.sums.get(key, 0.0) + value * n
        self.count += n

    def result(self) -> dict:
        return {k: v / max(self.count, 1) for k, v in self.sums.items()}


def resolve_verbose(verbose) -> int:
    """ "auto" -> 1 where the bar can redraw (terminal, notebook), else 2."""
    if verbose == "auto":
        return 1 if _dynamic_interval(sys.stdout) is not None else 2
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(
            f"invalid value for argument 'verbose'. Expected 'auto', 0, 1 or 2. "
            f"Received: verbose={verbose!r}"
        )
    return int(verbose)


class _InterruptFlag:
    """Turns the first Ctrl-C during fit into a flag checked after each batch."""

    def __init__(self):
        self.raised = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        if self.raised:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.raised = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def class_weights(model, class_weight, y):
    """Sample weights for ``class_weight`` (single-output models only)."""
    targets = _as_list(y)
    if len(targets) != 1:
        raise ValueError(
            f"{model.name}: class_weight is only supported for models with one "
            f"output; use sample_weight instead"
        )
    return da.class_weight_to_sample_weight(model.name, class_weight, targets[0])


def fit(
    model,
    x,
    y,
    batch_size,
    epochs,
    verbose,
    callbacks,
    validation_split,
    validation_data,
    shuffle,
    class_weight,
    sample_weight,
    initial_epoch,
    steps_per_epoch,
    validation_steps,
    validation_batch_size,
):
    """See :meth:`Model.fit`."""
    owner = f"{model.name}.fit"
    _validation.validate_fit_arguments(
        model, x, y, epochs=epochs, initial_epoch=initial_epoch,
        steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
        validation_split=validation_split, shuffle=shuffle, class_weight=class_weight,
        sample_weight=sample_weight, callbacks=callbacks,
    )  # fmt: skip
    _validation.check_finite_inputs(model, owner, x=x, y=y, sample_weight=sample_weight)
    if validation_data is not None:
        vx, vy, vsw = da.unpack_validation(owner, validation_data)
        _validation.check_finite_inputs(model, owner, validation_x=vx, validation_y=vy)
    if validation_split and validation_data is None:
        (x, y, sample_weight), validation_data = da.split_validation(
            owner, x, y, sample_weight, validation_split
        )
    if class_weight is not None:
        if da.is_batch_source(x):
            raise ValueError(f"{owner}: class_weight needs array inputs")
        sample_weight = class_weights(model, class_weight, y)
    data = da.make_batches(
        owner, x, y, sample_weight, batch_size, shuffle, steps_per_epoch
    )
    val = None
    if validation_data is not None:
        vx, vy, vsw = da.unpack_validation(owner, validation_data)
        val = da.make_batches(
            owner,
            vx,
            vy,
            vsw,
            validation_batch_size or batch_size,
            False,
            validation_steps,
        )
    verbose = resolve_verbose(verbose)
    history = callbacks_module.History()
    cbs = _callback_list(model, callbacks, history, verbose, epochs, data.steps)
    model.stop_training = False
    model._fit_interrupted = False
    model.history = history
    with _InterruptFlag() as interrupt, train_mode(model):
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            logs = _fit_epoch(model, data, cbs, epoch, interrupt)
            if val is not None and not interrupt.raised:
                with no_grad(), inference_mode(model):
                    val_logs = _run_test(model, val, cbs, interrupt)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            model._fit_interrupted = interrupt.raised  # ModelCheckpoint skips it
            cbs.on_epoch_end(epoch, logs)
            if interrupt.raised:
                _report_interrupt(epoch)
                break
            if model.stop_training:
                break
        cbs.on_train_end()
    return history


def _callback_list(model, callbacks, history, verbose, epochs, steps):
    user = list(callbacks or [])
    extra = [callbacks_module.ProgbarLogger()] if verbose else []
    return callbacks_module.CallbackList(
        user + [history] + extra,
        model=model,
        epochs=epochs,
        steps=steps,
        verbose=verbose,
    )


def _fit_epoch(model, data, cbs, epoch, interrupt) -> dict:
    model.compiled.reset_metrics()
    params = model.trainable_weights
    model._regularized_cache = bool(model._all_regularized())
    cbs.on_epoch_begin(epoch)
    mean = _Mean()
    batch_begin = cbs.wants("on_train_batch_begin")
    for step, (xb, yb, swb) in enumerate(data.epoch_iterator()):
        if batch_begin:
            cbs.on_train_batch_begin(step)
        batch_logs = train_step(model, xb, yb, swb, params)
        mean.add(batch_logs, _batch_size(xb))
        logs = {**mean.result(), **model.compiled.metric_results()}
        cbs.on_train_batch_end(step, logs)
        if model.stop_training or interrupt.raised:
            break
    return {**mean.result(), **model.compiled.metric_results()}


def _report_interrupt(epoch: int) -> None:
    sys.stderr.write(
        f"\nTraining interrupted (Ctrl-C) during epoch {epoch + 1}: stopped after "
        f"the current batch; the weights are kept and the history so far is "
        f"returned.\n"
    )


def _metric_logs(model) -> dict:
    return model.compiled.metric_results()


def _run_test(model, data, cbs, interrupt=None) -> dict:
    model.compiled.reset_metrics()
    model._regularized_cache = bool(model._all_regularized())
    cbs.on_test_begin()
    mean = _Mean()
    for step, (xb, yb, swb) in enumerate(data.epoch_iterator()):
        cbs.on_test_batch_begin(step)
        mean.add(test_step(model, xb, yb, swb), _batch_size(xb))
        if cbs.wants("on_test_batch_end"):
            cbs.on_test_batch_end(step, {**mean.result(), **_metric_logs(model)})
        if interrupt is not None and interrupt.raised:  # Ctrl-C: stop here too
            break
    logs = {**mean.result(), **model.compiled.metric_results()}
    cbs.on_test_end(logs)
    return logs


def evaluate(model, x, y, batch_size, verbose, sample_weight, steps, callbacks):
    """See :meth:`Model.evaluate`."""
    owner = f"{model.name}.evaluate"
    _validation.validate_evaluate_arguments(
        model, x, y, steps=steps, callbacks=callbacks
    )
    data = da.make_batches(owner, x, y, sample_weight, batch_size, False, steps)
    verbose = resolve_verbose(verbose)
    extra = [callbacks_module.ProgbarLogger()] if verbose == 1 else []
    cbs = callbacks_module.CallbackList(
        list(callbacks or []) + extra, model=model, steps=data.steps, verbose=verbose
    )
    with no_grad(), inference_mode(model):
        return _run_test(model, data, cbs)


def predict(model, x, batch_size, verbose, steps, callbacks):
    """See :meth:`Model.predict`."""
    owner = f"{model.name}.predict"
    _validation.validate_evaluate_arguments(
        model, x, None, steps=steps, callbacks=callbacks, method="predict"
    )
    data = da.make_batches(
        owner, x, None, None, batch_size, False, steps, needs_y=False
    )
    verbose = resolve_verbose(verbose)
    extra = [callbacks_module.ProgbarLogger()] if verbose == 1 else []
    cbs = callbacks_module.CallbackList(
        list(callbacks or []) + extra, model=model, steps=data.steps, verbose=verbose
    )
    outputs = []
    cbs.on_predict_begin()
    with no_grad(), inference_mode(model):
        for step, (xb, _, _) in enumerate(data.epoch_iterator()):
            cbs.on_predict_batch_begin(step)
            outputs.append(to_numpy(model(xb, training=False)))
            cbs.on_predict_batch_end(step, {"outputs": outputs[-1]})
    cbs.on_predict_end()
    if not outputs:
        raise ValueError(f"{owner}: received no data to predict on")
    if isinstance(outputs[0], list):
        return [np.concatenate(parts) for parts in zip(*outputs, strict=True)]
    return np.concatenate(outputs)
