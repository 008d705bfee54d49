"""The loops behind Model.fit/evaluate/predict and the single-batch steps."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

import numpy as np

from numnet import callbacks as callbacks_module
from numnet.autograd.function import no_grad
from numnet.callbacks.progbar import _dynamic_interval
from numnet.layers.symbolic import inference_mode
from numnet.models import _validation
from numnet.models import data_adapter as da
from numnet.models import steps as step_fns
from numnet.models._batch_steps import (  # noqa: F401 (re-export: training.<name>)
    _checked,
    _device_scope,
    _DeviceLogs,
    _float_logs,
    _on_a_device,
    _raise_device_errors,
    run_test_step,
    run_train_step,
    train_mode,
)
from numnet.models.steps import to_numpy


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
    targets = step_fns.as_list(y)
    if len(targets) != 1:
        raise ValueError(
            f"{model.name}: class_weight is only supported for models with one "
            f"output; use sample_weight instead"
        )
    return da.class_weight_to_sample_weight(model.name, class_weight, targets[0])


def needs_targets(model, step: str = "train_step") -> bool:
    """Whether batches must hold y: a compiled loss with the default ``step``."""
    compiled = model.compiled
    default = getattr(type(model), step) is getattr(step_fns.TrainingSteps, step)
    return default and compiled is not None and compiled.loss_spec is not None


def fit(
    model,
    *,
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
    distributed=False,
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
        owner, x, y, sample_weight, batch_size, shuffle, steps_per_epoch,
        needs_y=needs_targets(model),
    )  # fmt: skip
    val = _validation_batches(
        model, owner, validation_data, validation_batch_size or batch_size,
        validation_steps,
    )  # fmt: skip
    verbose = resolve_verbose(verbose)
    strategy = _data_parallel(model, distributed)  # distributed: numnet.distributed
    if strategy is not None:
        data, val, callbacks, verbose = strategy.prepare(
            owner, data, val, callbacks, verbose
        )
    history = callbacks_module.History()
    cbs = _callback_list(model, callbacks, history, verbose, epochs, data.steps)
    model.stop_training = False
    model._fit_interrupted = False
    model.history = history
    scope = strategy.scope(data) if strategy else contextlib.nullcontext()
    with _InterruptFlag() as interrupt, train_mode(model), _device_scope(model), scope:
        model._initial_epoch = initial_epoch  # BackupAndRestore may move it
        cbs.on_train_begin()
        logs = _run_epochs(model, data, val, cbs, range(model._initial_epoch, epochs),
                           interrupt, strategy)  # fmt: skip
        _finalize_optimizer(model)
        cbs.on_train_end(logs)
    model._params_cache = None
    return history


def _run_epochs(model, data, val, cbs, epochs, interrupt, strategy) -> dict:
    """The epoch loop of ``fit``; returns the last epoch's logs."""
    logs = {}
    for epoch in epochs:
        logs = _fit_epoch(model, data, cbs, epoch, interrupt, strategy)
        if val is not None and not interrupt.raised:
            with no_grad(), inference_mode(model):
                val_logs = _run_test(model, val, cbs, strategy, interrupt)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        model._fit_interrupted = interrupt.raised  # ModelCheckpoint skips it
        cbs.on_epoch_end(epoch, logs)
        if strategy is not None:  # distributed: stop together
            strategy.agree_stop(interrupt)
        if interrupt.raised:
            _report_interrupt(epoch)
            break
        if model.stop_training:
            break
    return logs


def _finalize_optimizer(model) -> None:
    """Keras 3: an optimizer with ``use_ema`` writes its averages into the weights."""
    optimizer = getattr(model, "optimizer", None)
    if getattr(optimizer, "use_ema", False):
        optimizer.finalize_variable_values(model.trainable_weights)


def _validation_batches(model, owner, validation_data, batch_size, steps):
    """The validation batches of ``fit``, or None without validation data."""
    if validation_data is None:
        return None
    vx, vy, vsw = da.unpack_validation(owner, validation_data)
    return da.make_batches(
        owner, vx, vy, vsw, batch_size, False, steps,
        needs_y=needs_targets(model, "test_step"),
    )  # fmt: skip


def _data_parallel(model, distributed):
    """The DataParallel strategy for ``fit(distributed=True)``, else None."""
    if not distributed:
        return None
    from numnet.distributed import DataParallel  # imports mpi4py on demand

    return DataParallel(model)


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


