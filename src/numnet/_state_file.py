"""``numnet.save`` / ``numnet.load``: nested state (dicts, lists, arrays) in one file.

PyTorch's ``torch.save``/``torch.load`` for checkpoints, without pickle. The
file is a NumPy ``.npz`` archive (a zip of ``.npy`` entries, whatever its
name's extension)::

    __numnet__          uint8 bytes of a UTF-8 JSON document: the format name
                        and version, the numnet version, the number of arrays
                        and the structure (the tree below)
    arrays/0, ...       the arrays, numeric or bool

The structure is JSON where each container or array is tagged, so that no
value of the saved object can be mistaken for a tag:

* ``null``, ``true``/``false``, numbers and strings: themselves;
* a list: a JSON list;
* ``{"tuple": [...]}``: a tuple;
* ``{"dict": [key, ...], "values": [...]}``: a dict (keys: strings or ints);
* ``{"array": i}`` / ``{"scalar": i}``: entry ``arrays/i`` (a Tensor or an
  array, loaded as an array; a NumPy scalar, loaded as one).

Loading reads nothing it has not checked (see :mod:`numnet._savefile`): the
zip's member count, the structure's size and depth, every tag, and each
array's ``.npy`` header (numeric dtype, shape matching the stored bytes, all
of them under :data:`numnet._savefile.MAX_LOAD_BYTES`) before it is read.
"""

from __future__ import annotations

import json

import numpy as np

from numnet import _savefile, backend
from numnet._savefile_meta import (
    MAX_DEPTH,
    SaveFormatError,
    _fail,
    check_depth,
    check_format_version,
)

FORMAT = "numnet.state"
FORMAT_VERSION = 1
#: most entries a state file may hold (a model with this many weights is absurd)
MAX_MEMBERS = 1 << 17
#: most bytes of the structure's JSON (keys, numbers and strings saved inline)
MAX_STRUCTURE_BYTES = 16 << 20


def save(obj, f) -> None:
    """Save ``obj`` (nested dicts, lists and tuples of arrays, Tensors, numbers,
    strings, bools and None) to the file ``f`` (a path or a binary file).

    PyTorch's ``torch.save`` for state dicts and checkpoints, without pickle:
    one ``.npz`` archive (whatever the extension), written atomically (a
    failed save leaves the previous file as it was). Arrays on a device are
    copied to the host. ``numnet.load`` reads it back.

    Args:
        obj: the object, e.g. ``model.state_dict()`` or ``{"model": ...,
            "optimizer": opt.state_dict(), "epoch": 3}``.
        f: a path (any extension: ``"model.pt"`` stays ``"model.pt"``) or a
            binary file object.

    Raises:
        TypeError: for a value of another type (a function, a set, a string
            or object array...), naming where it is in ``obj``.
        ValueError: for an object nested deeper than numnet loads.

    Example:
        >>> import io
        >>> import numpy as np
        >>> import numnet
        >>> buffer = io.BytesIO()
        >>> numnet.save({"w": np.ones(2, np.float32), "epoch": 3}, buffer)
        >>> _ = buffer.seek(0)
        >>> numnet.load(buffer)
        {'w': array([1., 1.], dtype=float32), 'epoch': 3}
    """
    from numnet import __version__
    from numnet.saving import _write_npz

    arrays: list = []
    tree = _encode(obj, arrays, "obj", 1)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "numnet_version": __version__,
        "arrays": len(arrays),
        "tree": tree,
    }
    entries = {f"arrays/{i}": a for i, a in enumerate(arrays)}
    _write_npz(f, meta, entries)


def _encode(value, arrays: list, where: str, depth: int):
    """The JSON node of ``value`` at JSON depth ``depth``; its arrays are
    appended to ``arrays``."""
    plain = value is None or isinstance(value, (bool, int, float, str))
    if depth + (not plain) > MAX_DEPTH:  # a tagged node's content is one deeper
        raise ValueError(
            f"numnet.save: {where} is nested deeper than numnet loads "
            f"({MAX_DEPTH} JSON levels; a dict takes 2, a list 1)"
        )
    if plain:
        return value
    if isinstance(value, (list, tuple)):
        items = [
            _encode(v, arrays, f"{where}[{i}]", depth + 1 + isinstance(value, tuple))
            for i, v in enumerate(value)
        ]
        return {"tuple": items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return _encode_dict(value, arrays, where, depth)
    return _encode_array(value, arrays, where)


def _encode_dict(value: dict, arrays: list, where: str, depth: int) -> dict:
    for key in value:
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise TypeError(
                f"numnet.save: the dict at {where} has the key {key!r} of type "
                f"{type(key).__name__}; keys must be strings or ints"
            )
    values = [
        _encode(v, arrays, f"{where}[{k!r}]", depth + 2) for k, v in value.items()
    ]
    return {"dict": list(value), "values": values}


def _encode_array(value, arrays: list, where: str) -> dict:
    scalar = isinstance(value, np.generic)
    data = getattr(value, "data", None) if not backend.is_array(value) else value
    if not (scalar or backend.is_array(data)):
        raise TypeError(
            f"numnet.save: cannot save {where}, a {type(value).__name__}: only "
            f"dicts, lists, tuples, arrays, Tensors, numbers, strings, bools and "
            f"None are saved (no pickle)"
        )
    array = np.asarray(value) if scalar else backend.to_host(data)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"numnet.save: cannot save {where}, an array of dtype {array.dtype}: "
            f"only numeric and bool arrays are saved (no pickle); save strings "
            f"as Python strings or lists"
        )
    arrays.append(array)
    return {"scalar" if scalar else "array": len(arrays) - 1}


