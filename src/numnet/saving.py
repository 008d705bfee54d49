"""Save and load models as one ``.npz`` file: no pickle, atomic writes.

File layout (a NumPy ``.npz`` zip, every entry a plain numeric array)::

    __numnet__        uint8 bytes of a UTF-8 JSON document: format name and
                      version, numnet version, date, the model class and config
                      (data only), its build shape, the compile config, and the
                      names and shapes of the weights
    weights/0000 ...  the weights, in ``model.get_weights()`` order
    optimizer/iterations, optimizer/<i>/<slot>
                      the optimizer state (``include_optimizer=True``), slots
                      keyed by the index of the parameter in
                      ``model.trainable_weights``

Loading uses ``np.load(allow_pickle=False)``; the config is resolved through an
allowlist of numnet's own layer and model classes (plus ``custom_objects``), so
a crafted file can neither unpickle objects nor name arbitrary functions.
Writing goes to a temporary file in the destination directory, which is
flushed, fsynced and renamed over the destination with ``os.replace``; on any
error or interruption the temporary file is removed and the previous file is
left untouched.

Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> from numnet import layers, models
    >>> model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> model.save(path)
    >>> clone = models.load_model(path)
    >>> x = np.ones((1, 3), np.float32)
    >>> bool((clone.predict(x, verbose=0) == model.predict(x, verbose=0)).all())
    True
"""

from __future__ import annotations

import datetime
import json
import os
import warnings

import numpy as np

from numnet import _savefile, backend
from numnet._atomic_write import TMP_SUFFIX, atomic_write  # noqa: F401 (public)
from numnet._registry import (  # noqa: F401 (public: numnet.saving.<name>)
    custom_object_scope,
    register_serializable,
)
from numnet._savefile import FORMAT, FORMAT_VERSION, SaveFormatError

register_keras_serializable = register_serializable  # the Keras spelling

_META = _savefile.META

__all__ = ["SaveFormatError", "atomic_write", "load_model", "load_weights"]


def _encode(meta: dict) -> np.ndarray:
    return np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)


def _write_npz(path, meta: dict, arrays: dict) -> None:
    entries = {_META: _encode(meta), **arrays}
    if hasattr(path, "write"):  # an open binary file (e.g. BytesIO): written as is
        np.savez(path, **entries)
        return
    atomic_write(path, lambda f: np.savez(f, **entries))


def _weights_meta(model) -> tuple[dict, dict]:
    ordered = model._ordered_weights()
    arrays = {
        f"weights/{i:04d}": backend.to_host(w.data) for i, w in enumerate(ordered)
    }
    meta = {"weights": [[w.name, list(w.shape)] for w in ordered]}
    return meta, arrays


def _base_meta(model, kind: str) -> dict:
    from numnet import __version__

    shape = getattr(model, "_build_input_shape", None)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "numnet_version": __version__,
        "date_saved": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "class_name": type(model).__name__,
        "build_input_shape": _jsonable_shape(shape),
    }


def _jsonable_shape(shape):
    if shape is None:
        return None
    if isinstance(shape, list):
        return [_jsonable_shape(s) for s in shape]
    return list(shape)


def _from_json_shape(shape):
    if shape is None:
        return None
    if shape and isinstance(shape[0], list):
        return [_from_json_shape(s) for s in shape]
    return tuple(shape)


def save_weights(model, filepath) -> None:
    """Write the weights of ``model`` to ``filepath`` (atomic, see module doc)."""
    _require_built(model, "save_weights")
    meta, arrays = _weights_meta(model)
    _write_npz(filepath, {**_base_meta(model, "weights"), **meta}, arrays)


def save_model(model, filepath, include_optimizer: bool = True) -> None:
    """Write architecture, weights and (optionally) optimizer state and compile config.

    Raises:
        ValueError: when the model is not built, or its config holds values that
            are not JSON data (e.g. a Lambda layer's function).
    """
    _require_built(model, "save")
    meta = _base_meta(model, "model")
    meta["config"] = model.get_config()
    weights_meta, arrays = _weights_meta(model)
    meta.update(weights_meta)
    meta["compile_config"] = None
    if include_optimizer and getattr(model, "compiled", None) is not None:
        try:
            meta["compile_config"] = model.get_compile_config()
        except ValueError as exc:
            warnings.warn(
                f"{model.name}: the compile arguments cannot be saved ({exc}); the "
                f"model is saved uncompiled, without optimizer state",
                stacklevel=3,
            )
        else:
            state = model.optimizer.get_state(model.trainable_weights)
            arrays.update({f"optimizer/{k}": v for k, v in state.items()})
    try:
        json.dumps(meta)
    except TypeError as exc:
        raise ValueError(
            f"{model.name}: the model config is not JSON data and cannot be saved "
            f"({exc}); save_weights() saves the weights alone"
        ) from None
    _write_npz(filepath, meta, arrays)


def _require_built(model, method: str) -> None:
    if not model.built:
        raise ValueError(
            f"{model.name}.{method}: the model is not built, so it has no weights "
            f"yet. Call it on data, build(input_shape) it, or give the first "
            f"layer an input_shape."
        )


