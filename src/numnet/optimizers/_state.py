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
            value = np.asarray(state[key])
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
