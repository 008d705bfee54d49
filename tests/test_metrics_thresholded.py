"""AUC and the thresholded confusion-count metrics: Keras's docstring examples,
independent NumPy oracles (brute-force counts, the rank form of the ROC AUC, a
numerical integral of the PR interpolation), scikit-learn where installed,
accumulation, configs, errors, compile/fit and the distributed state sum."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.example_helpers import needs_fashion_mnist

from numnet import layers, metrics, models

Y4, P4 = [0, 0, 1, 1], [0, 0.5, 0.3, 0.9]
Y5, P5 = [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]

#: (metric, y_true, y_pred, result, result with sample_weight, sample_weight)
KERAS_EXAMPLES = {
    "AUC": (lambda: metrics.AUC(num_thresholds=3), Y4, P4, 0.75, 1.0, [1, 0, 0, 1]),
    "TruePositives": (
        metrics.TruePositives,
        [0, 1, 1, 1],
        [1, 0, 1, 1],
        2.0,
        1.0,
        [0, 0, 1, 0],
    ),
    "FalsePositives": (
        metrics.FalsePositives,
        [0, 1, 0, 0],
        [0, 0, 1, 1],
        2.0,
        1.0,
        [0, 0, 1, 0],
    ),
    "TrueNegatives": (
        metrics.TrueNegatives,
        [0, 1, 0, 0],
        [1, 1, 0, 0],
        2.0,
        1.0,
        [0, 0, 1, 0],
    ),
    "FalseNegatives": (
        metrics.FalseNegatives,
        [0, 1, 1, 1],
        [0, 1, 0, 0],
        2.0,
        1.0,
        [0, 0, 1, 0],
    ),
    "SensitivityAtSpecificity": (
        lambda: metrics.SensitivityAtSpecificity(0.5),
        Y5,
        P5,
        0.5,
        0.333333,
        [1, 1, 2, 2, 1],
    ),
    "SpecificityAtSensitivity": (
        lambda: metrics.SpecificityAtSensitivity(0.5),
        Y5,
        P5,
        0.66666667,
        0.5,
        [1, 1, 2, 2, 2],
    ),
    "PrecisionAtRecall": (
        lambda: metrics.PrecisionAtRecall(0.5),
        Y5,
        P5,
        0.5,
        0.33333333,
        [2, 2, 2, 1, 1],
    ),
    "RecallAtPrecision": (
        lambda: metrics.RecallAtPrecision(0.8),
        Y4,
        P4,
        0.5,
        1.0,
        [1, 0, 0, 1],
    ),
}


@pytest.mark.parametrize("name", sorted(KERAS_EXAMPLES))
def test_keras_documentation_values(name):
    make, y_true, y_pred, plain, weighted, weight = KERAS_EXAMPLES[name]
    m = make()
    m.update_state(y_true, y_pred)
    assert m.result() == pytest.approx(plain, abs=1e-6)
    m.reset_state()
    m.update_state(y_true, y_pred, sample_weight=weight)
    assert m.result() == pytest.approx(weighted, abs=1e-6)


def brute_counts(y, p, w, thresholds):
    """TP, FP, TN, FN by comparing every prediction with every threshold."""
    above = p[None, :] > np.asarray(thresholds, np.float32)[:, None]
    pos, neg = y * w, (1 - y) * w
    tp, fp = above @ pos, above @ neg
    return tp, fp, neg.sum() - fp, pos.sum() - tp


def batches(rng, n=3, size=40):
    """(labels, probabilities, weights) batches; probabilities rounded to 0.05 so
    that ties and values exactly on thresholds occur."""
    for _ in range(n):
        y = (rng.random(size) < 0.4).astype(np.float64)
        p = np.clip(np.round(0.3 * y + 0.7 * rng.random(size), 2), 0, 1)
        yield y, p.astype(np.float32), rng.uniform(0, 2, size)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "make",
    [
        lambda: metrics.AUC(num_thresholds=21),
        lambda: metrics.AUC(thresholds=[0.7, 0.1, 0.35]),
        lambda: metrics.PrecisionAtRecall(0.6, num_thresholds=11),
        lambda: metrics.TruePositives(thresholds=[0.5, 0.2, 0.9]),
    ],
)
def test_counts_accumulate_like_brute_force_comparisons(rng, make, weighted):
    m = make()
    y_all, p_all, w_all = [], [], []
    for y, p, w in batches(rng):
        w = w if weighted else np.ones_like(w)
        m.update_state(y, p, sample_weight=w if weighted else None)
        y_all.append(y), p_all.append(p), w_all.append(w)
    y, p, w = (np.concatenate(a) for a in (y_all, p_all, w_all))
    expected = brute_counts(y, p, w, m.thresholds)
    got = (m.true_positives, m.false_positives, m.true_negatives, m.false_negatives)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)
    m.reset_state()
    assert not np.any(m.true_positives) and not np.any(m.false_negatives)


def rank_auc(y, p, w):
    """The exact ROC AUC: the weighted share of (positive, negative) pairs that
    the scores order correctly, ties counting one half (Mann-Whitney U)."""
    pos, neg = y == 1, y == 0
    diff = p[pos][:, None] - p[neg][None, :]
    pair_w = w[pos][:, None] * w[neg][None, :]
    score = (diff > 0) + 0.5 * (diff == 0)
    return float((pair_w * score).sum() / pair_w.sum())


def same_bin_share(y, p, w, num_thresholds):
    """The weighted share of (positive, negative) pairs whose scores fall between
    the same two thresholds: the trapezoid counts each as one half, the exact
    AUC as 0, 1/2 or 1, so the discretised AUC is within half of this."""
    bins = np.ceil(p.astype(np.float64) * (num_thresholds - 1))
    pos, neg = y == 1, y == 0
    same = bins[pos][:, None] == bins[neg][None, :]
    pair_w = w[pos][:, None] * w[neg][None, :]
    return float((pair_w * same).sum() / pair_w.sum())


def scored(rng, n=600):
    y = (rng.random(n) < 0.3).astype(np.float64)
    p = 1 / (1 + np.exp(-(1.5 * y - 0.5 + rng.standard_normal(n))))
    return y, p.astype(np.float32), rng.uniform(0.2, 2.0, n)


@pytest.mark.parametrize("weighted", [False, True])
def test_roc_auc_is_the_rank_statistic_within_the_discretisation(rng, weighted):
    y, p, w = scored(rng)
    w = w if weighted else np.ones_like(w)
    m = metrics.AUC()
    for part in np.array_split(np.arange(len(y)), 4):  # four batches
        m.update_state(y[part], p[part], sample_weight=w[part] if weighted else None)
    exact = rank_auc(y, p, w)
    bound = 0.5 * same_bin_share(y, p, w, 200)
    assert 0 < bound < 0.01  # 200 thresholds: ~1/199 of the pairs share a bin
    assert abs(m.result() - exact) <= bound + 1e-9, (m.result(), exact, bound)


def test_roc_auc_is_exact_with_a_threshold_between_every_two_scores(rng):
    y, p, w = scored(rng, 300)
    p = np.round(p, 2)  # ties between positives and negatives count one half
    scores = np.unique(p)
    between = ((scores[:-1] + scores[1:]) / 2).tolist()
    m = metrics.AUC(thresholds=between)
    m.update_state(y, p, sample_weight=w)
    assert m.result() == pytest.approx(rank_auc(y, p, w), abs=1e-9)


def dg_pr_auc(tp, fp, fn, steps=20001):
    """Davis & Goadrich's PR area by numerical integration: along each segment TP
    and FP vary linearly, precision = TP / (TP + FP), d recall = dTP / positives."""
    s = np.linspace(0, 1, steps)[:, None]
    t = tp[1:] + s * (tp[:-1] - tp[1:])
    f = fp[1:] + s * (fp[:-1] - fp[1:])
    precision = np.divide(t, t + f, out=np.zeros_like(t), where=t + f > 0)
    # a segment starting at no predicted positives keeps its end precision
    first = np.divide(
        tp[:-1],
        tp[:-1] + fp[:-1],
        where=tp[:-1] + fp[:-1] > 0,
        out=np.zeros_like(tp[:-1]),
    )
    precision = np.where(tp[1:] + fp[1:] > 0, precision, first)
    mean = 0.5 * (precision[1:] + precision[:-1]).mean(axis=0)
    return float(np.sum(mean * (tp[:-1] - tp[1:]) / (tp[0] + fn[0])))


def test_pr_interpolation_is_the_integral_of_precision_over_recall(rng):
    y, p, w = scored(rng)
    m = metrics.AUC(num_thresholds=50, curve="PR")
    m.update_state(y, p, sample_weight=w)
    expected = dg_pr_auc(m.true_positives, m.false_positives, m.false_negatives)
    assert m.result() == pytest.approx(expected, abs=1e-6)


def riemann(x, y, how):
    heights = {"minoring": np.minimum, "majoring": np.maximum}[how](y[:-1], y[1:])
    return float(np.sum((x[:-1] - x[1:]) * heights))


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("how", ["minoring", "majoring"])
def test_minoring_and_majoring_rectangles(rng, curve, how):
    y, p, w = scored(rng, 200)
    m = metrics.AUC(num_thresholds=30, curve=curve, summation_method=how)
    m.update_state(y, p)
    tp, fp, tn, fn = brute_counts(y, p, np.ones_like(w), m.thresholds)
    recall = tp / (tp + fn)
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=tp + fp > 0)
    x, h = (fp / (fp + tn), recall) if curve == "ROC" else (recall, precision)
    assert m.result() == pytest.approx(riemann(x, h, how), abs=1e-12)


def test_against_scikit_learn(rng):
    sk = pytest.importorskip("sklearn.metrics")
    y, p, w = scored(rng)
    scores = np.unique(p)
    between = ((scores[:-1] + scores[1:]) / 2).tolist()
    roc = metrics.AUC(thresholds=between)
    roc.update_state(y, p, sample_weight=w)
    assert roc.result() == pytest.approx(sk.roc_auc_score(y, p, sample_weight=w))
    # with distinct scores each step adds one sample, and a positive raises the
    # precision: the upper rectangle is average precision's step
    pr = metrics.AUC(thresholds=between, curve="PR", summation_method="majoring")
    pr.update_state(y, p, sample_weight=w)
    ap = sk.average_precision_score(y, p, sample_weight=w)
    assert pr.result() == pytest.approx(ap)
    default = metrics.AUC()
    default.update_state(y, p)
    # 200 thresholds: within half the share of pairs in one bin (about 1/199)
    assert default.result() == pytest.approx(sk.roc_auc_score(y, p), abs=0.003)


def test_multi_label_averages_the_label_aucs(rng):
    y = (rng.random((60, 3)) < 0.5).astype(np.float64)
    p = np.clip(0.4 * y + 0.6 * rng.random((60, 3)), 0, 1)
    single = []
    for j in range(3):
        m = metrics.AUC(num_thresholds=50)
        m.update_state(y[:, j], p[:, j])
        single.append(m.result())
    multi = metrics.AUC(num_thresholds=50, multi_label=True)
    multi.update_state(y[:30], p[:30])
    multi.update_state(y[30:], p[30:])
    assert multi.true_positives.shape == (50, 3)
    assert multi.result() == pytest.approx(np.mean(single))
    weighted = metrics.AUC(
        num_thresholds=50, multi_label=True, num_labels=3, label_weights=[1, 0, 3]
    )
    weighted.update_state(y, p)
    assert weighted.result() == pytest.approx((single[0] + 3 * single[2]) / 4)
    pooled = metrics.AUC(num_thresholds=50, label_weights=[2, 2, 2])
    pooled.update_state(y, p)
    flat = metrics.AUC(num_thresholds=50)
    flat.update_state(y.ravel(), p.ravel())
    assert pooled.result() == pytest.approx(flat.result())  # a common scale


def test_from_logits_and_class_id(rng):
    y, logit = (rng.random(50) < 0.5).astype(float), rng.normal(size=50) * 4
    a, b = metrics.AUC(from_logits=True), metrics.AUC()
    a.update_state(y, logit)
    b.update_state(y, 1 / (1 + np.exp(-logit)))
    assert a.result() == pytest.approx(b.result())
    p = rng.random((50, 3))
    c, d = metrics.RecallAtPrecision(0.3, class_id=2), metrics.RecallAtPrecision(0.3)
    c.update_state(np.eye(3)[rng.integers(0, 3, 50)], p)
    d.update_state(c_true := np.eye(3)[rng.integers(0, 3, 50)][:, 2], p[:, 2])
    assert np.isfinite(c.result()) and np.isfinite(d.result()) and c_true.size


@pytest.mark.parametrize(
    "make",
    [
        lambda: metrics.AUC(num_thresholds=7, curve="pr", summation_method="minoring"),
        lambda: metrics.AUC(
            thresholds=(0.2, 0.6),
            multi_label=True,
            num_labels=2,
            label_weights=[1.0, 2.0],
            from_logits=True,
        ),
        lambda: metrics.TruePositives(thresholds=[0.3, 0.6]),
        lambda: metrics.FalseNegatives(),
        lambda: metrics.FalsePositives(np.array([0.2, 0.5])),
        lambda: metrics.AUC(thresholds=np.linspace(0.1, 0.9, 5)),
        lambda: metrics.SpecificityAtSensitivity(0.4, num_thresholds=9, class_id=1),
    ],
)
def test_config_round_trip(rng, make):
    m = make()
    config = m.get_config()
    again = type(m).from_config(json.loads(json.dumps(config)))  # JSON-friendly
    assert again.get_config() == config
    restored = metrics.get(metrics.serialize(m))
    y = (rng.random((20, 2)) < 0.5).astype(float)
    p = rng.random((20, 2))
    for metric in (m, again, restored):
        metric.update_state(y, p)
    np.testing.assert_allclose(again.result(), m.result())
    np.testing.assert_allclose(restored.result(), m.result())


def test_keras_string_names():
    for name, cls in [
        ("auc", metrics.AUC),
        ("true_positives", metrics.TruePositives),
        ("false_positives", metrics.FalsePositives),
        ("true_negatives", metrics.TrueNegatives),
        ("false_negatives", metrics.FalseNegatives),
    ]:
        m = metrics.get(name)
        assert type(m) is cls and m.name == name
    assert metrics.AUC().name == "auc" and metrics.AUC().get_config()["curve"] == "ROC"


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: metrics.AUC(num_thresholds=1), ["AUC", "num_thresholds"]),
        (lambda: metrics.AUC(curve="XY"), ["AUC", "curve", "XY"]),
        (lambda: metrics.AUC(summation_method="sum"), ["AUC", "summation_method"]),
        (lambda: metrics.AUC(thresholds=[0.5, 2]), ["AUC", "thresholds"]),
        (lambda: metrics.AUC(num_labels=3), ["AUC", "num_labels"]),
        (lambda: metrics.AUC(label_weights=[-1, 1]), ["AUC", "label_weights"]),
        (
            lambda: metrics.TruePositives(thresholds=1.5),
            ["TruePositives", "thresholds"],
        ),
        (lambda: metrics.PrecisionAtRecall(1.2), ["PrecisionAtRecall", "'recall'"]),
        (
            lambda: metrics.RecallAtPrecision(0.5, num_thresholds=0),
            ["RecallAtPrecision", "num_thresholds"],
        ),
        (
            lambda: metrics.SensitivityAtSpecificity(0.5, class_id=-1),
            ["SensitivityAtSpecificity", "class_id"],
        ),
        (
            lambda: metrics.AUC().update_state([0, 1], [0.2, 3.0]),
            ["AUC", "from_logits"],
        ),
        (lambda: metrics.AUC().update_state([0, 1, 1], [0.2, 0.3]), ["AUC", "shape"]),
        (
            lambda: metrics.AUC(multi_label=True).update_state([0, 1], [0.1, 0.2]),
            ["AUC", "rank 2"],
        ),
        (
            lambda: metrics.FalsePositives().update_state([0, 1], [0.2, np.nan]),
            ["FalsePositives", "[0, 1]"],
        ),
    ],
)
def test_bad_arguments_name_the_metric_and_argument(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_states_sum_over_ranks_as_a_distributed_run_does(rng):
    """DataParallel sums every zero-after-reset float state over the ranks; two
    shards' summed states must give the AUC of all the data."""
    from numnet.distributed.strategy import _MetricStates, _state_keys

    y, p, w = scored(rng, 200)
    whole = metrics.AUC(curve="PR")
    whole.update_state(y, p, sample_weight=w)
    shards = [metrics.AUC(curve="PR"), metrics.PrecisionAtRecall(0.5)]
    for m in shards:
        assert _state_keys(m) == [
            "false_negatives",
            "false_positives",
            "true_negatives",
            "true_positives",
        ]

    class Stub:  # the part of a model _MetricStates reads
        def __init__(self, m):
            self.metrics = [m]

        def get_metrics_result(self):
            return {"value": self.metrics[0].result()}

    first, second = metrics.AUC(curve="PR"), metrics.AUC(curve="PR")
    first.update_state(y[:120], p[:120], sample_weight=w[:120])
    second.update_state(y[120:], p[120:], sample_weight=w[120:])
    states = [_MetricStates(Stub(m)) for m in (first, second)]
    summed = sum(np.concatenate(s.pack()) for s in states)
    result = states[0].global_results(summed)["value"]
    assert result == pytest.approx(whole.result(), abs=1e-12)
    assert first.result() != pytest.approx(whole.result())  # local state restored


