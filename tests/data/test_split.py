"""train_dev_test_split, one_hot and the fit-on-train scalers."""

from __future__ import annotations

import numpy as np
import pytest

from numnet.data import MinMaxScaler, Standardizer, one_hot, train_dev_test_split


def test_split_sizes_cover_every_sample_once(rng):
    x = np.arange(103)[:, None] * np.ones((1, 3))
    y = np.arange(103)
    parts = train_dev_test_split(x, y, (0.8, 0.1, 0.1), seed=0)
    # Cumulative cut points 0.8·103 = 82.4 and 0.9·103 = 92.7 round to 82 and 93.
    assert [len(p[1]) for p in parts] == [82, 11, 10]
    all_y = np.concatenate([p[1] for p in parts])
    np.testing.assert_array_equal(np.sort(all_y), y)
    for xp, yp in parts:  # x and y stay aligned
        np.testing.assert_array_equal(xp[:, 0], yp)


def test_split_is_reproducible_and_shuffled():
    x = y = np.arange(50)
    a = train_dev_test_split(x, y, (0.5, 0.5), seed=3)
    b = train_dev_test_split(x, y, (0.5, 0.5), seed=3)
    np.testing.assert_array_equal(a[0][1], b[0][1])
    assert not np.array_equal(a[0][1], np.arange(25))
    unshuffled = train_dev_test_split(x, y, (0.5, 0.5), shuffle=False)
    np.testing.assert_array_equal(unshuffled[0][1], np.arange(25))


def test_stratified_split_keeps_class_proportions(rng):
    y = np.repeat([0, 1, 2], [60, 30, 10])
    x = rng.random((100, 2))
    parts = train_dev_test_split(x, y, (0.8, 0.1, 0.1), seed=1, stratify=True)
    counts = [np.bincount(p[1], minlength=3) for p in parts]
    np.testing.assert_array_equal(counts[0], [48, 24, 8])
    np.testing.assert_array_equal(counts[1], [6, 3, 1])
    np.testing.assert_array_equal(counts[2], [6, 3, 1])


def test_stratify_accepts_one_hot_labels(rng):
    labels = np.repeat([0, 1], [40, 10])
    parts = train_dev_test_split(
        rng.random((50, 2)), one_hot(labels, 2), (0.8, 0.2), seed=0, stratify=True
    )
    assert parts[1][1].argmax(axis=1).sum() == 2  # 20% of the 10 positives


@pytest.mark.parametrize("ratios", [(0.5, 0.6), (1.0,), (0.5, -0.1, 0.6), "abc"])
def test_bad_ratios(ratios):
    with pytest.raises(ValueError, match="ratios"):
        train_dev_test_split(np.zeros(10), np.zeros(10), ratios)


def test_length_mismatch():
    with pytest.raises(ValueError, match="len\\(x\\)=10, len\\(y\\)=9"):
        train_dev_test_split(np.zeros(10), np.zeros(9))


def test_one_hot():
    out = one_hot(np.array([[1, 0], [2, 2]]), 4)
    assert out.shape == (2, 2, 4) and out.dtype == np.float32
    np.testing.assert_array_equal(out.argmax(-1), [[1, 0], [2, 2]])
    assert out.sum() == 4
    with pytest.raises(ValueError, match="num_classes"):
        one_hot([0, 3], 3)
    with pytest.raises(ValueError, match="non-negative integer"):
        one_hot([0.5, 1.0])


def test_standardizer_uses_train_statistics_only(rng):
    train = rng.normal(5.0, 2.0, (200, 3)).astype(np.float32)
    test = rng.normal(0.0, 1.0, (50, 3)).astype(np.float32)
    scaler = Standardizer().fit(train)
    z = scaler.transform(train)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-5)
    out = scaler.transform(test)
    assert out.dtype == np.float32
    # float32 cancellation near 0: compare with an absolute tolerance.
    np.testing.assert_allclose(out, (test - train.mean(0)) / train.std(0), atol=1e-5)
    np.testing.assert_allclose(scaler.inverse_transform(out), test, atol=1e-5)


def test_standardizer_per_channel_on_images(rng):
    x = rng.random((10, 4, 4, 3)) * np.array([1.0, 10.0, 100.0])
    z = Standardizer(axis=(0, 1, 2)).fit_transform(x)
    np.testing.assert_allclose(z.mean(axis=(0, 1, 2)), 0, atol=1e-9)
    np.testing.assert_allclose(z.std(axis=(0, 1, 2)), 1, atol=1e-9)


def test_constant_feature_is_finite():
    x = np.array([[1.0, 2.0], [1.0, 4.0]])
    np.testing.assert_array_equal(Standardizer().fit_transform(x)[:, 0], [0, 0])
    np.testing.assert_array_equal(MinMaxScaler().fit_transform(x)[:, 0], [0, 0])


def test_min_max_scaler(rng):
    train = rng.random((30, 2)) * 10 - 3
    scaler = MinMaxScaler((-1, 1)).fit(train)
    out = scaler.transform(train)
    np.testing.assert_allclose(out.min(0), -1)
    np.testing.assert_allclose(out.max(0), 1)
    np.testing.assert_allclose(scaler.inverse_transform(out), train)


def test_unfitted_scaler_raises():
    with pytest.raises(RuntimeError, match="fit"):
        Standardizer().transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="feature_range"):
        MinMaxScaler((1, 0))
