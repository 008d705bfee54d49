"""Read Keras weight files: Keras 3 ``.weights.h5``/``.keras``, Keras 2 ``.h5``.

numnet keeps Keras's weight layouts (Dense ``(in, out)`` kernels, Conv2D
``(KH, KW, C_in, C_out)``, LSTM gates ``i, f, c, o``, GRU ``z, r, h`` with a
``(2, 3U)`` bias when ``reset_after=True``, BatchNormalization ``gamma, beta,
moving_mean, moving_variance``), so moving weights between the two libraries is
a matter of finding each layer's arrays in the file, in order:

* Keras 3 (``model.save_weights("x.weights.h5")``, and the ``model.weights.h5``
  entry of a ``.keras`` zip): ``layers/<name>/vars/0, 1, ...``; a recurrent
  layer keeps its arrays under ``layers/<name>/cell/vars``, a Bidirectional
  under ``forward_layer/cell/vars`` and ``backward_layer/cell/vars``, a nested
  model under ``layers/<name>/layers/...``.
* Keras 2 (``model.save("x.h5")`` or ``save_weights("x.h5")``): a
  ``model_weights`` group (or the file's root) whose ``layer_names`` attribute
  lists the layers in order, each with a ``weight_names`` attribute naming its
  datasets in order.

``h5py`` is imported only when a file is read or written (the ``[keras]`` extra).
Nothing in a file is executed: only numeric datasets and string attributes are read.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile

import numpy as np

from numnet.saving import SaveFormatError

#: the most array elements one file may declare (4 GiB of float32)
MAX_ELEMENTS = 2**30
#: sub-objects of a Keras 3 layer that hold its variables, in weight order
_KERAS3_CHILDREN = ("cell", "forward_layer", "backward_layer", "layers")


def _h5py():
    try:
        import h5py
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "Reading or writing Keras files needs h5py: pip install 'numnet[keras]'"
        ) from error
    return h5py


@dataclasses.dataclass
class WeightsReport:
    """What :func:`load_keras_weights` matched.

    Attributes:
        matched: ``(numnet layer name, file layer name)`` pairs that were loaded.
        skipped: ``(numnet layer name, reason)`` for layers left unchanged
            (``skip_mismatch=True``, or no entry of that name with ``by_name``).
        unused: file layers with weights that no numnet layer took.
    """

    matched: list = dataclasses.field(default_factory=list)
    skipped: list = dataclasses.field(default_factory=list)
    unused: list = dataclasses.field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"loaded {len(self.matched)} layers"]
        lines += [f"  {a} <- {b}" for a, b in self.matched]
        lines += [f"  skipped {a}: {why}" for a, why in self.skipped]
        lines += [f"  unused in file: {name}" for name in self.unused]
        return "\n".join(lines)


def _read_dataset(dataset, label: str) -> np.ndarray:
    if dataset.dtype.kind not in "fiub" or dataset.size > MAX_ELEMENTS:
        raise SaveFormatError(
            f"{label}: expected a numeric array of at most {MAX_ELEMENTS} elements. "
            f"Received: dtype {dataset.dtype}, shape {dataset.shape}"
        )
    return np.asarray(dataset[()])


def _keras3_vars(group, label: str) -> list[np.ndarray]:
    """Every array of one Keras 3 layer group, in the layer's weight order."""
    arrays = []
    if "vars" in group:
        keys = sorted(group["vars"].keys(), key=int)
        arrays += [_read_dataset(group["vars"][k], f"{label}/vars/{k}") for k in keys]
    for child in _KERAS3_CHILDREN:
        if child not in group:
            continue
        if child == "layers":  # a nested model: its layers in file order
            for name in group["layers"]:
                sub = group["layers"][name]
                arrays += _keras3_vars(sub, f"{label}/layers/{name}")
        else:
            arrays += _keras3_vars(group[child], f"{label}/{child}")
    return arrays


