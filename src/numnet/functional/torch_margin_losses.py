"""PyTorch's margin and embedding losses: margin_ranking_loss,
hinge_embedding_loss, soft_margin_loss, multilabel_soft_margin_loss,
multi_margin_loss, cosine_embedding_loss and triplet_margin_loss, with
PyTorch's names, arguments and formulas (compositions of differentiable ops).

Kink convention: where a hinge max(0, m) sits exactly at m = 0 the gradient
is 0 (``relu``'s).
"""

from __future__ import annotations

from numnet.autograd.tensor import Tensor, _raw, array_module
from numnet.functional._args import (
    check_reduction,
    class_weight,
    floating,
    index_target,
    like,
    number,
    reduce,
    weight_like,
)
from numnet.functional._gather import take_along_axis
from numnet.functional.activations import relu, softplus
from numnet.functional.elementwise import minimum, sqrt, where
from numnet.functional.nn import sigmoid_binary_cross_entropy
from numnet.functional.reduce import mean, sum
from numnet.functional.torch_distances import pairwise_distance

#: ATen's floor on the squared norms of cosine_embedding_loss
_COSINE_EPSILON = 1e-12


def margin_ranking_loss(input1, input2, target, margin: float = 0.0, *,
                        reduction: str = "mean") -> Tensor:  # fmt: skip
    """Ranking hinge ``max(0, -y (x1 - x2) + margin)``, y = 1 when x1 should
    rank higher, -1 when x2 should (``torch.nn.functional.margin_ranking_loss``).

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> x1, x2, y = np.array([1.0, 1.0]), np.zeros(2), np.array([1.0, -1.0])
        >>> F.margin_ranking_loss(x1, x2, y, reduction="none").tolist()
        [0.0, 1.0]
    """
    owner = "margin_ranking_loss"
    check_reduction(owner, reduction)
    margin = number(owner, "margin", margin)
    x1 = floating(owner, input1, "input1")
    x2 = like(owner, input2, x1, "input2")
    y = like(owner, target, x1)
    return reduce(relu(-y * (x1 - x2) + margin), reduction)


def hinge_embedding_loss(input, target, margin: float = 1.0, *,
                         reduction: str = "mean") -> Tensor:  # fmt: skip
    """``x`` where y = 1, ``max(0, margin - x)`` where y = -1, for distances
    ``x`` (``torch.nn.functional.hinge_embedding_loss``; other target values
    take both terms, as ATen).

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> x, y = np.array([0.3, 0.3]), np.array([1.0, -1.0])
        >>> F.hinge_embedding_loss(x, y, reduction="none").tolist()
        [0.3, 0.7]
    """
    owner = "hinge_embedding_loss"
    check_reduction(owner, reduction)
    margin = number(owner, "margin", margin)
    x = floating(owner, input)
    y = like(owner, target, x).data
    per = where(y != 1, relu(margin - x), 0.0) + where(y != -1, x, 0.0)
    return reduce(per, reduction)


def soft_margin_loss(input, target, *, reduction: str = "mean") -> Tensor:
    """Logistic loss ``log(1 + exp(-y x))`` for labels y = +-1
    (``torch.nn.functional.soft_margin_loss``), via a stable softplus."""
    owner = "soft_margin_loss"
    check_reduction(owner, reduction)
    x = floating(owner, input)
    return reduce(softplus(-like(owner, target, x) * x), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, *,
                                reduction: str = "mean") -> Tensor:  # fmt: skip
    """One-vs-all logistic loss per sample: the mean over the C classes of
    ``-w (t log s(x) + (1 - t) log s(-x))`` (fused, stable), then reduced over
    the samples (``torch.nn.functional.multilabel_soft_margin_loss``).

    Shape:
        input, target: (N, C) -> (N,) with ``reduction="none"``.
    """
    owner = "multilabel_soft_margin_loss"
    check_reduction(owner, reduction)
    x = floating(owner, input)
    per = sigmoid_binary_cross_entropy(x, like(owner, target, x))
    w = weight_like(owner, weight, x)
    per = per if w is None else per * w
    return reduce(mean(per, axis=-1) if x.ndim else per, reduction)


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None,
                      *, reduction: str = "mean") -> Tensor:  # fmt: skip
    """Multi-class hinge: ``sum_{j != y} w[y] max(0, margin - x[y] + x[j])^p / C``.

    ``torch.nn.functional.multi_margin_loss`` (as ATen computes it, the class
    weight multiplies the hinge after the power).

    Args:
        input: scores (N, C) or (C,).
        target: class indices (N,) or ().
        p: 1 or 2.
        margin: the wanted gap between the true class and the others.
        weight: optional per-class weights, shape (C,).
    """
    owner = "multi_margin_loss"
    check_reduction(owner, reduction)
    if p not in (1, 2) or isinstance(p, bool):
        raise ValueError(
            f"{owner}: invalid value for argument 'p'. Expected 1 or 2. "
            f"Received: p={p!r}"
        )
    margin = number(owner, "margin", margin)
    x = floating(owner, input)
    if x.ndim not in (1, 2):
        raise ValueError(
            f"{owner}: invalid value for argument 'input'. Expected scores (N, C) "
            f"or (C,). Received: input.shape={x.shape}"
        )
    axis, classes = x.ndim - 1, x.shape[-1]
    labels, _ = index_target(owner, target, x, axis)
    xp = array_module(x)
    index = xp.expand_dims(labels, axis)
    hinge = relu(margin - take_along_axis(x, index, axis) + x)
    hinge = hinge if p == 1 else hinge * hinge
    w = class_weight(owner, weight, x, classes)
    if w is not None:
        hinge = hinge * xp.expand_dims(w[labels], axis)
    others = index != xp.arange(classes)  # the true class is left out
    return reduce(sum(where(others, hinge, 0.0), axis=axis) * (1.0 / classes),
                  reduction)  # fmt: skip


