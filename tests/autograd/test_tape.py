"""autograd.grad and GradientTape (gradients w.r.t. chosen tensors), and in-place
updates of weights (PyTorch's rule)."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
import numnet.functional as F
from numnet.autograd import GradientTape, grad

try:
    import torch
except ImportError:  # optional oracle
    torch = None


def test_grad_returns_gradients_and_leaves_every_grad_alone(rng):
    a = numnet.tensor(rng.normal(size=(3, 2)), requires_grad=True, dtype="float64")
    b = numnet.tensor(rng.normal(size=(2,)), requires_grad=True, dtype="float64")
    b.grad = np.full(2, 5.0)
    loss = F.sum(F.tanh(a @ b) ** 2)
    ga, gb = grad(loss, [a, b], retain_graph=True)
    assert a.grad is None and np.all(b.grad == 5.0)
    loss.backward()  # the oracle: the engine's own accumulation
    np.testing.assert_allclose(ga.numpy(), a.grad)
    np.testing.assert_allclose(gb.numpy(), b.grad - 5.0)


def test_grad_with_respect_to_an_intermediate_and_unused_inputs():
    x = numnet.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    unused = numnet.tensor([1.0], requires_grad=True)
    gh, gu = grad(F.sum(h * h), [h, unused])
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])
    assert gu is None and x.grad is None and h.grad is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        grad(numnet.tensor([1.0]).sum(), [x])


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_grad_matches_torch_autograd_grad(rng):
    w0 = rng.normal(size=(4, 3))
    x0 = rng.normal(size=(5, 4))
    w = numnet.tensor(w0, requires_grad=True, dtype="float64")
    (gw,) = grad(F.mean(F.sigmoid(numnet.tensor(x0, dtype="float64") @ w)), [w])
    wt = torch.tensor(w0, requires_grad=True)
    (gt,) = torch.autograd.grad(torch.sigmoid(torch.tensor(x0) @ wt).mean(), [wt])
    np.testing.assert_allclose(gw.numpy(), gt.numpy(), rtol=1e-10)


def test_gradient_tape_watch_persistent_and_non_scalar_targets():
    x = numnet.tensor([1.0, -2.0])
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x  # non-scalar: summed, as Keras does
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, -4.0])
    np.testing.assert_allclose(tape.gradient(F.sum(y * 2.0), [x])[0].numpy(),
                               [4.0, -8.0])  # fmt: skip
    assert not x.requires_grad  # watch ends with the tape
    with GradientTape() as once:
        once.watch(x)
        z = F.sum(x * 1.0)
    once.gradient(z, x)
    with pytest.raises(RuntimeError, match="only be called once"):
        once.gradient(z, x)


def test_inplace_update_of_a_weight_works_under_no_grad_and_raises_outside():
    """PyTorch's training loop: ``with no_grad(): w -= lr * w.grad``."""
    w = numnet.tensor([1.0, 2.0], requires_grad=True)
    data = w.data
    for _ in range(3):
        loss = F.sum(w * w)
        w.grad = None
        loss.backward()
        with numnet.no_grad():
            w -= 0.25 * w.grad
    assert w.data is data and w.requires_grad and w.creator is None
    np.testing.assert_allclose(w.data, [0.125, 0.25])
    with pytest.raises(RuntimeError, match="in-place operation.*no_grad"):
        w -= 0.1
    with numnet.no_grad():
        w *= 2.0
        w += numnet.tensor([1.0, 1.0])
        w /= 2.0
    np.testing.assert_allclose(w.data, [0.625, 0.75])


def test_inplace_on_graph_tensors_stays_differentiable():
    x = numnet.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    h += x  # a non-leaf: a new node, as before
    acc = numnet.tensor([0.0, 0.0])
    acc += h  # a constant accumulating a graph tensor records the op
    F.sum(acc).backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])
