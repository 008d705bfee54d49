"""The one layer registry: ``layers.serialize``/``layers.deserialize``.

A config is data: a ``class_name`` is looked up, in order, in the
``custom_objects`` the caller passes, the active ``custom_object_scope``
blocks, the classes registered with ``register_serializable``, and numnet's
own Layer and Model classes. Nothing is imported by a name found in a file, so
a config naming ``os.system`` or ``builtins.eval`` is rejected. Every loader
(models, Bidirectional, TimeDistributed, RNN) goes through here, and the
``custom_objects`` stay in scope while nested layers are rebuilt.

Example:
    >>> from numnet import layers
    >>> spec = layers.serialize(layers.Dense(3, name="d"))
    >>> spec["class_name"], layers.deserialize(spec).units
    ('Dense', 3)
"""

from __future__ import annotations

import inspect

from numnet import _registry
from numnet.layers.base import Layer


def _builtin_classes() -> dict[str, type]:
    import numnet.layers

    found = {}
    for name in getattr(numnet.layers, "__all__", ()):
        cls = getattr(numnet.layers, name, None)
        if isinstance(cls, type) and issubclass(cls, Layer):
            found[name] = cls
    found.update(_registry.BUILTIN_LAYER_CLASSES)
    return found


def layer_class(class_name, custom_objects: dict | None = None) -> type:
    """Resolve ``class_name`` (see the module docstring).

    Raises:
        ValueError: for any other name (the message lists the allowed ones).
    """
    cls = _registry.get_custom_object(class_name, custom_objects)
    if cls is not None:
        if isinstance(cls, type) and issubclass(cls, Layer):
            return cls
        raise ValueError(
            f"custom object {class_name!r} must be a Layer subclass. Received: {cls!r}"
        )
    classes = _builtin_classes()
    if isinstance(class_name, str) and class_name in classes:
        return classes[class_name]
    raise ValueError(
        f"Unknown layer class {class_name!r} in the model config. Allowed: numnet "
        f"layers and models ({', '.join(sorted(classes))}) or classes passed in "
        f"custom_objects={{'Name': Class}}, a custom_object_scope, or registered "
        f"with register_serializable."
    )


def deserialize(spec, custom_objects: dict | None = None) -> Layer:
    """Create a layer from ``{"class_name": ..., "config": {...}}``.

    Raises:
        ValueError: when the spec is malformed or names a class not allowed.
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("config", {}), dict):
        raise ValueError(
            f"invalid layer spec in the model config: expected "
            f"{{'class_name': str, 'config': dict}}. Received: {spec!r}"
        )
    cls = layer_class(spec.get("class_name"), custom_objects)
    config = spec.get("config", {})
    with _registry.custom_object_scope(custom_objects or {}):
        try:
            if "custom_objects" in inspect.signature(cls.from_config).parameters:
                return cls.from_config(config, custom_objects=custom_objects)
            return cls.from_config(config)
        except TypeError as exc:
            raise ValueError(
                f"could not recreate {cls.__name__} from its config {config!r}: "
                f"{exc}. A subclass whose __init__ takes other arguments must "
                f"implement get_config() and from_config()."
            ) from exc


def serialize(layer: Layer) -> dict:
    """``{"class_name": ..., "config": layer.get_config()}``."""
    if not isinstance(layer, Layer):
        raise TypeError(
            f"layers.serialize: expected a Layer. Received: {type(layer).__name__}"
        )
    return {"class_name": type(layer).__name__, "config": layer.get_config()}
