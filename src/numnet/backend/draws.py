"""Random draws made during training (dropout masks, noise) on the input's device.

Dropout and the noise layers draw at every training step. On the CPU they draw
from numnet's global generator (``backend.get_rng``, seeded by
``numnet.manual_seed``). On another device (CuPy's GPU) drawing on the host and
copying the result over costs host time and a host-to-device copy per step, in
a step that is bound by the host; so by default a namespace with its own
generator (``xp.random.random_sample`` / ``xp.random.standard_normal``, CuPy's
spelling, seeded by ``manual_seed`` too) draws on its device. The setting
``numnet.config.using(random_on_device=False)`` draws on the host instead: the
masks and noise are then the CPU's for the same seed, as a run that must match
the CPU bit for bit needs. An explicit ``seed``/``rng`` argument (an int or a
NumPy ``Generator``, a host object) always draws on the host.

Example:
    >>> import numpy as np
    >>> from numnet.backend import draws
    >>> draws.keep_mask(np, (2, 3), 0.5, seed=0)
    array([[ True,  True,  True],
           [False, False, False]])
"""

from __future__ import annotations

import numpy as np

from numnet import config


def _device_generator(xp, seed):
    """The namespace's own generator when it should draw (else None: the host)."""
    if seed is not None or xp is np or not config.get().random_on_device:
        return None
    generator = getattr(xp, "random", None)
    return generator if hasattr(generator, "random_sample") else None


def _host_rng(seed):
    from numnet import backend  # the package imports this module

    return backend.get_rng(seed)


def keep_mask(xp, shape, rate: float, seed=None):
    """A boolean mask of ``shape`` on ``xp``'s device: True with probability 1 - rate.

    The mask of inverted dropout: ``u >= rate`` for uniform ``u`` in [0, 1),
    drawn in float32 on the device (see the module) or by the host generator.

    Args:
        xp: the array namespace the mask is for (the input's).
        shape: the mask's shape.
        rate: the drop probability.
        seed: None (numnet's generator or the device's), an int or a Generator.
    """
    generator = _device_generator(xp, seed)
    if generator is not None:
        return generator.random_sample(shape, dtype=np.float32) >= rate
    keep = _host_rng(seed).random(shape, dtype=np.float32) >= rate
    return keep if xp is np else xp.asarray(keep)


def standard_normal(xp, shape, dtype, seed=None):
    """N(0, 1) draws of ``shape`` and float ``dtype`` on ``xp``'s device.

    Args:
        xp: the array namespace the draws are for (the input's).
        shape: the shape of the draws.
        dtype: float32 or float64 (the input's).
        seed: None (numnet's generator or the device's), an int or a Generator.
    """
    kind = np.float64 if np.dtype(dtype) == np.float64 else np.float32
    generator = _device_generator(xp, seed)
    if generator is not None:
        return generator.standard_normal(shape, dtype=kind)
    noise = _host_rng(seed).standard_normal(shape, dtype=kind)
    return noise if xp is np else xp.asarray(noise)


def uniform(xp, shape, dtype, low: float, high: float, seed=None):
    """U(low, high) draws of ``shape`` and float ``dtype`` on ``xp``'s device.

    Args:
        xp: the array namespace the draws are for (the input's).
        shape: the shape of the draws.
        dtype: float32 or float64 (the input's).
        low, high: the interval (``low + (high - low) * u`` for u in [0, 1)).
        seed: None (numnet's generator or the device's), an int or a Generator.
    """
    kind = np.float64 if np.dtype(dtype) == np.float64 else np.float32
    generator = _device_generator(xp, seed)
    if generator is not None:
        u = generator.random_sample(shape, dtype=kind)
    else:
        u = _host_rng(seed).random(shape, dtype=kind)
        u = u if xp is np else xp.asarray(u)
    return u * kind(high - low) + kind(low)
