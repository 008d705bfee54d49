"""Every optimizer rule through the reference update kernels agrees with NumPy.

On NumPy arrays the optimizers run their own ``out=`` forms (Adamax, Lion and
Adadelta run the reference there too: on the strict namespace this checks that
it stays on ``xp``); on any other array namespace they call
``numnet.backend.ops.Ops``'s update methods (``sgd_update``, ``adam_update``,
``nadam_update``, ``adamax_update``, ...), which CuPy overrides with one fused
kernel each (``numnet.backend.cupy_ops``, compared with these references in
``tests/gpu/test_cupy_fused.py``). Here the strict test namespace
(``tests/strict_namespace.py``) takes the reference path, so the references
are checked on the CPU, three steps each.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.strict_namespace import SLIPS, to_numpy, to_strict

import numnet
from numnet.autograd.tensor import Parameter

RULES = {
    "sgd": {},
    "momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9, "nesterov": True},
    "rmsprop": {},
    "rmsprop-centered": {"centered": True},
    "rmsprop-momentum": {"momentum": 0.8},
    "rmsprop-centered-momentum": {"centered": True, "momentum": 0.8},
    "adam": {},
    "amsgrad": {"amsgrad": True},
    "adamw": {},
    "adagrad": {},
    "nadam": {},
    "adamax": {},
    "lion": {},
    "lion-beta1": {"beta_1": 1.0, "beta_2": 0.5},
    "adadelta": {},
    "adadelta-decay": {"rho": 0.5, "weight_decay": 0.01},
    # clipping on a device: the norms stay on it (no host sync)
    "adam-clipnorm": {"clipnorm": 0.5},
    "adam-loose-clipnorm": {"clipnorm": 100.0},
    "sgd-global-clipnorm": {"global_clipnorm": 0.5},
    "sgd-loose-global-clipnorm": {"global_clipnorm": 100.0},
}


def _optimizer(name: str):
    base = name.split("-")[0]
    base = {"momentum": "sgd", "nesterov": "sgd", "amsgrad": "adam"}.get(base, base)
    cls = type(numnet.optimizers.get(base))
    return cls(learning_rate=0.1, **RULES[name])


@pytest.mark.parametrize("name", list(RULES))
def test_reference_update_kernels_match_the_numpy_rules(name):
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((6, 4))
    grads = [rng.standard_normal((6, 4)) for _ in range(3)]
    SLIPS.clear()
    finals = []
    for move in (lambda a: a, to_strict):
        p = Parameter(move(w0.copy()), dtype=np.float64)
        q = Parameter(move(w0[:2].copy()), dtype=np.float64)
        opt = _optimizer(name)
        for g in grads:
            opt.apply_gradients([(move(g), p), (move(2 * g[:2]), q)])
        finals.append(
            [to_numpy(p.data) if move is to_strict else p.data for p in (p, q)]
        )
    assert not SLIPS, SLIPS
    for strict, fast in zip(finals[1], finals[0], strict=True):
        np.testing.assert_allclose(strict, fast, rtol=1e-12, atol=1e-14)
