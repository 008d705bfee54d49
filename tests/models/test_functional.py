"""The Keras functional API: symbolic inputs, graphs, shared layers, nesting, I/O."""

from __future__ import annotations

import json

import numpy as np
import pytest

import numnet
from numnet import layers, losses, models, optimizers
from numnet.layers.symbolic import SymbolicTensor
from numnet.models.functional import Functional


def _dense(x, layer):
    """The plain-tensor twin of a Dense layer (kernel, bias) with its activation."""
    kernel, bias = layer.get_weights()
    return np.asarray(x) @ kernel + bias


def _relu(a):
    return np.maximum(a, 0)


def _two_branch_model():
    inputs = layers.Input((5,), name="x")
    left = layers.Dense(4, activation="relu", name="left")(inputs)
    right = layers.Dense(3, activation="relu", name="right")(inputs)
    merged = layers.Concatenate(name="merge")([left, right])
    out = layers.Dense(2, name="out")(merged)
    return models.Model(inputs, out, name="branches")


def test_input_is_symbolic_with_none_batch():
    x = layers.Input((28, 28, 1), name="img")
    assert isinstance(x, SymbolicTensor)
    assert x.shape == (None, 28, 28, 1)
    assert x.dtype == np.float32


def test_layer_call_on_symbolic_records_a_node_and_builds():
    x = layers.Input((6,))
    dense = layers.Dense(3)
    y = dense(x)
    assert isinstance(y, SymbolicTensor)
    assert y.shape == (None, 3)
    assert y.node.layer is dense and y.node.inputs == [x]
    assert dense.built and dense.get_weights()[0].shape == (6, 3)


def test_model_constructor_returns_functional():
    model = _two_branch_model()
    assert isinstance(model, Functional) and isinstance(model, models.Model)
    assert [layer.name for layer in model.layers] == [
        "x",
        "left",
        "right",
        "merge",
        "out",
    ]


def test_branches_match_plain_computation(rng):
    model = _two_branch_model()
    x = rng.normal(size=(7, 5)).astype(np.float32)
    got = model(x).data
    left = _relu(_dense(x, model.get_layer("left")))
    right = _relu(_dense(x, model.get_layer("right")))
    want = _dense(np.concatenate([left, right], axis=1), model.get_layer("out"))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert got.dtype == np.float32


def test_shared_layer_shares_weights_and_accumulates_gradients(rng):
    a, b = layers.Input((4,), name="a"), layers.Input((4,), name="b")
    shared = layers.Dense(3, activation="tanh", name="shared")
    diff = layers.Subtract(name="diff")([shared(a), shared(b)])
    model = models.Model([a, b], diff)
    assert len(model.trainable_weights) == 2  # one kernel, one bias
    xa, xb = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    xa, xb = xa.astype(np.float32), xb.astype(np.float32)
    g = rng.normal(size=(5, 3)).astype(np.float32)
    (model([xa, xb]) * numnet.tensor(g)).sum().backward()
    kernel, bias = shared.get_weights()
    ta, tb = np.tanh(xa @ kernel + bias), np.tanh(xb @ kernel + bias)
    # d/dW sum(g * (tanh(a W + c) - tanh(b W + c)))
    want = xa.T @ (g * (1 - ta**2)) - xb.T @ (g * (1 - tb**2))
    np.testing.assert_allclose(shared.trainable_weights[0].grad, want, rtol=1e-4,
                               atol=1e-5)  # fmt: skip