@needs_fashion_mnist
def test_fit_reports_auc_on_fashion_mnist_class_0_against_the_rest():
    from numnet.datasets import fashion_mnist

    (x, y), (x_test, y_test) = fashion_mnist.load_data()
    rng = np.random.default_rng(0)
    train, test = rng.permutation(60000)[:3000], rng.permutation(10000)[:1000]
    x = x[train].reshape(-1, 784).astype(np.float32) / 255
    x_test = x_test[test].reshape(-1, 784).astype(np.float32) / 255
    t, t_test = (
        (y[train] == 0).astype(np.float32),
        (y_test[test] == 0).astype(np.float32),
    )
    model = models.Sequential(
        [
            layers.Input((784,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        "adam",
        "binary_crossentropy",
        metrics=[
            "auc",
            "true_positives",
            metrics.AUC(curve="PR", name="pr_auc"),
            metrics.PrecisionAtRecall(0.5),
        ],
    )
    history = model.fit(
        x,
        t[:, None],
        batch_size=64,
        epochs=2,
        verbose=0,
        validation_data=(x_test, t_test[:, None]),
    )
    logs = history.history
    for key in (
        "auc",
        "true_positives",
        "pr_auc",
        "precision_at_recall",
        "val_auc",
        "val_pr_auc",
    ):
        assert len(logs[key]) == 2, key
    # chance is an AUC of 0.5; T-shirts against the other nine classes are
    # linearly separable enough that even two epochs give well above 0.9
    assert logs["val_auc"][-1] > 0.9, logs
    scores = model.predict(x_test, verbose=0)[:, 0]
    exact = rank_auc(t_test, scores, np.ones_like(scores))
    bound = 0.5 * same_bin_share(t_test, scores, np.ones_like(scores), 200)
    assert abs(logs["val_auc"][-1] - exact) <= bound + 1e-6
    assert 0 < logs["true_positives"][-1] <= t.sum()
