"""The allowlist of classes a saved config may name.

A config is data: a ``class_name`` is looked up among numnet's own Layer and
Model classes (those exported by ``numnet.layers`` and ``numnet.models``) and
the ``custom_objects`` the caller passes explicitly. Nothing is imported by a
name found in a file, so a config naming ``os.system`` or ``builtins.eval``
is rejected.
"""

from __future__ import annotations

import inspect

from numnet.layers.base import Layer


def _builtin_classes() -> dict[str, type]:
    import numnet.layers
    import numnet.models

    found = {}
    for module in (numnet.layers, numnet.models):
        for name in getattr(module, "__all__", ()):
            cls = getattr(module, name, None)
            if isinstance(cls, type) and issubclass(cls, Layer):
                found[name] = cls
    return found


def layer_class(class_name, custom_objects: dict | None = None) -> type:
    """Resolve ``class_name`` through custom objects, then numnet's own classes.

    Raises:
        ValueError: for any other name (the message lists the allowed ones).
    """
    if custom_objects and class_name in custom_objects:
        cls = custom_objects[class_name]
        if isinstance(cls, type) and issubclass(cls, Layer):
            return cls
        raise ValueError(
            f"custom_objects[{class_name!r}] must be a Layer subclass. "
            f"Received: {cls!r}"
        )
    classes = _builtin_classes()
    if isinstance(class_name, str) and class_name in classes:
        return classes[class_name]
    raise ValueError(
        f"Unknown layer class {class_name!r} in the model config. Allowed: numnet "
        f"layers and models ({', '.join(sorted(classes))}) or classes passed in "
        f"custom_objects={{'Name': Class}}."
    )


def deserialize_layer(spec, custom_objects: dict | None = None) -> Layer:
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
    try:
        if "custom_objects" in inspect.signature(cls.from_config).parameters:
            return cls.from_config(config, custom_objects=custom_objects)
        return cls.from_config(config)
    except TypeError as exc:
        raise ValueError(
            f"could not recreate {cls.__name__} from its config {config!r}: {exc}. "
            f"A subclass whose __init__ takes other arguments must implement "
            f"get_config() and from_config()."
        ) from exc


def serialize_layer(layer: Layer) -> dict:
    """``{"class_name": ..., "config": layer.get_config()}``."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}
