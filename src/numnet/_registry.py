"""Name and config lookup shared by initializers, regularizers, constraints and losses.

Each of those modules keeps two tables: ``classes`` (class name -> class, the
names written by ``serialize``) and ``aliases`` (Keras's snake_case strings).
"""

from __future__ import annotations

from collections.abc import Callable


def serialize(obj, base: type, classes: dict, module: str) -> dict:
    """``{"class_name": ..., "config": ...}`` of a built-in object of type ``base``.

    Raises:
        ValueError: for anything else (a plain function cannot be written as JSON).
    """
    if isinstance(obj, base) and type(obj).__name__ in classes:
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    raise ValueError(
        f"{module}.serialize: cannot serialise {obj!r}; only built-in "
        f"{base.__name__} objects can be saved"
    )


def resolve(identifier, classes: dict, aliases: dict, make: Callable | None = None):
    """The object a serialised dict or a name stands for, or None if neither.

    ``make(cls)`` builds the object for a name (default: ``cls()``).
    """
    if isinstance(identifier, dict) and identifier.get("class_name") in classes:
        config = identifier.get("config", {})
        return classes[identifier["class_name"]].from_config(config)
    if isinstance(identifier, str):
        cls = aliases.get(identifier) or classes.get(identifier)
        if cls is not None:
            return make(cls) if make is not None else cls()
    return None


# -- custom objects: register_serializable and custom_object_scope ---------
#: name -> object registered with :func:`register_serializable` (process-wide)
_REGISTERED: dict[str, object] = {}
#: the dicts of the active ``custom_object_scope`` blocks, innermost last
_SCOPES: list[dict] = []
#: Layer classes outside numnet.layers that configs may name (the models)
BUILTIN_LAYER_CLASSES: dict[str, type] = {}


def register_serializable(package: str = "Custom", name: str | None = None):
    """Decorator: make a class or function loadable by name from a config.

    Registered objects are found when a saved config names them (as
    ``"package>Name"`` or ``"Name"``) without passing ``custom_objects``,
    like Keras's ``register_keras_serializable``.

    Example:
        >>> from numnet import layers
        >>> from numnet.saving import register_serializable
        >>> @register_serializable(package="demo")
        ... class Double(layers.Layer):
        ...     def call(self, x):
        ...         return x * 2.0
        >>> layers.deserialize(layers.serialize(Double())).__class__.__name__
        'Double'
    """

    def decorator(obj):
        key = name or getattr(obj, "__name__", None)
        if not isinstance(key, str):
            raise ValueError(
                f"register_serializable: cannot find a name for {obj!r}; pass name="
            )
        _REGISTERED[f"{package}>{key}"] = obj
        _REGISTERED[key] = obj
        return obj

    return decorator


class custom_object_scope:  # noqa: N801 (Keras spelling)
    """``with custom_object_scope({"Name": obj}):`` makes ``obj`` loadable by name.

    Loading (``load_model``, ``model_from_json``, ``from_config``,
    ``layers.deserialize``) inside the block finds the classes and functions
    of the dict, as if they had been passed as ``custom_objects``.
    """

    def __init__(self, *dicts):
        self.objects: dict = {}
        for d in dicts:
            self.objects.update(d or {})

    def __enter__(self):
        _SCOPES.append(self.objects)
        return self

    def __exit__(self, *exc):
        _SCOPES.remove(self.objects)
        return False


def get_custom_object(name, custom_objects: dict | None = None):
    """The object called ``name`` in ``custom_objects``, the active scopes or the
    registered objects (in that order); None when there is none."""
    if not isinstance(name, str):
        return None
    for table in ([custom_objects] if custom_objects else []) + _SCOPES[::-1]:
        if name in table:
            return table[name]
    return _REGISTERED.get(name)


def custom_name(obj) -> str | None:
    """The name under which ``obj`` is registered or in scope, else None."""
    for table in _SCOPES[::-1] + [_REGISTERED]:
        for key, value in table.items():
            if value is obj and ">" not in key:
                return key
    return None
