"""Metric learning: pairwise distances, the triplet loss and in-batch triplet mining.

The triplet loss (Schroff et al., FaceNet, 2015) pulls an anchor towards a
positive (same identity) and pushes it away from a negative by a margin alpha:

    L(a, p, n) = max(||f(a) - f(p)||^2 - ||f(a) - f(n)||^2 + alpha, 0)

Random triplets are mostly "easy" (loss 0, no gradient), so training mines
triplets inside each batch from the labels: every valid triplet ("all"), the
hardest positive and negative of each anchor ("hard", Hermans et al. 2017), or
for each positive pair the closest negative that is still farther than the
positive ("semi-hard", FaceNet). Mining works on masks over the (N, N) distance
matrix, with no Python loop over anchors.
"""

from __future__ import annotations

import math

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Tensor, array_module, as_tensor
from numnet.functional.activations import relu
from numnet.functional.elementwise import clip, where
from numnet.functional.linalg import matmul
from numnet.functional.reduce import mean, sum
from numnet.functional.shaping import getitem, reshape, transpose
from numnet.functional.torch_distances import safe_sqrt

MINING_STRATEGIES = ("all", "semi-hard", "hard")


def pairwise_distances(x, y=None, squared: bool = False) -> Tensor:
    """Euclidean (or squared) distances between every row of ``x`` and of ``y``.

    Computed as ||x||^2 - 2 x.y + ||y||^2 (one matmul), clamped at 0 against
    rounding. The square root has an infinite slope at 0, so exact zeros (a row
    and itself) use the safe-input idiom: their distance is 0 with gradient 0
    instead of NaN.

    Args:
        x: embeddings (N, D).
        y: embeddings (M, D); ``x`` itself when None (the diagonal is then exactly 0).
        squared: return squared distances (smooth everywhere).

    Returns:
        (N, M) distances.

    Shape:
        x: (N, D), y: (M, D) -> (N, M)

    Example:
        >>> import numpy as np
        >>> pairwise_distances(np.array([[0.0, 0.0], [3.0, 4.0]])).data
        array([[0., 5.],
               [5., 0.]])
    """
    x = as_tensor(x)
    same = y is None
    y = x if same else as_tensor(y)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(
            f"pairwise_distances: expected 2-D embeddings (N, D) and (M, D) with the "
            f"same D. Received: shapes {x.shape} and {y.shape}"
        )
    x_sq = reshape(sum(x * x, axis=1), (-1, 1))
    y_sq = reshape(sum(y * y, axis=1), (1, -1))
    d2 = x_sq - 2.0 * matmul(x, transpose(y)) + y_sq
    if same:
        # zero the diagonal exactly: rounding leaves ~1e-7 there in float32
        d2 = where(array_module(x).eye(x.shape[0], dtype=bool), 0.0, d2)
    d2 = clip(d2, min=0.0)  # gradient 0 where rounding made it negative
    return d2 if squared else safe_sqrt(d2)


def triplet_loss(anchor, positive, negative, margin: float = 0.2) -> Tensor:
    """Mean triplet loss mean(max(||a - p||^2 - ||a - n||^2 + margin, 0)).

    Args:
        anchor, positive, negative: embeddings (N, D); row i forms one triplet.
        margin: alpha, the gap wanted between negative and positive distances.

    Returns:
        A scalar Tensor.

    Shape:
        anchor, positive, negative: (N, D) -> ()

    Example:
        >>> import numpy as np
        >>> a, p, n = np.zeros((1, 2)), np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
        >>> float(triplet_loss(a, p, n, margin=0.5).data)  # 1 - 1 + 0.5
        0.5
    """
    anchor, positive, negative = (as_tensor(t) for t in (anchor, positive, negative))
    if not anchor.shape == positive.shape == negative.shape or anchor.ndim != 2:
        raise ValueError(
            f"triplet_loss: anchor, positive and negative must be (N, D) embeddings "
            f"of one shape. Received: shapes {anchor.shape}, {positive.shape}, "
            f"{negative.shape}"
        )
    _check_margin("triplet_loss", margin)
    d_ap = sum((anchor - positive) * (anchor - positive), axis=1)
    d_an = sum((anchor - negative) * (anchor - negative), axis=1)
    return mean(relu(d_ap - d_an + margin))


def triplet_masks(labels) -> tuple[np.ndarray, np.ndarray]:
    """Boolean (N, N) masks of the positive pairs (same label, i != j) and negatives.

    Example:
        >>> pos, neg = triplet_masks([0, 0, 1])
        >>> pos.astype(int)
        array([[0, 1, 0],
               [1, 0, 0],
               [0, 0, 0]])
    """
    xp = backend.get_array_module(labels)
    labels = xp.asarray(labels).reshape(-1)
    same = labels[:, None] == labels[None, :]
    return same & ~xp.eye(labels.size, dtype=bool), ~same


