"""Regularization layers that act in training only, and the identity layer:
GaussianNoise, GaussianDropout, ActivityRegularization, Identity (Keras names).

GaussianNoise and GaussianDropout draw from numnet's global generator
(``numnet.manual_seed``), or from a private one with ``seed=``, as Dropout
does; the noise is made on the input's device.

Example:
    >>> import numpy as np
    >>> from numnet import layers
    >>> x = np.ones((2, 3), np.float32)
    >>> noisy = layers.GaussianNoise(0.1)
    >>> bool((noisy(x).data == x).all())                 # inference: identity
    True
    >>> bool((noisy(x, training=True).data != x).all())  # training: x + noise
    True
    >>> reg = layers.ActivityRegularization(l2=0.5)
    >>> _ = reg(x)
    >>> float(reg.losses[0].item())                      # 0.5 * sum(x ** 2)
    3.0
"""

from __future__ import annotations

import numpy as np

import numnet.functional as F
from numnet import regularizers
from numnet.layers import _utils as U
from numnet.layers.base import Layer


def _seed(owner: str, seed):
    if seed is not None and (not U._is_int(seed) or seed < 0):
        raise ValueError(
            f"{owner}: invalid value for argument 'seed'. Expected an int >= 0 or "
            f"None. Received: seed={seed!r}"
        )
    return seed


class _RandomInTraining(Layer):
    """A layer whose training-mode output is ``_op(x, level, rng)``: ``seed`` and
    its generator; the identity at inference or at level 0."""

    supports_masking = True  # keeps the time axis: sequence masks pass through
    _level = ""  # the attribute holding the noise level
    _op = None  # the numnet.functional op

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = _seed(type(self).__name__, seed)
        self._rng = None if seed is None else np.random.default_rng(seed)

    def call(self, x, training=False):
        level = getattr(self, self._level)
        if not training or level == 0:
            return x
        return type(self)._op(U.float_input(self, x), level, rng=self._rng)

    def get_config(self) -> dict:
        level = getattr(self, self._level)
        return {**super().get_config(), self._level: level, "seed": self.seed}


class GaussianNoise(_RandomInTraining):
    """Add zero-centred Gaussian noise in training: ``y = x + n``, n ~ N(0, stddev²).

    At inference the identity. A regularizer, and a form of data augmentation for
    real-valued inputs.

    Args:
        stddev: the standard deviation of the noise, in [0, 1] (as Keras).
        seed: an int for a reproducible layer-private generator; default
            numnet's global generator.

    Shape:
        input: any; output: the same shape.
    """

    _level, _op = "stddev", F.gaussian_noise

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        number = isinstance(stddev, (int, float, np.number))
        if not number or isinstance(stddev, bool) or not 0 <= stddev <= 1:
            raise ValueError(
                "GaussianNoise: invalid value for argument 'stddev'. Expected a "
                f"number in [0, 1]. Received: stddev={stddev!r}"
            )
        self.stddev = float(stddev)


class GaussianDropout(_RandomInTraining):
    """Multiply by 1-centred Gaussian noise in training: ``y = x * n``,
    n ~ N(1, rate / (1 - rate)), dropout's mean and variance without zeros.

    At inference the identity.

    Args:
        rate: the drop probability it stands for, in [0, 1).
        seed: an int for a reproducible layer-private generator; default
            numnet's global generator.

    Shape:
        input: any; output: the same shape.
    """

    _level, _op = "rate", F.gaussian_dropout

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = U.rate_in_unit_interval("GaussianDropout", rate)


class ActivityRegularization(Layer):
    """The identity, adding ``l1 * sum(|x|) + l2 * sum(x²)`` of its input to the
    model's losses (``layer.losses``; ``fit`` adds them to the loss).

    The penalty is summed over the batch, not averaged (Keras 3).

    Args:
        l1: the L1 factor (>= 0).
        l2: the L2 factor (>= 0).

    Shape:
        input: any; output: the same shape.
    """

    supports_masking = True  # keeps the time axis: sequence masks pass through

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)  # it is made from l1 and l2
        l1 = U.real_number("ActivityRegularization", "l1", l1, 0.0)
        l2 = U.real_number("ActivityRegularization", "l2", l2, 0.0)
        super().__init__(activity_regularizer=regularizers.L1L2(l1, l2), **kwargs)
        self.l1, self.l2 = l1, l2

    def call(self, x):
        return x  # Layer.__call__ adds the activity penalty of the output

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}


class Identity(Layer):
    """Return the input unchanged (a placeholder, e.g. for a removed block).

    Shape:
        input: any; output: the same shape.
    """

    supports_masking = True  # keeps the time axis: sequence masks pass through

    def call(self, x):
        return x
