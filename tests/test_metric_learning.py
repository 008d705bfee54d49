"""Pairwise distances, triplet loss and in-batch triplet mining."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import numnet
from numnet.autograd import strict_dtypes
from numnet.functional.metric_learning import (
    batch_triplet_loss,
    mine_triplets,
    pairwise_distances,
    triplet_loss,
    triplet_masks,
)


def _naive_distances(x, y):
    return np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))


def test_pairwise_distances_match_naive(rng):
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(pairwise_distances(x, y).data, _naive_distances(x, y))
    np.testing.assert_allclose(
        pairwise_distances(x, squared=True).data,
        _naive_distances(x, x) ** 2,
        atol=1e-12,
    )
    assert np.all(np.diag(pairwise_distances(x).data) == 0)


@pytest.mark.parametrize("squared", [True, False])
def test_pairwise_distances_gradcheck(squared, rng):
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    assert numnet.gradcheck(lambda a: pairwise_distances(a, squared=squared), [x])
    assert numnet.gradcheck(lambda a, b: pairwise_distances(a, b, squared), [x, y])


def test_pairwise_distances_finite_gradient_at_zero():
    # duplicate rows: distance exactly 0, where sqrt has an infinite slope
    x = numnet.tensor(
        np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]]), requires_grad=True
    )
    d = pairwise_distances(x)
    assert d.data[0, 1] == 0
    (d * numnet.tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
    assert np.all(np.isfinite(x.grad))


def test_triplet_loss_hand_computed():
    a = np.array([[0.0, 0.0], [0.0, 0.0]])
    p = np.array([[1.0, 0.0], [0.0, 0.5]])  # d_ap = 1, 0.25
    n = np.array([[0.0, 1.5], [3.0, 0.0]])  # d_an = 2.25, 9
    # max(1 - 2.25 + 2, 0) = 0.75 ; max(0.25 - 9 + 2, 0) = 0  -> mean 0.375
    assert float(triplet_loss(a, p, n, margin=2.0).data) == pytest.approx(0.375)
    assert float(triplet_loss(a, p, n, margin=0.2).data) == 0.0


def test_triplet_loss_gradcheck(rng):
    a, p, n = (rng.normal(size=(6, 4)) for _ in range(3))
    assert numnet.gradcheck(
        lambda x, y, z: triplet_loss(x, y, z, margin=1.0), [a, p, n]
    )


def test_triplet_loss_float32_backward(rng):
    ts = [numnet.tensor(rng.normal(size=(4, 3)), requires_grad=True) for _ in range(3)]
    with strict_dtypes():
        triplet_loss(*ts, margin=5.0).backward()
        batch_triplet_loss([0, 0, 1, 1], ts[0], 1.0, "semi-hard").backward()
    assert ts[0].grad.dtype == np.float32


@pytest.mark.parametrize("mining", ["all", "hard", "semi-hard"])
@pytest.mark.parametrize("squared", [True, False])
def test_batch_triplet_loss_gradcheck(mining, squared, rng):
    labels = np.array([0, 0, 1, 1, 2, 2, 0, 1])
    x = rng.normal(size=(8, 3))
    margin = 0.5

    def loss(e):
        return batch_triplet_loss(labels, e, margin, mining, squared=squared)

    assert float(loss(x).data) > 0  # a check on a zero loss could not fail
    assert numnet.gradcheck(loss, [x])


def _brute_force_losses(labels, d, margin):
    """Every valid (a, p, n) triplet and its loss, by explicit loops (the oracle)."""
    out = {}
    for a, p, n in itertools.permutations(range(len(labels)), 3):
        if labels[a] == labels[p] and labels[a] != labels[n]:
            out[a, p, n] = max(d[a, p] - d[a, n] + margin, 0.0)
    return out


@pytest.mark.parametrize("squared", [True, False])
def test_batch_all_matches_brute_force(squared, rng):
    labels = np.array([0, 1, 0, 2, 1, 0, 2])
    x = rng.normal(size=(7, 2))
    d = _naive_distances(x, x) ** (2 if squared else 1)
    losses = np.array(list(_brute_force_losses(labels, d, 1.0).values()))
    expected = losses.sum() / np.count_nonzero(losses)
    got = batch_triplet_loss(labels, x, 1.0, "all", squared=squared).data
    assert float(got) == pytest.approx(expected)


def _hand_batch():
    # 1-D embeddings make the distances readable: |x_i - x_j|.
    labels = np.array([0, 0, 0, 1, 1])
    x = np.array([[0.0], [1.0], [3.5], [2.0], [10.0]])
    return labels, x, _naive_distances(x, x)


def test_hard_mining_picks_farthest_positive_and_closest_negative():
    labels, x, d = _hand_batch()
    a, p, n = mine_triplets(labels, d, "hard")
    # anchor 0: positives at 1 and 3.5 -> farthest is item 2; negatives at 2 and
    # 10 -> item 3. Anchor 3: its only positive is item 4; negatives at 2, 1 and
    # 1.5 -> item 1.
    expected = {(0, 2, 3), (1, 2, 3), (2, 0, 3), (3, 4, 1), (4, 3, 2)}
    assert set(zip(a.tolist(), p.tolist(), n.tolist(), strict=True)) == expected
    # loss = mean over anchors of max(d_ap - d_an + margin, 0)
    margin = 0.5
    terms = [max(d[i, j] - d[i, k] + margin, 0) for i, j, k in expected]
    got = float(batch_triplet_loss(labels, x, margin, "hard", squared=False).data)
    assert got == pytest.approx(np.mean(terms))


def test_semi_hard_mining_picks_closest_negative_beyond_the_positive():
    labels, _, d = _hand_batch()
    got = mine_triplets(labels, d, "semi-hard")
    chosen = {(a, p): n for a, p, n in zip(*(t.tolist() for t in got), strict=True)}
    assert len(chosen) == 8  # every ordered positive pair appears once
    # (0, 1): d_ap = 1; negatives at distance 2 (item 3) and 10 (item 4) -> item 3
    assert chosen[0, 1] == 3
    # (0, 2): d_ap = 3.5; only item 4 (distance 10) lies beyond -> item 4
    assert chosen[0, 2] == 4
    # (2, 0): d_ap = 3.5; negatives at 1.5 and 6.5 -> item 4 is the one beyond
    assert chosen[2, 0] == 4
    # (3, 4): d_ap = 8; negatives at 2, 1, 1.5 -> none beyond: the farthest (item 0)
    assert chosen[3, 4] == 0
    # (4, 3): d_ap = 8; negatives at 10, 9, 6.5 -> closest beyond 8 is 9 (item 1)
    assert chosen[4, 3] == 1


def test_mining_skips_anchors_without_positive_or_negative():
    d = np.ones((3, 3)) - np.eye(3)
    a, _, _ = mine_triplets([0, 1, 1], d, "hard")  # label 0 has no positive
    assert sorted(a.tolist()) == [1, 2]
    for mining in ("all", "hard", "semi-hard"):
        assert all(t.size == 0 for t in mine_triplets([3, 3, 3], d, mining))
    e = numnet.tensor(np.ones((3, 2)), requires_grad=True)
    loss = batch_triplet_loss([3, 3, 3], e, mining="semi-hard")
    loss.backward()
    assert float(loss.data) == 0 and np.all(e.grad == 0)


def test_masks():
    pos, neg = triplet_masks(np.array([1, 2, 1]))
    np.testing.assert_array_equal(pos, [[0, 0, 1], [0, 0, 0], [1, 0, 0]])
    np.testing.assert_array_equal(neg, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])


def test_bad_arguments():
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="argument 'mining'"):
        batch_triplet_loss([0, 0, 1, 1], x, mining="easy")
    with pytest.raises(ValueError, match="argument 'margin'"):
        batch_triplet_loss([0, 0, 1, 1], x, margin=-1.0)
    with pytest.raises(ValueError, match="N labels"):
        batch_triplet_loss([0, 1], x)
    with pytest.raises(ValueError, match="one shape"):
        triplet_loss(x, x, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="same D"):
        pairwise_distances(x, np.zeros((2, 3)))


def test_losses_wrappers_and_registry(rng):
    from numnet import losses

    labels = np.array([0, 0, 1, 1, 2, 2])
    x = rng.normal(size=(6, 3))
    loss = losses.get("triplet_loss")
    assert isinstance(loss, losses.TripletLoss) and loss.mining == "semi-hard"
    expected = batch_triplet_loss(labels, x, 0.2, "semi-hard").data
    np.testing.assert_allclose(loss(labels.reshape(-1, 1), x).data, expected)
    hard = losses.triplet_loss(labels, x, margin=1.0, mining="hard")
    np.testing.assert_allclose(
        hard.data, batch_triplet_loss(labels, x, 1.0, "hard").data
    )
    clone = losses.get(losses.serialize(losses.TripletLoss(0.5, "all", squared=False)))
    assert (clone.margin, clone.mining, clone.squared) == (0.5, "all", False)
    assert numnet.gradcheck(lambda e: losses.TripletLoss(1.0, "all")(labels, e), [x])
    with pytest.raises(
        ValueError, match="TripletLoss: invalid value for argument 'mining'"
    ):
        losses.TripletLoss(mining="random")
    with pytest.raises(ValueError, match="sample_weight"):
        loss(labels, x, sample_weight=np.ones(6))