def load(f, map_location=None):
    """Load what :func:`save` wrote, never executing anything from the file.

    Args:
        f: a path or a binary file object.
        map_location: ``None`` or ``"cpu"``: arrays are NumPy arrays; a device
            (``"cuda"``, ``"cuda:1"``, a :class:`numnet.Device`): arrays are put
            there with ``numnet.device(map_location).put``.

    Returns:
        The saved object: dicts, lists, tuples, NumPy arrays (Tensors come back
        as arrays), numbers, strings, bools and None.

    Raises:
        FileNotFoundError: when the file does not exist.
        SaveFormatError: (a ValueError) for a foreign, truncated or crafted
            file, naming the file and what is wrong; a model saved with
            ``model.save`` is pointed to ``models.load_model``.
    """
    target = _target_device(map_location)
    archive = _savefile.Archive(*_savefile.open_archive(f))
    with archive.zf:
        meta = _read_meta(archive)
        count = meta["arrays"]
        _check_arrays(archive, count)
        reader = _Reader(archive, count, target)
        return reader.decode(meta["tree"])


def _target_device(map_location):
    if map_location is None:
        return None
    from numnet.backend.device import device

    target = device(map_location)
    return None if target.type == "cpu" else target


def _read_meta(archive) -> dict:
    label = archive.label
    if len(archive.infos) > MAX_MEMBERS:
        raise _fail(
            label,
            f"the archive has {len(archive.infos)} entries (at most {MAX_MEMBERS})",
        )
    if _savefile.META not in archive.names():
        raise _fail(label, f"the '{_savefile.META}' metadata entry is missing")
    shape, _, nbytes = archive.header(_savefile.META)
    if len(shape) != 1 or nbytes > MAX_STRUCTURE_BYTES:
        raise _fail(
            label, f"the metadata entry has shape {shape} (at most "
            f"{MAX_STRUCTURE_BYTES} bytes)",
        )  # fmt: skip
    raw = archive.read(_savefile.META, "u").tobytes()
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _fail(label, f"corrupt metadata ({type(exc).__name__})") from None
    check_depth(meta, label)
    _check_meta(meta, label)
    return meta


def _check_meta(meta, label: str) -> None:
    kind = meta.get("format") if isinstance(meta, dict) else None
    if kind == _savefile.FORMAT:
        raise SaveFormatError(
            f"{label}: this is a model file (model.save / save_weights); load it "
            f"with numnet.models.load_model or model.load_weights"
        )
    if kind != FORMAT:
        raise _fail(label, f"unknown format {kind!r} (expected {FORMAT!r})")
    check_format_version(meta.get("format_version"), FORMAT_VERSION, label)
    count = meta.get("arrays")
    if not _is_count(count) or count > MAX_MEMBERS:
        raise _fail(
            label, f"'arrays' must be an int in [0, {MAX_MEMBERS}]; got {count!r}"
        )
    if "tree" not in meta:
        raise _fail(label, "the metadata has no 'tree' (the saved structure)")


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_arrays(archive, count: int) -> None:
    """Every array's header, and their total size, before anything is read."""
    total = 0
    for i in range(count):
        _, _, nbytes = archive.header(f"arrays/{i}")
        total += nbytes
    if total > _savefile.MAX_LOAD_BYTES:
        raise _fail(
            archive.label,
            f"the arrays declare {total} bytes, over the load limit of "
            f"{_savefile.MAX_LOAD_BYTES} (numnet._savefile.MAX_LOAD_BYTES)",
        )


class _Reader:
    """Decode the checked JSON tree (its depth is bounded, so recursion is
    safe), reading each array entry once."""

    def __init__(self, archive, count: int, target):
        self.archive, self.count, self.target = archive, count, target
        self.read: dict[int, object] = {}

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if isinstance(node, dict) and len(node) == 1 and "tuple" in node:
            return tuple(self.decode(v) for v in self._list(node["tuple"]))
        if isinstance(node, dict) and node.keys() == {"dict", "values"}:
            return self._dict(node)
        if isinstance(node, dict) and len(node) == 1 and node.keys() <= _ARRAY_TAGS:
            return self._array(node)
        raise self._bad(f"an unknown node {_short(node)}")

    def _dict(self, node: dict) -> dict:
        keys, values = self._list(node["dict"]), self._list(node["values"])
        bad = [k for k in keys if isinstance(k, bool) or not isinstance(k, (str, int))]
        if len(keys) != len(values) or bad or len(set(keys)) != len(keys):
            raise self._bad(f"a malformed dict {_short(node)}")
        return {k: self.decode(v) for k, v in zip(keys, values, strict=True)}

    def _array(self, node: dict):
        (tag, index), = node.items()  # fmt: skip
        if not _is_count(index) or index >= self.count:
            raise self._bad(f"the array index {index!r} (the file holds {self.count})")
        if index not in self.read:
            value = self.archive.read(f"arrays/{index}", "biuf")
            if self.target is not None:
                value = self.target.put(value)
            self.read[index] = value
        value = self.read[index]
        if tag == "scalar":
            if self.target is not None or value.shape != ():
                return value
            return value[()]
        return value

    def _list(self, value) -> list:
        if not isinstance(value, list):
            raise self._bad(f"{_short(value)} where a list belongs")
        return value

    def _bad(self, what: str) -> SaveFormatError:
        return _fail(self.archive.label, f"the structure holds {what}")


_ARRAY_TAGS = frozenset({"array", "scalar"})


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."