def _read_keras3(root, label: str, names: dict) -> list[tuple[str, list[np.ndarray]]]:
    """Layers of a Keras 3 weights file, by their group names (alphabetical).

    ``names`` receives group name -> the layer's own name, which Keras 3 records
    as the ``name`` attribute of the group's ``vars``.
    """
    if "layers" not in root:
        raise SaveFormatError(f"{label}: no 'layers' group: not a Keras weights file")
    layers = root["layers"]
    for key in layers:
        recorded = (
            layers[key]["vars"].attrs.get("name") if "vars" in layers[key] else None
        )
        names[key] = (
            recorded.decode() if isinstance(recorded, bytes) else recorded or key
        )
    return [(n, _keras3_vars(layers[n], f"{label}:layers/{n}")) for n in layers]


def keras_snake_case(class_name: str) -> str:
    """Keras's snake case: ``"BatchNormalization"`` -> ``"batch_normalization"``."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def keras3_keys(model) -> list[tuple[object, str]]:
    """``(layer, group name)`` as Keras 3 names a model's layers in a weights file.

    Keras 3 does not store layer names: the group of a layer is its class name in
    snake case, numbered within the model in layer order (``dense``,
    ``dense_1``, ...), and a functional model counts its input layers too.
    """
    used: dict[str, int] = {}
    keys = []
    for layer in _keras_layers(model):
        name = keras_snake_case(type(layer).__name__)
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        keys.append((layer, name))
    return keys


def _keras_layers(model) -> list:
    layers = list(model.layers)
    if type(model).__name__ == "Sequential":
        return [la for la in layers if type(la).__name__ != "InputLayer"]
    inputs = [t.layer for t in getattr(model, "inputs", [])]
    return inputs + [la for la in layers if la not in inputs]


def _names_attr(obj, key: str) -> list[str]:
    values = obj.attrs.get(key, [])
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _read_keras2(root, label: str) -> list[tuple[str, list[np.ndarray]]]:
    group = root["model_weights"] if "model_weights" in root else root
    if "layer_names" not in group.attrs:
        raise SaveFormatError(f"{label}: no 'layer_names' attribute: not a Keras file")
    entries = []
    for name in _names_attr(group, "layer_names"):
        if name == "top_level_model_weights":
            continue
        layer_group = group[name]
        weight_names = _names_attr(layer_group, "weight_names")
        arrays = [
            _read_dataset(layer_group[w], f"{label}:{name}/{w}") for w in weight_names
        ]
        entries.append((name, arrays))
    return entries


def read_keras_weights(path) -> tuple[list[tuple[str, list[np.ndarray]]], bool]:
    """Read a Keras weights file as ``[(layer name, [arrays in order]), ...]``.

    Accepts a Keras 3 ``.keras`` archive, a Keras 3 ``.weights.h5`` file, and a
    Keras 2 ``.h5`` model or weights file. Layers without weights are listed
    with an empty list.

    Returns:
        ``(entries, keras3)``: for a Keras 3 file (``keras3`` True) the entries
        are named by group (see :func:`keras3_keys`) and come alphabetically;
        for a Keras 2 file they come in the model's order with the layers' names.

    Raises:
        SaveFormatError: when the file is none of these, naming the file.
    """
    entries, keras3, _ = _read(path)
    return entries, keras3


def _read(path):
    """``(entries, keras3, names)``: :func:`read_keras_weights` and, for Keras 3,
    each group's recorded layer name."""
    h5py = _h5py()
    label = str(path)
    names: dict[str, str] = {}
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                info = archive.getinfo("model.weights.h5")
                if info.file_size > 8 * MAX_ELEMENTS:
                    raise SaveFormatError(f"{label}: model.weights.h5 is too large")
                blob = io.BytesIO(archive.read(info))
            with h5py.File(blob, "r") as f:
                return _read_keras3(f, label, names), True, names
        with h5py.File(path, "r") as f:
            if "layers" in f:
                return _read_keras3(f, label, names), True, names
            return _read_keras2(f, label), False, names
    except (OSError, KeyError, ValueError) as error:
        if isinstance(error, SaveFormatError):
            raise
        raise SaveFormatError(
            f"{label}: not a readable Keras weights file ({error})"
        ) from error


def _weighted_layers(model) -> list:
    """The leaf layers of ``model`` that own weights, in model order."""
    result = []
    for layer in model.layers:
        if hasattr(layer, "layers") and not _is_wrapper(layer):
            result += _weighted_layers(layer)  # a nested model: its leaves
        elif layer.weights:
            result.append(layer)
    return result


