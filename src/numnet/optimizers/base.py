"""The Optimizer base class: slots, gradient clipping, weight decay, schedules.

An optimizer is created before any parameter exists (Keras style). The first
:meth:`Optimizer.apply` builds its *slots* (moments, accumulators) lazily,
aligned to the parameters it receives; later parameters get slots when first
seen. A subclass implements only :meth:`Optimizer.update_step`, which updates
one raw array in place. One step is::

    g <- clip(grad)                           (clipvalue / clipnorm / global_clipnorm)
    w <- w - lr * weight_decay * w            (decoupled weight decay, if set)
    w <- update_step(w, g, slots, lr)         (the rule of the subclass)
    w <- w.constraint(w)                      (if the weight has a constraint)
    average <- m average + (1 - m) w          (use_ema, ``_ema.py``)

With ``gradient_accumulation_steps = n`` the gradients of n calls are summed
first and their mean makes one step (``_accumulate.py``).

Everything runs on ``param.data`` in place, so no graph is recorded and no new
array is bound to the parameter. The rules are elementwise, so large
parameters are updated in pieces on several threads (``_parallel.py``), with
bit-identical results. The learning rate is a Python float (or a
schedule evaluated to one), so float32 weights stay float32 (NEP 50: a Python
float never upcasts an array, a NumPy float64 scalar would).
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.function import no_grad
from numnet.optimizers import _accumulate, _ema, _keras2, _state
from numnet.optimizers import schedules as schedules_module
from numnet.optimizers._arrays import (
    _checked_pairs,
    _clip_gradients,
    _resolve_constraint,
    _run_updates,
)
from numnet.optimizers._checks import (  # noqa: F401 (re-export for the rules)
    _check_learning_rate,
    _check_nonneg,
    _check_positive,
    _split_params,
    check_flag,
    check_unit_interval,
)


class Optimizer:
    """Base class of the optimizers.

    Args:
        learning_rate: a positive float, or a schedule from
            :mod:`numnet.optimizers.schedules` (any callable ``step -> lr``),
            evaluated at :attr:`iterations`.
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient element to [-clipvalue, clipvalue].
        global_clipnorm: clip all gradients together to this global L2 norm.
        weight_decay: decoupled weight decay: ``w -= lr * weight_decay * w``
            before each update (as Keras 3 and AdamW do).
        use_ema: keep an exponential moving average of the weights (slot
            ``average``); :meth:`finalize_variable_values` (called at the end
            of ``fit``) writes it into the weights.
        ema_momentum: the average's momentum m, in [0, 1].
        ema_overwrite_frequency: write the averages into the weights every
            this many steps (None: only at the end).
        gradient_accumulation_steps: an int >= 2: sum the gradients of this many
            calls and make one step with their mean on the last (slot
            ``gradient_accumulator``); :attr:`iterations` counts the steps made.
        name: a name for messages and configs.
        **kwargs: Keras 2 spellings: ``lr`` for ``learning_rate`` and ``decay``
            (inverse-time decay per step); anything else is a TypeError that
            names numnet's spelling.

    Attributes:
        iterations: the number of steps applied so far.
    """

    #: the decoupled decay of this step when ``update_step`` fuses it (devices)
    _step_decay = 0.0

    #: Names of the per-parameter state arrays, created as zeros like the weight.
    slot_names: tuple[str, ...] = ()

    def __init__(
        self,
        learning_rate=0.001,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        weight_decay=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        owner = type(self).__name__
        # parameters first (torch.optim), then lr= may replace the default rate
        params, learning_rate = _split_params(type(self), learning_rate)
        learning_rate = _keras2.learning_rate_from(self, learning_rate, kwargs)
        self.name = name or owner.lower()
        self.clipnorm = _check_positive(owner, "clipnorm", clipnorm)
        self.clipvalue = _check_positive(owner, "clipvalue", clipvalue)
        self.global_clipnorm = _check_positive(
            owner, "global_clipnorm", global_clipnorm
        )
        if sum(v is not None for v in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                f"{owner}: only one of clipnorm, clipvalue and global_clipnorm can be "
                f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        self.weight_decay = _check_nonneg(owner, "weight_decay", weight_decay)
        self.use_ema, self.ema_momentum, self.ema_overwrite_frequency = (
            _ema.check_options(owner, use_ema, ema_momentum, ema_overwrite_frequency)
        )
        steps = _accumulate.check_steps(owner, gradient_accumulation_steps)
        self.gradient_accumulation_steps = steps
        self._ema = (
            _ema.WeightAverage(self.ema_momentum, self.ema_overwrite_frequency)
            if self.use_ema
            else None
        )
        self._accumulation = _accumulate.GradientAccumulation(steps) if steps else None
        self._learning_rate = None
        self.learning_rate = learning_rate
        self.iterations = 0
        self._params: list = []
        self._index: dict[int, int] = {}
        self._slots: list[dict[str, np.ndarray]] = []
        #: the parameters given at construction (torch.optim style), or None
        self.param_list = params  # slots are built at the first step
        #: called as ``reducer(grads_and_params)`` before each update; set by
        #: ``numnet.distributed`` to average gradients over ranks (not saved)
        self.gradient_reducer = None

    @property
    def learning_rate(self) -> float:
        """The learning rate of the next step (a schedule is evaluated)."""
        lr = self._learning_rate
        if callable(lr):
            return float(lr(self.iterations))
        return lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if callable(value):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, schedules_module.LearningRateSchedule):
            raise TypeError(
                f"{type(self).__name__}: the learning rate is the schedule "
                f"{type(self._learning_rate).__name__}; it cannot be set to a number. "
                f"Create the optimizer with a float learning_rate to change it "
                f"during training. Received: learning_rate={value!r}"
            )
        self._learning_rate = _check_learning_rate(type(self).__name__, value)

    @property
    def lr(self) -> float:
        """Keras 2 spelling of :attr:`learning_rate` (read and write)."""
        return self.learning_rate

    @lr.setter
    def lr(self, value) -> None:
        self.learning_rate = value

    @property
    def schedule(self):
        """The learning-rate schedule, or None when the rate is a constant."""
        return self._learning_rate if callable(self._learning_rate) else None

    def build(self, params) -> None:
        """Create the slots of every parameter not seen before (zeros like it)."""
        for p in params:
            if id(p) in self._index:
                continue
            self._index[id(p)] = len(self._params)
            self._params.append(p)
            xp = backend.get_array_module(p.data)  # slots live beside the weight
            slots = {name: xp.zeros_like(p.data) for name in self.state_slot_names}
            if self._ema is not None:  # the average starts at the weight
                slots[_ema.SLOT] = p.data.copy()
            self._slots.append(slots)

    @property
    def state_slot_names(self) -> tuple[str, ...]:
        """Every per-weight state array: the rule's slots, then the gradient
        accumulator and the EMA average when those options are on."""
        extra = (_accumulate.SLOT,) if self._accumulation is not None else ()
        return self.slot_names + extra + ((_ema.SLOT,) if self._ema else ())

    @property
    def variables(self) -> list[np.ndarray]:
        """All state arrays, parameter by parameter in build order."""
        return [slots[n] for slots in self._slots for n in self.state_slot_names]

    def _slots_of(self, p) -> dict:
        return self._slots[self._index[id(p)]]

    def apply(self, params_or_grads, trainable_variables=None) -> None:
        """One step.

        ``apply(params)`` steps every parameter of ``params`` that has a
        ``.grad``; Keras 3's ``apply(grads, trainable_variables)`` steps with
        explicit gradients (those of :func:`numnet.autograd.grad` or a
        ``GradientTape``), as :meth:`apply_gradients` does. ``apply(grads)``
        alone (gradients: arrays or tensors that do not require grad) pairs them
        with the parameters given at construction or built so far.
        """
        items = list(params_or_grads)
        if (
            trainable_variables is None
            and items
            and not any(getattr(p, "requires_grad", False) for p in items)
        ):
            trainable_variables = (
                self.param_list if self.param_list is not None else self._params
            )
            if not trainable_variables:
                raise ValueError(
                    f"{type(self).__name__}.apply: received gradients but no "
                    f"variables; call apply(grads, trainable_variables)"
                )
        if trainable_variables is not None:
            grads, variables = items, list(trainable_variables)
            if len(grads) != len(variables):
                raise ValueError(
                    f"{type(self).__name__}.apply: received {len(grads)} "
                    f"gradients for {len(variables)} variables"
                )
            self.apply_gradients(zip(grads, variables, strict=True))
            return
        params = [p for p in items if p.grad is not None]
        self.apply_gradients([(p.grad, p) for p in params])

    def step(self, params=None) -> None:
        """PyTorch spelling: one step on ``params`` (default: those given at
        construction, else every parameter built so far).

        Raises:
            RuntimeError: when the optimizer knows no parameter at all (it would
                silently train nothing).
        """
        if params is None:
            params = self.param_list if self.param_list is not None else self._params
        params = list(params)
        if not params:
            raise RuntimeError(
                f"{type(self).__name__}.step(): the optimizer has no parameters to "
                f"update. Create it with them, e.g. "
                f"{type(self).__name__}(model.parameters(), lr=1e-3), "
                f"or pass them: step(params)."
            )
        self.apply(params)

    def zero_grad(self, params=None) -> None:
        """Reset ``.grad`` of ``params`` (default: those given at construction,
        else every parameter built so far)."""
        if params is None:
            params = self.param_list if self.param_list is not None else self._params
        for p in params:
            p.grad = None

    def apply_gradients(self, grads_and_params) -> None:
        """One step with explicit gradients: ``apply_gradients(zip(grads, params))``.

        Gradients may be ndarrays or Tensors of the parameter's shape; None
        gradients are skipped.
        """
        reducer = getattr(self, "gradient_reducer", None)
        if reducer is not None:  # data parallelism: average over MPI ranks first
            grads_and_params = reducer(grads_and_params)
        pairs = _checked_pairs(type(self).__name__, grads_and_params)
        if any(id(p) not in self._index for _, p in pairs):
            self.build([p for _, p in pairs])
        if self._accumulation is not None:  # None: the window is still open
            pairs = self._accumulation.add(pairs, self._slots_of)
            if pairs is None:
                return
        if pairs:
            self._update(pairs)
        if self._accumulation is not None:
            self._accumulation.reset(pairs)
        if self._ema is not None:
            self._ema.update(self._params, self._slots_of, self.iterations)
        self.iterations += 1

    def _update(self, pairs) -> None:
        """Clip, decay, the rule and the constraints for ``(grad, param)`` pairs."""
        index = self._index
        grads = self._clip([g for g, _ in pairs])
        lr = self.learning_rate
        decay = lr * self.weight_decay if self.weight_decay else 0.0
        # on a device, a rule that fuses the decay into its kernel applies it
        self._step_decay = decay if self._fuses_device_decay() else 0.0

        def update(w, g, slots):
            if decay and isinstance(w, np.ndarray):
                w -= w * decay
            elif decay and not self._step_decay:  # a device: one kernel (CuPy)
                backend.get_ops(w).weight_decay_(w, decay)
            self.update_step(w, g, slots, lr)

        jobs = []
        all_slots = self._slots
        for g, (_, p) in zip(grads, pairs, strict=True):
            slots = all_slots[index[id(p)]]
            if "_scratch" not in slots and isinstance(p.data, np.ndarray):
                slots["_scratch"] = np.empty_like(p.data)  # a work buffer, not state
            jobs.append((p.data, g, slots))
        with no_grad():
            _run_updates(update, jobs)
            for _, p in pairs:
                constraint = getattr(p, "constraint", None)
                if constraint is not None:
                    p.data[...] = _resolve_constraint(constraint)(p.data)

    def finalize_variable_values(self, var_list) -> None:
        """Write the EMA averages into the weights of ``var_list`` (Keras 3:
        ``fit`` calls it at its end); does nothing without ``use_ema``."""
        if self._ema is not None:
            known = [p for p in var_list if id(p) in self._index]
            _ema.copy_into_weights(known, self._slots_of)

    def _clip(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        return _clip_gradients(
            grads, self.clipvalue, self.clipnorm, self.global_clipnorm
        )

    def _fuses_device_decay(self) -> bool:
        """True when ``update_step`` applies ``self._step_decay`` itself to a
        parameter on a device (one kernel for the decay and the rule)."""
        return False

    def update_step(self, param: np.ndarray, grad: np.ndarray, slots: dict, lr: float):
        """Update ``param`` in place from ``grad``; ``slots`` are its state arrays."""
        raise NotImplementedError(f"{type(self).__name__}.update_step")

    def get_config(self) -> dict:
        """The constructor arguments as JSON data (a schedule is serialized)."""
        lr = self._learning_rate
        if callable(lr):
            lr = schedules_module.serialize(lr)
        return {
            "name": self.name,
            "learning_rate": lr,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
            "weight_decay": self.weight_decay,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        """Create an optimizer from :meth:`get_config` output."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_module.deserialize(
                config["learning_rate"]
            )
        return cls(**config)

    def get_state(self, params) -> dict[str, np.ndarray]:
        """The step counter and the state arrays of ``params``, keyed
        ``"<i>/<slot>"`` (host copies; ``accumulation_calls`` too when
        accumulating).

        ``i`` is the index in ``params`` (e.g. ``model.trainable_weights``), so
        the state can be restored into a fresh model with :meth:`set_state`.
        """
        return _state.get_state(self, params)

    def set_state(self, state: dict, params) -> None:
        """Restore :meth:`get_state` output for the same list of parameters.

        Raises:
            ValueError: when a slot has the wrong shape.
        """
        _state.set_state(self, state, params)

    def state_dict(self, params=None) -> dict:
        """PyTorch spelling: the hyperparameters and the state, to resume training.

        ``{"class_name", "config" (get_config()), "slot_names", "num_params",
        "state" (get_state(params))}``; ``params`` defaults to those given at
        construction (``Adam(model.parameters())``), else those built so far.
        Save it with ``numnet.save``.
        """
        return _state.state_dict(self, params)

    def load_state_dict(self, state_dict: dict, params=None) -> None:
        """Restore :meth:`state_dict` output: the hyperparameters (the learning
        rate included) and the step counter and slots of each parameter.

        Raises:
            ValueError: for the state of another optimizer class or options
                (slots, EMA, accumulation), another parameter count or a slot
                shape that differs; nothing is changed then.
        """
        _state.load_state_dict(self, state_dict, params)

    def to(self, device) -> Optimizer:
        """Move every slot to ``device`` (``model.to(device)`` calls it)."""
        _state.move_slots(self, device)
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} learning_rate={self._learning_rate!r}>"
