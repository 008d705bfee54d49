"""Keras 3's extension points of fit: train_step/test_step/predict_step/compute_loss,
model.metrics, add_loss, and the programs written against them (a GAN-style
train_step, a VAE with add_loss, a GradientTape loop)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import numnet
import numnet.functional as F
from numnet import callbacks, layers, losses, metrics, models, optimizers


@pytest.fixture
def data(rng):
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], np.float32))[:, None]
    return x, y


class CustomModel(models.Model):
    """The model of Keras's "Customizing what happens in fit()" guide."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)
        self.loss_tracker = metrics.Mean(name="loss")
        self.mae_metric = metrics.MeanAbsoluteError(name="mae")
        self.steps_seen = 0

    def call(self, x, training=False):
        return self.dense(x)

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = F.mean((y_pred - y) ** 2)
        self.zero_grad()
        loss.backward()
        self.optimizer.apply_gradients((w.grad, w) for w in self.trainable_weights)
        self.steps_seen += 1
        self.loss_tracker.update_state(loss.item())
        self.mae_metric.update_state(y, y_pred.data)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_fit_calls_an_overridden_train_step(data):
    x, y = data
    model = CustomModel()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05))  # no loss: Keras 3
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert model.steps_seen == 12
    assert sorted(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    # the epoch's logs are the last batch's (running) values; the trackers were
    # reset at each epoch start (model.metrics)
    assert model.loss_tracker.count == 4


def test_train_step_receives_x_alone_when_there_is_no_y(rng):
    seen = []

    class Unsupervised(models.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x, training=False):
            return self.dense(x)

        def train_step(self, data):
            seen.append(type(data))
            loss = F.mean(self(data, training=True) ** 2)
            grads = numnet.autograd.grad(loss, self.trainable_weights)
            self.optimizer.apply(grads, self.trainable_weights)
            return {"loss": loss}

    model = Unsupervised()
    model.compile(optimizer="sgd")
    history = model.fit(rng.normal(size=(8, 3)), batch_size=4, epochs=2, verbose=0)
    assert seen == [np.ndarray] * 4
    assert isinstance(history.history["loss"][0], float)


def test_test_step_predict_step_and_compute_loss_are_used(data):
    x, y = data
    calls = []

    class Model(models.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x, training=False):
            return self.dense(x)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                         training=True):  # fmt: skip
            calls.append("loss")
            return super().compute_loss(x, y, y_pred, sample_weight, training) * 0.0

        def test_step(self, data):
            calls.append("test")
            return super().test_step(data)

        def predict_step(self, data):
            calls.append("predict")
            return super().predict_step(data) + 1.0

    model = Model()
    model.compile(optimizer="sgd", loss="mse")
    before = model.predict(x, verbose=0)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), before)  # zero loss
    assert model.evaluate(x, y, batch_size=32, verbose=0) == 0.0
    assert calls.count("test") == 2 and calls.count("predict") == 4
    assert calls.count("loss") == 4


