"""Optimizers (Keras names and formulas), learning-rate schedules (Keras
``schedules``) and PyTorch-style schedulers (``lr_scheduler``).

Example:
    >>> import numpy as np, numnet
    >>> from numnet import optimizers
    >>> w = numnet.Parameter(np.array([1.0, 2.0], np.float32))
    >>> w.grad = np.array([0.5, -0.5], np.float32)
    >>> opt = optimizers.get("sgd")          # SGD(learning_rate=0.01)
    >>> opt.apply([w])
    >>> w.data
    array([0.995, 2.005], dtype=float32)
"""

from __future__ import annotations

from numnet.optimizers import lr_scheduler, schedules
from numnet.optimizers.base import Optimizer
from numnet.optimizers.more_rules import Adadelta, Adamax, Lion
from numnet.optimizers.nadam import Nadam
from numnet.optimizers.rules import SGD, Adagrad, Adam, AdamW, RMSprop

_BY_NAME = {
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
    "adagrad": Adagrad,
    "nadam": Nadam,
    "adamax": Adamax,
    "lion": Lion,
    "adadelta": Adadelta,
}
_BY_CLASS = {cls.__name__: cls for cls in _BY_NAME.values()}


def serialize(optimizer: Optimizer) -> dict:
    """``{"class_name": ..., "config": ...}`` for a built-in optimizer."""
    name = type(optimizer).__name__
    if _BY_CLASS.get(name) is not type(optimizer):
        raise ValueError(
            f"optimizers.serialize: only built-in optimizers can be saved "
            f"({sorted(_BY_CLASS)}). Received: {optimizer!r}"
        )
    return {"class_name": name, "config": optimizer.get_config()}


def deserialize(config: dict) -> Optimizer:
    """Inverse of :func:`serialize`, through an allowlist of optimizer classes."""
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in _BY_CLASS:
        raise ValueError(
            f"optimizers.deserialize: unknown optimizer {name!r}. "
            f"Expected one of {sorted(_BY_CLASS)}"
        )
    return _BY_CLASS[name].from_config(config.get("config", {}))


def get(identifier) -> Optimizer:
    """Resolve an optimizer from a name ("adam"), a config dict or an instance.

    A name gives an optimizer with Keras's default arguments.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        key = identifier.lower().replace("_", "")
        if key in _BY_NAME:
            return _BY_NAME[key]()
    raise ValueError(
        f"invalid value for argument 'optimizer'. Expected an Optimizer or one of "
        f"{sorted(_BY_NAME)}. Received: optimizer={identifier!r}"
    )


__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Lion",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "lr_scheduler",
    "schedules",
    "serialize",
]
