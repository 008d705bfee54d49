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
