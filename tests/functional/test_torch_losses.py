"""PyTorch's functional losses and distances (numnet.functional.torch_*) against
torch.nn.functional: values and input gradients in float64 on drawn shapes,
every reduction and option; gradchecks; float32; extreme logits; errors; and a
PyTorch-style training loop on Fashion-MNIST."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.example_helpers import fashion_mnist_subset, needs_fashion_mnist

import numnet
import numnet.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ("mean", "sum", "none")


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# Each case: rng, n (batch), c (features/classes), d (an extra axis) ->
# (positional args, keyword args, indices of the args to differentiate).
# Float args are float64 ndarrays; integer ndarrays are class indices.


def _ce_index(rng, n, c, d, weight=False, ignore=False, smoothing=0.0):
    n += ignore  # one row more than the ignored one (all ignored: see below)
    x = rng.normal(size=(n, c, d) if d else (n, c)) * 3
    y = rng.integers(0, c, size=(n, d) if d else (n,))
    kw = {"label_smoothing": smoothing}
    if ignore:
        y[0] = kw["ignore_index"] = c  # an index outside [0, C) that counts for nothing
    if weight:
        kw["weight"] = rng.uniform(0.2, 2.0, size=c)
    return [x, y], kw, (0,)


def _ce_probs(rng, n, c, d, weight=False, smoothing=0.0):
    x = rng.normal(size=(n, c, d) if d else (n, c)) * 3
    t = _softmax(rng.normal(size=x.shape), 1)
    kw = {"label_smoothing": smoothing}
    if weight:
        kw["weight"] = rng.uniform(0.2, 2.0, size=c)
    return [x, t], kw, (0, 1)


def _nll(rng, n, c, d, weight=False, ignore=False):
    args, kw, _ = _ce_index(rng, n, c, d, weight, ignore)
    del kw["label_smoothing"]
    args[0] = np.log(_softmax(args[0], 1))
    return args, kw, (0,)


def _pair(rng, n, c, d, **kw):
    shape = (n, c, d) if d else (n, c)
    return [rng.normal(size=shape), rng.normal(size=shape)], kw, (0, 1)


def _weighted_pair(rng, n, c, d, **kw):
    args, kw, grads = _pair(rng, n, c, d, **kw)
    kw["weight"] = rng.uniform(0.1, 2.0, size=args[0].shape)
    return args, kw, grads


def _bce(rng, n, c, d, weight=False):
    p = rng.uniform(0.05, 0.95, size=(n, c))
    kw = {"weight": rng.uniform(0.1, 2.0, size=(c,))} if weight else {}
    return [p, rng.uniform(0, 1, size=(n, c))], kw, (0, 1)


def _bce_logits(rng, n, c, d, weight=False, pos_weight=False):
    kw = {}
    if weight:
        kw["weight"] = rng.uniform(0.1, 2.0, size=(c,))
    if pos_weight:
        kw["pos_weight"] = rng.uniform(0.1, 3.0, size=(c,))
    return [rng.normal(size=(n, c)) * 3, rng.uniform(0, 1, size=(n, c))], kw, (0, 1)


def _kl(rng, n, c, d, log_target=False):
    x = np.log(_softmax(rng.normal(size=(n, c)), 1))
    t = _softmax(rng.normal(size=(n, c)), 1)
    if log_target:
        return [x, np.log(t)], {"log_target": True}, (0, 1)
    t[0, 0] = 0.0  # 0 log 0 = 0
    return [x, t], {}, (0,)


def _poisson(rng, n, c, d, log_input=True, full=False):
    rate = rng.normal(size=(n, c)) if log_input else rng.uniform(0.1, 3, (n, c))
    counts = rng.integers(0, 5, size=(n, c)).astype(float)
    return [rate, counts], {"log_input": log_input, "full": full}, (0,)


def _gaussian(rng, n, c, d, var_shape="same", full=False):
    mu, y = rng.normal(size=(n, c)), rng.normal(size=(n, c))
    shapes = {"same": (n, c), "column": (n, 1), "row": (n,)}
    var = rng.uniform(0.1, 2.0, size=shapes[var_shape])
    return [mu, y, var], {"full": full}, (0, 1, 2)


def _margin_ranking(rng, n, c, d, margin=0.3):
    y = rng.choice([-1.0, 1.0], size=n)
    return [rng.normal(size=n), rng.normal(size=n), y], {"margin": margin}, (0, 1)


def _hinge_embedding(rng, n, c, d, margin=1.0):
    y = rng.choice([-1.0, 1.0], size=(n, c))
    return [rng.uniform(0, 2, size=(n, c)), y], {"margin": margin}, (0,)


def _soft_margin(rng, n, c, d):
    return [rng.normal(size=(n, c)), rng.choice([-1.0, 1.0], size=(n, c))], {}, (0,)


def _multilabel(rng, n, c, d, weight=False):
    kw = {"weight": rng.uniform(0.1, 2, size=c)} if weight else {}
    t = rng.integers(0, 2, size=(n, c)).astype(float)
    return [rng.normal(size=(n, c)), t], kw, (0,)


def _multi_margin(rng, n, c, d, p=1, weight=False):
    kw = {"p": p, "margin": 0.7}
    if weight:
        kw["weight"] = rng.uniform(0.1, 2, size=c)
    return [rng.normal(size=(n, c)), rng.integers(0, c, size=n)], kw, (0,)


def _cosine_embedding(rng, n, c, d, margin=0.2):
    y = rng.choice([-1.0, 1.0], size=n)
    return [*_pair(rng, n, c, 0)[0], y], {"margin": margin}, (0, 1)


def _triplet(rng, n, c, d, p=2, swap=False):
    a, pos, neg = (rng.normal(size=(n, c)) for _ in range(3))
    return [a, pos, neg], {"margin": 1.5, "p": p, "swap": swap}, (0, 1, 2)


LOSSES = {
    "cross_entropy": _ce_index,
    "cross_entropy-weight-ignore": lambda *a: _ce_index(*a, weight=True, ignore=True),
    "cross_entropy-smoothing": lambda *a: _ce_index(*a, smoothing=0.2),
    "cross_entropy-smoothing-weight-ignore": lambda *a: _ce_index(
        *a, weight=True, ignore=True, smoothing=0.3
    ),
    "cross_entropy-probs": _ce_probs,
    "cross_entropy-probs-weight-smoothing": lambda *a: _ce_probs(
        *a, weight=True, smoothing=0.1
    ),
    "nll_loss": _nll,
    "nll_loss-weight-ignore": lambda *a: _nll(*a, weight=True, ignore=True),
    "mse_loss": _pair,
    "mse_loss-weight": _weighted_pair,
    "l1_loss": _pair,
    "l1_loss-weight": _weighted_pair,
    "huber_loss": lambda *a: _pair(*a, delta=0.7),
    "huber_loss-weight": lambda *a: _weighted_pair(*a, delta=1.3),
    "smooth_l1_loss": lambda *a: _pair(*a, beta=0.6),
    "smooth_l1_loss-zero-beta": lambda *a: _pair(*a, beta=0.0),
    "binary_cross_entropy": _bce,
    "binary_cross_entropy-weight": lambda *a: _bce(*a, weight=True),
    "binary_cross_entropy_with_logits": _bce_logits,
    "binary_cross_entropy_with_logits-weights": lambda *a: _bce_logits(
        *a, weight=True, pos_weight=True
    ),
    "kl_div": _kl,
    "kl_div-log_target": lambda *a: _kl(*a, log_target=True),
    "poisson_nll_loss": _poisson,
    "poisson_nll_loss-rate-full": lambda *a: _poisson(*a, log_input=False, full=True),
    "gaussian_nll_loss": _gaussian,
    "gaussian_nll_loss-column-full": lambda *a: _gaussian(*a, "column", full=True),
    "gaussian_nll_loss-row": lambda *a: _gaussian(*a, "row"),
    "margin_ranking_loss": _margin_ranking,
    "hinge_embedding_loss": _hinge_embedding,
    "soft_margin_loss": _soft_margin,
    "multilabel_soft_margin_loss": _multilabel,
    "multilabel_soft_margin_loss-weight": lambda *a: _multilabel(*a, weight=True),
    "multi_margin_loss": _multi_margin,
    "multi_margin_loss-p2-weight": lambda *a: _multi_margin(*a, p=2, weight=True),
    "cosine_embedding_loss": _cosine_embedding,
    "triplet_margin_loss": _triplet,
    "triplet_margin_loss-p1-swap": lambda *a: _triplet(*a, p=1, swap=True),
    "triplet_margin_loss-p3-swap": lambda *a: _triplet(*a, p=3, swap=True),
}
#: cases whose inputs have an extra axis (N, C, d) when drawn
EXTRA_AXIS = {
    name for name in LOSSES if name.split("-")[0] in ("cross_entropy", "nll_loss")
}


def _as_torch(value, grad: bool):
    if isinstance(value, np.ndarray):
        return torch.tensor(value, requires_grad=grad)
    return value


def _as_numnet(value, grad: bool):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return numnet.tensor(value, requires_grad=grad, dtype=np.float64)
    return value


def _compare(name, args, kwargs, grads, rng, rtol=1e-9, atol=1e-11):
    """Value and the gradient of every ``grads`` argument, numnet vs torch,
    with a random upstream gradient."""
    ours = [_as_numnet(a, i in grads) for i, a in enumerate(args)]
    theirs = [_as_torch(a, i in grads) for i, a in enumerate(args)]
    tkw = {k: _as_torch(v, False) for k, v in kwargs.items()}
    y_ours = getattr(F, name)(*ours, **kwargs)
    y_theirs = getattr(TF, name)(*theirs, **tkw)
    expected = y_theirs.detach().numpy()
    assert y_ours.shape == expected.shape
    np.testing.assert_allclose(y_ours.data, expected, rtol=rtol, atol=atol)
    g = rng.normal(size=expected.shape)
    y_ours.backward(g)
    y_theirs.backward(torch.tensor(g))
    for i in grads:
        np.testing.assert_allclose(
            ours[i].grad, theirs[i].grad.numpy(), rtol=1e-7, atol=1e-9,
            err_msg=f"{name}: gradient of argument {i}",
        )  # fmt: skip


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")  # torch's kl_div
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", sorted(LOSSES))
@given(data=st.data())
def test_loss_matches_torch(case, reduction, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    n = data.draw(st.integers(1, 5), label="n")
    c = data.draw(st.integers(2, 5), label="c")
    d = data.draw(st.integers(0, 3), label="d") if case in EXTRA_AXIS else 0
    args, kwargs, grads = LOSSES[case](rng, n, c, d)
    _compare(case.split("-")[0], args, {**kwargs, "reduction": reduction}, grads, rng)


def test_kl_div_batchmean_matches_torch(rng):
    for log_target in (False, True):
        args, kw, grads = _kl(rng, 4, 3, 0, log_target)
        _compare("kl_div", args, {**kw, "reduction": "batchmean"}, grads, rng)


def test_cross_entropy_unbatched_and_channels_last(rng):
    x, y = rng.normal(size=5), np.array(3)
    _compare("cross_entropy", [x, y], {"label_smoothing": 0.1}, (0,), rng)
    images = rng.normal(size=(2, 3, 4, 5))  # (N, H, W, C)
    labels = rng.integers(0, 5, size=(2, 3, 4))
    ours = F.cross_entropy(images, labels, axis=-1, reduction="none")
    theirs = TF.cross_entropy(
        torch.tensor(images).permute(0, 3, 1, 2), torch.tensor(labels), reduction="none"
    )
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)


DISTANCES = {
    "normalize-p2": lambda rng: ([rng.normal(size=(3, 4))], {}),
    "normalize-p1-dim0": lambda rng: ([rng.normal(size=(3, 4))], {"p": 1, "dim": 0}),
    "normalize-p3-3d": lambda rng: (
        [rng.normal(size=(2, 3, 4))],
        {"p": 3.0, "dim": -1},
    ),
    "normalize-inf": lambda rng: ([rng.normal(size=(3, 4))], {"p": float("inf")}),
    "cosine_similarity": lambda rng: (_pair(rng, 3, 4, 0)[0], {}),
    "cosine_similarity-dim0-broadcast": lambda rng: (
        [rng.normal(size=(3, 4)), rng.normal(size=(3, 1))],
        {"dim": 0},
    ),
    "pairwise_distance": lambda rng: (_pair(rng, 3, 4, 0)[0], {}),
    "pairwise_distance-p1-keepdim": lambda rng: (
        _pair(rng, 3, 4, 0)[0],
        {"p": 1.0, "keepdim": True},
    ),
    "pairwise_distance-p3-1d": lambda rng: (
        [rng.normal(size=4), rng.normal(size=4)],
        {"p": 3.0, "eps": 0.0},
    ),
    "cdist": lambda rng: ([rng.normal(size=(3, 4)), rng.normal(size=(5, 4))], {}),
    "cdist-mm-batched": lambda rng: (
        [rng.normal(size=(2, 30, 3)), rng.normal(size=(2, 4, 3))],
        {},
    ),
    "cdist-p1": lambda rng: (
        [rng.normal(size=(3, 4)), rng.normal(size=(5, 4))],
        {"p": 1.0},
    ),
    "cdist-p3-broadcast": lambda rng: (
        [rng.normal(size=(2, 3, 4)), rng.normal(size=(1, 5, 4))],
        {"p": 3.0},
    ),
    "cdist-inf": lambda rng: (
        [rng.normal(size=(3, 4)), rng.normal(size=(5, 4))],
        {"p": float("inf")},
    ),
    "cdist-p0": lambda rng: (
        [rng.normal(size=(3, 2)).round(), rng.normal(size=(5, 2)).round()],
        {"p": 0.0},
    ),
}


@pytest.mark.parametrize("case", sorted(DISTANCES))
def test_distance_matches_torch(case, rng):
    args, kwargs = DISTANCES[case](rng)
    name = case.split("-")[0]
    fn_torch = torch.cdist if name == "cdist" else getattr(TF, name)
    ours = [numnet.tensor(a, requires_grad=True, dtype=np.float64) for a in args]
    theirs = [torch.tensor(a, requires_grad=True) for a in args]
    y_ours, y_theirs = getattr(F, name)(*ours, **kwargs), fn_torch(*theirs, **kwargs)
    np.testing.assert_allclose(y_ours.data, y_theirs.detach().numpy(), rtol=1e-9)
    if case == "cdist-p0":
        return  # a count: no gradient
    g = rng.normal(size=tuple(y_theirs.shape))
    y_ours.backward(g)
    y_theirs.backward(torch.tensor(g))
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-7,
                                   atol=1e-10)  # fmt: skip


def test_zero_vectors_and_distances_have_finite_gradients(rng):
    x = rng.normal(size=(3, 4))
    x[1] = 0.0
    ours = numnet.tensor(x, requires_grad=True, dtype=np.float64)
    theirs = torch.tensor(x, requires_grad=True)
    g = rng.normal(size=(3, 3))
    # cdist's direct form: equal rows give exactly 0 with gradient 0, as torch
    F.cdist(ours, ours, compute_mode="donot_use_mm_for_euclid_dist").backward(g)
    torch.cdist(theirs, theirs, compute_mode="donot_use_mm_for_euclid_dist").backward(
        torch.tensor(g)
    )
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-7, atol=1e-12)
    for fn in (F.normalize, lambda t: F.cosine_similarity(t, t[::-1])):
        ours = numnet.tensor(x, requires_grad=True, dtype=np.float64)
        fn(ours).backward(rng.normal(size=fn(ours).shape))
        assert np.isfinite(ours.grad).all()


def test_cosine_similarity_clamps_each_norm_as_torch(rng):
    x1 = np.array([[1e-9, 2e-9], [3.0, 4.0]])  # a norm below eps on each side
    x2 = np.array([[1.0, 1.0], [1e-10, 0.0]])
    _compare_two = [
        numnet.tensor(a, requires_grad=True, dtype=np.float64) for a in (x1, x2)
    ]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x1, x2)]
    g = rng.normal(size=2)
    y = F.cosine_similarity(*_compare_two)
    reference = TF.cosine_similarity(*theirs)
    np.testing.assert_allclose(y.data, reference.detach().numpy(), rtol=1e-12)
    y.backward(g)
    reference.backward(torch.tensor(g))
    for mine, ref in zip(_compare_two, theirs, strict=True):
        np.testing.assert_allclose(mine.grad, ref.grad.numpy(), rtol=1e-9)


def test_binary_cross_entropy_at_zero_and_one_matches_torch():
    p, t = np.array([0.0, 1.0, 0.0, 1.0, 0.5]), np.array([1.0, 0.0, 0.0, 1.0, 0.3])
    # the input gradient only: PyTorch's target gradient is +-inf there (unclamped
    # logs), numnet's is finite (the clamped logs of the loss)
    _compare("binary_cross_entropy", [p, t], {"reduction": "none"}, (0,),
             np.random.default_rng(0))  # fmt: skip


W3 = np.array([0.5, 1.5, 2.0])  # class weights of the gradchecks
GRADCHECKS = {
    "cross_entropy": lambda r: (
        lambda x: F.cross_entropy(
            x,
            np.array([0, 2, 1]),
            W3,
            ignore_index=1,
            label_smoothing=0.2,
        ),  # fmt: skip
        [r.normal(size=(3, 3))],
    ),
    "cross_entropy-probs": lambda r: (
        lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1, reduction="none"),
        [r.normal(size=(2, 3, 2)), _softmax(r.normal(size=(2, 3, 2)), 1)],
    ),
    "nll_loss": lambda r: (
        lambda x: F.nll_loss(x, np.array([[0, 2], [1, 1]]), reduction="sum"),
        [r.normal(size=(2, 3, 2))],
    ),
    "mse_loss": lambda r: (
        lambda x, t: F.mse_loss(x, t, weight=np.arange(1.0, 7).reshape(2, 3)),
        [r.normal(size=(2, 3)), r.normal(size=(2, 3))],
    ),
    "l1_loss": lambda r: (F.l1_loss, [r.normal(size=(2, 3)), r.normal(size=(2, 3))]),
    "huber_loss": lambda r: (
        lambda x, t: F.huber_loss(x, t, delta=0.5, reduction="none"),
        [r.normal(size=(2, 3)), r.normal(size=(2, 3))],
    ),
    "smooth_l1_loss": lambda r: (
        lambda x, t: F.smooth_l1_loss(x, t, beta=0.5, reduction="none"),
        [r.normal(size=(2, 3)), r.normal(size=(2, 3))],
    ),
    "binary_cross_entropy": lambda r: (
        lambda p, t: F.binary_cross_entropy(p, t, reduction="none"),
        [r.uniform(0.1, 0.9, (2, 3)), r.uniform(0, 1, (2, 3))],
    ),
    "binary_cross_entropy_with_logits": lambda r: (
        lambda z, t: F.binary_cross_entropy_with_logits(
            z,
            t,
            W3,
            pos_weight=W3[::-1] * 1.5,
            reduction="none",
        ),  # fmt: skip
        [r.normal(size=(2, 3)), r.uniform(0, 1, (2, 3))],
    ),
    "kl_div": lambda r: (
        lambda x, t: F.kl_div(x, t, reduction="batchmean"),
        [r.normal(size=(2, 3)), r.uniform(0.1, 1, (2, 3))],
    ),
    "kl_div-log_target": lambda r: (
        lambda x, t: F.kl_div(x, t, reduction="none", log_target=True),
        [r.normal(size=(2, 3)), r.normal(size=(2, 3))],
    ),
    "poisson_nll_loss": lambda r: (
        lambda x: F.poisson_nll_loss(x, np.array([[0.0, 2, 3]]), False, True),
        [r.uniform(0.5, 2, (1, 3))],
    ),
    "gaussian_nll_loss": lambda r: (
        lambda m, t, v: F.gaussian_nll_loss(m, t, v, reduction="none"),
        [r.normal(size=(2, 3)), r.normal(size=(2, 3)), r.uniform(0.5, 2, (2, 1))],
    ),
    "normalize": lambda r: (lambda x: F.normalize(x, p=3.0), [r.normal(size=(2, 3))]),
    "cosine_similarity": lambda r: (
        lambda a, b: F.cosine_similarity(a, b, dim=-1),
        [r.normal(size=(2, 3)), r.normal(size=(2, 3))],
    ),
    "pairwise_distance": lambda r: (
        lambda a, b: F.pairwise_distance(a, b, p=1.5),
        [r.normal(size=(2, 3)), r.normal(size=(2, 3))],
    ),
    "cdist": lambda r: (F.cdist, [r.normal(size=(2, 3)), r.normal(size=(4, 3))]),
    "cdist-mm": lambda r: (
        lambda a, b: F.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
        [r.normal(size=(2, 3)), r.normal(size=(4, 3))],
    ),
    "triplet_margin_loss": lambda r: (
        lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=3.0, swap=True),
        [r.normal(size=(3, 2)) for _ in range(3)],
    ),
    "margin_ranking_loss": lambda r: (
        lambda a, b: F.margin_ranking_loss(a, b, np.array([1.0, -1, 1]), 5.0),
        [r.normal(size=3), r.normal(size=3)],
    ),
    "cosine_embedding_loss": lambda r: (
        lambda a, b: F.cosine_embedding_loss(a, b, np.array([1.0, -1]), -2.0),
        [r.normal(size=(2, 3)), r.normal(size=(2, 3))],
    ),
    "hinge_embedding_loss": lambda r: (
        lambda x: F.hinge_embedding_loss(x, np.array([1.0, -1, -1]), margin=3.0),
        [r.uniform(0, 1, 3)],
    ),
    "soft_margin_loss": lambda r: (
        lambda x: F.soft_margin_loss(x, np.array([1.0, -1, 1])),
        [r.normal(size=3)],
    ),
    "multilabel_soft_margin_loss": lambda r: (
        lambda x: F.multilabel_soft_margin_loss(x, np.eye(3)[:2], W3),
        [r.normal(size=(2, 3))],
    ),
    "multi_margin_loss": lambda r: (
        lambda x: F.multi_margin_loss(x, np.array([0, 2]), 2, 5.0, W3),
        [r.normal(size=(2, 3))],
    ),
}


@pytest.mark.parametrize("case", sorted(GRADCHECKS))
def test_gradcheck(case, rng):
    fn, inputs = GRADCHECKS[case](rng)
    assert numnet.gradcheck(fn, inputs)


@pytest.mark.parametrize("case", sorted(GRADCHECKS))
def test_float32_stays_float32(case, rng):
    fn, inputs = GRADCHECKS[case](rng)
    tensors = [numnet.tensor(a.astype(np.float32), requires_grad=True) for a in inputs]
    y = fn(*tensors)
    assert y.dtype == np.float32
    y.backward(np.ones(y.shape, np.float32))
    assert all(t.grad.dtype == np.float32 for t in tensors)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_give_finite_losses_and_gradients(dtype):
    z = numnet.tensor(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]], dtype),
                      requires_grad=True)  # fmt: skip
    labels, targets = np.array([1, 0]), np.array([[0.0, 1, 0], [1, 0, 1]])
    cases = [
        lambda: F.cross_entropy(z, labels, label_smoothing=0.1),
        lambda: F.cross_entropy(z, targets / targets.sum(1, keepdims=True)),
        lambda: F.binary_cross_entropy_with_logits(
            z, targets, pos_weight=np.ones(3) * 2
        ),
        lambda: F.soft_margin_loss(z, 2 * targets - 1),
        lambda: F.multilabel_soft_margin_loss(z, targets),
        lambda: F.binary_cross_entropy(F.sigmoid(z), targets),  # p exactly 0 and 1
    ]
    for make in cases:
        z.grad = None
        loss = make()
        loss.backward()
        assert np.isfinite(loss.item()) and np.isfinite(z.grad).all()
    value = F.cross_entropy(z, labels, reduction="none").data
    np.testing.assert_allclose(value, [2e4, 2e4], rtol=1e-6)


def test_all_targets_ignored_gives_zero_not_nan():
    z = numnet.tensor(np.zeros((2, 3)), requires_grad=True)
    loss = F.cross_entropy(z, np.array([-100, -100]))
    loss.backward()
    assert loss.item() == 0.0 and not z.grad.any()


ONE_BATCH = {  # each function on valid inputs, to probe its argument checks
    "cross_entropy": lambda **kw: F.cross_entropy(np.zeros((2, 3)), [0, 1], **kw),
    "nll_loss": lambda **kw: F.nll_loss(np.zeros((2, 3)), [0, 1], **kw),
    "mse_loss": lambda **kw: F.mse_loss(np.zeros(3), np.ones(3), **kw),
    "l1_loss": lambda **kw: F.l1_loss(np.zeros(3), np.ones(3), **kw),
    "huber_loss": lambda **kw: F.huber_loss(np.zeros(3), np.ones(3), **kw),
    "smooth_l1_loss": lambda **kw: F.smooth_l1_loss(np.zeros(3), np.ones(3), **kw),
    "binary_cross_entropy": lambda **kw: F.binary_cross_entropy(
        np.full(3, 0.5), np.ones(3), **kw
    ),
    "binary_cross_entropy_with_logits": lambda **kw: F.binary_cross_entropy_with_logits(
        np.zeros(3), np.ones(3), **kw
    ),
    "kl_div": lambda **kw: F.kl_div(np.zeros(3), np.ones(3), **kw),
    "poisson_nll_loss": lambda **kw: F.poisson_nll_loss(np.zeros(3), np.ones(3), **kw),
    "gaussian_nll_loss": lambda **kw: F.gaussian_nll_loss(
        np.zeros(3), np.ones(3), np.ones(3), **kw
    ),
    "margin_ranking_loss": lambda **kw: F.margin_ranking_loss(
        np.zeros(3), np.ones(3), np.ones(3), **kw
    ),
    "hinge_embedding_loss": lambda **kw: F.hinge_embedding_loss(
        np.zeros(3), np.ones(3), **kw
    ),
    "soft_margin_loss": lambda **kw: F.soft_margin_loss(np.zeros(3), np.ones(3), **kw),
    "multilabel_soft_margin_loss": lambda **kw: F.multilabel_soft_margin_loss(
        np.zeros((2, 3)), np.ones((2, 3)), **kw
    ),
    "multi_margin_loss": lambda **kw: F.multi_margin_loss(
        np.zeros((2, 3)), [0, 1], **kw
    ),
    "cosine_embedding_loss": lambda **kw: F.cosine_embedding_loss(
        np.ones((2, 3)), np.ones((2, 3)), np.ones(2), **kw
    ),
    "triplet_margin_loss": lambda **kw: F.triplet_margin_loss(
        np.zeros((2, 3)), np.ones((2, 3)), np.ones((2, 3)), **kw
    ),
}


@pytest.mark.parametrize("name", sorted(ONE_BATCH))
def test_a_bad_reduction_names_the_function_and_the_argument(name):
    assert np.isfinite(ONE_BATCH[name]().item())
    with pytest.raises(
        ValueError, match=rf"^{name}: .*'reduction'.*Received: reduction='avg'"
    ):
        ONE_BATCH[name](reduction="avg")


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.mse_loss(np.zeros(3), np.zeros((3, 1))),
         r"mse_loss: 'target' must have the shape of 'input'.*\(3, 1\).*\(3,\)"),
        (lambda: F.cross_entropy(np.zeros((2, 3)), [0, 3]),
         r"cross_entropy: argument 'target': received a label value of 3 .*\[0, 3\)"),
        (lambda: F.nll_loss(np.zeros((2, 3)), [-1, 0]),
         r"nll_loss: argument 'target': received a label value of -1"),
        (lambda: F.cross_entropy(np.zeros((2, 3)), np.zeros((3,), int)),
         r"cross_entropy: .*'target'. Expected class indices of shape \(2,\)"),
        (lambda: F.cross_entropy(np.zeros((2, 3)), [0, 1], weight=np.ones(2)),
         r"cross_entropy: .*'weight'. Expected one weight per class, shape \(3,\)"),
        (lambda: F.cross_entropy(np.zeros((2, 3)), [0, 1], label_smoothing=1.5),
         r"cross_entropy: .*'label_smoothing'.*Received: label_smoothing=1.5"),
        (lambda: F.pairwise_distance(np.zeros(3), np.zeros(3), p=-1),
         r"pairwise_distance: .*'p'. Expected a number > 0 or inf. Received: p=-1"),
        (lambda: F.cdist(np.zeros((2, 3)), np.zeros((2, 4))),
         r"cdist: expected x1 \(..., P, M\) and x2 \(..., R, M\) with the same M"),
        (lambda: F.normalize(np.zeros(3), p=0),
         r"normalize: .*'p'. Expected a number > 0 or inf"),
        (lambda: F.multi_margin_loss(np.zeros((2, 3)), [0, 1], p=3),
         r"multi_margin_loss: .*'p'. Expected 1 or 2. Received: p=3"),
        (lambda: F.binary_cross_entropy(np.array([1.5]), np.ones(1)),
         r"binary_cross_entropy: .*'input'. Expected probabilities in \[0, 1\]"),
        (lambda: F.gaussian_nll_loss(np.zeros(3), np.zeros(3), -np.ones(3)),
         r"gaussian_nll_loss: .*'var'. Expected variances >= 0"),
        (lambda: F.gaussian_nll_loss(np.zeros((2, 3)), np.zeros((2, 3)), np.ones(3)),
         r"gaussian_nll_loss: .*'var'. Expected the input's shape"),
        (lambda: F.cosine_similarity(np.zeros((2, 3)), np.zeros((2, 3)), dim=2),
         r"cosine_similarity: .*'dim'. Expected an int in \[-2, 2\). Received: dim=2"),
        (lambda: F.huber_loss(np.zeros(3), np.zeros(3), delta=0),
         r"huber_loss: .*'delta'. Expected a number > 0"),
    ],
)  # fmt: skip
def test_errors_name_the_function_argument_and_values(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_dim_and_axis_spellings():
    x = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_allclose(F.normalize(x, dim=0).data, F.normalize(x, axis=0).data)
    with pytest.raises(TypeError, match="normalize: got both 'dim' and .*'axis'"):
        F.normalize(x, dim=0, axis=1)
    with pytest.raises(
        TypeError, match="cross_entropy: .*'input'. Expected a floating"
    ):
        F.cross_entropy(np.zeros((2, 3), int), [0, 1])


@needs_fashion_mnist
def test_pytorch_style_loop_trains_fashion_mnist_above_chance():
    from numnet import layers, models, optimizers

    (x, y), (x_test, y_test) = fashion_mnist_subset(n_train=3000, n_test=1000)
    numnet.manual_seed(0)
    model = models.Sequential(
        [layers.Input((784,)), layers.Dense(64, activation="relu"), layers.Dense(10)]
    )
    opt = optimizers.Adam(model.parameters(), lr=1e-3)
    order = np.random.default_rng(0).permutation(len(x))
    for _ in range(2):  # epochs
        for start in range(0, len(x), 64):
            index = order[start : start + 64]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[index]), y[index], label_smoothing=0.1)
            loss.backward()
            opt.step()
    accuracy = float((model(x_test).numpy().argmax(-1) == y_test).mean())
    assert accuracy > 0.7, accuracy  # chance is 0.1
