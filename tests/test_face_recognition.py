"""Embedding index on hand-made vectors, ROC/AUC, the DeepFace-style head."""

from __future__ import annotations

import numpy as np
import pytest

from numnet import layers, models, optimizers
from numnet.vision import EmbeddingIndex, roc_auc, roc_curve, similarity_head


def _index():
    index = EmbeddingIndex(threshold=0.5)
    index.add("ann", np.array([1.0, 0.0, 0.0]))
    index.add("bob", np.array([0.0, 1.0, 0.0]))
    index.add("cat", np.array([0.0, 0.0, 1.0]))
    return index


def test_identify_returns_the_nearest_identity_or_unknown():
    index = _index()
    assert len(index) == 3 and index.identities == ["ann", "bob", "cat"]
    assert index.identify(np.array([0.1, 0.9, 0.0])) == "bob"
    assert index.identify(np.array([0.6, 0.6, 0.0])) == "unknown"  # 0.63 from both
    who, dist = index.identify_batch(np.array([[0.0, 0.0, 0.8], [0.9, 0.0, 0.2]]))
    assert who == ["cat", "ann"]
    np.testing.assert_allclose(dist, [0.2, np.sqrt(0.05)])


def test_verify_uses_the_threshold():
    index = _index()
    x = np.array([0.7, 0.3, 0.0])  # distance to ann: sqrt(0.18) = 0.424
    assert index.distance(x, "ann") == pytest.approx(np.sqrt(0.18))
    assert index.verify(x, "ann") and not index.verify(x, "bob")
    with pytest.raises(KeyError, match="dan"):
        index.verify(x, "dan")


def test_several_examples_of_one_identity_use_the_nearest():
    index = _index()
    index.add("ann", np.array([0.0, -1.0, 0.0]))
    assert index.identities == ["ann", "bob", "cat"]
    assert index.identify(np.array([0.0, -0.9, 0.0])) == "ann"


def test_index_with_an_encoder_and_errors():
    encoder = models.Sequential([layers.Input((2, 2, 1)), layers.Flatten()])
    index = EmbeddingIndex(encoder, threshold=0.1)
    index.add("zero", np.zeros((2, 2, 1), "float32"))
    index.add("ones", np.ones((2, 2, 1), "float32"))
    assert index.identify(np.full((2, 2, 1), 0.99, "float32")) == "ones"
    with pytest.raises(ValueError, match="threshold"):
        EmbeddingIndex(threshold=-1)
    with pytest.raises(ValueError, match="no identity"):
        EmbeddingIndex().identify(np.zeros(3))


def test_roc_and_auc_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.5])
    labels = np.array([1, 1, 0, 1, 0, 1])
    fpr, tpr, _ = roc_curve(scores, labels)
    np.testing.assert_allclose(fpr, [0, 0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.25, 0.5, 0.5, 0.75, 1])
    # pairs (pos, neg) ranked right: 0.9 and 0.8 beat both negatives (4),
    # 0.6 beats 0.5 (1), 0.5 ties 0.5 (1/2) -> 5.5 / 8
    assert roc_auc(scores, labels) == pytest.approx(5.5 / 8)
    with pytest.raises(ValueError, match="both classes"):
        roc_auc([0.1, 0.2], [1, 1])


def test_similarity_head_learns_same_or_different(rng):
    centres = rng.normal(size=(5, 8))
    a, b = rng.integers(0, 5, 400), rng.integers(0, 5, 400)
    b[:200] = a[:200]
    e1 = centres[a] + 0.1 * rng.normal(size=(400, 8))
    e2 = centres[b] + 0.1 * rng.normal(size=(400, 8))
    same = (a == b).astype("float32")[:, None]
    head = similarity_head(8)
    assert head.count_params() == 9
    head.compile(optimizers.Adam(0.05), "binary_crossentropy")
    head.fit(
        [e1.astype("float32"), e2.astype("float32")],
        same,
        epochs=30,
        batch_size=50,
        verbose=0,
    )
    p = head.predict([e1.astype("float32"), e2.astype("float32")], verbose=0)
    assert roc_auc(p[:, 0], same[:, 0]) > 0.95
