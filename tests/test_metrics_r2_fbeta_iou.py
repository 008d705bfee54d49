"""R2Score, FBetaScore (F1Score as its beta = 1 case) and the IoU metrics:
Keras's docstring examples, NumPy formulas written here, accumulation over
batches with and without sample weights, configs, names, errors and fit."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.example_helpers import needs_fashion_mnist

from numnet import layers, metrics, models

ONE_HOT = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
SCORES = np.array([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])
L4, P4, W4 = [0, 0, 1, 1], [0, 1, 0, 1], [0.3, 0.3, 0.3, 0.1]

#: (metric, y_true, y_pred, result, result with sample_weight, sample_weight);
#: a None result means Keras's docstring only gives the weighted one
KERAS_EXAMPLES = {
    "IoU": (
        lambda: metrics.IoU(num_classes=2, target_class_ids=[0]),
        L4,
        P4,
        0.33333334,
        0.33333334,
        W4,
    ),
    "MeanIoU": (lambda: metrics.MeanIoU(2), L4, P4, 0.33333334, 0.23809525, W4),
    "BinaryIoU": (
        lambda: metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3),
        [0, 1, 0, 1],
        [0.1, 0.2, 0.4, 0.7],
        0.33333334,
        0.17361112,
        [0.2, 0.3, 0.4, 0.1],
    ),
    "OneHotIoU": (
        lambda: metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2]),
        ONE_HOT,
        SCORES,
        None,
        0.1 / 0.7 / 2,
        [0.1, 0.2, 0.3, 0.4],
    ),
    "OneHotMeanIoU": (
        lambda: metrics.OneHotMeanIoU(num_classes=3),
        ONE_HOT,
        SCORES,
        None,
        0.1 / 0.7 / 3,
        [0.1, 0.2, 0.3, 0.4],
    ),
    "R2Score": (
        metrics.R2Score,
        [[1], [4], [3]],
        [[2], [4], [4]],
        0.57142854,
        None,
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(KERAS_EXAMPLES))
def test_keras_documentation_values(name):
    make, y_true, y_pred, plain, weighted, weight = KERAS_EXAMPLES[name]
    m = make()
    if plain is not None:
        m.update_state(y_true, y_pred)
        assert m.result() == pytest.approx(plain, abs=1e-6)
        m.reset_state()
    if weighted is not None:
        m.update_state(y_true, y_pred, sample_weight=weight)
        assert m.result() == pytest.approx(weighted, abs=1e-6)


KERAS_Y = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]])
KERAS_P = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)


def test_fbeta_and_f1_keras_documentation_values():
    fbeta = metrics.FBetaScore(beta=2.0, threshold=0.5)
    fbeta.update_state(KERAS_Y, KERAS_P)
    np.testing.assert_allclose(
        fbeta.result(), [0.3846154, 0.90909094, 0.8333334], rtol=1e-6
    )
    f1 = metrics.F1Score(threshold=0.5)
    f1.update_state(KERAS_Y, KERAS_P)
    np.testing.assert_allclose(f1.result(), [0.5, 0.8, 0.6666667], rtol=1e-6)


def fbeta_formula(t, predicted, w, beta, average):
    """F-beta from weighted per-class counts, as the textbook defines it."""
    tp = (w[:, None] * (t & predicted)).sum(0)
    fp = (w[:, None] * (~t & predicted)).sum(0)
    fn = (w[:, None] * (t & ~predicted)).sum(0)
    if average == "micro":
        tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
    b2 = beta**2
    denominator = (1 + b2) * tp + b2 * fn + fp
    f = np.divide(
        (1 + b2) * tp, denominator, out=np.zeros_like(tp), where=denominator > 0
    )
    if average == "macro":
        return f.mean()
    if average == "weighted":
        support = (w[:, None] * t).sum(0)
        return (f * support).sum() / support.sum()
    return f


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("beta, threshold", [(0.5, 0.4), (2.0, None), (1.0, 0.6)])
@pytest.mark.parametrize("weighted", [False, True])
def test_fbeta_accumulates_to_the_formula(rng, average, beta, threshold, weighted):
    m = metrics.FBetaScore(average=average, beta=beta, threshold=threshold)
    ys, ps, ws = [], [], []
    for _ in range(3):
        y = (
            np.eye(4)[rng.integers(0, 4, 30)]
            if threshold is None
            else (rng.random((30, 4)) < 0.4).astype(float)
        )
        p = rng.random((30, 4))
        w = rng.uniform(0, 2, 30) if weighted else np.ones(30)
        m.update_state(y, p, sample_weight=w if weighted else None)
        ys.append(y), ps.append(p), ws.append(w)
    y, p, w = (np.concatenate(a) for a in (ys, ps, ws))
    if threshold is None:
        predicted = np.eye(4, dtype=bool)[p.argmax(1)]
    else:
        predicted = p > threshold
    expected = fbeta_formula(y != 0, predicted, w, beta, average)
    np.testing.assert_allclose(m.result(), expected, rtol=1e-12)
    m.reset_state()
    m.update_state(y[:5], p[:5])
    assert np.all(np.isfinite(m.result()))


def test_f1_is_fbeta_with_beta_one(rng):
    y, p = (rng.random((40, 3)) < 0.5).astype(float), rng.random((40, 3))
    f1, fb = metrics.F1Score("macro", 0.5), metrics.FBetaScore("macro", 1.0, 0.5)
    f1.update_state(y, p), fb.update_state(y, p)
    assert f1.result() == fb.result()
    assert f1.get_config() == {"name": "f1_score", "average": "macro", "threshold": 0.5}
    assert isinstance(f1, metrics.FBetaScore)


def r2_formula(y, p, w, aggregation, regressors=0):
    mean = (w[:, None] * y).sum(0) / w.sum()
    total = (w[:, None] * (y - mean) ** 2).sum(0)
    residual = (w[:, None] * (y - p) ** 2).sum(0)
    scores = 1 - residual / total
    if aggregation == "uniform_average":
        score = scores.mean()
    elif aggregation == "variance_weighted_average":
        score = (scores * total).sum() / total.sum()
    else:
        score = scores
    n = np.count_nonzero(w)
    if regressors:
        score = 1 - (1 - score) * (n - 1) / (n - regressors - 1)
    return score


@pytest.mark.parametrize(
    "aggregation", [None, "uniform_average", "variance_weighted_average"]
)
@pytest.mark.parametrize("regressors", [0, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_r2_accumulates_to_the_formula(rng, aggregation, regressors, weighted):
    m = metrics.R2Score(class_aggregation=aggregation, num_regressors=regressors)
    ys, ps, ws = [], [], []
    for _ in range(3):
        y = rng.normal(size=(20, 3)) * [1, 3, 0.5]
        p = y + rng.normal(size=(20, 3)) * 0.7
        w = rng.uniform(0, 2, 20) if weighted else np.ones(20)
        w[0] = 0 if weighted else 1  # a zero weight is not a sample for adjusted R2
        m.update_state(y, p, sample_weight=w if weighted else None)
        ys.append(y), ps.append(p), ws.append(w)
    y, p, w = (np.concatenate(a) for a in (ys, ps, ws))
    np.testing.assert_allclose(
        m.result(), r2_formula(y, p, w, aggregation, regressors), rtol=1e-10
    )
    m.reset_state()
    assert not np.any(m.sum) and m.num_samples == 0


def test_r2_edge_cases():
    m = metrics.R2Score()
    m.update_state([2.0, 2.0, 2.0], [2.0, 2.0, 2.0])  # constant target, exact
    assert m.result() == 1.0
    m.update_state([2.0], [3.0])
    assert m.result() == 0.0  # constant target, missed: 0, not NaN or -inf
    adjusted = metrics.R2Score(num_regressors=5)
    adjusted.update_state([[1.0], [2.0], [4.0]], [[1.0], [2.5], [3.5]])
    plain = metrics.R2Score()
    plain.update_state([[1.0], [2.0], [4.0]], [[1.0], [2.5], [3.5]])
    with pytest.warns(UserWarning, match="num_regressors"):
        assert adjusted.result() == plain.result()


def iou_formula(t, p, w, num_classes, ids):
    cm = np.zeros((num_classes, num_classes))
    np.add.at(cm, (t, p), w)
    tp = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - tp
    ious = [tp[c] / union[c] for c in ids if union[c] > 0]
    return float(np.mean(ious)) if ious else 0.0


@pytest.mark.parametrize("weighted", [False, True])
def test_iou_accumulates_to_the_formula_with_ignored_and_void_labels(rng, weighted):
    m = metrics.IoU(4, target_class_ids=[0, 2, 3], ignore_class=255)
    mean = metrics.MeanIoU(4, ignore_class=255)
    ts, ps, ws = [], [], []
    for _ in range(3):  # segmentation maps (N, H, W) of labels, some void
        t = rng.integers(0, 4, (2, 5, 5))
        t[rng.random(t.shape) < 0.1] = 255
        p = np.where(rng.random(t.shape) < 0.6, t % 4, rng.integers(0, 4, t.shape))
        w = rng.uniform(0, 2, 2) if weighted else None  # one weight per map
        m.update_state(t, p, sample_weight=w), mean.update_state(t, p, sample_weight=w)
        ts.append(t), ps.append(p)
        ws.append(
            np.broadcast_to((w if weighted else np.ones(2))[:, None, None], t.shape)
        )
    t, p, w = (np.concatenate(a).ravel() for a in (ts, ps, ws))
    keep = t != 255
    t, p, w = t[keep], p[keep], w[keep]
    assert m.result() == pytest.approx(iou_formula(t, p, w, 4, [0, 2, 3]), abs=1e-12)
    assert mean.result() == pytest.approx(iou_formula(t, p, w, 4, range(4)), abs=1e-12)
    mean.reset_state()
    assert mean.result() == 0.0


def test_dense_inputs_take_the_argmax(rng):
    y, p = np.eye(3)[rng.integers(0, 3, 50)], rng.random((50, 3))
    dense = metrics.MeanIoU(3, sparse_y_true=False, sparse_y_pred=False)
    one_hot = metrics.OneHotMeanIoU(3)
    sparse = metrics.MeanIoU(3)
    dense.update_state(y, p), one_hot.update_state(y, p)
    sparse.update_state(y.argmax(1), p.argmax(1))
    assert dense.result() == one_hot.result() == sparse.result()


@pytest.mark.parametrize(
    "make",
    [
        lambda: metrics.FBetaScore("weighted", 0.5, 0.3, name="fb"),
        lambda: metrics.F1Score("micro"),
        lambda: metrics.R2Score("variance_weighted_average", 2),
        lambda: metrics.IoU(3, [1, 2], ignore_class=0, sparse_y_pred=False),
        lambda: metrics.MeanIoU(3, sparse_y_true=False, axis=1),
        lambda: metrics.BinaryIoU([1], threshold=0.3),
        lambda: metrics.OneHotIoU(3, [0], sparse_y_pred=True),
        lambda: metrics.OneHotMeanIoU(3, ignore_class=2),
    ],
)
def test_config_round_trip(make):
    m = make()
    config = m.get_config()
    assert type(m).from_config(json.loads(json.dumps(config))).get_config() == config
    assert metrics.get(metrics.serialize(m)).get_config() == config


def test_keras_string_names():
    for name, cls in [
        ("r2_score", metrics.R2Score),
        ("fbeta_score", metrics.FBetaScore),
        ("f_beta_score", metrics.FBetaScore),
        ("binary_iou", metrics.BinaryIoU),
        ("binary_io_u", metrics.BinaryIoU),
    ]:
        assert type(metrics.get(name)) is cls
    # a class that needs arguments cannot come from its name alone
    for name, argument in [("MeanIoU", "num_classes"), ("PrecisionAtRecall", "recall")]:
        with pytest.raises(ValueError, match=f"{name} needs .*{argument}"):
            metrics.get(name)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: metrics.FBetaScore(beta=0), ["FBetaScore", "beta"]),
        (lambda: metrics.FBetaScore(average="sum"), ["FBetaScore", "average"]),
        (lambda: metrics.R2Score("mean"), ["R2Score", "class_aggregation"]),
        (lambda: metrics.R2Score(num_regressors=-1), ["R2Score", "num_regressors"]),
        (
            lambda: metrics.R2Score().update_state(np.ones((2, 2)), np.ones((2, 3))),
            ["R2Score", "shape"],
        ),
        (lambda: metrics.MeanIoU(0), ["MeanIoU", "num_classes"]),
        (lambda: metrics.IoU(2, [2]), ["IoU", "target_class_ids"]),
        (lambda: metrics.IoU(2, []), ["IoU", "target_class_ids"]),
        (
            lambda: metrics.OneHotIoU(3, [0], ignore_class="void"),
            ["OneHotIoU", "ignore_class"],
        ),
        (lambda: metrics.BinaryIoU(threshold="high"), ["BinaryIoU", "threshold"]),
        (
            lambda: metrics.MeanIoU(2).update_state([0, 1, 1], [0, 1]),
            ["MeanIoU", "labels"],
        ),
    ],
)
def test_bad_arguments_name_the_metric_and_argument(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_states_sum_over_ranks(rng):
    from numnet.distributed.strategy import _state_keys

    assert _state_keys(metrics.MeanIoU(3)) == ["total_cm"]
    r2 = metrics.R2Score()
    r2.update_state(rng.normal(size=(4, 2)), rng.normal(size=(4, 2)))
    assert _state_keys(r2) == ["count", "num_samples", "residual", "squared_sum", "sum"]


@needs_fashion_mnist
def test_fit_reports_iou_fbeta_and_r2_on_fashion_mnist():
    from numnet.datasets import fashion_mnist

    (x, y), _ = fashion_mnist.load_data()
    rng = np.random.default_rng(0)
    pick = rng.permutation(60000)[:3000]
    x = x[pick].reshape(-1, 784).astype(np.float32) / 255
    y = np.eye(10, dtype=np.float32)[y[pick]]
    model = models.Sequential(
        [layers.Input((784,)), layers.Dense(10, activation="softmax")]
    )
    model.compile(
        "adam",
        "categorical_crossentropy",
        metrics=[
            metrics.OneHotMeanIoU(10),
            metrics.FBetaScore("macro", beta=0.5),
            "r2_score",
        ],
    )
    logs = model.fit(
        x, y, batch_size=64, epochs=2, verbose=0, validation_split=0.2
    ).history
    for key in (
        "one_hot_mean_iou",
        "fbeta_score",
        "r2_score",
        "val_one_hot_mean_iou",
        "val_fbeta_score",
        "val_r2_score",
    ):
        assert len(logs[key]) == 2, key
    # chance on 10 balanced classes: IoU about 0.05, F-beta about 0.1 and R2
    # about 0; a linear softmax model reaches ~80% accuracy after two epochs
    assert logs["val_one_hot_mean_iou"][-1] > 0.4, logs
    assert logs["val_fbeta_score"][-1] > 0.6, logs
    assert logs["val_r2_score"][-1] > 0.4, logs


def test_fit_logs_a_metric_with_one_value_per_class_or_threshold(rng):
    x = rng.random((64, 4)).astype(np.float32)
    y = (x[:, :2] > 0.5).astype(np.float32)
    model = models.Sequential(
        [layers.Input((4,)), layers.Dense(2, activation="sigmoid")]
    )
    per_class = [
        metrics.TruePositives([0.3, 0.7]),
        metrics.F1Score(threshold=0.5),
        metrics.R2Score(class_aggregation=None),
    ]
    model.compile("adam", "binary_crossentropy", metrics=per_class)
    logs = model.fit(x, y, epochs=1, batch_size=16, verbose=0).history
    for m in per_class:  # the epoch's array, as Keras logs it
        assert logs[m.name][0].shape == (2,)
        np.testing.assert_allclose(logs[m.name][0], m.result())


def test_a_saved_model_keeps_its_new_metrics(rng, tmp_path):
    x = rng.random((64, 4)).astype(np.float32)
    y = (x[:, :1] > 0.5).astype(np.float32)
    model = models.Sequential(
        [layers.Input((4,)), layers.Dense(1, activation="sigmoid")]
    )
    model.compile(
        "adam",
        "binary_crossentropy",
        metrics=[
            "auc",
            metrics.PrecisionAtRecall(0.4, num_thresholds=50),
            metrics.BinaryIoU([1], threshold=0.4),
            metrics.R2Score(num_regressors=1),
            metrics.FBetaScore("micro", beta=0.5, threshold=0.5),
        ],
    )
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    restored = models.load_model(tmp_path / "model.keras")
    expected = model.evaluate(x, y, verbose=0)
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-6)
