"""The weights half of :class:`numnet.layers.Layer`: creating, listing, freezing,
reading and loading weights, and their regularization penalties.

A mixin of ``Layer`` (``layers/base.py`` holds the call lifecycle); it relies on
the attributes ``Layer.__init__`` sets: ``name``, ``dtype``, ``_weights`` (name
-> Tensor), ``_layers`` (children), ``_regularized`` and ``_trainable``.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Parameter, Tensor
from numnet.backend.device import device_of
from numnet.layers._state_dict import StateDict


class LayerWeights(StateDict):
    """Weight management shared by every layer (see :class:`Layer`); the
    PyTorch-style state dicts come from :class:`StateDict` (``_state_dict.py``)."""

    def add_weight(
        self,
        name=None,
        shape=None,
        initializer=None,
        trainable: bool = True,
        regularizer=None,
        constraint=None,
        dtype=None,
    ) -> Tensor:
        """Create, register and return a weight of ``shape``.

        Both spellings work: numnet's ``add_weight("kernel", (3, 4))`` and
        Keras 3's ``add_weight(shape=(3, 4), initializer="zeros",
        trainable=False, name=None)`` (a shape may also come first). Without a
        name the weight is called ``variable``, ``variable_1``, ...;
        ``initializer`` defaults to "glorot_uniform" ("zeros" for non-float
        dtypes). Trainable weights are :class:`Parameter` s; non-trainable ones
        (moving statistics, counters) are plain tensors that never require grad.

        Example:
            >>> from numnet.layers import Layer
            >>> layer = Layer()
            >>> w = layer.add_weight(shape=(2, 3), initializer="ones")
            >>> w.name.endswith("/variable"), w.shape
            (True, (2, 3))
        """
        from numnet import initializers

        if not isinstance(name, str) and name is not None and shape is None:
            name, shape = None, name  # add_weight((3, 4)): the shape came first
        if shape is None:
            raise ValueError(
                f"{self.name}: add_weight needs a shape. Received: shape=None"
            )
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else shape
        dtype = np.dtype(dtype) if dtype is not None else self.dtype
        if initializer is None:
            initializer = "glorot_uniform" if dtype.kind == "f" else "zeros"
        name = name or _unique_key(self._weights, "variable")
        init = initializers.get(initializer)
        value = np.asarray(init(tuple(shape), dtype=dtype), dtype=dtype)
        target = self.__dict__.get("_device")  # set by Layer.to(device)
        if target is not None:
            value = target.put(value)  # drawn on the host, then moved (one copy)
        if trainable and dtype.kind == "f":
            weight = Parameter(value, name=f"{self.name}/{name}", dtype=dtype)
            weight.requires_grad = self._trainable
        else:
            weight = Tensor._from_op(value)
            weight.name = f"{self.name}/{name}"
            trainable = False
        weight.trainable = trainable
        weight.constraint = constraint
        self._weights[name] = weight
        reg = _regularizer(regularizer)
        if reg is not None:
            self._regularized.append((weight, reg))
        return weight

    def _all_weights(self) -> list[Tensor]:
        out = list(self._weights.values())
        if not self._layers:  # a leaf layer (most calls of this, once per step)
            return out
        seen = {id(w) for w in out}
        for layer in self.layers_iter():
            for w in layer._all_weights():
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def weights(self) -> list[Tensor]:
        """All weights: trainable-at-creation first, then state, each in creation
        order; freezing a layer does not reorder them (Keras 3)."""
        return self._ordered_weights()

    @property
    def trainable_weights(self) -> list[Parameter]:
        """The weights an optimizer updates: trainable ones of unfrozen layers."""
        return [w for w in self._all_weights() if w.trainable and w.requires_grad]

    @property
    def non_trainable_weights(self) -> list[Tensor]:
        """Frozen weights and state such as BatchNorm's moving statistics."""
        return [w for w in self._all_weights() if not (w.trainable and w.requires_grad)]

    def parameters(self) -> list[Parameter]:
        """PyTorch spelling of :attr:`trainable_weights`."""
        return self.trainable_weights

    @property
    def trainable(self) -> bool:
        """Whether the layer's weights are updated; False freezes them (recursively)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for w in self._weights.values():
            if w.trainable:
                w.requires_grad = self._trainable
        for layer in self.layers_iter():
            layer.trainable = value

    def get_weights(self) -> list[np.ndarray]:
        """NumPy copies of the weights, in Keras order and layout (from any
        device: a GPU layer's weights are copied to the host)."""
        return [backend.to_host(w.data, copy=True) for w in self._ordered_weights()]

    def _ordered_weights(self) -> list[Tensor]:
        # Keras order: trainable-at-creation first, then state, each in creation order
        all_w = self._all_weights()
        return [w for w in all_w if w.trainable] + [w for w in all_w if not w.trainable]

    def set_weights(self, weights) -> None:
        """Load ``weights`` (the list :meth:`get_weights` returns) into the layer.

        Raises:
            ValueError: when the count or a shape does not match.
        """
        targets = self._ordered_weights()
        weights = list(weights)
        if len(weights) != len(targets):
            raise ValueError(
                f"{self.name}: set_weights expected {len(targets)} arrays "
                f"({[w.name for w in targets]}), received {len(weights)}"
            )
        for target, value in zip(targets, weights, strict=True):
            value = value.data if isinstance(value, Tensor) else value
            if backend.get_array_module(value) is np:
                value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(
                    f"{self.name}: weight {target.name!r} must match shape "
                    f"{target.shape}, received an array of shape {value.shape}"
                )
            target.data[...] = device_of(target.data).put(value)

    def count_params(self) -> int:
        """The number of scalars in all weights (trainable and not)."""
        return int(sum(w.size for w in self._all_weights()))

    def regularization_loss(self):
        """The sum of the regularizer penalties of this layer and its children."""
        total = None
        for w, reg in self._all_regularized():
            term = reg(w)
            total = term if total is None else total + term
        return total

    def _all_regularized(self) -> list:
        out = list(self._regularized)
        for layer in self.layers_iter():
            out.extend(layer._all_regularized())
        return out

    def zero_grad(self) -> None:
        """Reset the ``.grad`` of every weight."""
        for w in self._all_weights():
            w.grad = None


def _unique_key(table: dict, prefix: str) -> str:
    key, i = prefix, 0
    while key in table:
        i += 1
        key = f"{prefix}_{i}"
    return key


def _regularizer(identifier):
    if identifier is None:
        return None
    from numnet import regularizers

    return regularizers.get(identifier)