def mine_triplets(labels, distances, mining: str = "semi-hard"):
    """Select (anchor, positive, negative) index triplets from a batch.

    Args:
        labels: (N,) integer labels.
        distances: (N, N) distance matrix (ndarray or Tensor; only values are read).
        mining: "all" every valid triplet; "hard" per anchor, its farthest
            positive and closest negative; "semi-hard" per positive pair (a, p),
            the closest negative with d(a,n) > d(a,p), or, when there is none,
            the farthest negative (as TensorFlow-Addons does). FaceNet's band
            d(a,p) < d(a,n) < d(a,p) + margin needs no margin here: a negative
            beyond the band has loss 0 whichever is chosen.

    Returns:
        Three int arrays (anchor, positive, negative) of equal length. Anchors
        without a positive or without a negative yield no triplet.
    """
    _check_mining(mining, "mine_triplets")
    xp = array_module(distances)
    d = distances.data if isinstance(distances, Tensor) else xp.asarray(distances)
    pos, neg = triplet_masks(xp.asarray(labels))
    if d.shape != pos.shape:
        raise ValueError(
            f"mine_triplets: distances must be (N, N) for N={pos.shape[0]} labels. "
            f"Received: shape {d.shape}"
        )
    has_both = pos.any(axis=1) & neg.any(axis=1)
    if mining == "all":
        valid = pos[:, :, None] & neg[:, None, :]
        return tuple(i.astype(np.intp) for i in xp.nonzero(valid))
    if mining == "hard":
        anchors = xp.flatnonzero(has_both)
        hardest_pos = xp.where(pos, d, -np.inf).argmax(axis=1)
        hardest_neg = xp.where(neg, d, np.inf).argmin(axis=1)
        return anchors, hardest_pos[anchors], hardest_neg[anchors]
    a, p = xp.nonzero(pos & has_both[:, None])
    d_ap, d_an = d[a, p][:, None], d[a]  # (P, 1), (P, N)
    beyond = neg[a] & (d_an > d_ap)
    closest_beyond = xp.where(beyond, d_an, np.inf).argmin(axis=1)
    farthest = xp.where(neg[a], d_an, -np.inf).argmax(axis=1)
    n = xp.where(beyond.any(axis=1), closest_beyond, farthest)
    return a.astype(np.intp), p.astype(np.intp), n.astype(np.intp)


def batch_triplet_loss(
    labels, embeddings, margin: float = 0.2, mining: str = "all", squared: bool = True
) -> Tensor:
    """Triplet loss over triplets mined inside a batch of labelled embeddings.

    Args:
        labels: (N,) integer labels.
        embeddings: (N, D) Tensor.
        margin: alpha.
        mining: "all" (the mean over the triplets with a positive loss, as in
            Hermans et al.'s batch-all, so easy triplets do not dilute it),
            "hard" (batch-hard: one triplet per anchor, mean over anchors) or
            "semi-hard" (FaceNet: one triplet per positive pair, mean over pairs).
            See :func:`mine_triplets`.
        squared: use squared distances (the course's loss) or plain Euclidean.

    Returns:
        A scalar Tensor; 0 (still connected to the graph) when the batch holds
        no valid triplet.

    Shape:
        labels: (N,), embeddings: (N, D) -> ()
    """
    embeddings = as_tensor(embeddings)
    labels = array_module(embeddings).asarray(labels).reshape(-1)
    if embeddings.ndim != 2 or labels.size != embeddings.shape[0] or not labels.size:
        raise ValueError(
            f"batch_triplet_loss: expected embeddings (N, D) and N labels, N >= 1. "
            f"Received: embeddings of shape {embeddings.shape}, {labels.size} labels"
        )
    _check_mining(mining)
    _check_margin("batch_triplet_loss", margin)
    d = pairwise_distances(embeddings, squared=squared)
    if mining == "all":
        return _batch_all(d, labels, margin)
    a, p, n = mine_triplets(labels, d, mining)
    if a.size == 0:
        return sum(d) * 0.0
    return mean(relu(getitem(d, (a, p)) - getitem(d, (a, n)) + margin))


def _batch_all(d: Tensor, labels: np.ndarray, margin: float) -> Tensor:
    # losses[a, p, n] = d(a, p) - d(a, n) + margin over the (N, N, N) cube; the
    # dense form beats gathering N^3 index triplets (a scatter-add in backward).
    xp = array_module(d)
    n = d.shape[0]
    pos, neg = triplet_masks(labels)
    valid = pos[:, :, None] & neg[:, None, :]
    cube = reshape(d, (n, n, 1)) - reshape(d, (n, 1, n)) + margin
    losses = relu(where(valid, cube, 0.0))
    active = int(xp.count_nonzero(losses.data > 0))
    return sum(losses) * (1.0 / max(active, 1))


def check_triplet_options(owner: str, margin, mining) -> None:
    """Validate ``margin`` (a float >= 0) and ``mining``; errors name ``owner``."""
    _check_margin(owner, margin)
    _check_mining(mining, owner)


def _check_mining(mining, owner: str = "batch_triplet_loss") -> None:
    if mining not in MINING_STRATEGIES:
        raise ValueError(
            f"{owner}: invalid value for argument 'mining'. Expected one of "
            f"{list(MINING_STRATEGIES)}. Received: mining={mining!r}"
        )


def _check_margin(name: str, margin) -> None:
    if isinstance(margin, bool) or not isinstance(margin, (int, float, np.floating)):
        raise ValueError(
            f"{name}: invalid value for argument 'margin'. Expected a float >= 0. "
            f"Received: margin={margin!r}"
        )
    if not 0 <= margin < math.inf:  # refuses nan and inf too
        raise ValueError(
            f"{name}: invalid value for argument 'margin'. Expected a float >= 0. "
            f"Received: margin={margin!r}"
        )
