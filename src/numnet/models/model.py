"""Model: a Layer that trains (compile/fit/evaluate/predict) and summarizes itself.

Subclass it and define ``call(self, x, training=False)`` for any define-by-run
architecture; use ``Sequential`` for a stack of layers or
``Model(inputs, outputs)`` for a functional graph.

The training step (``train_on_batch`` and every batch of ``fit``) is the
overridable :meth:`Model.train_step` (see ``numnet/models/steps.py``)::

    y_pred = model(x, training=True)                       # forward, train mode
    loss = model.compute_loss(x, y, y_pred, sample_weight)  # + model.losses
    zero grads; loss.backward()                            # backward
    optimizer.apply(grads, model.trainable_weights)        # update, in place
    return model.compute_metrics(x, y, y_pred, sample_weight)   # the logs

Example:
    >>> import numpy as np
    >>> from numnet import layers, models
    >>> class TwoLayer(models.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = layers.Dense(8, activation="relu")
    ...         self.out = layers.Dense(1)
    ...     def call(self, x, training=False):
    ...         return self.out(self.hidden(x))
    >>> model = TwoLayer()
    >>> model.compile(optimizer="adam", loss="mse")
    >>> x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    >>> history = model.fit(x, x[:, :1], epochs=2, verbose=0)
    >>> sorted(history.history)
    ['loss']
"""

from __future__ import annotations

from numnet import optimizers as optimizers_module
from numnet.autograd.function import no_grad
from numnet.layers.base import Layer
from numnet.layers.symbolic import dry_run, inference_mode
from numnet.models import data_adapter as da
from numnet.models import training
from numnet.models._graph_access import GraphAccess
from numnet.models.compile_utils import Compiled
from numnet.models.data_adapter import as_arrays
from numnet.models.model_io import ModelPersistence
from numnet.models.steps import TrainingSteps, pack_x_y_sample_weight
from numnet.models.summary import (
    infer_output_shapes,
    zeros_for,
)


