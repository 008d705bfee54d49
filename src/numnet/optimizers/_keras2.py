"""Keras 2 / PyTorch spellings the optimizers accept, and errors for the rest.

``lr=`` is Keras 2's (and PyTorch's) name of ``learning_rate``; Keras 2's
``decay=`` is inverse-time decay of the learning rate per step,
``lr / (1 + decay * t)``, which :class:`schedules.InverseTimeDecay` computes.
Any other unknown keyword raises a TypeError that names numnet's spelling
when there is one (``eps`` -> ``epsilon``, ``beta1`` -> ``beta_1``).
"""

from __future__ import annotations

import inspect

#: other libraries' argument names -> numnet's
SPELLINGS = {
    "eps": "epsilon",
    "beta1": "beta_1",
    "beta2": "beta_2",
    "betas": "beta_1 and beta_2",
    "alpha": "rho (RMSprop) or learning_rate",
    "initial_accumulator": "initial_accumulator_value",
    "clip_norm": "clipnorm",
    "clip_value": "clipvalue",
    "lr_decay": "a schedule from numnet.optimizers.schedules",
}


def learning_rate_from(optimizer, learning_rate, kwargs: dict):
    """Fold ``lr``/``decay`` in ``kwargs`` into the learning rate; reject the rest."""
    owner = type(optimizer).__name__
    if "lr" in kwargs:
        learning_rate = kwargs.pop("lr")
    decay = kwargs.pop("decay", None)
    if decay:
        from numnet.optimizers.schedules import InverseTimeDecay

        learning_rate = InverseTimeDecay(learning_rate, 1, decay)
    if kwargs:
        name = next(iter(kwargs))
        hint = SPELLINGS.get(name)
        valid = _valid_arguments(type(optimizer))
        raise TypeError(
            f"{owner}: unexpected keyword argument {name!r}"
            + (f"; numnet spells it {hint}" if hint else "")
            + f". Valid arguments: {', '.join(valid)}"
        )
    return learning_rate


def _valid_arguments(cls) -> list[str]:
    names: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.name not in ("self", *names):
                names.append(p.name)
    return names + ["lr"]
