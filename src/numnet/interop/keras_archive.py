"""Keras 3 ``.keras`` archives: a zip of config, metadata and ``model.weights.h5``.

>>> import os, tempfile
>>> import numpy as np
>>> from numnet import layers, models
>>> from numnet.interop import load_keras_model, save_keras
>>> model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="relu")])
>>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
>>> save_keras(model, path)  # keras.models.load_model(path) reads this file
>>> clone = load_keras_model(path)
>>> x = np.ones((2, 4), np.float32)
>>> bool(np.allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0)))
True
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile

from numnet.interop.keras_config import model_from_keras_config
from numnet.interop.keras_weights import _h5py, keras3_keys, load_keras_weights
from numnet.saving import SaveFormatError, atomic_write

#: largest config.json read from an archive
MAX_CONFIG_BYTES = 64 * 2**20
#: Keras 3 keeps a recurrent layer's variables on its cell, a wrapper's on its layers
_RNN = ("SimpleRNN", "GRU", "LSTM")


def load_keras_model(path, custom_objects=None):
    """Build a numnet model from a Keras 3 ``.keras`` archive and load its weights.

    Args:
        path: the ``.keras`` file.
        custom_objects: extra layer classes by name.

    Returns:
        The numnet model (not compiled).

    Raises:
        SaveFormatError: for a file that is not a ``.keras`` archive, an unknown
            layer class (named), or weights that do not fit.
    """
    label = str(path)
    if not zipfile.is_zipfile(path):
        raise SaveFormatError(f"{label}: not a .keras archive (not a zip file)")
    with zipfile.ZipFile(path) as archive:
        try:
            info = archive.getinfo("config.json")
        except KeyError:
            raise SaveFormatError(f"{label}: no config.json in the archive") from None
        if info.file_size > MAX_CONFIG_BYTES:
            raise SaveFormatError(f"{label}: config.json is too large")
        try:
            spec = json.loads(archive.read(info))
        except ValueError as error:
            raise SaveFormatError(f"{label}: config.json is not JSON") from error
    model = model_from_keras_config(spec, custom_objects)
    try:
        load_keras_weights(model, path)
    except ValueError as error:
        raise SaveFormatError(f"{label}: {error}") from error
    return model


def _keras_object(spec, module: str):
    if isinstance(spec, dict) and "class_name" in spec:
        return {
            "module": module,
            "class_name": spec["class_name"],
            "config": spec.get("config", {}),
            "registered_name": None,
        }
    return spec


def _keras_layer_config(class_name: str, config: dict) -> dict:
    config = dict(config)
    for key, value in config.items():
        if key.endswith("_initializer"):
            config[key] = _keras_object(value, "keras.initializers")
        elif key.endswith("_regularizer"):
            config[key] = _keras_object(value, "keras.regularizers")
        elif key.endswith("_constraint"):
            config[key] = _keras_object(value, "keras.constraints")
        elif key in ("layer", "backward_layer") and isinstance(value, dict):
            config[key] = _keras_layer_spec(value["class_name"], value["config"])
    if class_name == "InputLayer":
        config["batch_shape"] = [None] + list(config.pop("shape"))
    return config


def _keras_layer_spec(class_name: str, config: dict) -> dict:
    return {
        "module": "keras.layers",
        "class_name": class_name,
        "config": _keras_layer_config(class_name, config),
        "registered_name": None,
    }


def _tensor_specs(model) -> dict:
    """``(layer, node index, tensor index) -> (shape, dtype)`` of a graph."""
    specs = {}
    for t in model.inputs:
        specs[(t.layer.name, 0, 0)] = (t.shape, str(t.dtype))
    calls: dict[str, int] = {}
    for node in model._nodes:
        index = calls.get(node.layer.name, 0)
        calls[node.layer.name] = index + 1
        for i, out in enumerate(node.outputs):
            specs[(node.layer.name, index, i)] = (out.shape, str(out.dtype))
    return specs


def _keras_tensor(history, specs: dict) -> dict:
    shape, dtype = specs[tuple(history)]
    return {
        "class_name": "__keras_tensor__",
        "config": {"shape": list(shape), "dtype": dtype, "keras_history": history},
    }


def _functional_config(config: dict, specs: dict) -> dict:
    """numnet's functional config (layers + nodes) in Keras 3's inbound-node form."""
    inbound: dict[str, list] = {}
    for node in config["nodes"]:
        args = [_keras_tensor(list(h), specs) for h in node["inputs"]]
        arg = args if node.get("input_is_list") else args[0]
        inbound.setdefault(node["layer"], []).append({"args": [arg], "kwargs": {}})
    specs = []
    for spec in config["layers"]:
        name = spec["config"]["name"]
        keras_spec = _keras_layer_spec(spec["class_name"], spec["config"])
        keras_spec["name"] = name
        keras_spec["inbound_nodes"] = inbound.get(name, [])
        specs.append(keras_spec)
    return {
        "name": config["name"],
        "trainable": config.get("trainable", True),
        "layers": specs,
        "input_layers": [list(h) for h in config["inputs"]],
        "output_layers": [list(h) for h in config["outputs"]],
    }


def keras_model_config(model) -> dict:
    """The Keras 3 ``config.json`` of a numnet Sequential or functional model."""
    kind = type(model).__name__
    config = model.get_config()
    if kind == "Sequential":
        shape = config.get("build_input_shape")
        if shape is None:
            raise ValueError("save_keras: build the model first (call it or fit it)")
        layers = [
            _keras_layer_spec("InputLayer", {"shape": shape[1:], "name": "input_layer"})
        ]
        layers += [
            _keras_layer_spec(s["class_name"], s["config"]) for s in config["layers"]
        ]
        body = {"name": config["name"], "trainable": True, "layers": layers}
    elif "nodes" in config:
        kind, body = "Functional", _functional_config(config, _tensor_specs(model))
    else:
        raise ValueError(
            f"save_keras: only Sequential and functional models can be written. "
            f"Received: {kind}"
        )
    module = "keras.src.models.functional" if kind == "Functional" else "keras"
    registered = "Functional" if kind == "Functional" else None
    return {
        "module": module,
        "class_name": kind,
        "config": body,
        "registered_name": registered,
    }


def _layer_variable_groups(layer) -> list[tuple[str, list]]:
    """``(h5 path below the layer, arrays)``: how Keras 3 stores its variables."""
    name = type(layer).__name__
    if name in _RNN:
        return [("cell/vars", layer.get_weights())]
    if name == "Bidirectional":
        half = len(layer.get_weights()) // 2
        weights = layer.get_weights()
        return [
            ("forward_layer/cell/vars", weights[:half]),
            ("backward_layer/cell/vars", weights[half:]),
        ]
    if name == "TimeDistributed":
        return _prefixed("layer", layer.layer)
    return [("vars", layer.get_weights())]


def _prefixed(prefix: str, layer) -> list:
    return [
        (f"{prefix}/{path}", arrays) for path, arrays in _layer_variable_groups(layer)
    ]


def _write_weights_h5(model) -> bytes:
    h5py = _h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars")
        for layer, key in keras3_keys(model):
            group = f.create_group(f"layers/{key}")
            group.create_group("vars")
            for path, arrays in _layer_variable_groups(layer):
                target = group.require_group(path)
                for i, array in enumerate(arrays):
                    target.create_dataset(str(i), data=array)
    return buffer.getvalue()


def save_keras(model, path) -> None:
    """Write a numnet model as a Keras 3 ``.keras`` archive (atomically).

    Keras 3 loads the file with ``keras.models.load_model(path)``; numnet reads
    it back with :func:`load_keras_model`.

    Raises:
        ValueError: for an unbuilt model or a model class Keras cannot rebuild.
    """
    config = keras_model_config(model)
    weights = _write_weights_h5(model)
    metadata = {
        "keras_version": "3.0.0",
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "saved_by": "numnet",
    }

    def write(file):
        with zipfile.ZipFile(file, "w") as archive:
            archive.writestr("metadata.json", json.dumps(metadata))
            archive.writestr("config.json", json.dumps(config))
            archive.writestr("model.weights.h5", weights)

    atomic_write(path, write)
