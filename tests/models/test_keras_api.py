"""Keras API that published programs use: graph access, weights, configs, saving.

Each test follows Keras 3's documented behaviour; the bug regressions name the
symptom they guard against.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import numnet
from numnet import layers, metrics, models
from numnet.saving import custom_object_scope, register_serializable


class Scale(layers.Layer):
    """A custom layer whose get_config() omits the name (a common user mistake)."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {"factor": self.factor}


def _functional():
    inputs = numnet.Input((4,), name="features")
    hidden = layers.Dense(8, activation="relu", name="hidden")(inputs)
    outputs = layers.Dense(2, name="head")(Scale(3.0, name="scale")(hidden))
    return numnet.Model(inputs, outputs, name="net")


# -- bugs -----------------------------------------------------------------
def test_model_from_config_rebuilds_a_functional_model_with_custom_objects(rng):
    model = _functional()
    config = model.get_config()
    with pytest.raises(ValueError, match="Unknown layer class 'Scale'"):
        models.Model.from_config(config)
    again = models.Model.from_config(config, custom_objects={"Scale": Scale})
    assert [layer.name for layer in again.layers] == [l.name for l in model.layers]
    again.set_weights(model.get_weights())
    x = rng.normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_subclassed_model_called_on_a_dict(rng):
    class TwoInputs(models.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = layers.Dense(2), layers.Dense(2)

        def call(self, inputs, training=False):
            return self.a(inputs["image"]) + self.b(inputs["meta"])

    model = TwoInputs()
    batch = {"image": rng.normal(size=(5, 3)), "meta": rng.normal(size=(5, 1))}
    assert model(batch).shape == (5, 2)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(batch, np.zeros((5, 2)), epochs=1, verbose=0)


def test_sequential_builds_from_a_nested_built_model():
    inner = _functional()
    model = numnet.Sequential([inner, layers.Dense(5)])
    assert model.built and model.output_shape == (None, 5)
    assert model.count_params() == inner.count_params() + 2 * 5 + 5


def test_freezing_a_nested_layer_keeps_the_weight_order():
    model = numnet.Sequential(
        [layers.Dense(3, input_shape=(2,)), layers.BatchNormalization(),
         layers.Dense(1)]
    )  # fmt: skip
    names = [w.name for w in model.weights]
    model.layers[0].trainable = False
    assert [w.name for w in model.weights] == names
    assert len(model.trainable_weights) == 4


def test_parameter_assigned_in_build_is_tracked_and_trained(rng):
    class Bias(layers.Layer):
        def build(self, input_shape):
            self.b = numnet.Parameter(np.zeros(input_shape[-1], np.float32))

        def call(self, x):
            return x + self.b

    model = numnet.Sequential([layers.Dense(2, input_shape=(3,)), Bias()])
    assert len(model.trainable_weights) == 3
    model.compile(optimizer="sgd", loss="mse")
    model.fit(rng.normal(size=(8, 3)), np.ones((8, 2)), epochs=2, verbose=0)
    assert np.all(model.layers[1].b.data != 0)


def test_explicit_training_true_reaches_children_of_a_subclassed_model():
    class WithDropout(models.Model):
        def __init__(self):
            super().__init__()
            self.drop = layers.Dropout(0.5)

        def call(self, x):  # no training argument: children inherit it (Keras)
            return self.drop(x)

    model = WithDropout()
    x = np.ones((50, 40), np.float32)
    assert np.any(model(x, training=True).data == 0)
    np.testing.assert_array_equal(model(x).data, x)  # flags restored
    assert not model.drop.training


class MyDense(layers.Dense):
    pass


class MyRNN(layers.SimpleRNN):
    pass


@pytest.mark.parametrize("wrap, inner", [
    (layers.TimeDistributed, lambda: MyDense(2)),
    (layers.Bidirectional, lambda: MyRNN(2, return_sequences=True)),
])  # fmt: skip
def test_wrappers_load_custom_inner_layers_through_custom_objects(wrap, inner):
    model = numnet.Sequential([wrap(inner(), input_shape=(3, 2))])
    config = model.get_config()
    name = type(inner()).__name__
    with pytest.raises(ValueError, match=f"Unknown layer class '{name}'"):
        numnet.Sequential.from_config(config)
    custom = {"MyDense": MyDense, "MyRNN": MyRNN}
    again = numnet.Sequential.from_config(config, custom_objects=custom)
    assert isinstance(again.layers[0], wrap)
    assert again.count_params() == model.count_params()


# -- graph access (feature extraction) -------------------------------------
def test_top_level_names():
    assert numnet.Input is layers.Input
    assert numnet.Model is models.Model and numnet.Sequential is models.Sequential


def test_feature_extractor_from_a_sequential_model(rng):
    model = numnet.Sequential([
        numnet.Input((4,)),
        layers.Dense(8, activation="relu", name="features"),
        layers.Dense(1),
    ])  # fmt: skip
    assert len(model.inputs) == 1 and model.inputs[0].shape == (None, 4)
    assert model.outputs[0].shape == (None, 1)
    extractor = numnet.Model(model.inputs, model.get_layer("features").output)
    x = rng.normal(size=(3, 4)).astype(np.float32)
    expected = model.layers[0](x).data
    np.testing.assert_allclose(extractor.predict(x, verbose=0), expected, rtol=1e-6)
    assert model.get_layer(index=1) is model.layers[1]
    assert model.get_layer(0).name == "features"


def test_layer_input_output_and_model_io_of_a_functional_model():
    model = _functional()
    hidden = model.get_layer("hidden")
    assert hidden.input is model.input and hidden.output.shape == (None, 8)
    assert model.output is model.outputs[0]
    features = numnet.Model(model.input, [hidden.output, model.output])
    assert features.output_shape == [(None, 8), (None, 2)]
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="index 9"):
        model.get_layer(index=9)
    with pytest.raises(AttributeError, match="never been called"):
        _ = layers.Dense(2).output


