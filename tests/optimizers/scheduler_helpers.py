"""Run a numnet scheduler and torch.optim.lr_scheduler's twin side by side.

``make(lr_scheduler_module, optimizer)`` builds the scheduler from either
module, so one lambda describes both. Each run records, after construction and
after every step, the scheduler's ``get_last_lr()[0]`` and the rate the
optimizer holds (the one its next step trains with).
"""

from __future__ import annotations

import numpy as np

import numnet
from numnet import optimizers
from numnet.optimizers import lr_scheduler


def numnet_optimizer(lr=0.1, kind="SGD", **kwargs):
    """A numnet optimizer of one parameter, with a zero gradient to step on."""
    w = numnet.Parameter(np.zeros(2, np.float32))
    w.grad = np.zeros(2, np.float32)
    opt = getattr(optimizers, kind)([w], **kwargs)
    opt.learning_rate = lr
    return opt


def torch_optimizer(lr=0.1, kind="SGD", **kwargs):
    """The torch optimizer of one parameter (no gradient: its step is a no-op)."""
    import torch

    p = torch.zeros(2, requires_grad=True)
    return getattr(torch.optim, kind)([p], lr=lr, **kwargs)


def _run(sched, opt, read_lr, steps, metrics):
    seen = [(sched.get_last_lr()[0], read_lr(opt))]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        seen.append((sched.get_last_lr()[0], read_lr(opt)))
    return np.array(seen, dtype=np.float64)


def numnet_rates(make, steps, lr=0.1, metrics=None, opt=None):
    """``(steps + 1, 2)``: last_lr and the optimizer's rate, numnet."""
    opt = opt if opt is not None else numnet_optimizer(lr)
    sched = make(lr_scheduler, opt)
    return _run(sched, opt, lambda o: float(o.learning_rate), steps, metrics)


def torch_rates(make, steps, lr=0.1, metrics=None, opt=None):
    """``(steps + 1, 2)``: last_lr and the optimizer's rate, PyTorch."""
    from torch.optim import lr_scheduler as torch_lr_scheduler

    opt = opt if opt is not None else torch_optimizer(lr)
    sched = make(torch_lr_scheduler, opt)
    return _run(sched, opt, lambda o: float(o.param_groups[0]["lr"]), steps, metrics)


def assert_same_rates(make, steps=120, lr=0.1, metrics=None):
    """numnet's rates equal PyTorch's to 1e-12 relative at every step (a rate
    PyTorch's rounding leaves at -7e-18 is 0 in numnet: 1e-15 absolute)."""
    ours = numnet_rates(make, steps, lr, metrics)
    theirs = torch_rates(make, steps, lr, metrics)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    return ours
