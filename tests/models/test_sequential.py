"""Sequential building, summary, layer_outputs, configs and bad-input errors."""

from __future__ import annotations

import numpy as np
import pytest

from numnet import layers, models


def test_input_shape_builds_by_dry_run_and_summary_is_the_keras_table():
    model = models.Sequential(
        [
            layers.Dense(32, activation="relu", input_shape=(10,)),
            layers.BatchNormalization(),
            layers.Dropout(0.5),
            layers.Dense(3, activation="softmax"),
        ],
        name="net",
    )
    assert model.built and model.input_shape == (None, 10)
    lines = []
    assert model.summary(print_fn=lines.append) is None
    text = model.summary_string()
    assert lines == [text]
    assert text.splitlines()[0] == 'Model: "net"'
    assert " Layer (type)" in text and "Output Shape" in text and "Param #" in text
    assert "dense (Dense)" in text or "(Dense)" in text
    rows = [line for line in text.splitlines() if "(None," in line]
    assert [r.split()[-1] for r in rows] == ["352", "128", "0", "99"]
    assert "(None, 32)" in rows[0] and "(None, 3)" in rows[3]
    assert "Total params: 579 (2.26 KB)" in text
    assert "Trainable params: 515 " in text and "Non-trainable params: 64 " in text
    assert model.count_params() == 579


def test_input_layer_first_and_add_pop():
    model = models.Sequential()
    model.add(layers.Input((5,)))
    model.add(layers.Dense(4))
    assert model.built and model.layers[0].built
    model.add(layers.Dense(2))
    assert model.predict(np.zeros((3, 5), np.float32), verbose=0).shape == (3, 2)
    popped = model.pop()
    assert isinstance(popped, layers.Dense) and len(model.layers) == 1
    assert model.predict(np.zeros((3, 5), np.float32), verbose=0).shape == (3, 4)
    with pytest.raises(TypeError, match="no layers to pop"):
        models.Sequential().pop()


def test_unbuilt_summary_lists_the_remedies():
    model = models.Sequential([layers.Dense(4)])
    printed = []
    model.summary(print_fn=printed.append)  # Keras prints what it knows
    message = printed[0]
    assert "dense" in message and "0 (unbuilt)" in message and "?" in message
    assert "input_shape" in message and "layers.Input" in message
    assert "build(" in message and "call the model on a batch" in message
    model(np.zeros((2, 7), np.float32))  # the first call builds it
    assert "(None, 4)" in model.summary_string()


def test_build_leaves_batchnorm_statistics_untouched():
    bn = layers.BatchNormalization()
    model = models.Sequential(
        [layers.Dense(3, input_shape=(2,), bias_initializer="ones"), bn]
    )
    moving_mean, moving_var = bn.get_weights()[2:]
    np.testing.assert_array_equal(moving_mean, 0.0)
    np.testing.assert_array_equal(moving_var, 1.0)
    assert model.built


def test_layer_outputs_for_every_layer(rng):
    model = models.Sequential(
        [
            layers.Dense(6, activation="relu", input_shape=(3,)),
            layers.Dropout(0.9),
            layers.Dense(2),
        ]
    )
    x = rng.normal(size=(4, 3)).astype(np.float32)
    outs = model.layer_outputs(x)
    assert [name for name, _ in outs] == [layer.name for layer in model.layers]
    assert [a.shape for _, a in outs] == [(4, 6), (4, 6), (4, 2)]
    np.testing.assert_array_equal(outs[0][1], outs[1][1])  # dropout off (eval)
    np.testing.assert_allclose(outs[-1][1], model.predict(x, verbose=0))
    assert all(isinstance(a, np.ndarray) for _, a in outs)
    assert "call" not in vars(model.layers[0])  # instrumentation removed


def test_subclassed_model_summary_and_layer_outputs(rng):
    class Net(models.Model):
        def __init__(self):
            super().__init__(name="net")
            self.a = layers.Dense(5, activation="relu")
            self.b = layers.Dense(2)

        def call(self, x, training=False):
            return self.b(self.a(x))

    net = Net()
    assert "not yet been built" in net.summary_string()
    net.build((None, 3))
    text = net.summary_string()
    assert "(None, 5)" in text and "(None, 2)" in text and "Total params: 32 " in text
    names = [n for n, _ in net.layer_outputs(rng.normal(size=(2, 3)))]
    assert names == [net.a.name, net.b.name]


def test_config_round_trip_rebuilds_the_same_architecture():
    model = models.Sequential(
        [layers.Dense(4, activation="tanh", input_shape=(3,)), layers.Dense(1)],
        name="reg",
    )
    clone = models.Sequential.from_config(model.get_config())
    assert clone.name == "reg" and clone.built
    assert [type(layer) for layer in clone.layers] == [layers.Dense, layers.Dense]
    assert clone.count_params() == model.count_params()


def test_from_config_refuses_classes_outside_the_allowlist():
    config = {
        "name": "x",
        "layers": [{"class_name": "os.system", "config": {"command": "echo pwned"}}],
    }
    with pytest.raises(ValueError, match="Unknown layer class 'os.system'"):
        models.Sequential.from_config(config)
    with pytest.raises(ValueError, match="Unknown layer class 'Tensor'"):
        models.Sequential.from_config(
            {"layers": [{"class_name": "Tensor", "config": {}}]}
        )


def test_bad_inputs_raise_clear_errors(rng):
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    x = rng.normal(size=(10, 3)).astype(np.float32)
    with pytest.raises(RuntimeError, match="must call compile\\(\\) before fit"):
        model.fit(x, np.zeros(10))
    with pytest.raises(ValueError, match="'mean_squared_error'.*loss='msee'"):
        model.compile("adam", loss="msee")
    with pytest.raises(ValueError, match="'adam'.*optimizer='adamm'"):
        model.compile("adamm", loss="mse")
    with pytest.raises(ValueError, match="accurcy"):
        model.compile("adam", loss="mse", metrics=["accurcy"])
    model.compile("adam")  # Keras 3: no loss is allowed (add_loss, train_step)...
    with pytest.raises(ValueError, match="no loss to optimize.*add_loss"):
        model.fit(x, verbose=0)  # ...but fit then has nothing to minimize
    model.compile("adam", loss="mse")
    with pytest.raises(ValueError, match="x sizes: \\[10\\], y sizes: \\[9\\]"):
        model.fit(x, np.zeros((9, 2)), verbose=0)
    with pytest.raises(ValueError, match="batch_size=0"):
        model.fit(x, np.zeros((10, 2)), batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="verbose=3"):
        model.fit(x, np.zeros((10, 2)), verbose=3)
    with pytest.raises(TypeError, match="expected a Layer instance"):
        model.add("dense")
    with pytest.raises(ValueError, match="unique names"):
        model.add(layers.Dense(2, name=model.layers[0].name))
