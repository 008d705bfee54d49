"""The metadata checks of a numnet save file (see :mod:`numnet._savefile`).

The metadata JSON of a save is depth-bounded and its fields type-checked, and
the sizes a model config declares (units, filters, shapes) are checked against
the stored weights before any layer is built. Every failure is a
:class:`SaveFormatError` naming the file.
"""

from __future__ import annotations

import math

FORMAT = "numnet.model"
FORMAT_VERSION = 1

#: Deepest nesting of lists/dicts accepted in the metadata.
MAX_DEPTH = 64
#: Largest number of elements in one sample declared by a config shape.
MAX_SAMPLE_ELEMENTS = 1 << 28
#: config keys whose ints are sizes of weights (units <= number of stored elements)
_WEIGHT_SIZE_KEYS = ("units", "filters", "input_dim", "output_dim")
#: config keys holding one sample's shape (product bounded)
_SHAPE_KEYS = (
    "shape",
    "batch_shape",
    "input_shape",
    "batch_input_shape",
    "build_input_shape",
    "target_shape",
    "dims",
)


class SaveFormatError(ValueError):
    """A file that is not a valid numnet save (foreign, truncated or crafted)."""


SaveFormatError.__module__ = "numnet.saving"  # its public home, for tracebacks


def _fail(label: str, what: str) -> SaveFormatError:
    return SaveFormatError(f"{label}: not a valid numnet save: {what}")


def check_depth(value, label: str) -> None:
    """Refuse metadata nested deeper than :data:`MAX_DEPTH` (iterative walk)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _fail(label, f"the metadata is nested deeper than {MAX_DEPTH}")
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, (dict, list)):
            stack.extend((child, depth + 1) for child in children)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_format_version(version, newest: int, label: str) -> None:
    """A positive int no newer than ``newest`` (the version this numnet writes)."""
    if not _is_int(version) or version < 1:
        raise _fail(label, f"format_version must be a positive int; got {version!r}")
    if version > newest:
        raise SaveFormatError(
            f"{label}: saved with format version {version}, this numnet reads up to "
            f"{newest}; upgrade numnet"
        )


def check_meta(meta, label: str) -> None:
    """Type-check the top-level fields of the metadata."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _fail(label, "unknown format (the metadata names no numnet.model)")
    check_format_version(meta.get("format_version"), FORMAT_VERSION, label)
    if meta.get("kind") not in ("model", "weights"):
        raise _fail(
            label, f"'kind' must be 'model' or 'weights'; got {meta.get('kind')!r}"
        )
    weights = meta.get("weights")
    if not isinstance(weights, list) or not all(_is_weight_spec(w) for w in weights):
        raise _fail(label, "'weights' must be a list of [name, [int, ...]] pairs")
    check_shape_field(meta.get("build_input_shape"), label, "build_input_shape")
    if meta["kind"] == "model":
        if not isinstance(meta.get("config"), dict):
            raise _fail(label, "the model 'config' must be a dict")
        if not isinstance(meta.get("class_name"), str):
            raise _fail(label, "'class_name' must be a string")
        compile_config = meta.get("compile_config")
        if compile_config is not None and not (
            isinstance(compile_config, dict)
            and isinstance(compile_config.get("optimizer"), dict)
            and "loss" in compile_config
        ):
            raise _fail(
                label,
                "'compile_config' must be null or a dict with 'optimizer' and 'loss'",
            )


def _is_weight_spec(spec) -> bool:
    return (
        isinstance(spec, list)
        and len(spec) == 2
        and isinstance(spec[0], str)
        and isinstance(spec[1], list)
        and all(_is_int(d) and d >= 0 for d in spec[1])
    )


def check_shape_field(shape, label: str, field: str) -> None:
    """A shape is None, a list of (int >= 0 | None), or a list of such lists."""
    if shape is None:
        return
    shapes = shape if shape and all(isinstance(s, list) for s in shape) else [shape]
    for s in shapes:
        if not isinstance(s, list) or not all(
            d is None or (_is_int(d) and d >= 0) for d in s
        ):
            raise _fail(
                label, f"{field!r} must be a list of ints or None; got {shape!r}"
            )
        if math.prod(d for d in s if d is not None) > MAX_SAMPLE_ELEMENTS:
            raise _fail(label, f"{field!r} = {s} declares an absurdly large input")


def check_config_sizes(config, meta: dict, label: str) -> None:
    """Sizes in the config must be consistent with the stored weights.

    A layer with ``units``/``filters``/``input_dim``/``output_dim`` = n owns a
    weight of at least n elements, so n cannot exceed the number of stored
    elements; a sample shape is bounded by :data:`MAX_SAMPLE_ELEMENTS`. This
    runs before any layer is built, so a crafted config cannot allocate.
    """
    stored = sum(math.prod(shape) for _, shape in meta["weights"])
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            if key in _WEIGHT_SIZE_KEYS and _is_int(value) and value > max(stored, 1):
                raise _fail(
                    label,
                    f"the config declares {key}={value}, more than the "
                    f"{stored} weight elements stored in the file",
                )
            if key in _SHAPE_KEYS and isinstance(value, list):
                check_shape_field(value, label, key)
            stack.append(value)
