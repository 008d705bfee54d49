"""Intersection over union from an accumulated confusion matrix (Keras's IoU,
MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU).

For class c, IoU = TP / (TP + FP + FN) = cm[c, c] / (row c + column c - cm[c, c])
of the (weighted) confusion matrix summed over batches (rows: true class,
columns: predicted class). The result averages the IoUs of the target classes
that occur (a class with no true and no predicted sample is left out).

The confusion matrix is counted on the inputs' array namespace (one
``bincount``), so a device batch stays on the device. As in Keras, a pixel
whose true or predicted label is outside [0, num_classes), or whose true label
is ``ignore_class``, is not counted.
"""

from __future__ import annotations

import inspect

import numpy as np

from numnet import backend
from numnet.metrics.base import (
    Metric,
    _add,
    _array,
    _broadcast_weights,
    _safe_divide,
    _scalar_result,
)
from numnet.metrics.confusion import _positive_int, confusion_counts


def _class_ids(owner: str, ids, num_classes: int) -> list[int]:
    ok = isinstance(ids, (list, tuple)) and len(ids) > 0
    ok = ok and all(
        isinstance(i, (int, np.integer)) and not isinstance(i, bool) and 0 <= i
        for i in ids
    )
    if not ok or max(ids) >= num_classes:
        raise ValueError(
            f"{owner}: invalid value for argument 'target_class_ids'. Expected a "
            f"non-empty list of class ids in [0, {num_classes}). Received: "
            f"target_class_ids={ids!r}"
        )
    return [int(i) for i in ids]


