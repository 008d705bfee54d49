"""Callback, CallbackList and History: the hooks of the training loop.

``fit`` calls, in order::

    on_train_begin
      on_epoch_begin(epoch)
        on_train_batch_begin(batch) ... on_train_batch_end(batch, logs)   per batch
        on_test_begin ... on_test_batch_*(batch) ... on_test_end          validation
      on_epoch_end(epoch, logs)          logs: {"loss": ..., "val_loss": ...}
    on_train_end(logs)                   logs: the last epoch's logs

Every hook receives ``logs`` as a dict (``{}`` when there is nothing to
report), passed positionally as Keras does, so ``def on_train_begin(self, logs)``
and ``LambdaCallback(on_train_begin=lambda logs: ...)`` both work.

``evaluate`` calls the ``on_test_*`` hooks and ``predict`` the ``on_predict_*``
ones. A callback reaches the model as ``self.model`` and stops training with
``self.model.stop_training = True``.
"""

from __future__ import annotations

_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class Callback:
    """Base class: override the hooks you need (all do nothing by default).

    Attributes:
        model: the model being trained (set by ``fit``).
        params: ``{"epochs": ..., "steps": ..., "verbose": ...}``.
    """

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        """Attach the model (called by the training loop)."""
        self.model = model

    def set_params(self, params: dict) -> None:
        """Receive the loop parameters (epochs, steps, verbose)."""
        self.params = dict(params)

    def on_train_begin(self, logs=None):
        """Called once at the start of ``fit``."""

    def on_train_end(self, logs=None):
        """Called once at the end of ``fit`` (also after an early stop)."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of each epoch (``epoch`` counts from 0)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of each epoch with the epoch's metrics in ``logs``."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before each training batch."""

    def on_train_batch_end(self, batch, logs=None):
        """Called after each training batch; ``logs`` hold the running means."""

    def on_test_begin(self, logs=None):
        """Called at the start of ``evaluate`` (and of validation)."""

    def on_test_end(self, logs=None):
        """Called at the end of ``evaluate``."""

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after each evaluation batch."""

    def on_predict_begin(self, logs=None):
        """Called at the start of ``predict``."""

    def on_predict_end(self, logs=None):
        """Called at the end of ``predict``."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each prediction batch."""

    # Keras 2 names
    def on_batch_begin(self, batch, logs=None):
        """Alias of :meth:`on_train_batch_begin` kept for Keras 2 code."""

    def on_batch_end(self, batch, logs=None):
        """Alias of :meth:`on_train_batch_end` kept for Keras 2 code."""


_ALIASES = {
    "on_train_batch_begin": "on_batch_begin",
    "on_train_batch_end": "on_batch_end",
}


def _overrides(callback, hook: str) -> bool:
    method = getattr(type(callback), hook, None)
    if method is not None and method is not getattr(Callback, hook):
        return True
    return hook in getattr(callback, "__dict__", {})  # LambdaCallback instances


class CallbackList:
    """Dispatch every hook to a list of callbacks, in order.

    Only callbacks that override a per-batch hook are called per batch, so an
    empty hook costs nothing in the inner loop.

    Args:
        callbacks: the user's callbacks.
        model: the model to attach.
        **params: loop parameters passed to ``set_params``.
    """

    def __init__(self, callbacks=None, model=None, **params):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"invalid value for argument 'callbacks'. Expected Callback "
                    f"instances. Received: {type(cb).__name__} {cb!r}"
                )
        self.model = model
        self.params = params
        for cb in self.callbacks:
            if model is not None:
                cb.set_model(model)
            cb.set_params(params)
        # hook -> bound methods to call; Keras 2's on_batch_* run with on_train_batch_*
        self._methods = {hook: [] for hook in _HOOKS}
        for cb in self.callbacks:
            for hook in _HOOKS:
                if _overrides(cb, hook):
                    self._methods[hook].append(getattr(cb, hook))
            for hook, alias in _ALIASES.items():
                if _overrides(cb, alias):
                    self._methods[hook].append(getattr(cb, alias))

    def append(self, callback: Callback) -> None:
        """Add a callback (before training starts)."""
        self.__init__(self.callbacks + [callback], self.model, **self.params)

    def _call(self, hook: str, *args) -> None:
        for method in self._methods[hook]:
            method(*args)

    def wants(self, hook: str) -> bool:
        """True when some callback overrides ``hook`` (lets the loop skip work)."""
        return bool(self._methods[hook])

    def __iter__(self):
        return iter(self.callbacks)


#: hooks whose first argument is an epoch or batch index (then ``logs``)
_INDEXED = {h for h in _HOOKS if "epoch" in h or "batch" in h}


def _make_dispatcher(hook: str):
    arity = 2 if hook in _INDEXED else 1

    def dispatch(self, *args):
        # Keras passes ``logs`` positionally and never as None: a hook written as
        # ``def on_train_begin(self, logs)`` or a lambda taking logs must work.
        args = list(args) + [None] * (arity - len(args))
        if args[-1] is None:
            args[-1] = {}
        self._call(hook, *args)

    dispatch.__name__ = hook
    dispatch.__doc__ = f"Call ``{hook}`` on every callback."
    return dispatch


for _hook in _HOOKS:
    setattr(CallbackList, _hook, _make_dispatcher(_hook))


class History(Callback):
    """Records the epoch logs: ``history.history["val_loss"]`` etc.

    ``fit`` always adds one and returns it.

    Attributes:
        history: metric name -> list of per-epoch values.
        epoch: the epoch indices that ran.
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