def read_file(filepath, slot_names=None) -> tuple[dict, dict]:
    """Read a numnet ``.npz``: return ``(metadata, {name: array})``.

    ``filepath`` may also be an open binary file. Only the entries the format
    names are read, each after its header was checked (see
    :mod:`numnet._savefile`); ``slot_names`` (the optimizer's) selects the
    optimizer entries, all of them when None.

    Raises:
        FileNotFoundError: when the file does not exist.
        SaveFormatError: for a truncated, foreign or crafted file.
    """
    archive, meta = _open_checked(filepath)
    with archive.zf:
        arrays = _savefile.read_weights(archive, meta)
        names = slot_names if slot_names is not None else _all_slot_names(archive)
        state = _savefile.read_optimizer_state(archive, meta, names)
    arrays.update({f"optimizer/{k}": v for k, v in state.items()})
    return meta, arrays


def _open_checked(filepath):
    """The open archive and its metadata, every weight header checked."""
    archive = _savefile.Archive(*_savefile.open_archive(filepath))
    try:
        meta = _savefile.read_meta(archive)
        _savefile.check_weight_entries(archive, meta)
    except BaseException:
        archive.zf.close()
        raise
    return archive, meta


def _all_slot_names(archive) -> set:
    return {n.rsplit("/", 1)[-1] for n in archive.names() if n.count("/") == 2}


def _label(filepath) -> str:
    return "<file object>" if hasattr(filepath, "read") else os.fspath(filepath)


def _check_model_shapes(model, meta: dict, path) -> list:
    """The model's weights, once their shapes matched the file's (no data read)."""
    targets = model._ordered_weights()
    saved = meta["weights"]
    if len(saved) != len(targets):
        raise ValueError(
            f"{path}: the file holds {len(saved)} weights, the model "
            f"{model.name!r} has {len(targets)}; the architectures must match"
        )
    for target, (name, shape) in zip(targets, saved, strict=True):
        if tuple(shape) != tuple(target.shape):
            raise ValueError(
                f"{path}: weight {name!r} has shape {tuple(shape)}, but the model's "
                f"{target.name!r} must match shape {target.shape}"
            )
    return targets


def _load_weight_arrays(model, meta: dict, archive) -> None:
    targets = _check_model_shapes(model, meta, archive.label)
    for i, target in enumerate(targets):
        value = archive.read(f"weights/{i:04d}", "f")
        target.data[...] = _on_device_of(target.data, value)


def _on_device_of(like, value):
    """A host array in the namespace of ``like`` (a weight on a device)."""
    from numnet import backend

    xp = backend.get_array_module(like)
    return value if xp is np else xp.asarray(value)


def load_weights(model, filepath) -> None:
    """Load weights saved by ``save_weights`` or ``save`` into ``model``.

    An unbuilt model is built from the shape recorded in the file.

    Raises:
        ValueError: when the weights do not match the model's.
        SaveFormatError: for an unreadable file.
    """
    archive, meta = _open_checked(filepath)
    with archive.zf:
        if not model.built:
            shape = _from_json_shape(meta.get("build_input_shape"))
            if shape is None:
                raise ValueError(
                    f"{model.name}.load_weights: the model is not built and the "
                    f"file records no input shape; build the model first"
                )
            model.build(shape)
        _load_weight_arrays(model, meta, archive)


def load_model(filepath, custom_objects=None, compile: bool = True, device=None):  # noqa: A002
    """Recreate a model saved by ``model.save``: architecture, weights, compile state.

    The file is checked before anything is built: the sizes its config declares
    must fit the stored weights, whose headers must match the metadata.

    Args:
        filepath: the ``.npz`` file.
        custom_objects: ``{"ClassName": cls}`` for your own Layer/Model classes.
        compile: restore the optimizer (with its state), loss and metrics.
        device: put the model (weights and optimizer state) on this device,
            e.g. ``"cuda"``; default: the CPU.

    Raises:
        SaveFormatError: for a truncated, foreign or crafted file (including a
            config naming a class that is not allowed).
    """
    archive, meta = _open_checked(filepath)
    path = archive.label
    with archive.zf:
        if meta["kind"] != "model":
            raise SaveFormatError(
                f"{path}: this file holds weights only (save_weights); build the "
                f"model and call model.load_weights({path!r})"
            )
        _savefile.check_config_sizes(meta["config"], meta, path)
        model = _guarded(path, "the model config", _build_model, meta, custom_objects)
        _guarded(path, "the weights", _load_weight_arrays, model, meta, archive)
        if compile and meta.get("compile_config"):
            _guarded(path, "the compile config", _restore_compile, model, meta, archive)
    if device is not None:
        model.to(device)
    return model


def _guarded(path, what: str, function, *args):
    """Run ``function``; a failure caused by the file becomes a SaveFormatError."""
    try:
        return function(*args)
    except SaveFormatError:
        raise
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        RecursionError,
        MemoryError,
        OverflowError,
    ) as exc:
        raise SaveFormatError(
            f"{path}: not a valid numnet save: {what} cannot be restored "
            f"({type(exc).__name__}: {exc})"
        ) from None


def _build_model(meta: dict, custom_objects):
    from numnet.models import registry

    spec = {"class_name": meta["class_name"], "config": meta["config"]}
    model = registry.deserialize_layer(spec, custom_objects)
    shape = _from_json_shape(meta.get("build_input_shape"))
    if not model.built and shape is not None:
        model.build(shape)
    return model


def _restore_compile(model, meta: dict, archive) -> None:
    from numnet import optimizers

    config = meta["compile_config"]
    optimizer = optimizers.deserialize(config["optimizer"])
    model.compile(
        optimizer=optimizer,
        loss=config["loss"],
        metrics=config.get("metrics"),
        loss_weights=config.get("loss_weights"),
    )
    state = _savefile.read_optimizer_state(archive, meta, optimizer.state_slot_names)
    if state:
        optimizer.set_state(state, model.trainable_weights)
