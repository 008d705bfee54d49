"""Model: a Layer that trains (compile/fit/evaluate/predict) and summarizes itself.

Subclass it and define ``call(self, x, training=False)`` for any define-by-run
architecture; use ``Sequential`` for a stack of layers or
``Model(inputs, outputs)`` for a functional graph.

The training step (``train_on_batch`` and every batch of ``fit``)::

    y_pred = model(x, training=True)            # forward, train mode
    loss = compiled_loss(y, y_pred) + model.regularization_loss()
    zero grads; loss.backward()                 # backward
    optimizer.apply(model.trainable_weights)    # update, in place
    metrics.update(y, y_pred.data)              # on ndarrays, no graph

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

import numpy as np

from numnet import optimizers as optimizers_module
from numnet.autograd.function import no_grad
from numnet.layers.base import Layer
from numnet.layers.symbolic import inference_mode
from numnet.models import training
from numnet.models.compile_utils import Compiled
from numnet.models.data_adapter import as_arrays
from numnet.models.summary import infer_output_shapes, layer_outputs, summary_text


class Model(Layer):
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

    @property
    def layers(self) -> list[Layer]:
        """The direct child layers, in the order they were assigned."""
        return list(self.layers_iter())

    def build(self, input_shape) -> None:
        """Build every child by one dry run on zeros of ``input_shape``.

        ``input_shape`` includes the batch axis (None or an int); a list of
        shapes for several inputs. The dry run uses a batch of one, in inference
        mode under ``no_grad()``, so BatchNorm statistics are untouched.
        """
        self._build_input_shape = _none_batch(input_shape)
        if not self.built and type(self).call is not Model.call:
            self.built = True  # before the run: __call__ must not build again
            with no_grad(), inference_mode(self):  # unknown sizes stay None
                infer_output_shapes(
                    lambda x: [(self, self(x, training=False))],
                    self._build_input_shape,
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
        self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None
    ) -> None:
        """Configure training.

        Args:
            optimizer: an Optimizer or a name ("adam", "sgd", ...).
            loss: a loss name, Loss object or function; a list or a dict keyed by
                output name for several outputs.
            metrics: metric names/objects, e.g. ``["accuracy"]`` (resolved by the
                loss: sparse/categorical/binary accuracy); a dict for outputs.
            loss_weights: scalars weighting each output's loss.

        Raises:
            ValueError: for unknown loss/optimizer/metric names (listing the
                valid ones) or a missing loss.
        """
        if loss is None:
            raise ValueError(
                f"{self.name}: invalid value for argument 'loss'. Expected a loss "
                f"name such as 'sparse_categorical_crossentropy', a Loss or a "
                f"function. Received: loss=None"
            )
        self.optimizer = optimizers_module.get(optimizer)
        self.compiled = Compiled(self, loss, metrics, loss_weights)
        self.stop_training = False

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

        Returns:
            The History: ``history.history["loss"]``, ``["val_accuracy"]``, ...

        Raises:
            RuntimeError: when the model is not compiled.
            ValueError: on inconsistent data (e.g. x and y of different lengths).

        Pressing Ctrl-C stops training cleanly after the current batch: the
        weights are kept and the history so far is returned.
        """
        self._require_compiled("fit")
        return training.fit(self, **{k: v for k, v in locals().items() if k != "self"})

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
        compiled = self._require_compiled("train_on_batch")
        x, y, sample_weight = (as_arrays(d) for d in (x, y, sample_weight))
        if class_weight is not None:
            sample_weight = training.class_weights(self, class_weight, y)
        if compiled.built:
            compiled.reset_metrics()
        self._regularized_cache = bool(self._all_regularized())
        with training.train_mode(self):
            logs = training.train_step(self, x, y, sample_weight, self._params())
        logs.update(compiled.metric_results())
        return logs if return_dict else _collapse(logs)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, in inference mode."""
        compiled = self._require_compiled("test_on_batch")
        x, y, sample_weight = (as_arrays(d) for d in (x, y, sample_weight))
        if compiled.built:
            compiled.reset_metrics()
        self._regularized_cache = bool(self._all_regularized())
        with no_grad(), inference_mode(self):
            logs = training.test_step(self, x, y, sample_weight)
        logs.update(compiled.metric_results())
        return logs if return_dict else _collapse(logs)

    def predict_on_batch(self, x):
        """Outputs for one batch as ndarrays."""
        with no_grad(), inference_mode(self):
            out = self(as_arrays(x), training=False)
        return training.to_numpy(out)

    def _params(self) -> list:
        return self.trainable_weights

    def summary(self, line_length: int = 65, print_fn=None) -> str:
        """Print (and return) the Keras table: layer, output shape, params.

        Args:
            line_length: total width of the table.
            print_fn: called with the text (default ``print``).

        Raises:
            ValueError: when the model is not built yet (the message lists how
                to build it).
        """
        text = summary_text(self, line_length)
        (print_fn or print)(text)
        return text

    def layer_outputs(self, x) -> list[tuple[str, np.ndarray]]:
        """``[(layer name, activation)]`` of every layer for the batch ``x``.

        Runs in inference mode under ``no_grad()``; for visualising feature
        maps and activations.
        """
        return layer_outputs(self, x)

    def get_compile_config(self) -> dict | None:
        """The compile arguments as JSON data (None before compile)."""
        if self.compiled is None:
            return None
        return {
            "optimizer": optimizers_module.serialize(self.optimizer),
            **self.compiled.get_config(),
        }

    def save(self, filepath, include_optimizer: bool = True) -> None:
        """Save architecture, weights (and optimizer state) to one ``.npz``.

        See :func:`numnet.saving.save_model`.
        """
        from numnet import saving

        saving.save_model(self, filepath, include_optimizer=include_optimizer)

    def save_weights(self, filepath) -> None:
        """Save only the weights to a ``.npz`` (atomic write)."""
        from numnet import saving

        saving.save_weights(self, filepath)

    def load_weights(self, filepath) -> None:
        """Load weights saved by :meth:`save_weights` or :meth:`save`."""
        from numnet import saving

        saving.load_weights(self, filepath)


def _none_batch(shape):
    if isinstance(shape, list):
        return [_none_batch(s) for s in shape]
    return (None,) + tuple(shape)[1:]


def _collapse(logs: dict):
    values = list(logs.values())
    return values[0] if len(values) == 1 else values