# -- weights and variables --------------------------------------------------
def test_add_weight_keyword_form_and_variable_methods():
    layer = layers.Layer(name="custom")
    w = layer.add_weight(shape=(2, 3), initializer="ones", trainable=True)
    c = layer.add_weight(shape=(), initializer="zeros", trainable=False, name="c")
    v = layer.add_weight((4,))
    assert [x.name for x in layer.weights] == ["custom/variable", "custom/variable_1",
                                               "custom/c"]  # fmt: skip
    assert isinstance(w, numnet.Parameter) and not c.requires_grad
    assert v.shape == (4,)
    c.assign_add(2.0)
    c.assign_sub(0.5)
    assert c.numpy() == 1.5 and c.value is c
    w.assign(np.full((2, 3), 4.0))
    np.testing.assert_array_equal(w.numpy(), 4.0)
    with pytest.raises(ValueError, match="does not match"):
        w.assign(np.ones(3))


def test_metric_add_weight_counts_and_resets():
    class TruePositives(metrics.Metric):
        def __init__(self, name="tp", **kwargs):
            super().__init__(name=name, **kwargs)
            self.tp = self.add_weight(name="tp", shape=(), initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            hits = np.logical_and(np.asarray(y_true) > 0.5, np.asarray(y_pred) > 0.5)
            self.tp.assign_add(float(hits.sum()))

        def result(self):
            return self.tp

    m = TruePositives()
    m.update_state([1, 1, 0], [0.9, 0.1, 0.8])
    assert float(m.result()) == 1.0 and m.variables == [m.tp]
    m.reset_state()
    assert float(m.result()) == 0.0


# -- serialization -----------------------------------------------------------
def test_to_json_and_model_from_json(rng):
    model = _functional()
    text = model.to_json()
    assert json.loads(text)["class_name"] == "Functional"
    again = models.model_from_json(text, custom_objects={"Scale": Scale})
    assert again.count_params() == model.count_params()
    seq = numnet.Sequential([layers.Dense(3, input_shape=(2,)), layers.Dense(1)])
    twin = models.model_from_json(seq.to_json())
    assert twin.built and twin.count_params() == seq.count_params()
    with pytest.raises(ValueError, match="not a JSON model config"):
        models.model_from_json("{nope")


def test_clone_model_has_fresh_weights(rng):
    model = numnet.Sequential([layers.Dense(3, input_shape=(2,)), layers.Dense(1)])
    clone = models.clone_model(model)
    assert clone is not model and clone.built
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert not np.allclose(clone.layers[0].kernel.data, model.layers[0].kernel.data)
    clone.set_weights(model.get_weights())
    x = rng.normal(size=(2, 2)).astype(np.float32)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    with custom_object_scope({"Scale": Scale}):
        assert models.clone_model(_functional()).count_params() == 4 * 8 + 8 + 8 * 2 + 2


def test_custom_objects_scope_registration_and_layer_serialize():
    @register_serializable(package="tests")
    class Triple(layers.Layer):
        def call(self, x):
            return x * 3.0

    spec = layers.serialize(Triple(name="t"))
    assert isinstance(layers.deserialize(spec), Triple)
    with pytest.raises(ValueError, match="Unknown layer class 'Scale'"):
        layers.deserialize(layers.serialize(Scale()))
    with custom_object_scope({"Scale": Scale}):
        assert layers.deserialize(layers.serialize(Scale(5.0))).factor == 5.0
    with pytest.raises(ValueError, match="Unknown layer class 'system'"):
        layers.deserialize({"class_name": "system", "config": {}})


def test_custom_activation_function_in_a_config(tmp_path):
    def swish2(x):
        return x * numnet.functional.sigmoid(x)

    model = numnet.Sequential([layers.Dense(2, activation=swish2, input_shape=(3,))])
    assert model.get_config()["layers"][0]["config"]["activation"] == "swish2"
    path = tmp_path / "m.npz"
    model.save(path)
    with pytest.raises(ValueError, match="custom_objects=\\{'swish2': fn\\}"):
        models.load_model(path)
    loaded = models.load_model(path, custom_objects={"swish2": swish2})
    assert loaded.layers[0].activation is swish2
    with pytest.raises(ValueError, match="cannot serialise"):
        layers.Dense(2, activation=lambda x: x).get_config()


def test_load_weights_skip_mismatch_and_by_name(tmp_path):
    source = numnet.Sequential([layers.Dense(4, input_shape=(3,), name="body"),
                                layers.Dense(2, name="head")])  # fmt: skip
    path = tmp_path / "w.npz"
    source.save_weights(path)
    target = numnet.Sequential([layers.Dense(4, input_shape=(3,), name="body"),
                                layers.Dense(5, name="head")])  # fmt: skip
    with pytest.raises(ValueError):
        target.load_weights(path)
    with pytest.raises(ValueError, match="must match shape"):
        target.load_weights(path, by_name=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        target.load_weights(path, skip_mismatch=True)
    assert "skipped 2 weight(s)" in str(caught[0].message)
    np.testing.assert_array_equal(target.layers[0].kernel.data,
                                  source.layers[0].kernel.data)  # fmt: skip
    renamed = numnet.Sequential([layers.Dense(7, input_shape=(3,), name="other"),
                                 layers.Dense(4, name="body")])  # fmt: skip
    before = renamed.layers[0].kernel.data.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        renamed.load_weights(path, by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(renamed.layers[0].kernel.data, before)
