"""Architecture as JSON, cloning, and partial weight loading.

* ``model.to_json()`` / :func:`model_from_json`: the architecture alone (no
  weights), as a JSON string; loading resolves class names through the one
  layer registry (``custom_objects``, ``custom_object_scope``,
  ``register_serializable``), never by importing a name from the text.
* :func:`clone_model`: the same architecture with freshly initialised weights
  (Keras: a clone does not share or copy weights; ``set_weights`` copies them).
* :func:`load_weights_partial`: ``load_weights(skip_mismatch=True)`` skips
  weights whose shape does not match, ``by_name=True`` matches weights by their
  names (``layer/weight``) instead of their order, for transfer learning.

Example:
    >>> from numnet import layers, models
    >>> model = models.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(1)])
    >>> twin = models.model_from_json(model.to_json())
    >>> twin.count_params() == model.count_params()
    True
    >>> clone = models.clone_model(model)
    >>> [l.name for l in clone.layers] == [l.name for l in model.layers]
    True
"""

from __future__ import annotations

import json
import warnings

import numpy as np

from numnet.layers.serialization import deserialize, serialize


def to_json(model, **kwargs) -> str:
    """The architecture of ``model`` as a JSON string (``json.dumps`` kwargs)."""
    spec = serialize(model)
    shape = getattr(model, "_build_input_shape", None)
    if shape is not None and not isinstance(shape, dict):
        spec["build_input_shape"] = _json_shape(shape)
    try:
        return json.dumps(spec, **kwargs)
    except TypeError as exc:
        raise ValueError(
            f"{model.name}: the config is not JSON data ({exc}); every custom "
            f"layer's get_config() must return JSON-friendly values"
        ) from None


def model_from_json(json_string: str, custom_objects: dict | None = None):
    """Recreate a model (fresh weights) from :func:`to_json` output.

    Raises:
        ValueError: for text that is not JSON or a class name that is not
            allowed (numnet's own, ``custom_objects``, a scope or registered).
    """
    try:
        spec = json.loads(json_string)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"model_from_json: not a JSON model config ({exc})") from None
    if not isinstance(spec, dict):
        raise ValueError("model_from_json: expected a JSON object")
    model = deserialize(spec, custom_objects)
    shape = spec.get("build_input_shape")
    if shape is not None and not model.built:
        model.build(_from_json_shape(shape))
    return model


def clone_model(model, clone_function=None, custom_objects: dict | None = None):
    """A new model with ``model``'s architecture and fresh weights.

    Args:
        model: a Sequential, functional or subclassed model (a subclass needs
            ``get_config``/``from_config`` if its constructor takes arguments).
        clone_function: for a Sequential model, ``f(layer) -> new layer``
            applied to each layer (default: rebuild from the layer's config).
        custom_objects: classes and functions the configs name.
    """
    from numnet.models.sequential import Sequential

    if clone_function is not None and isinstance(model, Sequential):
        clone = Sequential([clone_function(layer) for layer in model.layers],
                           name=model.name)  # fmt: skip
    else:
        clone = deserialize(serialize(model), custom_objects)
    shape = getattr(model, "_build_input_shape", None)
    if model.built and not clone.built and shape is not None:
        clone.build(shape)
    return clone


def load_weights_partial(model, filepath, skip_mismatch=False, by_name=False):
    """Load what fits of a weights file into ``model``; return the names skipped.

    Raises:
        ValueError: without ``skip_mismatch``, when a weight is missing or its
            shape differs.
    """
    from numnet import saving

    meta, arrays = saving.read_file(filepath)
    saved = [(name, i) for i, (name, _shape) in enumerate(meta.get("weights", []))]
    targets = model._ordered_weights()
    if by_name:
        by_key = {name: i for name, i in saved}
        pairs = [(t, by_key.get(t.name)) for t in targets]
    else:
        pairs = [(t, saved[k][1] if k < len(saved) else None)
                 for k, t in enumerate(targets)]  # fmt: skip
    skipped = []
    for target, index in pairs:
        value = None if index is None else arrays.get(f"weights/{index:04d}")
        problem = _problem(target, value)
        if problem is None:
            target.data[...] = value
            continue
        if not skip_mismatch:
            raise ValueError(f"{model.name}.load_weights: {problem}")
        skipped.append(target.name)
    if skipped:
        warnings.warn(
            f"{model.name}.load_weights: skipped {len(skipped)} weight(s) that "
            f"did not match the file: {skipped}",
            stacklevel=3,
        )
    return skipped


def _problem(target, value) -> str | None:
    if value is None:
        return f"the file holds no weight for {target.name!r}"
    if value.shape != target.shape:
        return (
            f"weight {target.name!r} must match shape {target.shape}, the file "
            f"holds shape {value.shape} (skip_mismatch=True skips it)"
        )
    return None


def _json_shape(shape):
    if isinstance(shape, list):
        return [_json_shape(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


def _from_json_shape(shape):
    if shape and isinstance(shape[0], list):
        return [tuple(s) for s in shape]
    return tuple(np.asarray(shape, dtype=object).tolist())