class IoU(Metric):
    """The mean IoU over ``target_class_ids`` (Keras ``IoU``).

    Args:
        num_classes: C, the number of classes.
        target_class_ids: the classes whose IoUs are averaged (one id gives
            that class's IoU).
        name: the metric name.
        ignore_class: a true label whose samples are not counted (e.g. a "void"
            class of segmentation maps).
        sparse_y_true: True for integer labels; False takes the argmax of
            ``y_true`` along ``axis``.
        sparse_y_pred: True for integer predictions; False takes the argmax of
            ``y_pred`` along ``axis``.
        axis: the class axis of dense inputs.

    Example:
        >>> from numnet import metrics
        >>> m = metrics.IoU(num_classes=2, target_class_ids=[0])
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> round(m.result(), 6)
        0.333333
    """

    default_name = "iou"
    supports_device = True

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        owner = type(self).__name__
        self.num_classes = _positive_int(owner, "num_classes", num_classes)
        self.target_class_ids = _class_ids(owner, target_class_ids, self.num_classes)
        if ignore_class is not None and not isinstance(ignore_class, (int, np.integer)):
            raise ValueError(
                f"{owner}: invalid value for argument 'ignore_class'. Expected an "
                f"int or None. Received: ignore_class={ignore_class!r}"
            )
        self.ignore_class = None if ignore_class is None else int(ignore_class)
        self.sparse_y_true, self.sparse_y_pred = (
            bool(sparse_y_true),
            bool(sparse_y_pred),
        )
        self.axis = int(axis)
        super().__init__(name)

    def reset_state(self) -> None:
        # float64 host zeros (what a distributed run sums over ranks)
        self.total_cm = np.zeros((self.num_classes, self.num_classes))

    def _inputs(self, y_true, y_pred):
        """(y_true, y_pred) as arrays on y_pred's namespace."""
        owner = type(self).__name__
        y_pred = _array(y_pred, owner, "y_pred")
        xp = backend.get_array_module(y_pred)
        return xp.asarray(_array(y_true, owner, "y_true")), y_pred

    def _labels(self, y_true, y_pred):
        """Integer (true, predicted) labels (argmax of dense inputs)."""
        y_true, y_pred = self._inputs(y_true, y_pred)
        if not self.sparse_y_true:
            y_true = y_true.argmax(axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = y_pred.argmax(axis=self.axis)
        return y_true, y_pred

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        t, p = self._labels(y_true, y_pred)
        if t.size != p.size:
            raise ValueError(
                f"{type(self).__name__}: y_true and y_pred hold {t.size} and "
                f"{p.size} labels. Received: y_true.shape={t.shape}, "
                f"y_pred.shape={p.shape}"
            )
        p = p.reshape(t.shape)
        weights = _broadcast_weights(sample_weight, t).astype(np.float64)
        C = self.num_classes
        counted = (t >= 0) & (t < C) & (p >= 0) & (p < C)
        if self.ignore_class is not None:
            counted = counted & (t != self.ignore_class)
        xp = backend.get_array_module(t)
        t = xp.where(counted, t, 0).astype(np.int64)
        p = xp.where(counted, p, 0).astype(np.int64)
        cm = confusion_counts(t, p, C, xp.where(counted, weights, 0))
        self.total_cm = _add(self.total_cm, cm)

    def result(self):
        xp = backend.get_array_module(self.total_cm)
        cm = self.total_cm
        true_positives = xp.diagonal(cm)
        union = cm.sum(axis=0) + cm.sum(axis=1) - true_positives
        ids = xp.asarray(np.asarray(self.target_class_ids))
        true_positives, union = true_positives[ids], union[ids]
        present = union > 1e-9
        iou = xp.where(present, _safe_divide(xp, true_positives, union), 0)
        return _scalar_result(_safe_divide(xp, iou.sum(), present.sum()))

    def get_config(self) -> dict:
        """The constructor's arguments (each subclass takes a subset)."""
        keys = inspect.signature(type(self)).parameters
        return {key: getattr(self, key) for key in keys}


class MeanIoU(IoU):
    """The IoU averaged over all ``num_classes`` classes (Keras ``MeanIoU``).

    Args:
        num_classes: C, the number of classes.
        name: the metric name.
        ignore_class: a true label whose samples are not counted.
        sparse_y_true: True for integer labels; False takes the argmax.
        sparse_y_pred: True for integer predictions; False takes the argmax.
        axis: the class axis of dense inputs.
    """

    default_name = "mean_iou"

    def __init__(
        self,
        num_classes,
        name=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        classes = _positive_int("MeanIoU", "num_classes", num_classes)
        super().__init__(
            classes,
            list(range(classes)),
            name,
            ignore_class,
            sparse_y_true,
            sparse_y_pred,
            axis,
        )


class BinaryIoU(IoU):
    """IoU of a binary task: ``y_pred >= threshold`` is class 1 (Keras
    ``BinaryIoU``), averaged over ``target_class_ids`` (0, 1 or both).

    Args:
        target_class_ids: a list of 0 and/or 1 (default both).
        threshold: predictions at or above it are class 1 (default 0.5).
        name: the metric name.
    """

    default_name = "binary_iou"

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None):
        if not isinstance(threshold, (int, float, np.number)) or isinstance(
            threshold, bool
        ):
            raise ValueError(
                f"BinaryIoU: invalid value for argument 'threshold'. Expected a "
                f"number. Received: threshold={threshold!r}"
            )
        self.threshold = float(threshold)
        super().__init__(2, list(target_class_ids), name)

    def _labels(self, y_true, y_pred):
        y_true, y_pred = self._inputs(y_true, y_pred)
        return y_true, (y_pred >= self.threshold).astype(np.int64)


class OneHotIoU(IoU):
    """IoU for one-hot labels and class scores: the argmax of both along
    ``axis`` (Keras ``OneHotIoU``).

    Args:
        num_classes: C, the number of classes.
        target_class_ids: the classes whose IoUs are averaged.
        name: the metric name.
        ignore_class: a true label whose samples are not counted.
        sparse_y_pred: True when the predictions are already integer labels.
        axis: the class axis.
    """

    default_name = "one_hot_iou"

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        ignore_class=None,
        sparse_y_pred=False,
        axis=-1,
    ):
        super().__init__(
            num_classes,
            target_class_ids,
            name,
            ignore_class,
            False,
            sparse_y_pred,
            axis,
        )


class OneHotMeanIoU(MeanIoU):
    """The mean IoU over all classes for one-hot labels and class scores
    (Keras ``OneHotMeanIoU``).

    Args:
        num_classes: C, the number of classes.
        name: the metric name.
        ignore_class: a true label whose samples are not counted.
        sparse_y_pred: True when the predictions are already integer labels.
        axis: the class axis.
    """

    default_name = "one_hot_mean_iou"

    def __init__(
        self, num_classes, name=None, ignore_class=None, sparse_y_pred=False, axis=-1
    ):
        super().__init__(num_classes, name, ignore_class, False, sparse_y_pred, axis)