def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, *,
                          reduction: str = "mean") -> Tensor:  # fmt: skip
    """``1 - cos(x1, x2)`` where y = 1, ``max(0, cos(x1, x2) - margin)`` where
    y = -1 (``torch.nn.functional.cosine_embedding_loss``).

    The cosine is ATen's: ``x1.x2 / sqrt((||x1||^2 + 1e-12)(||x2||^2 + 1e-12))``.

    Shape:
        input1, input2: (N, D) or (D,); target: (N,) or () -> (N,) or ().
    """
    owner = "cosine_embedding_loss"
    check_reduction(owner, reduction)
    margin = number(owner, "margin", margin)
    x1 = floating(owner, input1, "input1")
    x2 = like(owner, input2, x1, "input2")
    if x1.ndim not in (1, 2):
        raise ValueError(
            f"{owner}: invalid value for argument 'input1'. Expected (N, D) or "
            f"(D,). Received: input1.shape={x1.shape}"
        )
    y = array_module(x1).asarray(_raw(target))
    if y.shape != x1.shape[:-1]:
        raise ValueError(
            f"{owner}: invalid value for argument 'target'. Expected shape "
            f"{x1.shape[:-1]}. Received: target.shape={tuple(y.shape)}"
        )
    square1 = sum(x1 * x1, axis=-1) + _COSINE_EPSILON
    square2 = sum(x2 * x2, axis=-1) + _COSINE_EPSILON
    cos = sum(x1 * x2, axis=-1) / sqrt(square1 * square2)
    per = where(y == 1, 1.0 - cos, 0.0) + where(y == -1, relu(cos - margin), 0.0)
    return reduce(per, reduction)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, *,
                        reduction: str = "mean") -> Tensor:  # fmt: skip
    """Triplet loss ``max(d(a, p) - d(a, n) + margin, 0)`` with p-norm distances.

    ``torch.nn.functional.triplet_margin_loss`` (Balntas et al., 2016): the
    distances are :func:`pairwise_distance`'s (not squared, ``eps`` added);
    with ``swap`` the negative distance is min(d(a, n), d(p, n)). numnet's
    ``F.triplet_loss`` is FaceNet's form (squared distances).

    Shape:
        anchor, positive, negative: (N, D) or (D,) -> (N,) or () with
        ``reduction="none"``.

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> a, p, n = np.zeros((1, 2)), np.array([[3.0, 4.0]]), np.array([[0.0, 1.0]])
        >>> F.triplet_margin_loss(a, p, n, margin=1.0, eps=0.0).item()  # 5 - 1 + 1
        5.0
    """
    owner = "triplet_margin_loss"
    check_reduction(owner, reduction)
    margin = number(owner, "margin", margin)
    a = floating(owner, anchor, "anchor")
    if a.ndim not in (1, 2):
        raise ValueError(
            f"{owner}: invalid value for argument 'anchor'. Expected (N, D) or "
            f"(D,). Received: anchor.shape={a.shape}"
        )
    pos = like(owner, positive, a, "positive")
    neg = like(owner, negative, a, "negative")
    d_ap = pairwise_distance(a, pos, p, eps)
    d_an = pairwise_distance(a, neg, p, eps)
    if swap:
        d_an = minimum(d_an, pairwise_distance(pos, neg, p, eps))
    return reduce(relu(margin + d_ap - d_an), reduction)
