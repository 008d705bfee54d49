"""An optimizer's state as host arrays: save, restore and move its slots."""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.optimizers._arrays import _like

#: the key of the calls made in an open gradient-accumulation window
CALLS = "accumulation_calls"


def get_state(optimizer, params) -> dict[str, np.ndarray]:
    """See :meth:`Optimizer.get_state`."""
    state = {"iterations": np.array(optimizer.iterations, dtype=np.int64)}
    if optimizer._accumulation is not None:
        state[CALLS] = np.array(optimizer._accumulation.calls, dtype=np.int64)
    for i, p in enumerate(params):
        if id(p) in optimizer._index:
            slots = optimizer._slots_of(p)
            for name in optimizer.state_slot_names:  # host copies, from any device
                state[f"{i}/{name}"] = backend.to_host(slots[name], copy=True)
    return state


def set_state(optimizer, state: dict, params) -> None:
    """See :meth:`Optimizer.set_state`."""
    params = list(params)
    optimizer.build(params)
    optimizer.iterations = int(state["iterations"])
    for i, p in enumerate(params):
        slots = optimizer._slots_of(p)
        for name in optimizer.state_slot_names:
            key = f"{i}/{name}"
            if key not in state:
                continue  # never updated before saving: keep the initial value
            value = backend.to_host(state[key])  # from numnet.load: any device
            if value.shape != p.shape:
                raise ValueError(
                    f"{type(optimizer).__name__}: optimizer slot {key!r} has shape "
                    f"{value.shape}, the parameter {p.name!r} has shape {p.shape}"
                )
            slots[name][...] = _like(slots[name], value)
    if optimizer._accumulation is not None:
        calls = int(state.get(CALLS, 0))
        optimizer._accumulation.restore(calls, params, optimizer._slots_of)


def move_slots(optimizer, device) -> None:
    """Move every slot of ``optimizer`` to ``device``."""
    from numnet.backend.device import device as as_device

    target = as_device(device)
    for slots in optimizer._slots:
        for name in list(slots):
            if name == "_scratch":
                del slots[name]  # rebuilt on the new device when needed
            else:
                slots[name] = target.put(slots[name])


#: options that shape the state (its slots and their meaning): a state dict
#: loads only into an optimizer created with the same values
_STRUCTURAL = (
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "gradient_accumulation_steps",
)


def known_params(optimizer, params) -> list:
    """``params``, else those given at construction, else those built so far."""
    if params is None:
        params = optimizer.param_list
    return list(optimizer._params if params is None else params)


def state_dict(optimizer, params) -> dict:
    """See :meth:`Optimizer.state_dict`."""
    params = known_params(optimizer, params)
    return {
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
        "slot_names": list(optimizer.state_slot_names),
        "num_params": len(params),
        "state": get_state(optimizer, params),
    }


def load_state_dict(optimizer, saved, params) -> None:
    """See :meth:`Optimizer.load_state_dict`: check everything, then restore."""
    owner = f"{type(optimizer).__name__}.load_state_dict"
    params = known_params(optimizer, params)
    _check_state_dict(optimizer, saved, params, owner)
    fresh = _validated_twin(optimizer, saved["config"], owner)
    for key in saved["config"]:
        if key == "learning_rate":
            optimizer._learning_rate = fresh._learning_rate  # a schedule too
        elif key != "name":
            setattr(optimizer, key, getattr(fresh, key))
    set_state(optimizer, saved["state"], params)


def _check_state_dict(optimizer, saved, params: list, owner: str) -> None:
    fields = ("class_name", "config", "slot_names", "num_params", "state")
    if not isinstance(saved, dict) or any(f not in saved for f in fields):
        raise ValueError(
            f"{owner}: expected the dict of Optimizer.state_dict() with keys "
            f"{list(fields)}. Received: "
            f"{sorted(saved) if isinstance(saved, dict) else type(saved).__name__}"
        )
    if saved["class_name"] != type(optimizer).__name__:
        raise ValueError(
            f"{owner}: the state dict is of a {saved['class_name']} optimizer; "
            f"create a {saved['class_name']} to load it"
        )
    if list(saved["slot_names"]) != list(optimizer.state_slot_names):
        raise ValueError(
            f"{owner}: the state dict holds the slots {list(saved['slot_names'])}, "
            f"this optimizer keeps {list(optimizer.state_slot_names)}; create it "
            f"with the same options (e.g. amsgrad, centered, use_ema)"
        )
    if saved["num_params"] != len(params):
        hint = (
            " The optimizer knows no parameters yet: create it with them, e.g. "
            f"{type(optimizer).__name__}(model.parameters())."
            if not params
            else ""
        )
        raise ValueError(
            f"{owner}: the state dict holds the state of {saved['num_params']} "
            f"parameters, the optimizer has {len(params)}.{hint}"
        )
    _check_slot_shapes(saved["state"], params, owner)


def _check_slot_shapes(state, params: list, owner: str) -> None:
    if not isinstance(state, dict) or "iterations" not in state:
        raise ValueError(f"{owner}: the 'state' entry has no 'iterations'")
    for key, value in state.items():
        index, slash, _ = key.partition("/")
        if not slash:
            continue
        if not index.isdigit() or int(index) >= len(params):
            raise ValueError(f"{owner}: unexpected slot key {key!r} in the state")
        shape = tuple(value.shape if hasattr(value, "shape") else np.shape(value))
        expected = tuple(params[int(index)].shape)
        if shape != expected:
            raise ValueError(
                f"{owner}: slot {key!r} has shape {shape}, its parameter "
                f"{params[int(index)].name!r} has shape {expected}"
            )


def _validated_twin(optimizer, config, owner: str):
    """A fresh optimizer from ``config``: its constructor checks every value."""
    try:
        fresh = type(optimizer).from_config(config)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: invalid hyperparameters ({exc})") from None
    for key in _STRUCTURAL:
        if getattr(fresh, key) != getattr(optimizer, key):
            raise ValueError(
                f"{owner}: the state dict was saved with {key}="
                f"{getattr(fresh, key)!r}, this optimizer has "
                f"{getattr(optimizer, key)!r}; create it with the same value"
            )
    return fresh