class Model(ModelPersistence, TrainingSteps, GraphAccess, Layer):
    """Base class of trainable models (Keras's ``Model``).

    ``Model(inputs, outputs)`` builds a functional model; ``Model()`` in a
    subclass starts a define-by-run model whose ``call`` you write.

    Attributes:
        optimizer: the optimizer given to :meth:`compile`.
        stop_training: set to True (by a callback) to end ``fit`` after the
            current batch.
        history: the :class:`~numnet.callbacks.History` of the last ``fit``.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from numnet.models.functional import Functional

            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, name=None, trainable=True, **kwargs):
        if args:
            raise TypeError(
                f"{type(self).__name__}: unexpected positional arguments {args}; "
                f"use Model(inputs, outputs) for a functional model or subclass "
                f"Model and define call()"
            )
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.optimizer = None
        self.compiled = None
        self.stop_training = False
        self.history = None
        self._build_input_shape = None
        self._regularized_cache = True  # refreshed by fit at each epoch
        self._params_cache = None  # trainable weights, fixed during a fit epoch
        self._loss_parts = None  # per-output losses of the last compute_loss

    def build(self, input_shape) -> None:
        """Build every child by one dry run on zeros of ``input_shape``.

        ``input_shape`` includes the batch axis (None or an int); a list of
        shapes for several inputs. The dry run uses a batch of one, in inference
        mode under ``no_grad()``, so BatchNorm statistics are untouched.
        """
        self._build_input_shape = _none_batch(input_shape)
        if not self.built and type(self).call is not Model.call:
            self.built = True  # before the run: __call__ must not build again
            shape = self._build_input_shape
            with no_grad(), inference_mode(self), dry_run():
                if isinstance(shape, dict):  # named inputs: one run on zeros
                    self(_zeros(shape, self.dtype), training=False)
                else:  # unknown sizes stay None
                    infer_output_shapes(
                        lambda x: [(self, self(x, training=False))],
                        shape,
                        self.dtype,
                    )
        self.built = True

    def call(self, x, training: bool = False):
        """Override in subclasses: the forward computation."""
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of Model must define "
            f"call(self, x, training=False)"
        )

    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        loss_weights=None,
        device=None,
    ) -> None:
        """Configure training.

        Args:
            optimizer: an Optimizer or a name ("adam", "sgd", ...).
            loss: a loss name, Loss object or function; a list or a dict keyed by
                output name for several outputs. None is allowed when the
                model adds its loss with ``add_loss`` or overrides
                ``train_step``/``compute_loss`` (Keras 3).
            metrics: metric names/objects, e.g. ``["accuracy"]`` (resolved by the
                loss: sparse/categorical/binary accuracy); a dict for outputs.
            loss_weights: scalars weighting each output's loss.
            device: train on this device (``"cuda"``, ``"cpu"``...): the same as
                ``model.to(device)`` before compiling.

        Raises:
            ValueError: for unknown loss/optimizer/metric names (listing the
                valid ones).
        """
        self.optimizer = optimizers_module.get(optimizer)
        self.compiled = Compiled(self, loss, metrics, loss_weights)
        self.stop_training = False
        if device is not None:
            self.to(device)

    def to(self, device) -> Model:
        """Move the weights, buffers and optimizer slots to ``device``; return self.

        ``fit``/``evaluate``/``predict`` then move each batch there.
        """
        super().to(device)
        optimizer = self.__dict__.get("optimizer")
        if optimizer is not None and hasattr(optimizer, "to"):
            optimizer.to(device)
        return self

    def _require_compiled(self, method: str) -> Compiled:
        if self.compiled is None:
            raise RuntimeError(
                f"{self.name}: you must call compile() before {method}(). Example: "
                f"model.compile(optimizer='adam', "
                f"loss='sparse_categorical_crossentropy', metrics=['accuracy'])"
            )
        return self.compiled

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        distributed=False,
    ):
        """Train for ``epochs`` epochs; return the :class:`History`.

        Args:
            x: inputs: an array (a list/dict of arrays for several inputs), or a
                re-iterable of ``(x, y)`` batches (e.g. a ``DataLoader``), or a
                generator (then give ``steps_per_epoch``).
            y: targets, for array inputs.
            batch_size: samples per step for arrays (default 32).
            epochs: index of the last epoch (training runs from
                ``initial_epoch`` to ``epochs``).
            verbose: "auto" (1 on a terminal or notebook, else 2), 0 silent,
                1 live progress bar, 2 one line per epoch.
            callbacks: a list of :class:`~numnet.callbacks.Callback`.
            validation_split: fraction of the arrays (taken from the end,
                before shuffling) held out for validation.
            validation_data: ``(x_val, y_val)`` or an iterable of batches.
            shuffle: reshuffle the arrays before each epoch.
            class_weight: ``{class index: weight}`` to weight the loss.
            sample_weight: per-sample loss weights (arrays only).
            initial_epoch: the epoch to start from (to resume training).
            steps_per_epoch: batches per epoch (required for generators).
            validation_steps: batches per validation run.
            validation_batch_size: batch size of the validation arrays.
            distributed: data-parallel training over the ranks of an MPI job
                (``mpiexec -n 4 python train.py``; see :mod:`numnet.distributed`):
                ``batch_size`` is per rank, gradients are averaged over ranks,
                logs are global and only rank 0 prints and saves.

        Returns:
            The History: ``history.history["loss"]``, ``["val_accuracy"]``, ...

        Raises:
            RuntimeError: when the model is not compiled.
            ValueError: on inconsistent data (e.g. x and y of different lengths).

        Pressing Ctrl-C stops training cleanly after the current batch: the
        weights are kept and the history so far is returned.
        """
        self._require_compiled("fit")
        return training.fit(
            self,
            x=x,
            y=y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            class_weight=class_weight,
            sample_weight=sample_weight,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps,
            validation_batch_size=validation_batch_size,
            distributed=distributed,
        )

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
    ):
        """Loss and metrics on the given data, in inference mode.

        Returns:
            The loss alone when there are no metrics, else ``[loss, *metrics]``;
            a dict ``{name: value}`` when ``return_dict``.
        """
        self._require_compiled("evaluate")
        logs = training.evaluate(
            self, x, y, batch_size, verbose, sample_weight, steps, callbacks
        )
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for ``x`` as ndarrays, batched, in inference mode, without graph.

        Args:
            x: an array (list/dict for several inputs) or an iterable of batches.
            batch_size: samples per batch (default 32).
            verbose: progress display, as in :meth:`fit`.
            steps: number of batches to run (for generators).
            callbacks: callbacks receiving the ``on_predict_*`` hooks.

        Returns:
            An ndarray, or a list of them for a model with several outputs.
        """
        return training.predict(self, x, batch_size, verbose, steps, callbacks)

    def train_on_batch(
        self, x, y, sample_weight=None, class_weight=None, return_dict=False
    ):
        """One training step on one batch; returns the loss (and metrics).

        Metrics are those of this batch alone.
        """
        self._require_compiled("train_on_batch")
        x, y, sample_weight = (as_arrays(d) for d in (x, y, sample_weight))
        if class_weight is not None:
            sample_weight = training.class_weights(self, class_weight, y)
        x, y, sample_weight = self._on_device(x, y, sample_weight)
        self.reset_metrics()
        self._regularized_cache = bool(self._all_regularized())
        with training.train_mode(self):
            logs = training.run_train_step(self, x, y, sample_weight)
        return logs if return_dict else _collapse(logs)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, in inference mode."""
        self._require_compiled("test_on_batch")
        x, y, sample_weight = (as_arrays(d) for d in (x, y, sample_weight))
        x, y, sample_weight = self._on_device(x, y, sample_weight)
        self.reset_metrics()
        self._regularized_cache = bool(self._all_regularized())
        with no_grad(), inference_mode(self):
            logs = training.run_test_step(self, x, y, sample_weight)
        return logs if return_dict else _collapse(logs)

    def _on_device(self, *parts) -> tuple:
        """A batch's parts on the model's device, as ``fit`` moves its batches."""
        target = da.model_device(self)
        return tuple(da.to_device(target, p) for p in parts)

    def predict_on_batch(self, x):
        """Outputs for one batch as ndarrays."""
        with no_grad(), inference_mode(self):
            out = self.predict_step(pack_x_y_sample_weight(as_arrays(x)))
        return training.to_numpy(out)

    def reset_states(self) -> None:
        """Reset the carried states of every stateful layer (RNN ``stateful=True``)."""
        for layer in self._descendants():
            if getattr(layer, "stateful", False) and hasattr(layer, "reset_states"):
                layer.reset_states()


def _none_batch(shape):
    if isinstance(shape, dict):
        return {k: _none_batch(s) for k, s in shape.items()}
    if isinstance(shape, list):
        return [_none_batch(s) for s in shape]
    return (None,) + tuple(shape)[1:]


def _zeros(shape, dtype):
    """Zeros of a batch of one for a shape, or a list/dict of shapes."""
    if isinstance(shape, dict):
        return {k: _zeros(s, dtype) for k, s in shape.items()}
    return zeros_for(shape, dtype)


def _collapse(logs: dict):
    values = list(logs.values())
    return values[0] if len(values) == 1 else values
