"""Regression tests of the hardening issue: silent wrong results and unclear errors.

Each bad setting or input must raise a ValueError/TypeError naming the argument
(or layer) and the received value, at construction or call.
"""

from __future__ import annotations

import numpy as np
import pytest

import numnet
import numnet.functional as F
from numnet import callbacks, data, layers, losses, metrics, models, optimizers

NAN, INF = float("nan"), float("inf")


def compiled(loss="mse", **kwargs):
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile("sgd", loss, **kwargs)
    return model


def xy(n=8):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype(np.float32), rng.normal(size=(n, 2)).astype(
        np.float32
    )


# Item 5: Sequential.add is O(1) -------------------------------------------------


class CountingDense(layers.Dense):
    calls = 0

    def call(self, x):
        CountingDense.calls += 1
        return super().call(x)


def test_sequential_add_runs_only_the_new_layer():
    CountingDense.calls = 0
    model = models.Sequential([CountingDense(2, input_shape=(2,))])
    for _ in range(50):
        model.add(CountingDense(2))
    assert CountingDense.calls == 51  # one dry run per layer, not 51 * 52 / 2
    config = model.get_config()
    CountingDense.calls = 0
    clone = models.Sequential.from_config(
        config, custom_objects={"CountingDense": CountingDense}
    )
    assert CountingDense.calls == 51 and len(clone.layers) == 51
    x = np.ones((1, 2), np.float32)
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(
        clone.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    with pytest.raises(ValueError, match="unique names"):
        model.add(layers.Dense(2, name=model.layers[3].name))
    model.pop()
    model.add(CountingDense(3))
    assert model.predict(x, verbose=0).shape == (1, 3)


# Item 6: epsilon --------------------------------------------------------------


@pytest.mark.parametrize(
    "cls", [optimizers.Adam, optimizers.RMSprop, optimizers.Adagrad]
)
@pytest.mark.parametrize("epsilon", [0, 0.0, -1e-7, NAN, INF])
def test_optimizer_epsilon_must_be_positive_and_finite(cls, epsilon):
    with pytest.raises(ValueError, match=f"'epsilon'.*epsilon={epsilon}"):
        cls(epsilon=epsilon)


@pytest.mark.parametrize("cls", [layers.BatchNormalization, layers.LayerNormalization])
@pytest.mark.parametrize("epsilon", [0, -1.0, NAN, INF, "1e-3", True])
def test_normalization_epsilon_must_be_positive_and_finite(cls, epsilon):
    with pytest.raises(ValueError, match="'epsilon'"):
        cls(epsilon=epsilon)


# Item 7: NaN/inf hyperparameters ------------------------------------------------


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda v: layers.ELU(alpha=v), "alpha"),
        (lambda v: layers.ReLU(threshold=v), "threshold"),
        (lambda v: layers.ReLU(negative_slope=v), "negative_slope"),
        (lambda v: layers.ReLU(max_value=v), "max_value"),
        (lambda v: layers.LeakyReLU(negative_slope=v), "negative_slope"),
        (lambda v: losses.Huber(delta=v), "delta"),
        (lambda v: losses.TripletLoss(margin=v), "margin"),
    ],
)
@pytest.mark.parametrize("value", [NAN, INF, -INF])
def test_nan_and_inf_hyperparameters_are_refused(make, argument, value):
    with pytest.raises(ValueError, match=f"'{argument}'"):
        make(value)


@pytest.mark.parametrize("weights", [NAN, INF, -1.0, True, "1", [NAN], {"dense": -2}])
def test_loss_weights_are_finite_non_negative_numbers(weights):
    with pytest.raises(ValueError, match="'loss_weights'"):
        compiled(loss_weights=weights)


