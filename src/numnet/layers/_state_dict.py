"""PyTorch-style state dicts of layers: named parameters, buffers, load/save by name.

A weight's *key* is its path in the layer tree, joined with dots, as PyTorch
names ``fc1.weight``: the attribute a child layer is stored under, then the
weight's own name (``kernel``, ``bias``, ``moving_mean``). Keys never contain
a layer's automatic name (``dense_7``), which depends on how many layers the
process created before, so a state dict saved by one program loads into the
same architecture built by another (or built twice in one process):

* a subclassed model: the attribute names, lists numbered
  (``fc1.kernel``, ``blocks.0.bias``), as in PyTorch;
* a ``Sequential`` model: the position in the stack (``0.kernel``,
  ``1.moving_mean``), as ``torch.nn.Sequential``;
* a functional model (a graph of layers): the class name in snake case,
  numbered within the model in graph order (``dense.kernel``,
  ``dense_1.kernel``, ``batch_normalization.gamma``), as Keras 3 names layers
  in its weights files;
* a weight reachable by two paths (a shared layer) is listed once, under the
  first.

The order is the tree order of :attr:`Layer.weights` before Keras's
trainable-first sort: a layer's own weights in creation order, then its
children's, depth first; ``named_parameters`` lists the same weights, in the
same order, as ``parameters()``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from numnet import backend
from numnet.backend.device import device_of


class IncompatibleKeys(NamedTuple):
    """What :meth:`Layer.load_state_dict` returns (PyTorch's ``_IncompatibleKeys``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"  # PyTorch's wording
        return (
            f"IncompatibleKeys(missing_keys={self.missing_keys!r}, "
            f"unexpected_keys={self.unexpected_keys!r})"
        )


class StateDictError(RuntimeError, ValueError):
    """A state dict that does not fit the layer: missing or unexpected keys, a
    shape mismatch or a value that is not an array. A ``RuntimeError`` as in
    PyTorch, and a ``ValueError`` as numnet's other weight-loading errors."""


class StateDict:
    """Named weights and state dicts, mixed into :class:`LayerWeights`."""

    def named_parameters(self):
        """Yield ``(key, Parameter)`` for the weights an optimizer updates, in
        the order of :meth:`parameters` (frozen layers' weights are buffers).

        Example:
            >>> from numnet import layers, models
            >>> net = models.Sequential([layers.Dense(2, input_shape=(3,))])
            >>> [name for name, _ in net.named_parameters()]
            ['0.kernel', '0.bias']
        """
        for key, w in named_weights(self):
            if _is_parameter(w):
                yield key, w

    def named_buffers(self):
        """Yield ``(key, Tensor)`` for the non-trainable weights (moving
        statistics, counters, frozen weights): :attr:`non_trainable_weights`."""
        for key, w in named_weights(self):
            if not _is_parameter(w):
                yield key, w

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every weight (trainable or not) as ``{key: NumPy copy}``, in tree order.

        The arrays are host copies, from any device; keys are described in
        :mod:`numnet.layers._state_dict` (``"0.kernel"``, ``"fc1.bias"``).

        Example:
            >>> from numnet import layers, models
            >>> net = models.Sequential([layers.BatchNormalization(input_shape=(3,))])
            >>> list(net.state_dict())
            ['0.gamma', '0.beta', '0.moving_mean', '0.moving_variance']
        """
        return {
            key: backend.to_host(w.data, copy=True) for key, w in named_weights(self)
        }

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy the arrays of ``state_dict`` into the weights with the same keys.

        Values (NumPy arrays, Tensors or arrays of a device) are copied onto the
        weight's device in the weight's dtype. Nothing is copied unless every
        value fits, so a failed load leaves the layer as it was.

        Args:
            state_dict: a mapping ``key -> array``, e.g. from :meth:`state_dict`
                or ``numnet.load``.
            strict: require exactly the layer's keys (PyTorch's default).

        Returns:
            ``IncompatibleKeys(missing_keys, unexpected_keys)``.

        Raises:
            StateDictError: (a RuntimeError and ValueError) listing the missing
                and unexpected keys (``strict=True``), a key whose shape differs
                (with both shapes, whatever ``strict``), or a non-array value.
            TypeError: when ``state_dict`` is not a mapping.
        """
        return load_into(self, state_dict, strict)


def _is_parameter(w) -> bool:
    return bool(w.trainable and w.requires_grad)  # as Layer.trainable_weights


def named_weights(layer) -> list[tuple[str, object]]:
    """``(key, weight)`` for every weight of ``layer``'s tree (first path wins)."""
    out, keys, seen_weights, seen_layers = [], {}, set(), set()
    stack = [("", layer)]
    while stack:  # depth first, children in registration order
        prefix, node = stack.pop()
        if id(node) in seen_layers:
            continue
        seen_layers.add(id(node))
        for name, w in node._weights.items():
            if id(w) in seen_weights:
                continue
            seen_weights.add(id(w))
            key = prefix + name
            if key in keys:
                raise StateDictError(
                    f"{layer.name}: two weights get the state-dict key {key!r} "
                    f"({keys[key]} and {w.name}); rename one of them"
                )
            keys[key] = w.name
            out.append((key, w))
        children = named_children(node)
        stack.extend((f"{prefix}{n}.", child) for n, child in reversed(children))
    return out


def named_children(layer) -> list[tuple[str, object]]:
    """``(path segment, child)`` for the direct children of ``layer``."""
    from numnet.layers.base import _snake_case

    out, seen, counts = [], set(), {}
    for key, child in layer._layers.items():
        if id(child) in seen:
            continue
        seen.add(id(child))
        position, slash, _ = key.partition("/")
        head, dot, index = key.partition(".")
        if slash and position.isdigit():  # Sequential: "<index>/<layer name>"
            segment = position
        elif head.startswith("_") and dot and index.isdigit():  # a model's graph
            segment = _numbered(_snake_case(type(child).__name__), counts)
        else:  # an attribute, or an item of a list attribute ("blocks.0")
            segment = key
        out.append((segment, child))
    return out


def _numbered(name: str, counts: dict) -> str:
    count = counts.get(name, 0)
    counts[name] = count + 1
    return name if count == 0 else f"{name}_{count}"


def load_into(layer, state_dict, strict: bool) -> IncompatibleKeys:
    """See :meth:`StateDict.load_state_dict`."""
    if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
        raise TypeError(
            f"{layer.name}.load_state_dict: expected a dict of arrays (e.g. from "
            f"state_dict() or numnet.load). Received: {type(state_dict).__name__}"
        )
    targets = dict(named_weights(layer))
    missing = [k for k in targets if k not in state_dict]
    unexpected = [k for k in state_dict if k not in targets]
    errors = _key_errors(missing, unexpected) if strict else []
    if strict and unexpected and not targets:
        errors.append(_UNBUILT)
    values = {}
    for key in targets.keys() & state_dict.keys():
        value, error = _checked_value(key, state_dict[key], targets[key])
        if error:
            errors.append(error)
        values[key] = value
    if errors:
        raise StateDictError(
            f"Error(s) in loading state_dict for {type(layer).__name__} "
            f"{layer.name!r}:\n\t" + "\n\t".join(errors)
        )
    for key, value in values.items():
        target = targets[key]
        target.data[...] = device_of(target.data).put(value)
    return IncompatibleKeys(missing, unexpected)


_UNBUILT = (
    "The layer has no weights yet: build it first (call it on a batch, or give "
    "it an input shape) so that its weights exist to be loaded."
)


def _key_errors(missing: list, unexpected: list) -> list[str]:
    errors = []
    if missing:
        errors.append("Missing key(s) in state_dict: " + _quoted(missing) + ".")
    if unexpected:
        errors.append("Unexpected key(s) in state_dict: " + _quoted(unexpected) + ".")
    return errors


def _quoted(keys: list) -> str:
    return ", ".join(f'"{k}"' for k in keys)


def _checked_value(key: str, value, target):
    """``(array in the target's dtype, None)`` or ``(None, error message)``."""
    value = getattr(value, "data", value) if not backend.is_array(value) else value
    if not backend.is_array(value):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError):
            value = np.asarray(None)
    if value.dtype.kind not in "biuf":
        return None, (
            f"the value for {key} is not a numeric array (dtype {value.dtype}); "
            f"expected an array of shape {target.shape}."
        )
    if tuple(value.shape) != tuple(target.shape):
        return None, (
            f"size mismatch for {key}: copying a param with shape "
            f"{tuple(value.shape)} from checkpoint, the shape in current model is "
            f"{tuple(target.shape)}."
        )
    if value.dtype != target.dtype:
        value = value.astype(target.dtype)
    return value, None
