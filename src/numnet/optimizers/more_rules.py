"""Adamax, Lion and Adadelta in Keras 3's form (``keras/src/optimizers/*.py``).

Each update is one method of :class:`numnet.backend.ops.Ops` (``adamax_update``,
``lion_update``, ``adadelta_update``): the reference on NumPy (and any array
namespace), one fused kernel per parameter on CuPy.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.optimizers.base import Optimizer, _check_nonneg, check_unit_interval


class Adamax(Optimizer):
    """Adam with the infinity norm in place of the second moment (Keras 3).

    With the step number t::

        m <- m + (g - m) * (1 - beta_1)
        u <- max(beta_2 * u, |g|)
        w <- w - lr * m / ((1 - beta_1**t) * (u + epsilon))

    Unlike PyTorch's Adamax (``u <- max(beta_2 u, |g| + eps)``, then
    ``m / u``), epsilon is added outside the maximum, as in Keras.

    Args:
        learning_rate: step size (default 0.001) or a schedule.
        beta_1: decay of the first moment, in [0, 1).
        beta_2: decay of the infinity norm, in [0, 1).
        epsilon: small constant for numerical stability (default 1e-7).
        **kwargs: the options of the base class :class:`Optimizer`.

    Example:
        >>> import numpy as np, numnet
        >>> w = numnet.Parameter(np.array([1.0], np.float32))
        >>> w.grad = np.array([0.5], np.float32)
        >>> Adamax(learning_rate=0.1).apply([w])   # m = 0.05, u = 0.5: one lr step
        >>> w.data.round(4)
        array([0.9], dtype=float32)
    """

    slot_names = ("m", "u")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 **kwargs):  # fmt: skip
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = check_unit_interval("Adamax", "beta_1", beta_1)
        self.beta_2 = check_unit_interval("Adamax", "beta_2", beta_2)
        self.epsilon = _check_nonneg("Adamax", "epsilon", epsilon, allow_none=False)

    def update_step(self, param, grad, slots, lr):
        """See the class docstring."""
        c_m = 1.0 - self.beta_1 ** (self.iterations + 1)
        backend.get_ops(param).adamax_update(
            param, grad, slots["m"], slots["u"], lr, self.beta_1, self.beta_2,
            self.epsilon, c_m,
        )  # fmt: skip

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Lion(Optimizer):
    """EvoLved Sign Momentum (Chen et al. 2023), Keras 3's form.

    Every weight moves by exactly ``lr`` per step, in the direction of the sign
    of an interpolated momentum::

        w <- w - lr * sign(beta_1 * m + (1 - beta_1) * g)
        m <- beta_2 * m + (1 - beta_2) * g

    Its steps are larger than Adam's: the paper advises a learning rate 3-10x
    smaller (and a weight decay 3-10x larger).

    Args:
        learning_rate: step size (default 0.001) or a schedule.
        beta_1: interpolation of the update direction, in (0, 1] (Keras refuses
            0: the optimizer degenerates to sign SGD).
        beta_2: decay of the momentum, in [0, 1) (default 0.99).
        **kwargs: the options of the base class :class:`Optimizer`.

    Example:
        >>> import numpy as np, numnet
        >>> w = numnet.Parameter(np.array([1.0, 1.0], np.float32))
        >>> w.grad = np.array([0.5, -3.0], np.float32)
        >>> Lion(learning_rate=0.1).apply([w])
        >>> w.data
        array([0.9, 1.1], dtype=float32)
    """

    slot_names = ("momentum",)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        number = (int, float, np.integer, np.floating)
        ok = isinstance(beta_1, number) and not isinstance(beta_1, (bool, np.bool_))
        if not ok or not 0.0 < beta_1 <= 1.0:
            raise ValueError(
                f"Lion: invalid value for argument 'beta_1'. Expected a number in "
                f"(0, 1] (0 degenerates to sign SGD). Received: beta_1={beta_1!r}"
            )
        self.beta_1 = float(beta_1)
        self.beta_2 = check_unit_interval("Lion", "beta_2", beta_2)

    def update_step(self, param, grad, slots, lr):
        """See the class docstring."""
        backend.get_ops(param).lion_update(
            param, grad, slots["momentum"], lr, self.beta_1, self.beta_2
        )

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012), Keras 3's form: the step is scaled by the ratio
    of the RMS of past steps to the RMS of past gradients::

        a_g <- rho * a_g + (1 - rho) * g**2
        step <- sqrt(a_d + epsilon) * g / sqrt(a_g + epsilon)
        a_d <- rho * a_d + (1 - rho) * step**2
        w <- w - lr * step

    Keras keeps a learning rate (default 0.001; the paper's and PyTorch's
    form is lr = 1.0).

    Args:
        learning_rate: step size (default 0.001) or a schedule.
        rho: decay of both running averages, in [0, 1) (default 0.95).
        epsilon: small constant inside both square roots (default 1e-7).
        **kwargs: the options of the base class :class:`Optimizer`.

    Example:
        >>> import numpy as np, numnet
        >>> w = numnet.Parameter(np.array([1.0], np.float32))
        >>> w.grad = np.array([0.5], np.float32)
        >>> Adadelta(learning_rate=1.0).apply([w])  # sqrt(1e-7) * 0.5 / sqrt(0.0125)
        >>> w.data.round(6)
        array([0.998586], dtype=float32)
    """

    slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = check_unit_interval("Adadelta", "rho", rho)
        self.epsilon = _check_nonneg(
            "Adadelta", "epsilon", epsilon, allow_none=False, positive=True
        )

    def update_step(self, param, grad, slots, lr):
        """See the class docstring."""
        backend.get_ops(param).adadelta_update(
            param, grad, slots["accumulated_grad"], slots["accumulated_delta_var"],
            lr, self.rho, self.epsilon,
        )  # fmt: skip

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