@pytest.mark.parametrize("argument", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_a_zero_clip_is_refused(argument):
    with pytest.raises(ValueError, match=f"'{argument}'.*positive"):
        optimizers.SGD(**{argument: 0})


def test_adam_with_a_zero_gradient_stays_finite():
    param = numnet.Parameter(np.ones((2, 2), np.float32))
    adam = optimizers.Adam(epsilon=1e-7)
    for _ in range(3):
        param.grad = np.zeros((2, 2), np.float32)
        adam.apply([param])
    assert np.isfinite(param.data).all()


# Item 8: one input rule ----------------------------------------------------------

BAD_DTYPES = [
    np.ones((2, 3), np.complex64),
    np.array([["a", "b", "c"]] * 2),
    np.full((2, 3), None, dtype=object),
    np.zeros((2, 3), "datetime64[s]"),
]


@pytest.mark.parametrize("bad", BAD_DTYPES, ids=lambda a: str(a.dtype))
@pytest.mark.parametrize(
    "layer",
    [
        lambda: layers.Dense(2),
        lambda: layers.Activation("relu"),
        lambda: layers.Dropout(0.5),
        lambda: layers.Flatten(),
        lambda: layers.LayerNormalization(),
    ],
)
def test_layers_refuse_what_tensors_refuse(bad, layer):
    with pytest.raises(TypeError, match="invalid dtype for argument 'inputs'"):
        layer()(bad)
    with pytest.raises(TypeError, match="boolean, integer or floating-point"):
        numnet.tensor(bad)


@pytest.mark.parametrize("bad", BAD_DTYPES, ids=lambda a: str(a.dtype))
def test_losses_and_metrics_refuse_them_too(bad):
    good = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match="y_true"):
        losses.MeanSquaredError()(bad, good)
    with pytest.raises(TypeError, match="y_pred"):
        losses.MeanSquaredError()(good, bad)
    with pytest.raises(TypeError, match="y_true"):
        metrics.MeanAbsoluteError()(bad, good)


def test_string_targets_are_not_parsed():
    with pytest.raises(TypeError, match="y_true"):
        losses.MeanSquaredError()(np.array(["1", "0"]), np.ones(2, np.float32))


# Item 9 and 14: see tests/test_crafted_saves.py (the corpus) ------------------------


# Item 10: steps, epochs, flags ----------------------------------------------------


@pytest.mark.parametrize("steps", [0, -1, 1.5, "1", True, "same"])
def test_evaluate_steps_must_be_a_positive_int(steps):
    x, y = xy()
    with pytest.raises(ValueError, match=f"'steps'.*steps={steps!r}"):
        compiled().evaluate(x, y, steps=steps, verbose=0)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"epochs": -1}, "epochs"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": "3"}, "epochs"),
        ({"steps_per_epoch": 0}, "steps_per_epoch"),
        ({"initial_epoch": 5, "epochs": 2}, "initial_epoch"),
        ({"shuffle": "no"}, "shuffle"),
        ({"class_weight": 0}, "class_weight"),
        ({"callbacks": True}, "callbacks"),
        ({"sample_weight": 3}, "sample_weight"),
        ({"validation_split": "0.2"}, "validation_split"),
    ],
)
def test_fit_arguments_are_checked(kwargs, argument):
    x, y = xy()
    with pytest.raises((ValueError, TypeError), match=argument):
        compiled().fit(x, y, verbose=0, **kwargs)


def test_fit_on_no_samples_and_on_strings_or_dicts_is_refused():
    x, y = xy()
    with pytest.raises(ValueError, match="at least 1 sample"):
        compiled().fit(x[:0], y[:0], verbose=0)
    with pytest.raises(TypeError, match="'x'.*string"):
        compiled().fit("x.npy", y, verbose=0)
    with pytest.raises(TypeError, match="Sequential model takes one input array"):
        compiled().fit({"a": x}, y, verbose=0)


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda v: losses.BinaryCrossentropy(from_logits=v), "from_logits"),
        (lambda v: losses.SparseCategoricalCrossentropy(from_logits=v), "from_logits"),
        (lambda v: layers.Dense(2, use_bias=v), "use_bias"),
        (lambda v: layers.Conv2D(2, 2, use_bias=v), "use_bias"),
        (lambda v: layers.BatchNormalization(center=v), "center"),
        (lambda v: layers.LayerNormalization(scale=v), "scale"),
        (lambda v: layers.GlobalAveragePooling2D(keepdims=v), "keepdims"),
        (lambda v: optimizers.SGD(nesterov=v), "nesterov"),
        (lambda v: optimizers.Adam(amsgrad=v), "amsgrad"),
        (lambda v: optimizers.RMSprop(centered=v), "centered"),
        (
            lambda v: data.DataLoader((np.ones((4, 2)), np.ones(4)), shuffle=v),
            "shuffle",
        ),
        (
            lambda v: data.DataLoader((np.ones((4, 2)), np.ones(4)), drop_last=v),
            "drop_last",
        ),
    ],
)
@pytest.mark.parametrize("value", ["auto", 1, None])
def test_boolean_flags_accept_only_booleans(make, argument, value):
    with pytest.raises(ValueError, match=f"'{argument}'"):
        make(value)


def test_a_fractional_axis_is_refused():
    with pytest.raises(ValueError, match="'axis'"):
        losses.CategoricalCrossentropy(axis=1.5)
    with pytest.raises(ValueError, match="'axis'"):
        layers.LayerNormalization(axis=1.5)