def _is_wrapper(layer) -> bool:
    return type(layer).__name__ in ("Bidirectional", "TimeDistributed")


def _assign(layer, arrays, file_name: str) -> None:
    weights = layer.get_weights()
    if len(weights) != len(arrays):
        raise ValueError(
            f"load_keras_weights: layer {layer.name!r} has {len(weights)} weights "
            f"but the file's layer {file_name!r} has {len(arrays)}"
        )
    for i, (w, a) in enumerate(zip(weights, arrays, strict=False)):
        if w.shape != a.shape:
            raise ValueError(
                f"load_keras_weights: shape mismatch for weight {i} of layer "
                f"{layer.name!r}: the model expects {w.shape}, the file's layer "
                f"{file_name!r} holds {a.shape}"
            )
    layer.set_weights([a.astype(w.dtype) for w, a in zip(weights, arrays, strict=True)])


def load_keras_weights(
    model, path, by_name: bool = False, skip_mismatch: bool = False
) -> WeightsReport:
    """Load a Keras weights file into a built numnet model of the same architecture.

    Args:
        model: a built numnet model (Sequential or functional).
        path: a ``.keras``, ``.weights.h5`` or Keras 2 ``.h5`` file.
        by_name: match layers by name (others are skipped). By default,
            layers are matched by name when every numnet layer with weights
            finds its name in the file (``keras.applications`` names), else
            in order (Keras 2 files) or by Keras 3's group names (``dense``,
            ``dense_1``, ... in layer order).
        skip_mismatch: skip layers whose weight count or shapes differ instead
            of raising.

    Returns:
        A :class:`WeightsReport` of what matched.

    Raises:
        ValueError: naming the layer and both shapes on a mismatch, or when the
            numbers of layers with weights differ (matching by order).
    """
    entries, keras3, names = _read(path)
    named = [(names.get(key, key), arrays) for key, arrays in entries]
    layers = _weighted_layers(model)
    report = WeightsReport()
    found = {name for name, arrays in named if arrays}
    if by_name or (layers and all(la.name in found for la in layers)):
        pairs = _pairs_by_name(layers, named, report)  # names agree: the surest
    elif keras3:
        pairs = _pairs_keras3(model, dict(entries), path, report)
    else:
        pairs = _pairs_by_order(layers, entries, path)
    for layer, (file_name, arrays) in pairs:
        try:
            _assign(layer, arrays, file_name)
        except ValueError as error:
            if not skip_mismatch:
                raise
            report.skipped.append((layer.name, str(error)))
            continue
        report.matched.append((layer.name, file_name))
    return report


def _pairs_keras3(model, groups: dict, path, report: WeightsReport) -> list:
    pairs = []
    for layer, key in keras3_keys(model):
        if not layer.weights:
            groups.pop(key, None)
            continue
        if key not in groups:
            raise ValueError(
                f"load_keras_weights: layer {layer.name!r} is stored by Keras as "
                f"'layers/{key}', which {str(path)!r} does not have; is it the same "
                f"architecture? (by_name=True matches numnet layer names instead)"
            )
        pairs.append((layer, (key, groups.pop(key))))
    report.unused = [k for k, arrays in groups.items() if arrays]
    return pairs


def _pairs_by_order(layers, entries, path) -> list:
    entries = [(n, a) for n, a in entries if a]
    if len(layers) != len(entries):
        raise ValueError(
            f"load_keras_weights: the model has {len(layers)} layers with "
            f"weights, the file {str(path)!r} has {len(entries)}; pass "
            f"by_name=True to match layers by name"
        )
    return list(zip(layers, entries, strict=False))


def _pairs_by_name(layers, entries, report: WeightsReport) -> list:
    by_file_name = {n: a for n, a in entries if a}
    pairs = []
    for layer in layers:
        if layer.name in by_file_name:
            pairs.append((layer, (layer.name, by_file_name.pop(layer.name))))
        else:
            report.skipped.append((layer.name, "no layer of that name in the file"))
    report.unused = list(by_file_name)
    return pairs