def _fit_epoch(model, data, cbs, epoch, interrupt, strategy=None) -> dict:
    model.reset_metrics()
    if strategy is not None:
        strategy.begin_epoch()
    model._params_cache = model.trainable_weights
    model._regularized_cache = bool(model._all_regularized())
    cbs.on_epoch_begin(epoch)
    logs = {}
    batch_begin = cbs.wants("on_train_batch_begin")
    device = da.model_device(model)
    batches = da.device_batches(data.epoch_iterator(), device)
    throttle = _DeviceLogs(model, cbs) if _on_a_device(device) else None
    for step, (xb, yb, swb) in enumerate(batches):
        if batch_begin:
            cbs.on_train_batch_begin(step)
        if throttle is None:
            logs = run_train_step(model, xb, yb, swb)
        else:
            batch = step_fns.pack_x_y_sample_weight(xb, yb, swb)
            logs = throttle.step(model.train_step(batch))
        if strategy is not None:  # distributed: global running logs, shared flags
            logs = strategy.train_logs(logs, interrupt)
        cbs.on_train_batch_end(step, dict(logs))
        if model.stop_training or interrupt.raised:
            break
    if throttle is not None and throttle.raw:
        logs = throttle.final()
    if strategy is not None:
        return strategy.epoch_logs()
    return dict(logs)


def _report_interrupt(epoch: int) -> None:
    sys.stderr.write(
        f"\nTraining interrupted (Ctrl-C) during epoch {epoch + 1}: stopped after "
        f"the current batch; the weights are kept and the history so far is "
        f"returned.\n"
    )


def _run_test(model, data, cbs, strategy=None, interrupt=None) -> dict:
    model.reset_metrics()
    model._regularized_cache = bool(model._all_regularized())
    cbs.on_test_begin()
    logs = {}
    device = da.model_device(model)
    batches = da.device_batches(data.epoch_iterator(), device)
    throttle = _DeviceLogs(model, cbs, "test") if _on_a_device(device) else None
    for step, (xb, yb, swb) in enumerate(batches):
        cbs.on_test_batch_begin(step)
        if throttle is None:
            logs = run_test_step(model, xb, yb, swb)
        else:
            batch = step_fns.pack_x_y_sample_weight(xb, yb, swb)
            logs = throttle.step(model.test_step(batch))
        cbs.on_test_batch_end(step, dict(logs))
        if interrupt is not None and interrupt.raised:  # Ctrl-C: stop here too
            break
    if throttle is not None and throttle.raw:
        logs = throttle.final()
    if strategy is not None:  # distributed: the metrics' states summed over ranks
        logs = strategy.test_logs(logs)
    cbs.on_test_end(dict(logs))
    return dict(logs)


def evaluate(model, x, y, batch_size, verbose, sample_weight, steps, callbacks):
    """See :meth:`Model.evaluate`."""
    owner = f"{model.name}.evaluate"
    _validation.validate_evaluate_arguments(
        model, x, y, steps=steps, callbacks=callbacks
    )
    data = da.make_batches(
        owner, x, y, sample_weight, batch_size, False, steps,
        needs_y=needs_targets(model, "test_step"),
    )  # fmt: skip
    verbose = resolve_verbose(verbose)
    extra = [callbacks_module.ProgbarLogger()] if verbose == 1 else []
    cbs = callbacks_module.CallbackList(
        list(callbacks or []) + extra, model=model, steps=data.steps, verbose=verbose
    )
    with no_grad(), inference_mode(model), _device_scope(model):
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
    with no_grad(), inference_mode(model), _device_scope(model):
        batches = da.device_batches(data.epoch_iterator(), da.model_device(model))
        for step, (xb, _, _) in enumerate(batches):
            cbs.on_predict_batch_begin(step)
            out = model.predict_step(step_fns.pack_x_y_sample_weight(xb))
            outputs.append(to_numpy(out))
            cbs.on_predict_batch_end(step, {"outputs": outputs[-1]})
    cbs.on_predict_end()
    if not outputs:
        raise ValueError(f"{owner}: received no data to predict on")
    if isinstance(outputs[0], list):
        return [np.concatenate(parts) for parts in zip(*outputs, strict=True)]
    return np.concatenate(outputs)
