"""Metrics: Keras documentation values, accumulation, naive oracles, get()."""

from __future__ import annotations

import json

import numpy as np
import pytest

import numnet
from numnet import losses, metrics

# (metric factory, y_true, y_pred, sample_weight, Keras's documented result)
KERAS_EXAMPLES = [
    (metrics.Accuracy, [[1], [2], [3], [4]], [[0], [2], [3], [4]], None, 0.75),
    (metrics.Accuracy, [[1], [2], [3], [4]], [[0], [2], [3], [4]], [1, 1, 0, 0], 0.5),
    (
        metrics.BinaryAccuracy,
        [[1], [1], [0], [0]],
        [[0.98], [1], [0], [0.6]],
        None,
        0.75,
    ),
    (
        metrics.BinaryAccuracy,
        [[1], [1], [0], [0]],
        [[0.98], [1], [0], [0.6]],
        [1, 0, 0, 1],
        0.5,
    ),
    (
        metrics.CategoricalAccuracy,
        [[0, 0, 1], [0, 1, 0]],
        [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
        None,
        0.5,
    ),
    (
        metrics.CategoricalAccuracy,
        [[0, 0, 1], [0, 1, 0]],
        [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
        [0.7, 0.3],
        0.3,
    ),
    (
        metrics.SparseCategoricalAccuracy,
        [[2], [1]],
        [[0.1, 0.6, 0.3], [0.05, 0.95, 0]],
        None,
        0.5,
    ),
    (
        lambda: metrics.TopKCategoricalAccuracy(k=1),
        [[0, 0, 1], [0, 1, 0]],
        [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
        None,
        0.5,
    ),
    (
        lambda: metrics.SparseTopKCategoricalAccuracy(k=1),
        [2, 1],
        [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
        None,
        0.5,
    ),
    (
        lambda: metrics.SparseTopKCategoricalAccuracy(k=2),
        [2, 1],
        [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
        None,
        1.0,
    ),
    (metrics.Precision, [0, 1, 1, 1], [1, 0, 1, 1], None, 2 / 3),
    (metrics.Precision, [0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0], 1.0),
    (lambda: metrics.Precision(top_k=2), [0, 0, 1, 1], [1, 1, 1, 1], None, 0.0),
    (lambda: metrics.Precision(top_k=4), [0, 0, 1, 1], [1, 1, 1, 1], None, 0.5),
    (metrics.Recall, [0, 1, 1, 1], [1, 0, 1, 1], None, 2 / 3),
    (metrics.Recall, [0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0], 1.0),
    (metrics.MeanSquaredError, [[0, 1], [0, 0]], [[1, 1], [0, 0]], None, 0.25),
    (metrics.MeanAbsoluteError, [[0, 1], [0, 0]], [[1, 1], [0, 0]], None, 0.25),
    (metrics.RootMeanSquaredError, [[0, 1], [0, 0]], [[1, 1], [0, 0]], None, 0.5),
]


@pytest.mark.parametrize("factory, y_true, y_pred, weights, expected", KERAS_EXAMPLES)
def test_keras_documentation_values(factory, y_true, y_pred, weights, expected):
    m = factory()
    w = None if weights is None else np.array(weights, float)
    m.update_state(np.array(y_true), np.array(y_pred, float), sample_weight=w)
    assert m.result() == pytest.approx(expected)
    m.reset_state()
    assert m.result() == 0.0


def test_mean_and_sum():
    m = metrics.Mean()
    m.update_state([1, 3, 5, 7])
    assert m.result() == 4.0
    m.reset_state()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert m.result() == 2.0
    s = metrics.Sum()
    s.update_state([1, 3, 5, 7])
    assert s.result() == 16.0


def test_results_accumulate_over_batches(rng):
    y_true, y_pred = rng.integers(0, 4, 50), rng.normal(size=(50, 4))
    streamed, whole = (
        metrics.SparseCategoricalAccuracy(),
        metrics.SparseCategoricalAccuracy(),
    )
    for start in range(0, 50, 16):
        streamed.update_state(y_true[start : start + 16], y_pred[start : start + 16])
    whole.update_state(y_true, y_pred)
    assert streamed.result() == pytest.approx(whole.result())
    assert whole.result() == pytest.approx(np.mean(y_pred.argmax(1) == y_true))


def test_metrics_accept_tensors_and_call_returns_result(rng):
    y_pred = numnet.tensor(rng.normal(size=(6, 3)), requires_grad=True)
    labels = numnet.tensor(np.array([0, 1, 2, 0, 1, 2]))
    m = metrics.SparseCategoricalAccuracy()
    assert m(labels, y_pred) == pytest.approx(
        np.mean(y_pred.data.argmax(1) == labels.data)
    )


def test_top_k_against_a_naive_loop(rng):
    y_pred = rng.normal(size=(40, 6))
    labels = rng.integers(0, 6, 40)
    for k in (1, 2, 3, 6):
        naive = np.mean(
            [
                lab in np.argsort(-row)[:k]
                for row, lab in zip(y_pred, labels, strict=True)
            ]
        )
        m = metrics.SparseTopKCategoricalAccuracy(k=k)
        m.update_state(labels, y_pred)
        assert m.result() == pytest.approx(naive)
        one_hot = metrics.TopKCategoricalAccuracy(k=k)
        one_hot.update_state(np.eye(6)[labels], y_pred)
        assert one_hot.result() == pytest.approx(naive)


def test_precision_recall_threshold_and_class_id(rng):
    y_true = rng.integers(0, 2, (30, 3))
    y_pred = rng.uniform(size=(30, 3))
    for cls, formula in (
        (metrics.Precision, lambda tp, fp, fn: tp / (tp + fp)),
        (metrics.Recall, lambda tp, fp, fn: tp / (tp + fn)),
    ):
        m = cls(thresholds=0.3, class_id=1)
        m.update_state(y_true, y_pred)
        t, p = y_true[:, 1] == 1, y_pred[:, 1] > 0.3
        expected = formula(np.sum(t & p), np.sum(~t & p), np.sum(t & ~p))
        assert m.result() == pytest.approx(expected)
    with pytest.raises(ValueError, match=r"'thresholds'.*thresholds=1.5"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="top_k"):
        metrics.Recall(top_k=0)


def test_precision_with_no_positive_prediction_is_zero():
    m = metrics.Precision()
    m.update_state([1, 1], [0.1, 0.2])
    assert m.result() == 0.0


def test_f1_keras_example_and_averages():
    y_true = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.float32)
    y_pred = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)
    m = metrics.F1Score(threshold=0.5)
    m.update_state(y_true, y_pred)
    np.testing.assert_allclose(m.result(), [0.5, 0.8, 0.6666667], rtol=1e-6)
    macro = metrics.F1Score(average="macro", threshold=0.5)
    assert macro(y_true, y_pred) == pytest.approx(np.mean([0.5, 0.8, 2 / 3]))
    weighted = metrics.F1Score(average="weighted", threshold=0.5)
    expected = (0.5 * 3 + 0.8 * 2 + 2 / 3 * 1) / 6  # supports 3, 2, 1
    assert weighted(y_true, y_pred) == pytest.approx(expected)
    micro = metrics.F1Score(average="micro", threshold=0.5)
    tp, fp, fn = 4, 2, 2  # summed over the classes
    assert micro(y_true, y_pred) == pytest.approx(2 * tp / (2 * tp + fp + fn))


def test_f1_with_integer_labels_and_argmax(rng):
    labels, scores = rng.integers(0, 3, 40), rng.normal(size=(40, 3))
    m = metrics.F1Score(average="macro")
    m.update_state(labels, scores)
    cm = metrics.confusion_matrix(labels, scores, 3)
    tp = np.diag(cm)
    precision, recall = tp / cm.sum(0), tp / cm.sum(1)
    assert m.result() == pytest.approx(
        np.mean(2 * precision * recall / (precision + recall))
    )
    with pytest.raises(ValueError, match="'average'"):
        metrics.F1Score(average="samples")


def test_confusion_matrix_against_a_naive_loop(rng):
    t, p = rng.integers(0, 4, 100), rng.integers(0, 4, 100)
    naive = np.zeros((4, 4), int)
    for i, j in zip(t, p, strict=True):
        naive[i, j] += 1
    np.testing.assert_array_equal(metrics.confusion_matrix(t, p, 4), naive)
    np.testing.assert_array_equal(
        metrics.confusion_matrix(np.eye(4)[t], np.eye(4)[p]), naive
    )
    m = metrics.ConfusionMatrix(4)
    m.update_state(t[:50], rng.normal(size=(50, 4)) + 10 * np.eye(4)[p[:50]])
    m.update_state(t[50:], p[50:])
    np.testing.assert_array_equal(m.result(), naive)
    assert m.result().dtype == np.int64
    weighted = metrics.confusion_matrix([0, 1], [0, 0], 2, sample_weight=[0.5, 2.0])
    np.testing.assert_allclose(weighted, [[0.5, 0], [2.0, 0]])


def test_confusion_matrix_binary_probabilities_and_errors():
    cm = metrics.confusion_matrix([0, 1, 1], np.array([[0.2], [0.7], [0.4]]))
    np.testing.assert_array_equal(cm, [[1, 0], [1, 1]])
    with pytest.raises(ValueError, match=r"label 5 outside \[0, 3\)"):
        metrics.confusion_matrix([0, 5], [0, 1], num_classes=3)
    with pytest.raises(ValueError, match="num_classes"):
        metrics.ConfusionMatrix(0)


@pytest.mark.parametrize(
    "loss, cls, threshold",
    [
        ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy, None),
        (losses.CategoricalCrossentropy(), metrics.CategoricalAccuracy, None),
        ("binary_crossentropy", metrics.BinaryAccuracy, 0.5),
        (losses.BinaryCrossentropy(from_logits=True), metrics.BinaryAccuracy, 0.0),
    ],
)
def test_accuracy_resolves_by_loss(loss, cls, threshold):
    m = metrics.get("accuracy", loss=loss)
    assert type(m) is cls and m.name == "accuracy"
    if threshold is not None:
        assert m.get_config()["threshold"] == threshold
    assert metrics.get("acc", loss=loss).name == "acc"


@pytest.mark.parametrize(
    "y_true, y_pred, expected",
    [
        ([0, 2], [[0.9, 0.0, 0.1], [0.1, 0.2, 0.7]], 1.0),  # sparse
        ([[0], [0]], [[0.9, 0.1], [0.2, 0.8]], 0.5),  # sparse with trailing 1
        ([[0, 1], [1, 0]], [[0.9, 0.1], [0.2, 0.8]], 0.0),  # one-hot
        ([[1], [0]], [[0.9], [0.8]], 0.5),  # binary
    ],
)
def test_accuracy_without_loss_is_inferred_from_shapes(y_true, y_pred, expected):
    m = metrics.get("accuracy", loss="mse")
    assert m(np.array(y_true), np.array(y_pred)) == pytest.approx(expected)


def test_get_names_functions_and_errors(rng):
    assert type(metrics.get("mae")) is metrics.MeanAbsoluteError
    assert metrics.get("mae").name == "mae"
    assert type(metrics.get("precision")) is metrics.Precision
    assert type(metrics.get("F1Score")) is metrics.F1Score
    bce = metrics.get("binary_crossentropy")
    t, p = rng.integers(0, 2, (5, 1)), rng.uniform(0.1, 0.9, (5, 1))
    assert bce(t, p) == pytest.approx(losses.BinaryCrossentropy()(t, p).item())

    def hits(y_true, y_pred):
        return (np.asarray(y_true) == np.round(y_pred)).astype(float)

    custom = metrics.get(hits)
    assert custom.name == "hits" and custom([1, 0], [0.9, 0.8]) == 0.5
    with pytest.raises(
        ValueError, match=r"'accuracy'.*'precision'.*Received: 'acuracy'"
    ):
        metrics.get("acuracy")


def test_serialize_round_trip():
    for m in (
        metrics.BinaryAccuracy(threshold=0.3),
        metrics.F1Score("macro", 0.4),
        metrics.Precision(top_k=2),
        metrics.ConfusionMatrix(3),
        metrics.get("accuracy", loss="sparse_categorical_crossentropy"),
        metrics.get("huber"),
    ):
        text = json.dumps(metrics.serialize(m))
        clone = metrics.get(json.loads(text))
        assert type(clone) is type(m) and clone.get_config() == m.get_config()


def test_sparse_labels_with_wrong_shape_are_rejected():
    with pytest.raises(ValueError, match=r"y_true.shape=\(2, 3\)"):
        metrics.SparseCategoricalAccuracy()(np.eye(3)[[0, 1]], np.eye(3)[[0, 1]])
