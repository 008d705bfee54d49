"""Splitting a data set and scaling its features.

* :func:`train_dev_test_split` shuffles and cuts ``(x, y)`` into train/dev/test
  parts, optionally stratified so that every part keeps the class proportions.
* :func:`one_hot` turns integer labels into one-hot rows.
* :class:`Standardizer` and :class:`MinMaxScaler` learn their statistics on the
  training set only (``fit``) and apply the same affine map to the dev and test
  sets (``transform``), the way the course notes insist on: never compute the
  mean of the test set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from numnet import backend


def _check_ratios(ratios: Sequence[float]) -> np.ndarray:
    try:
        r = np.asarray(ratios, dtype=np.float64)
    except (TypeError, ValueError):
        r = np.empty(0)
    if r.ndim != 1 or len(r) < 2 or np.any(r < 0) or abs(r.sum() - 1.0) > 1e-6:
        raise ValueError(
            "train_dev_test_split: invalid value for argument 'ratios'. Expected 2 "
            "or 3 non-negative fractions summing to 1, e.g. (0.8, 0.1, 0.1). "
            f"Received: ratios={ratios!r}"
        )
    return r


def _cut_points(n: int, ratios: np.ndarray) -> np.ndarray:
    # Round the cumulative sizes, so the parts always add up to n exactly.
    return np.rint(np.cumsum(ratios)[:-1] * n).astype(np.int64)


def _class_labels(y: np.ndarray) -> np.ndarray:
    """Integer class labels from labels or one-hot/probability rows."""
    y = np.asarray(y)
    return y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y))


def split_indices(
    n: int,
    ratios: Sequence[float],
    shuffle: bool = True,
    seed=None,
    labels: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Return one index array per part; ``labels`` (if given) stratifies the cut.

    Args:
        n: number of samples.
        ratios: fractions of the parts, summing to 1.
        shuffle: shuffle before cutting (and shuffle each part afterwards).
        seed: int, Generator or None (numnet's global generator).
        labels: class label of every sample, for a stratified split.
    """
    r = _check_ratios(ratios)
    rng = backend.get_rng(seed)
    order = rng.permutation(n) if shuffle else np.arange(n)
    if labels is None:
        return np.split(order, _cut_points(n, r))
    labels = np.asarray(labels)[order]
    parts: list[list[np.ndarray]] = [[] for _ in r]
    # Cut every class separately with the same ratios (classes in sorted order).
    for cls in np.unique(labels):
        members = order[labels == cls]
        for part, chunk in zip(
            parts, np.split(members, _cut_points(len(members), r)), strict=True
        ):
            part.append(chunk)
    out = [np.concatenate(p) for p in parts]
    return [rng.permutation(p) if shuffle else np.sort(p) for p in out]


