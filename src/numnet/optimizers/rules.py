"""The update rules: SGD (momentum, Nesterov), RMSprop, Adam, AdamW, Adagrad.

Each rule follows Keras 3's formulas (``keras/src/optimizers/*.py``); the
docstring of each class states it. ``g`` is the (clipped) gradient, ``w`` the
weight, ``lr`` the learning rate of this step, ``t`` the 1-based step number.
All arithmetic is in place on the weight and slot arrays, with one scratch
buffer per parameter, so a step allocates nothing after the first.
"""

from __future__ import annotations

import math

import numpy as np

from numnet import backend
from numnet.backend import blas
from numnet.optimizers.base import (
    Optimizer,
    _check_nonneg,
    _check_positive,
    check_flag,
    check_unit_interval,
)


def _scratch(slots: dict, like: np.ndarray) -> np.ndarray:
    # A work buffer kept with the slots but not part of the saved state.
    buf = slots.get("_scratch")
    if buf is None:
        buf = slots["_scratch"] = backend.get_array_module(like).empty_like(like)
    return buf


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    With ``momentum = 0``: ``w <- w - lr * g``. Otherwise, with a velocity ``v``
    (zeros at the start)::

        v <- momentum * v - lr * g
        w <- w + v                               (classical momentum)
        w <- w + momentum * v - lr * g           (nesterov=True)

    This is the course notes' ``v = beta v + (1 - beta) dW; W -= alpha v`` with
    the factor (1 - beta) folded into the learning rate.

    Args:
        learning_rate: step size (default 0.01) or a schedule.
        momentum: in [0, 1).
        nesterov: use Nesterov's look-ahead form.
        **kwargs: the options of the base class :class:`Optimizer`.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = check_unit_interval("SGD", "momentum", momentum)
        self.nesterov = check_flag("SGD", "nesterov", nesterov)
        self.slot_names = ("momentum",) if self.momentum > 0 else ()

    def update_step(self, param, grad, slots, lr):
        """See the class docstring."""
        if not isinstance(param, np.ndarray):  # another device: its fused kernel
            backend.get_ops(param).sgd_update(
                param, grad, slots.get("momentum"), lr, self.momentum, self.nesterov
            )
            return
        # each y = a x + b y is one BLAS axpby pass (NumPy: two and a temporary)
        if not self.slot_names:
            blas.axpby(-lr, grad, 1.0, param)  # w -= lr g
            return
        v = slots["momentum"]
        blas.axpby(-lr, grad, self.momentum, v)  # v = momentum v - lr g
        if self.nesterov:  # w += momentum v - lr g
            blas.axpby(-lr, grad, 1.0, param)
            blas.axpby(self.momentum, v, 1.0, param)
        else:
            blas.axpby(1.0, v, 1.0, param)  # w += v

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "nesterov": self.nesterov,
        }


