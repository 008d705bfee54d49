"""Visualization with matplotlib: training curves, filters, feature maps, errors.

Every ``plot_*`` function returns a ``matplotlib.figure.Figure`` (not attached to
pyplot: it works headless, with no backend to choose and no figure to close) and
saves it when given ``path`` (``.png``, ``.svg`` or ``.pdf``). matplotlib is
imported inside the functions, so ``import numnet`` does not import it.
"""

from numnet.viz.evaluation import (
    confusion_counts,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_history,
    plot_misclassified,
)
from numnet.viz.network import (
    layer_activations,
    model_rows,
    plot_feature_maps,
    plot_filters,
    plot_model,
)

__all__ = [
    "confusion_counts",
    "layer_activations",
    "model_rows",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_feature_maps",
    "plot_filters",
    "plot_history",
    "plot_misclassified",
    "plot_model",
]