def train_dev_test_split(
    x,
    y,
    ratios: Sequence[float] = (0.8, 0.1, 0.1),
    shuffle: bool = True,
    seed=None,
    stratify: bool = False,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split ``(x, y)`` into train/dev/test parts (or train/test with 2 ratios).

    Args:
        x: inputs with the samples on the first axis.
        y: targets with the same first dimension (integer labels or one-hot rows).
        ratios: fractions of the parts, summing to 1, e.g. ``(0.98, 0.01, 0.01)``
            for a big data set as in the course notes.
        shuffle: shuffle the samples before cutting.
        seed: int or Generator for a reproducible split; None uses numnet's
            global generator (``numnet.manual_seed``).
        stratify: keep the class proportions of ``y`` in every part.

    Returns:
        A list of ``(x_part, y_part)`` pairs, one per ratio.

    Raises:
        ValueError: when ``x`` and ``y`` differ in length or the ratios are bad.

    Example:
        >>> import numpy as np
        >>> x, y = np.arange(20).reshape(10, 2), np.arange(10) % 2
        >>> (x_tr, y_tr), (x_dev, y_dev), (x_te, y_te) = train_dev_test_split(
        ...     x, y, ratios=(0.6, 0.2, 0.2), seed=0, stratify=True)
        >>> len(y_tr), len(y_dev), len(y_te), int(y_dev.sum())
        (6, 2, 2, 1)
    """
    if len(x) != len(y):
        raise ValueError(
            "train_dev_test_split: x and y must have the same number of samples. "
            f"Received: len(x)={len(x)}, len(y)={len(y)}"
        )
    labels = _class_labels(y) if stratify else None
    parts = split_indices(len(x), ratios, shuffle, seed, labels)
    return [(x[idx], y[idx]) for idx in parts]


def one_hot(y, num_classes: int | None = None, dtype=None) -> np.ndarray:
    """Return the one-hot encoding of integer labels.

    Args:
        y: integer labels of any shape.
        num_classes: number of classes (default: ``max(y) + 1``).
        dtype: output dtype (default: ``numnet.get_default_dtype()``).

    Returns:
        An array of shape ``y.shape + (num_classes,)``.

    Example:
        >>> one_hot([0, 2, 1], 3)
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]], dtype=float32)
    """
    y = np.asarray(y)
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0):
        raise ValueError(
            "one_hot: invalid value for argument 'y'. Expected non-negative integer "
            f"labels. Received: dtype={y.dtype}, min={y.min()!r}"
        )
    largest = int(y.max()) if y.size else -1
    n = largest + 1 if num_classes is None else num_classes
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= largest:
        raise ValueError(
            "one_hot: invalid value for argument 'num_classes'. Expected an int "
            f"larger than the largest label {largest}. Received: "
            f"num_classes={num_classes!r}"
        )
    return np.eye(n, dtype=dtype or backend.floatx())[y]


class _Scaler:
    """Shared fit/transform plumbing: statistics are reduced over ``axis``."""

    def __init__(self, axis=0):
        self.axis = axis
        self.fitted = False

    def _float(self, x) -> np.ndarray:
        x = np.asarray(x)
        return x if np.issubdtype(x.dtype, np.floating) else x.astype(backend.floatx())

    def _check_fitted(self, method: str) -> None:
        if not self.fitted:
            raise RuntimeError(
                f"{type(self).__name__}.{method}: the scaler is not fitted yet. "
                "Call fit(x_train) first."
            )

    def fit_transform(self, x) -> np.ndarray:
        """Fit on ``x`` and return ``transform(x)``."""
        return self.fit(x).transform(x)


class Standardizer(_Scaler):
    """Zero mean and unit variance: ``(x - mean) / std`` with train statistics.

    Args:
        axis: the axes the statistics are reduced over. ``0`` gives one mean per
            feature of ``(N, D)`` data; ``(0, 1, 2)`` one per channel of NHWC
            images; ``None`` a single scalar mean and std.

    A constant feature (std 0) is divided by 1 instead, so it maps to 0.

    Example:
        >>> import numpy as np
        >>> x_train = np.array([[1.0, 10.0], [3.0, 30.0]])
        >>> scaler = Standardizer().fit(x_train)
        >>> scaler.transform(np.array([[2.0, 50.0]]))
        array([[0., 3.]])
    """

    def fit(self, x) -> Standardizer:
        """Learn the mean and standard deviation of the training data ``x``."""
        x = self._float(x)
        self.mean_ = x.mean(axis=self.axis, keepdims=True)
        std = x.std(axis=self.axis, keepdims=True)
        self.std_ = np.where(std > 0, std, 1).astype(x.dtype)
        self.fitted = True
        return self

    def transform(self, x) -> np.ndarray:
        """Return ``(x - mean) / std`` using the statistics learned by ``fit``."""
        self._check_fitted("transform")
        x = self._float(x)
        return (x - self.mean_.astype(x.dtype)) / self.std_.astype(x.dtype)

    def inverse_transform(self, x) -> np.ndarray:
        """Map standardized values back to the original scale."""
        self._check_fitted("inverse_transform")
        x = self._float(x)
        return x * self.std_.astype(x.dtype) + self.mean_.astype(x.dtype)


class MinMaxScaler(_Scaler):
    """Rescale to ``feature_range`` using the training minimum and maximum.

    Args:
        feature_range: the ``(low, high)`` target interval, default ``(0, 1)``.
        axis: the axes the min/max are reduced over (see :class:`Standardizer`).

    Example:
        >>> import numpy as np
        >>> scaler = MinMaxScaler(axis=None).fit(np.array([0.0, 255.0]))
        >>> scaler.transform(np.array([51.0, 255.0]))
        array([0.2, 1. ])
    """

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0), axis=0):
        super().__init__(axis)
        low, high = feature_range
        if not high > low:
            raise ValueError(
                "MinMaxScaler: invalid value for argument 'feature_range'. Expected "
                f"(low, high) with low < high. Received: feature_range={feature_range}"
            )
        self.feature_range = (float(low), float(high))

    def fit(self, x) -> MinMaxScaler:
        """Learn the minimum and maximum of the training data ``x``."""
        x = self._float(x)
        self.min_ = x.min(axis=self.axis, keepdims=True)
        span = x.max(axis=self.axis, keepdims=True) - self.min_
        self.span_ = np.where(span > 0, span, 1).astype(x.dtype)  # constant → 1
        self.fitted = True
        return self

    def transform(self, x) -> np.ndarray:
        """Map the training range ``[min, max]`` onto ``feature_range``."""
        self._check_fitted("transform")
        x = self._float(x)
        low, high = self.feature_range
        unit = (x - self.min_.astype(x.dtype)) / self.span_.astype(x.dtype)
        return unit * (high - low) + low

    def inverse_transform(self, x) -> np.ndarray:
        """Map scaled values back to the original range."""
        self._check_fitted("inverse_transform")
        x = self._float(x)
        low, high = self.feature_range
        return (x - low) / (high - low) * self.span_.astype(x.dtype) + self.min_.astype(
            x.dtype
        )
