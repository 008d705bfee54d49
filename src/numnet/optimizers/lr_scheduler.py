"""PyTorch-style learning-rate schedulers (``torch.optim.lr_scheduler``).

A scheduler sets a numnet optimizer's ``learning_rate`` when it is created and
at every ``step()``, with PyTorch's names, arguments and values. It drives an
optimizer whose learning rate is a number: Keras schedules
(:mod:`numnet.optimizers.schedules`) are the other way to vary the rate, and
the two do not mix (a TypeError).

A numnet optimizer has a single parameter group, so ``get_last_lr()`` and
``base_lrs`` are lists of one value, and arguments PyTorch takes per group
(``max_lr``, ``min_lr``, ``lr_lambda``) take a value or a list of one.

Example:
    >>> import numpy as np, numnet
    >>> from numnet import optimizers
    >>> from numnet.optimizers import lr_scheduler
    >>> w = numnet.Parameter(np.zeros(3, np.float32))
    >>> opt = optimizers.SGD([w])
    >>> opt.learning_rate = 0.1
    >>> sched = lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    >>> rates = []
    >>> for epoch in range(5):
    ...     w.grad = np.ones(3, np.float32)
    ...     opt.step()                      # trains at opt.learning_rate
    ...     rates.append(round(opt.learning_rate, 4))
    ...     sched.step()
    >>> rates
    [0.1, 0.0854, 0.05, 0.0146, 0.0]
"""

from __future__ import annotations

from numnet.optimizers._composite_schedulers import (
    ChainedScheduler,
    ReduceLROnPlateau,
    SequentialLR,
)
from numnet.optimizers._cosine_schedulers import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    OneCycleLR,
)
from numnet.optimizers._decay_schedulers import (
    ConstantLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from numnet.optimizers._scheduler_base import LRScheduler

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]