class RMSprop(Optimizer):
    """RMSprop: divide the step by a running RMS of the gradients.

    ::

        s <- rho * s + (1 - rho) * g**2
        m <- rho * m + (1 - rho) * g             (centered=True only)
        d <- s - m**2 (centered) or s
        step <- lr * g / sqrt(d + epsilon)       (Keras 3: epsilon inside the root)
        w <- w - step                            (momentum = 0)
        u <- momentum * u + step; w <- w - u     (momentum > 0)

    Args:
        learning_rate: step size (default 0.001) or a schedule.
        rho: decay of the squared-gradient average, in [0, 1).
        momentum: in [0, 1).
        epsilon: small constant for numerical stability (default 1e-7).
        centered: normalize by the variance instead of the second moment.
        **kwargs: the options of the base class :class:`Optimizer`.
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = check_unit_interval("RMSprop", "rho", rho)
        self.momentum = check_unit_interval("RMSprop", "momentum", momentum)
        self.epsilon = _check_positive("RMSprop", "epsilon", epsilon, allow_none=False)
        self.centered = check_flag("RMSprop", "centered", centered)
        names = ["velocity"]
        if self.centered:
            names.append("average_gradient")
        if self.momentum > 0:
            names.append("momentum")
        self.slot_names = tuple(names)

    def update_step(self, param, grad, slots, lr):
        """See the class docstring."""
        if not isinstance(param, np.ndarray):  # another device: its fused kernel
            backend.get_ops(param).rmsprop_update(
                param, grad, slots["velocity"], slots.get("average_gradient"),
                slots.get("momentum"), lr, self.rho, self.momentum, self.epsilon,
            )  # fmt: skip
            return
        s, tmp = slots["velocity"], _scratch(slots, grad)
        np.multiply(grad, grad, out=tmp)
        blas.axpby(1.0 - self.rho, tmp, self.rho, s)  # s = rho s + (1-rho) g^2
        if self.centered:
            m = slots["average_gradient"]
            blas.axpby(1.0 - self.rho, grad, self.rho, m)  # m = rho m + (1-rho) g
            np.multiply(m, m, out=tmp)
            np.subtract(s, tmp, out=tmp)
            tmp += self.epsilon
        else:
            np.add(s, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(grad, tmp, out=tmp)  # g / sqrt(d + eps)
        if self.momentum > 0:
            u = slots["momentum"]
            blas.axpby(lr, tmp, self.momentum, u)  # u = momentum u + lr g / ...
            param -= u
        else:
            blas.axpby(-lr, tmp, 1.0, param)  # w -= lr g / sqrt(d + eps)

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adam(Optimizer):
    """Adam, with bias correction folded into the step size (Keras form).

    ::

        m <- beta_1 * m + (1 - beta_1) * g
        v <- beta_2 * v + (1 - beta_2) * g**2
        v_hat <- max(v_hat, v)                       (amsgrad=True; else v_hat = v)
        alpha <- lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w <- w - alpha * m / (sqrt(v_hat) + epsilon)

    Epsilon is added to sqrt(v) outside the root, after the bias correction is
    moved to alpha: the "epsilon hat" of Kingma & Ba, section 2 (default 1e-7
    as Keras; PyTorch's 1e-8 is added to the *corrected* sqrt(v)).

    Args:
        learning_rate: step size (default 0.001) or a schedule.
        beta_1: decay of the first moment, in [0, 1).
        beta_2: decay of the second moment, in [0, 1).
        epsilon: small constant for numerical stability (default 1e-7).
        amsgrad: keep the maximum of the second moments (Reddi et al. 2018).
        **kwargs: the options of the base class :class:`Optimizer`.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        owner = type(self).__name__
        self.beta_1 = check_unit_interval(owner, "beta_1", beta_1)
        self.beta_2 = check_unit_interval(owner, "beta_2", beta_2)
        self.epsilon = _check_positive(owner, "epsilon", epsilon, allow_none=False)
        self.amsgrad = check_flag(owner, "amsgrad", amsgrad)
        self.slot_names = ("m", "v", "v_hat") if self.amsgrad else ("m", "v")

    def update_step(self, param, grad, slots, lr):
        """See the class docstring."""
        t = self.iterations + 1
        alpha = lr * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        if not isinstance(param, np.ndarray):  # another device: its fused kernel
            backend.get_ops(param).adam_update(
                param, grad, slots["m"], slots["v"], slots.get("v_hat"), alpha,
                self.beta_1, self.beta_2, self.epsilon, decay=self._step_decay,
            )  # fmt: skip
            return
        # 7 passes: each y = a x + b y is one BLAS axpby (NumPy: two passes)
        m, v, tmp = slots["m"], slots["v"], _scratch(slots, grad)
        blas.axpby(1.0 - self.beta_1, grad, self.beta_1, m)  # m = b1 m + (1-b1) g
        np.multiply(grad, grad, out=tmp)
        blas.axpby(1.0 - self.beta_2, tmp, self.beta_2, v)  # v = b2 v + (1-b2) g^2
        if self.amsgrad:
            np.maximum(slots["v_hat"], v, out=slots["v_hat"])
            v = slots["v_hat"]
        np.sqrt(v, out=tmp)
        tmp += self.epsilon
        np.divide(m, tmp, out=tmp)
        blas.axpby(-alpha, tmp, 1.0, param)  # w -= alpha m / (sqrt(v) + eps)

    def _fuses_device_decay(self) -> bool:
        # AdamW on a device: the decay and the step in one kernel (not when a
        # subclass replaces the step)
        return type(self).update_step is Adam.update_step

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), Keras defaults.

    Each step first shrinks the weights, ``w <- w - lr * weight_decay * w``,
    then applies the :class:`Adam` update; the decay never enters the moments.

    Args:
        learning_rate: step size (default 0.001) or a schedule.
        weight_decay: decay factor (default 0.004, as Keras).
        **kwargs: beta_1, beta_2, epsilon, amsgrad and the base arguments.
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, **kwargs):
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, **kwargs
        )


class Adagrad(Optimizer):
    """Adagrad: per-weight step sizes shrinking with the sum of squared gradients.

    ::

        a <- a + g**2                  (a starts at initial_accumulator_value)
        w <- w - lr * g / sqrt(a + epsilon)

    Args:
        learning_rate: step size (default 0.001) or a schedule.
        initial_accumulator_value: starting value of ``a`` (default 0.1).
        epsilon: small constant for numerical stability (default 1e-7).
        **kwargs: the options of the base class :class:`Optimizer`.
    """

    slot_names = ("accumulator",)

    def __init__(
        self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kw
    ):
        super().__init__(learning_rate=learning_rate, **kw)
        self.initial_accumulator_value = _check_nonneg(
            "Adagrad", "initial_accumulator_value", initial_accumulator_value, False
        )
        self.epsilon = _check_positive("Adagrad", "epsilon", epsilon, allow_none=False)

    def build(self, params) -> None:
        """Create the accumulators, filled with ``initial_accumulator_value``."""
        new = [p for p in params if id(p) not in self._index]
        super().build(new)
        for p in new:
            self._slots[self._index[id(p)]]["accumulator"][...] = (
                self.initial_accumulator_value
            )

    def update_step(self, param, grad, slots, lr):
        """See the class docstring."""
        a = slots["accumulator"]
        if not isinstance(param, np.ndarray):  # another device: its fused kernel
            backend.get_ops(param).adagrad_update(param, grad, a, lr, self.epsilon)
            return
        tmp = _scratch(slots, grad)
        np.multiply(grad, grad, out=tmp)
        a += tmp
        np.add(a, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(grad, tmp, out=tmp)
        tmp *= lr
        param -= tmp

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }
