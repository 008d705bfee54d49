"""Face recognition as the course defines it: verification, recognition, one shot.

* **Verification** (1:1): is ``x`` the claimed identity? Compare the distance
  between the embeddings ``f(x)`` and ``f(enrolled)`` with a threshold.
* **Recognition** (1:K): who is ``x``? The enrolled identity at the smallest
  distance, or "unknown" when even that is beyond the threshold.
* **One shot**: every identity is enrolled from a single example; the encoder
  ``f`` (trained with the triplet loss on *other* identities) does the work, no
  classifier is retrained when an identity is added.

:class:`EmbeddingIndex` is the database; :func:`similarity_head` is the
DeepFace-style alternative to a fixed threshold (a logistic unit on
``|f(x1) - f(x2)|`` trained on same/different pairs); :func:`roc_curve` and
:func:`roc_auc` measure verification over all thresholds.
"""

from __future__ import annotations

import numpy as np

from numnet import layers
from numnet.models import Model
from numnet.vision.boxes import host

UNKNOWN = "unknown"


class EmbeddingIndex:
    """Enrolled identities and their embeddings; identify and verify by distance.

    Args:
        encoder: maps a batch of inputs to embeddings: a model (its
            ``predict`` is used) or any function; None when the inputs are
            embeddings already.
        threshold: the largest Euclidean distance accepted as a match.

    Example:
        >>> import numpy as np
        >>> index = EmbeddingIndex(threshold=0.5)
        >>> index.add("ann", np.array([1.0, 0.0]))
        >>> index.add("bob", np.array([0.0, 1.0]))
        >>> index.identify(np.array([0.9, 0.1]))
        'ann'
        >>> index.identify(np.array([-1.0, -1.0]))
        'unknown'
        >>> index.verify(np.array([0.1, 0.9]), "bob")
        True
    """

    def __init__(self, encoder=None, threshold: float = 0.7):
        if not np.isfinite(threshold) or threshold <= 0:
            raise ValueError(
                f"EmbeddingIndex: invalid value for argument 'threshold'. Expected a "
                f"positive distance. Received: threshold={threshold!r}"
            )
        self.encoder = encoder
        self.threshold = float(threshold)
        self._names: list = []
        self._vectors = None

    def embed(self, batch) -> np.ndarray:
        """Embeddings (N, D) of a batch of inputs."""
        if self.encoder is None:
            out = np.asarray(batch, dtype=np.float64)
        elif hasattr(self.encoder, "predict"):
            out = self.encoder.predict(np.asarray(batch), verbose=0)
        else:
            out = self.encoder(np.asarray(batch))
        out = host(out, np.float64)
        return out.reshape(len(out), -1)

    def add(self, identity, x) -> None:
        """Enrol ``identity`` from one example ``x`` (no batch axis).

        Adding an identity again stores one more example of it; matching uses
        the nearest example.
        """
        vector = self.embed(np.asarray(x)[None])
        if self._vectors is not None and vector.shape[1] != self._vectors.shape[1]:
            raise ValueError(
                f"EmbeddingIndex.add: embeddings have {self._vectors.shape[1]} "
                f"values; {identity!r} gave {vector.shape[1]}"
            )
        self._names.append(identity)
        self._vectors = (
            vector if self._vectors is None else np.vstack([self._vectors, vector])
        )

    @property
    def identities(self) -> list:
        """The enrolled identities, each once, in enrolment order."""
        return list(dict.fromkeys(self._names))

    def __len__(self) -> int:
        return len(self.identities)

    def distances(self, batch) -> tuple[np.ndarray, list]:
        """(N, K) distance of each input to each identity (its nearest example)."""
        if self._vectors is None:
            raise ValueError("EmbeddingIndex: no identity enrolled yet; call add()")
        e = self.embed(batch)
        squared = (
            (e * e).sum(1)[:, None] + (self._vectors**2).sum(1)[None, :]
            - 2 * e @ self._vectors.T
        )  # fmt: skip
        d = np.sqrt(np.maximum(squared, 0.0))
        names = self.identities
        owner = np.array([names.index(n) for n in self._names])
        per_identity = np.full((len(e), len(names)), np.inf)
        for k in range(len(names)):  # loop over identities, not samples
            per_identity[:, k] = d[:, owner == k].min(axis=1)
        return per_identity, names

    def identify_batch(self, batch) -> tuple[list, np.ndarray]:
        """(identities or "unknown", distances) for each input of a batch."""
        d, names = self.distances(batch)
        best = d.argmin(axis=1)
        dist = d[np.arange(len(d)), best]
        who = [names[b] if m <= self.threshold else UNKNOWN
               for b, m in zip(best, dist, strict=True)]  # fmt: skip
        return who, dist

    def identify(self, x):
        """The identity closest to one example ``x``, or "unknown" beyond the
        threshold."""
        return self.identify_batch(np.asarray(x)[None])[0][0]

    def distance(self, x, identity) -> float:
        """Distance of one example to an enrolled identity."""
        d, names = self.distances(np.asarray(x)[None])
        if identity not in names:
            raise KeyError(f"EmbeddingIndex: {identity!r} is not enrolled")
        return float(d[0, names.index(identity)])

    def verify(self, x, identity) -> bool:
        """True when one example ``x`` is within the threshold of ``identity``."""
        return self.distance(x, identity) <= self.threshold


def similarity_head(embedding_dim: int, name: str = "similarity_head") -> Model:
    """DeepFace's verification head: ``sigmoid(w . |f(x1) - f(x2)| + b)``.

    Args:
        embedding_dim: the length of the embeddings.
        name: the model's name.

    Returns:
        A functional ``Model`` on two embedding batches ``[e1, e2]`` giving the
        probability (N, 1) that they show the same identity; train it with
        binary cross-entropy on same (1) / different (0) pairs.
    """
    e1 = layers.Input((embedding_dim,), name="embedding_1")
    e2 = layers.Input((embedding_dim,), name="embedding_2")
    # |a - b| = relu(a - b) + relu(b - a), from serializable layers only
    up = layers.ReLU(name="relu_1_minus_2")(
        layers.Subtract(name="e1_minus_e2")([e1, e2])
    )
    down = layers.ReLU(name="relu_2_minus_1")(
        layers.Subtract(name="e2_minus_e1")([e2, e1])
    )
    diff = layers.Add(name="abs_difference")([up, down])
    same = layers.Dense(1, activation="sigmoid", name="same")(diff)
    return Model([e1, e2], same, name=name)


def roc_curve(scores, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positive rates at every threshold (higher score = positive).

    Returns:
        ``(fpr, tpr, thresholds)``, from (0, 0) to (1, 1); tied scores make one
        step.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels = np.asarray(labels).reshape(-1).astype(bool)
    if scores.size != labels.size or labels.all() or not labels.any():
        raise ValueError(
            "roc_curve: expected one label per score and both classes present. "
            f"Received {scores.size} scores, {labels.sum()} positives of {labels.size}"
        )
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    last = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1]  # end of each tie
    tp, fp = np.cumsum(y)[last], np.cumsum(~y)[last]
    fpr = np.r_[0.0, fp / fp[-1]]
    tpr = np.r_[0.0, tp / tp[-1]]
    return fpr, tpr, np.r_[np.inf, s[last]]


def roc_auc(scores, labels) -> float:
    """Area under the ROC curve (trapezoids; ties count one half)."""
    fpr, tpr, _ = roc_curve(scores, labels)
    return float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2))
