"""Every public loss and metric (and the vision losses) agrees on the CPU and on
a device.

A loss is computed on the CPU and on the device from the same float32 inputs:
its value and the gradient of the predictions (a loss's backward) agree
within float32 tolerances. A metric takes the same two batches on both and
reports the same result. The completeness tests fail when a public loss or
metric class has no case here. The ``device`` fixture (``tests/conftest.py``) gives
"strict" everywhere and "cuda" where CuPy finds a GPU.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from tests.gpu.test_every_layer_on_devices import F32

import numnet
from numnet import backend, losses, metrics, vision
from numnet.backend.device import device_of


def logits(rng, n=8, k=5):
    return rng.standard_normal((n, k))


def probabilities(rng, n=8, k=5):
    e = np.exp(rng.standard_normal((n, k)))
    return e / e.sum(axis=1, keepdims=True)


def labels(rng, n=8, k=5):
    return rng.integers(0, k, n)


def one_hot(rng, n=8, k=5):
    return np.eye(k)[labels(rng, n, k)]


def bits(rng, n=8, k=3):
    return (rng.random((n, k)) > 0.5).astype(np.float64)


def sigmoids(rng, n=8, k=3):
    return 1 / (1 + np.exp(-rng.standard_normal((n, k))))


def normal(rng, n=8, k=3):
    return rng.standard_normal((n, k))


def rates(rng, n=8, k=3):
    return rng.uniform(0.1, 3.0, (n, k))


def embeddings(rng, n=12, d=4):
    return rng.standard_normal((n, d))


def three_labels(rng, n=12):
    return np.repeat(np.arange(3), n // 3)


ANCHORS = np.array([[0.2, 0.3], [0.6, 0.5]])


def yolo_targets(rng, n=3, grid=2, classes=3):
    corners = rng.random((n, 1, 2)) * 0.5
    boxes = [np.concatenate([c, c + 0.3], axis=-1) for c in corners]
    labels = [rng.integers(0, classes, 1) for _ in range(n)]
    return vision.encode_yolo_targets(boxes, labels, grid, ANCHORS, classes)


def yolo_outputs(rng, n=3, grid=2, classes=3):
    return rng.standard_normal((n, grid, grid, len(ANCHORS) * (5 + classes)))


def localization_targets(rng, n=6, classes=3):
    """(pc, 4 coordinates, one-hot class); unknown entries NaN, as the loss allows."""
    pc, coords = rng.random((n, 1)) > 0.5, rng.random((n, 4))
    t = np.concatenate([pc, coords, np.eye(classes)[rng.integers(0, classes, n)]], 1)
    t[0, 1:] = np.nan
    return t


def localization_outputs(rng, n=6, classes=3):
    return rng.standard_normal((n, 5 + classes))


#: name -> (factory, y_true draw, y_pred draw)
LOSSES = {
    "YoloLoss": (lambda: vision.YoloLoss(ANCHORS, 3), yolo_targets, yolo_outputs),
    "LocalizationLoss": (
        lambda: vision.LocalizationLoss(3),
        localization_targets,
        localization_outputs,
    ),
    "BinaryCrossentropy": (lambda: losses.BinaryCrossentropy(), bits, sigmoids),
    "BinaryCrossentropy_logits": (
        lambda: losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
        bits,
        normal,
    ),
    "CategoricalCrossentropy": (
        lambda: losses.CategoricalCrossentropy(),
        one_hot,
        probabilities,
    ),
    "CategoricalCrossentropy_logits": (
        lambda: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        one_hot,
        logits,
    ),
    "SparseCategoricalCrossentropy": (
        lambda: losses.SparseCategoricalCrossentropy(),
        labels,
        probabilities,
    ),
    "SparseCategoricalCrossentropy_logits": (
        lambda: losses.SparseCategoricalCrossentropy(from_logits=True),
        labels,
        logits,
    ),
    "Huber": (lambda: losses.Huber(0.5), normal, normal),
    "MeanAbsoluteError": (lambda: losses.MeanAbsoluteError(), normal, normal),
    "MeanSquaredError": (
        lambda: losses.MeanSquaredError(reduction="sum"),
        normal,
        normal,
    ),
    "TripletLoss": (lambda: losses.TripletLoss(), three_labels, embeddings),
    "TripletLoss_all": (
        lambda: losses.TripletLoss(mining="all", squared=False),
        three_labels,
        embeddings,
    ),
    "KLDivergence": (lambda: losses.KLDivergence(), probabilities, probabilities),
    "CosineSimilarity": (lambda: losses.CosineSimilarity(axis=0), normal, normal),
    "LogCosh": (lambda: losses.LogCosh(), normal, normal),
    "Poisson": (lambda: losses.Poisson(), rates, rates),
    "MeanSquaredLogarithmicError": (
        lambda: losses.MeanSquaredLogarithmicError(),
        rates,
        rates,
    ),
    "MeanAbsolutePercentageError": (
        lambda: losses.MeanAbsolutePercentageError(),
        rates,
        normal,
    ),
    "Hinge": (lambda: losses.Hinge(), bits, normal),
    "SquaredHinge": (lambda: losses.SquaredHinge(), bits, normal),
    "CategoricalHinge": (lambda: losses.CategoricalHinge(), one_hot, logits),
    "BinaryFocalCrossentropy": (
        lambda: losses.BinaryFocalCrossentropy(apply_class_balancing=True),
        bits,
        sigmoids,
    ),
    "BinaryFocalCrossentropy_logits": (
        lambda: losses.BinaryFocalCrossentropy(
            gamma=1.5, from_logits=True, label_smoothing=0.1
        ),
        bits,
        normal,
    ),
    "CategoricalFocalCrossentropy": (
        lambda: losses.CategoricalFocalCrossentropy(alpha=[0.1, 0.2, 0.3, 0.2, 0.2]),
        one_hot,
        probabilities,
    ),
    "CategoricalFocalCrossentropy_logits": (
        lambda: losses.CategoricalFocalCrossentropy(from_logits=True),
        one_hot,
        logits,
    ),
    "LossFunctionWrapper": (
        lambda: losses.LossFunctionWrapper(losses.huber, delta=2.0),
        normal,
        normal,
    ),
}


def _f32(a):
    return a.astype(np.float32) if a.dtype.kind == "f" else a


def _loss_on(name, put):
    factory, true_draw, pred_draw = LOSSES[name]
    rng = np.random.default_rng(0)
    y_true, y_pred = _f32(true_draw(rng)), _f32(pred_draw(rng))
    pred = numnet.tensor(put(y_pred), requires_grad=True)
    value = factory()(put(y_true), pred)
    value.backward()
    return [value.data, pred.grad]


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_agrees_with_the_cpu(name, device):
    target = numnet.device(device)
    on_cpu = _loss_on(name, lambda a: a)
    on_device = _loss_on(name, target.put)
    for i, (a, b) in enumerate(zip(on_cpu, on_device, strict=True)):
        assert device_of(b) == target, f"{name}: result {i} left {device}"
        host = backend.get_ops(b).to_numpy(b)
        np.testing.assert_allclose(host, a, **F32, err_msg=f"{name}: result {i}")


#: name -> (factory, y_true draw, y_pred draw); Mean and Sum take values only
METRICS = {
    "AUC": (lambda: metrics.AUC(num_thresholds=20), bits, sigmoids),
    "AUC_PR_multi_label": (
        lambda: metrics.AUC(curve="PR", multi_label=True, label_weights=[1, 2, 3]),
        bits,
        sigmoids,
    ),
    "AUC_logits_majoring": (
        lambda: metrics.AUC(from_logits=True, summation_method="majoring"),
        bits,
        normal,
    ),
    "TruePositives": (lambda: metrics.TruePositives([0.7, 0.2]), bits, sigmoids),
    "FBetaScore": (
        lambda: metrics.FBetaScore(average="weighted", beta=2.0),
        one_hot,
        probabilities,
    ),
    "R2Score": (
        lambda: metrics.R2Score("variance_weighted_average", num_regressors=2),
        normal,
        normal,
    ),
    "R2Score_per_column": (
        lambda: metrics.R2Score(class_aggregation=None),
        normal,
        normal,
    ),
    "IoU": (
        lambda: metrics.IoU(5, [0, 3], sparse_y_pred=False),
        labels,
        probabilities,
    ),
    "MeanIoU": (lambda: metrics.MeanIoU(5, ignore_class=2), labels, labels),
    "BinaryIoU": (lambda: metrics.BinaryIoU(threshold=0.4), bits, sigmoids),
    "OneHotIoU": (lambda: metrics.OneHotIoU(5, [1, 2]), one_hot, probabilities),
    "OneHotMeanIoU": (lambda: metrics.OneHotMeanIoU(5), one_hot, probabilities),
    "FalsePositives": (lambda: metrics.FalsePositives(), bits, sigmoids),
    "TrueNegatives": (lambda: metrics.TrueNegatives(0.3), bits, sigmoids),
    "FalseNegatives": (lambda: metrics.FalseNegatives(), bits, sigmoids),
    "PrecisionAtRecall": (lambda: metrics.PrecisionAtRecall(0.5), bits, sigmoids),
    "RecallAtPrecision": (
        lambda: metrics.RecallAtPrecision(0.4, class_id=1),
        bits,
        sigmoids,
    ),
    "SensitivityAtSpecificity": (
        lambda: metrics.SensitivityAtSpecificity(0.5, num_thresholds=1),
        bits,
        sigmoids,
    ),
    "SpecificityAtSensitivity": (
        lambda: metrics.SpecificityAtSensitivity(0.5),
        bits,
        sigmoids,
    ),
    "Accuracy": (lambda: metrics.Accuracy(), labels, labels),
    "BinaryAccuracy": (lambda: metrics.BinaryAccuracy(), bits, sigmoids),
    "CategoricalAccuracy": (
        lambda: metrics.CategoricalAccuracy(),
        one_hot,
        probabilities,
    ),
    "ConfusionMatrix": (lambda: metrics.ConfusionMatrix(5), labels, probabilities),
    "F1Score": (
        lambda: metrics.F1Score(average="macro", threshold=0.5),
        bits,
        sigmoids,
    ),
    "InferredAccuracy": (lambda: metrics.InferredAccuracy(), labels, probabilities),
    "LossMetric": (
        lambda: metrics.LossMetric(losses.MeanSquaredError()),
        normal,
        normal,
    ),
    "KLDivergence": (lambda: metrics.KLDivergence(), probabilities, probabilities),
    "CosineSimilarity": (lambda: metrics.CosineSimilarity(axis=0), normal, normal),
    "LogCoshError": (lambda: metrics.LogCoshError(), normal, normal),
    "Poisson": (lambda: metrics.Poisson(), rates, rates),
    "MeanSquaredLogarithmicError": (
        lambda: metrics.MeanSquaredLogarithmicError(),
        rates,
        rates,
    ),
    "MeanAbsolutePercentageError": (
        lambda: metrics.MeanAbsolutePercentageError(),
        rates,
        normal,
    ),
    "Hinge": (lambda: metrics.Hinge(), bits, normal),
    "SquaredHinge": (lambda: metrics.SquaredHinge(), bits, normal),
    "CategoricalHinge": (lambda: metrics.CategoricalHinge(), one_hot, logits),
    "Mean": (lambda: metrics.Mean(), None, normal),
    "Sum": (lambda: metrics.Sum(), None, normal),
    "MeanAbsoluteError": (lambda: metrics.MeanAbsoluteError(), normal, normal),
    "MeanSquaredError": (lambda: metrics.MeanSquaredError(), normal, normal),
    "RootMeanSquaredError": (lambda: metrics.RootMeanSquaredError(), normal, normal),
    "MeanMetricWrapper": (
        lambda: metrics.MeanMetricWrapper(metrics.binary_accuracy, threshold=0.3),
        bits,
        sigmoids,
    ),
    "Precision": (lambda: metrics.Precision(thresholds=0.3), bits, sigmoids),
    "Recall": (lambda: metrics.Recall(top_k=2), bits, sigmoids),
    "SparseCategoricalAccuracy": (
        lambda: metrics.SparseCategoricalAccuracy(),
        labels,
        probabilities,
    ),
    "SparseTopKCategoricalAccuracy": (
        lambda: metrics.SparseTopKCategoricalAccuracy(k=2),
        labels,
        probabilities,
    ),
    "TopKCategoricalAccuracy": (
        lambda: metrics.TopKCategoricalAccuracy(k=2),
        one_hot,
        probabilities,
    ),
}


def _metric_on(name, put):
    factory, true_draw, pred_draw = METRICS[name]
    metric = factory()
    rng = np.random.default_rng(0)
    for _ in range(2):  # two batches: the state accumulates on the device
        y_pred = put(_f32(pred_draw(rng)))
        if true_draw is None:
            metric.update_state(y_pred)
        else:
            metric.update_state(put(_f32(true_draw(rng))), y_pred)
    result = metric.result()
    data = result.data if isinstance(result, numnet.Tensor) else result
    return np.asarray(backend.get_ops(data).to_numpy(data), dtype=np.float64)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_metric_agrees_with_the_cpu(name, device):
    on_cpu = _metric_on(name, lambda a: a)
    on_device = _metric_on(name, numnet.device(device).put)
    np.testing.assert_allclose(on_device, on_cpu, **F32, err_msg=name)


def _public_classes(module, base):
    return {
        cls
        for name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, base) and cls is not base and not name.startswith("_")
    }


def _covered(table):
    return {type(factory()) for factory, *_ in table.values()}


def test_every_public_loss_and_metric_has_a_case():
    missing = _public_classes(losses, losses.Loss) - _covered(LOSSES)
    missing |= _public_classes(metrics, metrics.Metric) - _covered(METRICS)
    assert not missing, sorted(c.__name__ for c in missing)
