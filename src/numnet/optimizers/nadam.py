"""Nadam: Adam with Nesterov momentum (Dozat 2016), in Keras 3's form."""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.optimizers.base import Optimizer, _check_nonneg, check_unit_interval


class Nadam(Optimizer):
    """Adam with a Nesterov look-ahead on the first moment (Keras 3 formulas).

    With a momentum schedule ``u_t = beta_1 * (1 - 0.5 * 0.96**t)`` and its running
    product ``P_t = u_1 * ... * u_t``::

        m <- beta_1 * m + (1 - beta_1) * g
        v <- beta_2 * v + (1 - beta_2) * g**2
        m_hat <- u_{t+1} * m / (1 - P_t * u_{t+1}) + (1 - u_t) * g / (1 - P_t)
        v_hat <- v / (1 - beta_2**t)
        w <- w - lr * m_hat / (sqrt(v_hat) + epsilon)

    Args:
        learning_rate: step size (default 0.001) or a schedule.
        beta_1: decay of the first moment, in [0, 1).
        beta_2: decay of the second moment, in [0, 1).
        epsilon: small constant for numerical stability (default 1e-7).
        **kwargs: the options of the base class :class:`Optimizer`.

    Example:
        >>> import numpy as np, numnet
        >>> w = numnet.Parameter(np.array([1.0], np.float32))
        >>> w.grad = np.array([0.5], np.float32)
        >>> Nadam(learning_rate=0.1).apply([w])
        >>> w.data.round(4)
        array([0.8937], dtype=float32)
    """

    slot_names = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 **kwargs):  # fmt: skip
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = check_unit_interval("Nadam", "beta_1", beta_1)
        self.beta_2 = check_unit_interval("Nadam", "beta_2", beta_2)
        self.epsilon = _check_nonneg("Nadam", "epsilon", epsilon, allow_none=False)
        self._products = [1.0]  # P_0, P_1, ...: the running products of u_t

    def _u(self, t: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * 0.96**t)

    def _product(self, t: int) -> float:
        while len(self._products) <= t:  # extended once per step (or on reload)
            self._products.append(self._products[-1] * self._u(len(self._products)))
        return self._products[t]

    def update_step(self, param, grad, slots, lr):
        """See the class docstring."""
        t = self.iterations + 1
        u_t, u_next, product = self._u(t), self._u(t + 1), self._product(t)
        m, v = slots["m"], slots["v"]
        c_m, c_g = u_next / (1.0 - product * u_next), (1.0 - u_t) / (1.0 - product)
        if not isinstance(param, np.ndarray):  # another device: its fused kernel
            backend.get_ops(param).nadam_update(
                param, grad, m, v, lr, self.beta_1, self.beta_2, self.epsilon,
                c_m, c_g, 1.0 - self.beta_2**t,
            )  # fmt: skip
            return
        m += (grad - m) * (1.0 - self.beta_1)
        v += (grad * grad - v) * (1.0 - self.beta_2)
        m_hat = m * c_m
        m_hat += grad * c_g
        denom = backend.get_array_module(v).sqrt(v / (1.0 - self.beta_2**t))
        denom += self.epsilon
        param -= lr * m_hat / denom

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
