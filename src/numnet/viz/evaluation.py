"""Plots of training and of errors: curves, confusion matrix, misclassified
images, and the decision boundary of a 2-D classifier."""

from __future__ import annotations

import math

import numpy as np

from numnet.viz._common import (
    as_image_batch,
    as_labels,
    finish,
    hide_ticks,
    new_figure,
)


def _history_dict(history) -> dict[str, list[float]]:
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(
            "plot_history: invalid value for argument 'history'. Expected a History "
            "(returned by fit) or a non-empty dict of metric name -> per-epoch "
            f"values. Received: {type(history).__name__}"
        )
    return {k: np.asarray(v, dtype=np.float64).ravel() for k, v in logs.items()}


def plot_history(history, metrics=None, path=None, figsize=None):
    """Plot loss and metric curves per epoch, training next to validation.

    Args:
        history: the ``History`` returned by ``fit``, or its ``.history`` dict
            (``{"loss": [...], "val_loss": [...], "accuracy": [...], ...}``).
        metrics: the metric names to plot (default: every name without ``val_``).
        path: save the figure there (``.png``, ``.svg`` or ``.pdf``).
        figsize: ``(width, height)`` in inches (default: 4.5 per panel by 3.5).

    Returns:
        The matplotlib Figure, one panel per metric.

    Example:
        >>> fig = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
        >>> [ax.get_title() for ax in fig.axes]
        ['loss']
    """
    from matplotlib.ticker import MaxNLocator

    logs = _history_dict(history)
    names = metrics or [k for k in logs if not k.startswith("val_")]
    names = names or [k[4:] for k in logs]  # only validation curves were logged
    missing = [m for m in names if m not in logs and "val_" + m not in logs]
    if missing:
        raise ValueError(
            f"plot_history: unknown metric(s) {missing}. Available: {sorted(logs)}"
        )
    fig = new_figure(*(figsize or (4.5 * len(names), 3.5)))
    for ax, name in zip(
        fig.subplots(1, len(names), squeeze=False)[0], names, strict=True
    ):
        for key, label, style in (
            (name, "train", "-o"),
            ("val_" + name, "validation", "-s"),
        ):
            if key in logs:
                values = logs[key]
                ax.plot(np.arange(1, len(values) + 1), values, style, ms=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    return finish(fig, path)


def confusion_counts(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """The confusion matrix: ``counts[i, j]`` = samples of class i predicted as j."""
    t = as_labels(y_true, "y_true", "plot_confusion_matrix")
    p = as_labels(y_pred, "y_pred", "plot_confusion_matrix")
    if len(t) != len(p):
        raise ValueError(
            "plot_confusion_matrix: y_true and y_pred differ in length. "
            f"Received: {len(t)} and {len(p)}"
        )
    k = num_classes or int(max(t.max(initial=0), p.max(initial=0))) + 1
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def plot_confusion_matrix(
    y_true, y_pred, class_names=None, normalize=False, path=None, figsize=None
):
    """Draw the confusion matrix with the count (or row fraction) in every cell.

    Args:
        y_true: true labels, or one-hot rows.
        y_pred: predicted labels, one-hot rows or class probabilities.
        class_names: names of the classes, in label order.
        normalize: show each row as fractions of the true class (the recall of
            the class on the diagonal).
        path: save the figure there.
        figsize: ``(width, height)`` in inches.

    Returns:
        The matplotlib Figure.
    """
    k = len(class_names) if class_names is not None else None
    counts = confusion_counts(y_true, y_pred, k)
    k = len(counts)
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    rows = counts.sum(axis=1, keepdims=True)
    values = counts / np.maximum(rows, 1) if normalize else counts
    fig = new_figure(*(figsize or (1.0 + 0.6 * k, 0.8 + 0.55 * k)))
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"accuracy {accuracy:.4f}")
    threshold = values.max() / 2
    for (i, j), v in np.ndenumerate(values):
        text = f"{v:.2f}" if normalize else str(v)
        color = "white" if v > threshold else "black"
        ax.text(j, i, text, ha="center", va="center", color=color, fontsize=7)
    return finish(fig, path)


def plot_misclassified(
    x, y_true, y_pred, class_names=None, max_images=25, path=None, figsize=None
):
    """Show the first misclassified images, titled "true → predicted".

    Args:
        x: images (N, H, W[, C]) or square flat rows (N, H*W).
        y_true: true labels or one-hot rows.
        y_pred: predicted labels, or class probabilities (the confidence of the
            predicted class is then shown too).
        class_names: names of the classes, in label order.
        max_images: how many errors to show at most.
        path: save the figure there.
        figsize: ``(width, height)`` in inches (default: 1.6 per image column).

    Returns:
        The matplotlib Figure.
    """
    images = as_image_batch(x, "plot_misclassified")
    t = as_labels(y_true, "y_true", "plot_misclassified")
    p = as_labels(y_pred, "y_pred", "plot_misclassified")
    probs = np.asarray(y_pred)
    confidence = probs.max(axis=1) if probs.ndim == 2 and probs.shape[1] > 1 else None
    wrong = np.flatnonzero(t != p)[:max_images]
    cols = max(1, min(5, len(wrong)))
    rows = max(1, math.ceil(len(wrong) / cols))
    fig = new_figure(*(figsize or (1.6 * cols, 1.8 * rows)))
    if not len(wrong):
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no misclassified samples", ha="center", va="center")
        ax.axis("off")
        return finish(fig, path)

    def name(label):
        return class_names[label] if class_names is not None else str(label)

    for ax, i in zip(
        fig.subplots(rows, cols, squeeze=False).ravel(), wrong, strict=False
    ):
        ax.imshow(images[i], cmap="gray" if images.ndim == 3 else None)
        conf = "" if confidence is None else f" ({confidence[i]:.2f})"
        ax.set_title(f"{name(t[i])}\n→ {name(p[i])}{conf}", fontsize=8)
        hide_ticks(ax)
    for ax in fig.axes[len(wrong) :]:
        ax.axis("off")
    return finish(fig, path)


def _tab10(k: int) -> list:
    from matplotlib import colormaps

    return [colormaps["tab10"](i % 10) for i in range(k)]


def _predict_classes(predict_fn, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(class index, confidence-like score) of every grid point."""
    fn = getattr(predict_fn, "predict", predict_fn)
    out = np.asarray(fn(grid.astype(np.float32)), dtype=np.float64)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1), out.max(axis=1)
    score = out.reshape(len(grid))
    return (score > 0.5).astype(np.int64), score


def plot_decision_boundary(
    predict_fn, x, y, resolution=200, margin=0.5, path=None, figsize=(5.0, 4.5)
):
    """Colour the plane by the predicted class of a 2-D classifier, with the data.

    Args:
        predict_fn: a function (or a model with ``predict``) mapping (M, 2) points
            to probabilities (M,) / (M, 1) of class 1, or scores (M, K).
        x: the (N, 2) data points.
        y: their labels (or one-hot rows).
        resolution: grid points along each axis.
        margin: how far the plot extends beyond the data.
        path: save the figure there.
        figsize: ``(width, height)`` in inches.

    Returns:
        The matplotlib Figure.

    Example:
        >>> import numpy as np
        >>> x = np.array([[-1.0, 0.0], [1.0, 0.0]])
        >>> fig = plot_decision_boundary(lambda p: p[:, 0] > 0, x, [0, 1], 20)
        >>> fig.axes[0].get_xlabel()
        '$x_1$'
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(
            "plot_decision_boundary: invalid value for argument 'x'. Expected points "
            f"of shape (N, 2). Received: x.shape={x.shape}"
        )
    labels = as_labels(y, "y", "plot_decision_boundary")
    low, high = x.min(axis=0) - margin, x.max(axis=0) + margin
    g0, g1 = np.meshgrid(
        np.linspace(low[0], high[0], resolution),
        np.linspace(low[1], high[1], resolution),
    )
    classes, _ = _predict_classes(predict_fn, np.column_stack([g0.ravel(), g1.ravel()]))
    k = int(max(classes.max(), labels.max())) + 1
    # Class i gets colour i both for the regions and for the points.
    palette = ["#3b6fb6", "#d9534f"] if k == 2 else _tab10(k)
    fig = new_figure(*figsize)
    ax = fig.add_subplot()
    ax.contourf(
        g0,
        g1,
        classes.reshape(g0.shape),
        levels=np.arange(k + 1) - 0.5,
        colors=palette,
        alpha=0.3,
    )
    ax.scatter(
        x[:, 0],
        x[:, 1],
        c=[palette[i] for i in labels],
        s=14,
        edgecolors="k",
        linewidths=0.4,
    )
    accuracy = np.mean(_predict_classes(predict_fn, x)[0] == labels)
    ax.set_title(f"decision boundary (accuracy {accuracy:.3f})")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return finish(fig, path)
