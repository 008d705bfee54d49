"""One batch of Model.fit/evaluate: the training flags, the step call and its
logs (as floats; on a device, converted only now and then)."""

from __future__ import annotations

import contextlib
import sys
import time

from numnet import callbacks as callbacks_module
from numnet.layers.base import Layer
from numnet.models import data_adapter as da
from numnet.models import steps as step_fns


class train_mode:  # noqa: N801 - used as a function: ``with train_mode(model):``
    """Training flags on (Dropout, BatchNorm), restored afterwards.

    One walk of the layer tree (``_descendants``: each layer once, however
    often it is shared) records every flag, then sets it; when some layer has
    its own ``train()``, every flag is cleared and ``model.train()`` called,
    as before.
    """

    __slots__ = ("model", "saved")

    def __init__(self, model):
        self.model = model

    def __enter__(self) -> None:
        every = [self.model, *self.model._descendants()]  # each layer once
        self.saved = [(layer, layer.training) for layer in every]
        if any(type(layer).train is not Layer.train for layer in every):
            for layer in every:  # as before: every flag off, then model.train()
                layer.training = False
            self.model.train()
            return
        for layer in every:
            layer.training = True

    def __exit__(self, *exc) -> None:
        for layer, flag in self.saved:
            layer.training = flag


def run_train_step(model, xb, yb, swb) -> dict:
    """``model.train_step`` on one batch; the logs as floats."""
    logs = model.train_step(step_fns.pack_x_y_sample_weight(xb, yb, swb))
    return _checked(model, _float_logs(model, "train_step", logs))


def run_test_step(model, xb, yb, swb) -> dict:
    """``model.test_step`` on one batch; the logs as floats."""
    logs = model.test_step(step_fns.pack_x_y_sample_weight(xb, yb, swb))
    return _checked(model, _float_logs(model, "test_step", logs))


def _checked(model, logs: dict) -> dict:
    """``logs``, after the device's deferred checks (the logs synced it anyway)."""
    if _on_a_device(da.model_device(model)):
        _raise_device_errors()
    return logs


def _float_logs(model, method: str, logs) -> dict:
    if not isinstance(logs, dict):
        raise TypeError(
            f"{model.name}.{method} must return a dict of logs such as "
            f"{{'loss': value}} (Keras 3). Received: {type(logs).__name__}"
        )
    return {k: step_fns.log_value(v) for k, v in logs.items()}


def _device_scope(model):
    """New arrays on the model's device while it runs (CuPy: the current GPU)."""
    device = da.model_device(model)
    return contextlib.nullcontext() if device is None else device.scope()


def _on_a_device(device) -> bool:
    return device is not None and device.type != "cpu"


class _DeviceLogs:
    """Batch logs of a model on a device, converted to floats (a host sync)
    only every ``INTERVAL`` seconds, for the progress bar, and at the end of
    the epoch. A callback other than the progress bar that reads batch logs
    gets exact values at every batch."""

    INTERVAL = 0.5

    def __init__(self, model, cbs, mode: str = "train"):
        self.model, self.raw, self.logs, self.last = model, {}, {}, -1e9
        self.method, hook = f"{mode}_step", f"on_{mode}_batch_end"
        quiet = (callbacks_module.ProgbarLogger, callbacks_module.History)
        default = getattr(callbacks_module.Callback, hook)
        self.every_batch = any(
            not isinstance(c, quiet) and getattr(type(c), hook) is not default
            for c in cbs
        )

    def step(self, raw) -> dict:
        self.raw = raw
        now = time.monotonic()
        if self.every_batch or now - self.last >= self.INTERVAL:
            self.logs, self.last = _float_logs(self.model, self.method, raw), now
            _raise_device_errors()
        return self.logs

    def final(self) -> dict:
        logs = _float_logs(self.model, self.method, self.raw)
        _raise_device_errors()
        return logs


def _raise_device_errors() -> None:
    """Raise what GPU kernels found without a host sync (labels out of range in
    ``cupy_loss``), where the logs are read from the device anyway."""
    loss_kernels = sys.modules.get("numnet.backend.cupy_loss")
    if loss_kernels is not None:  # loaded: CuPy is in use
        loss_kernels.check_labels()