def test_masking_with_nan_masks_nan_steps():
    x = np.ones((1, 3, 2), np.float32)
    x[0, 1] = np.nan
    y = layers.Masking(mask_value=np.nan)(x)
    assert y._keras_mask.tolist() == [[True, False, True]]
    assert np.isfinite(y.data).all() and (y.data[0, 1] == 0).all()


# Item 12: NaN in the training data -------------------------------------------------


def test_fit_names_the_array_and_index_of_a_nan():
    x, y = xy()
    x[3, 1] = np.nan
    model = compiled()
    with pytest.raises(ValueError, match=r"'x'.*nan at index \(3, 1\)"):
        model.fit(x, y, verbose=0)
    y2 = y.copy()
    y2[5, 0] = np.inf
    with pytest.raises(ValueError, match=r"'validation_y'.*inf at index \(5, 0\)"):
        model.fit(xy()[0], y, validation_data=(xy()[0], y2), verbose=0)
    model.check_finite_inputs = False  # the opt-out: trains (to NaN) as asked
    model.fit(x, y, verbose=0)
    assert not np.isfinite(model.get_weights()[0]).all()


# Item 15: layer inputs -----------------------------------------------------------


def test_nested_lists_zero_d_and_empty_inputs():
    assert layers.Dense(2)([[1.0, 2.0, 3.0]]).shape == (1, 2)
    with pytest.raises(ValueError, match="conv2d.*expected ndim=4, found ndim=0"):
        layers.Conv2D(2, 2)(np.float32(1.0))
    with pytest.raises(ValueError, match="softmax axis -1 has size 0"):
        layers.Softmax()(np.zeros((2, 0), np.float32))
    assert layers.Flatten()(np.zeros((0, 2, 3), np.float32)).shape == (0, 6)


@pytest.mark.parametrize(
    "cls", [layers.SimpleRNN, layers.LSTM, layers.GRU, layers.Dense]
)
def test_integer_inputs_are_cast_by_every_layer(cls):
    x = np.ones((2, 4, 3), np.int64)
    assert cls(2)(x).dtype == np.float32


# Item 16: arguments ----------------------------------------------------------------


def test_assorted_arguments_name_themselves():
    with pytest.raises(ValueError, match="'seed'.*seed=-1"):
        layers.Dropout(0.5, seed=-1)
    with pytest.raises(ValueError, match="'seed'.*seed='a'"):
        data.DataLoader((np.ones((4, 2)), np.ones(4)), seed="a")
    with pytest.raises(ValueError, match="'axis'.*distinct"):
        layers.LayerNormalization(axis=(2, 2))
    with pytest.raises(ValueError, match="TripletLoss.*'y_pred'.*at least one"):
        losses.TripletLoss()(np.zeros(0), np.zeros((0, 3), np.float32))
    with pytest.raises(ValueError, match="N >= 1"):
        F.batch_triplet_loss(np.zeros(0), np.zeros((0, 3), np.float32))
    with pytest.raises(TypeError, match="ArrayDataset.*'x'"):
        data.ArrayDataset(5, np.ones(3))
    with pytest.raises(TypeError, match="DataLoader.*'dataset'.*string"):
        data.DataLoader("x")
    x, y = xy()
    model = compiled(loss="sparse_categorical_crossentropy", metrics=["mae"])
    with pytest.raises(ValueError, match="mean_absolute_error.*same shape"):
        model.fit(x, np.zeros(8, np.int64), verbose=0)


def test_lambda_callback_accepts_keras_style_functions():
    seen = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: seen.append(("begin", logs)),
        on_epoch_end=lambda epoch, logs: seen.append(("epoch", epoch, sorted(logs))),
        on_train_end=lambda: seen.append("end"),  # numnet style still works
    )
    x, y = xy()
    compiled().fit(x, y, epochs=1, verbose=0, callbacks=[cb])
    assert seen == [("begin", {}), ("epoch", 0, ["loss"]), "end"]  # Keras: {} logs


def test_functional_arguments():
    t = numnet.tensor(np.ones((3, 4), np.float32))
    assert F.reshape(t, 12).shape == (12,)
    with pytest.raises(TypeError, match="'axis'.*1.5"):
        F.sum(t, axis=1.5)
    with pytest.raises(TypeError, match="softmax.*floating-point.*bool"):
        F.softmax(numnet.tensor(np.ones((2, 2), bool)))
    with pytest.raises(ValueError, match="'rate'.*'x'"):
        F.dropout(t, "x")
    with pytest.raises(ValueError, match="negative power.*-1"):
        F.pow(numnet.tensor(np.ones(3, np.uint8)), -1)