def test_train_step_must_return_a_dict(data):
    class Bad(models.Sequential):
        def train_step(self, data):
            return 1.0

    model = Bad([layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="must return a dict of logs"):
        model.fit(*data, verbose=0)


def test_fit_has_explicit_keyword_arguments():
    params = inspect.signature(models.Model.fit).parameters
    assert not any(p.kind is p.VAR_KEYWORD for p in params.values())
    for name in ("x", "y", "batch_size", "epochs", "validation_data", "callbacks"):
        assert name in params


def test_metrics_lists_loss_compiled_and_attribute_metrics(data):
    model = models.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.extra = metrics.Mean(name="extra")
    model.fit(*data, epochs=1, verbose=0)
    assert model.metrics_names == ["loss", "mae", "extra"]
    model.reset_metrics()
    assert model.metrics[0].count == 0


class VAE(models.Model):
    """A variational autoencoder whose KL term is an ``add_loss`` (Keras guide)."""

    def __init__(self, dim=6, latent=2):
        super().__init__()
        self.enc = layers.Dense(8, activation="relu")
        self.mean = layers.Dense(latent)
        self.log_var = layers.Dense(latent)
        self.dec = layers.Dense(dim)

    def call(self, x, training=False):
        h = self.enc(x)
        z_mean, z_log_var = self.mean(h), self.log_var(h)
        kl = -0.5 * F.mean(1 + z_log_var - z_mean**2 - F.exp(z_log_var))
        self.add_loss(kl)
        eps = np.random.default_rng(0).normal(size=z_mean.shape).astype(np.float32)
        return self.dec(z_mean + F.exp(0.5 * z_log_var) * eps)


def test_vae_add_loss_is_part_of_the_training_loss(rng):
    x = rng.normal(size=(32, 6)).astype(np.float32)
    vae = VAE()
    vae.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse")
    out = vae(x)
    assert len(vae.losses) == 1  # the KL term of the last call only
    vae(x)
    assert len(vae.losses) == 1
    mse = float(losses.MeanSquaredError()(x, out).data)
    expected = mse + float(vae.losses[0].data)
    assert vae.evaluate(x, x, batch_size=32, verbose=0) == pytest.approx(
        expected, rel=1e-5
    )
    history = vae.fit(x, x, batch_size=8, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    vae.compile(optimizer="adam")  # the KL term alone: no compiled loss, no y
    vae.fit(x, batch_size=8, epochs=1, verbose=0)


def test_activity_regularizer_adds_to_losses(rng):
    x = rng.normal(size=(5, 3)).astype(np.float32)
    dense = layers.Dense(2, activity_regularizer="l2", kernel_regularizer="l1")
    y = dense(x)
    assert len(dense.losses) == 2  # activity term, then the weight penalty
    np.testing.assert_allclose(dense.losses[0].data, 0.01 * np.sum(y.data**2),
                               rtol=1e-5)  # fmt: skip
    again = layers.Dense.from_config(dense.get_config())
    assert again.activity_regularizer is not None


def test_gradient_tape_training_loop(data):
    """The "training loop from scratch" guide with numnet.autograd.GradientTape."""
    x, y = data
    model = models.Sequential([layers.Dense(8, activation="relu"), layers.Dense(1)])
    optimizer = optimizers.Adam(learning_rate=0.02)
    loss_fn = losses.MeanSquaredError()
    first = None
    for step in range(40):
        xb, yb = x[step % 4 * 16 :][:16], y[step % 4 * 16 :][:16]
        with numnet.autograd.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))
        first = float(loss.data) if first is None else first
    assert float(loss.data) < 0.5 * first
    assert all(w.grad is None for w in model.trainable_weights)  # untouched


def test_gan_step_updates_only_the_chosen_weights(rng):
    generator = layers.Dense(3)
    discriminator = layers.Dense(1)
    z = rng.normal(size=(4, 2)).astype(np.float32)
    fake = generator(z)
    discriminator(fake)
    d_before = [w.data.copy() for w in discriminator.weights]
    discriminator.kernel.grad = np.full(discriminator.kernel.shape, 7.0, np.float32)
    g_opt = optimizers.SGD(learning_rate=0.1)
    with numnet.autograd.GradientTape() as tape:
        g_loss = -F.mean(discriminator(generator(z)))
    grads = tape.gradient(g_loss, generator.trainable_weights)
    g_opt.apply(grads, generator.trainable_weights)
    for w, before in zip(discriminator.weights, d_before, strict=True):
        np.testing.assert_array_equal(w.data, before)
    assert np.all(discriminator.kernel.grad == 7.0)  # its .grad was not touched


def test_custom_callback_reads_logs_in_every_hook(data):
    seen = {}

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs):  # Keras style: logs without a default
            seen["train_begin"] = logs

        def on_epoch_begin(self, epoch, logs):
            seen.setdefault("epoch_begin", []).append(logs)

        def on_train_batch_end(self, batch, logs):
            seen["batch_keys"] = sorted(logs)

        def on_epoch_end(self, epoch, logs):
            seen.setdefault("epoch_end", []).append(dict(logs))

        def on_train_end(self, logs):
            seen["train_end"] = logs

    model = models.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(*data, epochs=2, validation_split=0.25, verbose=0,
              callbacks=[Recorder()])  # fmt: skip
    assert seen["train_begin"] == {} and seen["epoch_begin"] == [{}, {}]
    assert seen["batch_keys"] == ["loss", "mae"]
    assert set(seen["epoch_end"][-1]) == {"loss", "mae", "val_loss", "val_mae"}

    assert seen["train_end"] == seen["epoch_end"][-1]  # the last epoch's logs


def test_train_on_batch_and_test_on_batch_report_this_batch(data):
    x, y = data
    model = models.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile(optimizer="sgd", loss="mse")
    expected = float(losses.MeanSquaredError()(y[:8], model(x[:8])).data)
    assert model.test_on_batch(x[:8], y[:8]) == pytest.approx(expected, rel=1e-6)
    assert model.train_on_batch(x[:8], y[:8]) == pytest.approx(expected, rel=1e-6)