def test_multiple_inputs_and_outputs_list_and_dict(rng):
    a, b = layers.Input((3,), name="a"), layers.Input((2,), name="b")
    h = layers.Concatenate()([a, b])
    out1 = layers.Dense(2, name="first")(h)
    out2 = layers.Dense(1, name="second")(out1)
    model = models.Model([a, b], [out1, out2])
    assert model.output_names == ["first", "second"]
    xa = rng.normal(size=(4, 3)).astype(np.float32)
    xb = rng.normal(size=(4, 2)).astype(np.float32)
    y1, y2 = model([xa, xb])
    want1 = _dense(np.concatenate([xa, xb], axis=1), model.get_layer("first"))
    np.testing.assert_allclose(y1.data, want1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y2.data, _dense(want1, model.get_layer("second")),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    by_name = model({"b": xb, "a": xa})
    np.testing.assert_array_equal(by_name[1].data, y2.data)


def test_gradcheck_functional_model_wrt_weights(rng, float64):
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    shared = layers.Dense(4, activation="tanh")
    h = layers.Add()([shared(a), shared(b)])
    out1 = layers.Dense(2)(h)
    out2 = layers.Dense(1, activation="sigmoid")(layers.Concatenate()([h, a]))
    model = models.Model([a, b], [out1, out2])
    xa, xb = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    assert numnet.gradcheck(
        lambda u, v: tuple(model([u, v])), [xa, xb], wrt=model.trainable_weights
    )


def test_nested_model_is_a_layer(rng):
    inner_in = layers.Input((4,))
    inner = models.Model(inner_in, layers.Dense(3, activation="relu")(inner_in),
                         name="encoder")  # fmt: skip
    x = layers.Input((4,))
    out = layers.Dense(1, name="head")(inner(x))
    outer = models.Model(x, out)
    assert inner in outer.layers
    assert len(outer.trainable_weights) == 4
    data = rng.normal(size=(6, 4)).astype(np.float32)
    want = _dense(inner(data).data, outer.get_layer("head"))
    np.testing.assert_allclose(outer(data).data, want, rtol=1e-5, atol=1e-6)


def test_unknown_axes_are_none():
    x = layers.Input((None, 8))
    y = layers.Dense(2)(x)
    assert y.shape == (None, None, 2)


def test_dry_run_leaves_batchnorm_statistics_and_flags_alone():
    bn = layers.BatchNormalization()
    bn.train()
    x = layers.Input((3,))
    bn(x)
    assert bn.training is True
    np.testing.assert_array_equal(bn.get_weights()[2], np.zeros(3))  # moving mean
    np.testing.assert_array_equal(bn.get_weights()[3], np.ones(3))  # moving var


def test_training_flag_can_be_pinned_per_call(rng):
    x = layers.Input((4,))
    drop = layers.Dropout(0.5)
    model = models.Model(x, drop(x, training=False))
    model.train()
    data = rng.normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_array_equal(model(data).data, data)


def test_summary_lists_connections():
    a, b = layers.Input((4,), name="a"), layers.Input((4,), name="b")
    shared = layers.Dense(2, name="shared")
    out = layers.Add(name="sum")([shared(a), shared(b)])
    model = models.Model([a, b], out, name="siamese")
    lines = []
    assert model.summary(print_fn=lines.append) is None  # Keras: prints, returns None
    text = model.summary_string()
    assert lines == [text]
    assert "Connected to" in text
    assert "shared[0][0]" in text and "shared[1][0]" in text
    assert "a[0][0]" in text and "b[0][0]" in text
    assert "Total params: 10" in text


def test_config_round_trip_gives_identical_predictions(rng):
    model = _two_branch_model()
    config = json.loads(json.dumps(model.get_config()))  # data only
    clone = Functional.from_config(config)
    clone.set_weights(model.get_weights())
    x = rng.normal(size=(3, 5)).astype(np.float32)
    np.testing.assert_array_equal(clone(x).data, model(x).data)
    assert [la.name for la in clone.layers] == [la.name for la in model.layers]


def test_save_load_round_trip(tmp_path, rng):
    a, b = layers.Input((4,), name="a"), layers.Input((4,), name="b")
    shared = layers.Dense(3, activation="relu", name="shared")
    h = layers.Concatenate()([shared(a), shared(b)])
    out = layers.Dense(2, name="out")(layers.BatchNormalization()(h))
    model = models.Model([a, b], [out, h], name="pair")
    xa = rng.normal(size=(5, 4)).astype(np.float32)
    xb = rng.normal(size=(5, 4)).astype(np.float32)
    path = tmp_path / "pair.npz"
    model.save(path)
    loaded = models.load_model(path)
    assert isinstance(loaded, Functional)
    for got, want in zip(loaded.predict([xa, xb]), model.predict([xa, xb]),
                         strict=True):  # fmt: skip
        np.testing.assert_array_equal(got, want)


def test_error_graph_disconnected():
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    out = layers.Add()([a, b])
    with pytest.raises(ValueError, match="graph disconnected.*'b'"):
        models.Model(a, out)


def test_error_input_not_reachable():
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="unused")
    with pytest.raises(ValueError, match="unused.*not connected"):
        models.Model([a, b], layers.Dense(1)(a))


def test_error_wrong_number_of_inputs(rng):
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    model = models.Model([a, b], layers.Add()([a, b]))
    with pytest.raises(ValueError, match=r"expected 2 input\(s\).*received 1"):
        model([rng.normal(size=(2, 3))])


def test_error_wrong_input_shape(rng):
    model = _two_branch_model()
    with pytest.raises(ValueError, match=r"expected data of shape \(None, 5\)"):
        model(rng.normal(size=(2, 4)).astype(np.float32))


def test_error_inputs_must_be_symbolic_and_from_input():
    x = layers.Input((3,))
    h = layers.Dense(2)(x)
    with pytest.raises(TypeError, match="inputs"):
        models.Model(np.zeros((1, 3)), h)
    with pytest.raises(ValueError, match="must come from layers.Input"):
        models.Model(h, layers.Dense(1)(h))


def test_error_arithmetic_on_symbolic_tensors_points_to_merge_layers():
    x = layers.Input((3,))
    with pytest.raises(TypeError, match="merge layers"):
        x + x


def test_error_duplicate_layer_names():
    x = layers.Input((3,))
    h = layers.Dense(2, name="same")(x)
    with pytest.raises(ValueError, match="unique"):
        models.Model(x, layers.Dense(2, name="same")(h))


def test_input_starts_a_sequential_model():
    model = models.Sequential([layers.Input((4,)), layers.Dense(2)])
    assert model(np.zeros((3, 4), np.float32)).shape == (3, 2)


def _two_task_model():
    a, b = layers.Input((4,), name="a"), layers.Input((3,), name="b")
    h = layers.Dense(16, activation="relu")(layers.Concatenate()([a, b]))
    label = layers.Dense(3, name="label")(h)
    box = layers.Dense(2, name="box")(h)
    return models.Model([a, b], [label, box])


def _two_task_data(rng, n=64):
    xa = rng.normal(size=(n, 4)).astype(np.float32)
    xb = rng.normal(size=(n, 3)).astype(np.float32)
    labels = (xa[:, 0] > 0).astype(np.int64) + (xb[:, 0] > 0)
    boxes = np.stack([xa[:, 1], xb[:, 1]], axis=1).astype(np.float32)
    return xa, xb, labels, boxes


def test_multi_output_training_with_dicts_and_loss_weights(rng):
    model = _two_task_model()
    model.compile(
        optimizers.Adam(1e-2),
        loss={"label": losses.SparseCategoricalCrossentropy(from_logits=True),
              "box": "mse"},
        loss_weights={"label": 1.0, "box": 3.0},
        metrics={"label": ["accuracy"]},  # no metrics for "box"
    )  # fmt: skip
    xa, xb, labels, boxes = _two_task_data(rng)
    before = model.evaluate([xa, xb], [labels, boxes], verbose=0, return_dict=True)
    assert before["loss"] == pytest.approx(
        before["label_loss"] + 3.0 * before["box_loss"], rel=1e-5
    )
    history = model.fit({"a": xa, "b": xb}, {"label": labels, "box": boxes},
                        epochs=15, batch_size=16, verbose=0)  # fmt: skip
    assert set(history.history) == {"loss", "label_loss", "box_loss",
                                    "label_accuracy"}  # fmt: skip
    after = model.evaluate([xa, xb], [labels, boxes], verbose=0, return_dict=True)
    assert after["label_loss"] < before["label_loss"]
    assert after["box_loss"] < before["box_loss"]
    label_pred, box_pred = model.predict({"a": xa, "b": xb}, verbose=0)
    assert label_pred.shape == (64, 3) and box_pred.shape == (64, 2)


def test_multi_output_lists_of_losses_and_metrics(rng):
    model = _two_task_model()
    model.compile("adam", loss=["sparse_categorical_crossentropy", "mse"],
                  loss_weights=[0.5, 2.0], metrics=[["accuracy"], ["mae"]])  # fmt: skip
    xa, xb, labels, boxes = _two_task_data(rng, n=32)
    logs = model.train_on_batch([xa, xb], [labels, boxes], return_dict=True)
    assert {"label_loss", "box_loss", "label_accuracy", "box_mae"} <= set(logs)


def test_layer_with_several_outputs_and_config_round_trip(rng):
    x = layers.Input((5, 3))
    sequence, h, c = layers.LSTM(4, return_state=True, return_sequences=True,
                                 name="lstm")(x)  # fmt: skip
    assert sequence.shape == (None, 5, 4) and h.shape == c.shape == (None, 4)
    model = models.Model(x, [h, c])
    assert model.output_names == ["lstm", "lstm_1"]
    assert "[(None, 5, 4), (None, 4), (None, 4)]" in model.summary_string()
    clone = Functional.from_config(json.loads(json.dumps(model.get_config())))
    clone.set_weights(model.get_weights())
    data = rng.normal(size=(2, 5, 3)).astype(np.float32)
    for got, want in zip(clone(data), model(data), strict=True):
        np.testing.assert_array_equal(got.data, want.data)
    np.testing.assert_array_equal(model(data)[0].data, sequence_last(model, data))


def sequence_last(model, data):
    """The last step of the LSTM's sequence output equals its h state."""
    lstm = model.get_layer("lstm")
    return lstm(data)[0].data[:, -1]


def test_integer_inputs_of_any_length():
    tokens = layers.Input((None,), dtype="int64", name="tokens")
    embedded = layers.Embedding(50, 8)(tokens)
    assert embedded.shape == (None, None, 8)
    model = models.Model(tokens, layers.Dense(1)(layers.GRU(6)(embedded)))
    assert model(np.array([[1, 2, 3], [4, 5, 6]])).shape == (2, 1)
    assert model(np.array([[1, 2, 3, 4, 5]])).shape == (1, 1)
