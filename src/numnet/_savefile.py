"""Reading a numnet save file without trusting it: bounded, lazy, checked.

A save is a zip of ``.npy`` entries (see :mod:`numnet.saving`). Nothing is
allocated before it was checked:

* the file must be a regular file starting with the zip magic bytes;
* only the entries the format names are read (the metadata, the weights it
  lists, the optimizer state); any other entry is ignored, never decompressed;
* each entry's ``.npy`` header is parsed first: its dtype must be the kind the
  format expects (no objects), its byte count must equal the size the zip
  directory declares, and the total must stay under :data:`MAX_LOAD_BYTES`;
* the metadata JSON is size- and depth-bounded and its fields type-checked;
* the sizes a model config declares (units, filters, shapes) are checked
  against the stored weights before any layer is built.

Every failure is a :class:`SaveFormatError` naming the file and the entry.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import struct
import zipfile
import zlib

import numpy as np

from numnet._savefile_meta import (  # noqa: F401 (re-export: numnet._savefile.<name>)
    FORMAT,
    FORMAT_VERSION,
    MAX_DEPTH,
    MAX_SAMPLE_ELEMENTS,
    SaveFormatError,
    _fail,
    check_config_sizes,
    check_depth,
    check_meta,
    check_shape_field,
)

META = "__numnet__"

#: Upper bound on the bytes one load may allocate for arrays (weights + slots).
MAX_LOAD_BYTES = 16 << 30
#: Upper bound on the metadata entry (JSON text).
MAX_META_BYTES = 64 << 20

_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,  # unsupported compression method or zip feature
    RuntimeError,  # encrypted entries
    OSError,
    EOFError,
    ValueError,
    KeyError,
    struct.error,
    zlib.error,
    UnicodeDecodeError,
    OverflowError,
)
_WEIGHT_KEY = re.compile(r"weights/(\d{4,})")
_SLOT_KEY = re.compile(r"optimizer/(\d+)/(\w+)")


def open_archive(filepath) -> tuple[zipfile.ZipFile, str]:
    """Open ``filepath`` (a path or a binary file object) as a zip; check the magic."""
    if hasattr(filepath, "read"):
        label = "<file object>"
        head = filepath.read(4)
        filepath.seek(0)
    else:
        label = os.fspath(filepath)
        head = _read_head(label)
    if head != b"PK\x03\x04":
        raise _fail(label, _describe_foreign(head))
    try:
        return zipfile.ZipFile(filepath if hasattr(filepath, "read") else label), label
    except _ZIP_ERRORS as exc:
        raise _fail(label, f"the zip archive is corrupt ({exc})") from None


def _read_head(path: str) -> bytes:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"No such file: {path!r}") from None
    except OSError as exc:  # symlink loop, permission, name too long
        raise _fail(path, f"the file cannot be opened ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise _fail(path, "it is not a regular file (a device, pipe or directory)")
    with open(path, "rb") as f:
        return f.read(4)


def _describe_foreign(head: bytes) -> str:
    if head.startswith(b"\x93NUM"):
        return "it is a single NumPy .npy array, not a numnet .npz archive"
    if head.startswith(b"\x1f\x8b"):
        return "it is gzip data, not a numnet .npz (zip) archive"
    if not head:
        return "the file is empty"
    return (
        f"a numnet save is a zip archive (starting b'PK\\x03\\x04'); this file "
        f"starts {head!r}"
    )


class Archive:
    """The entries of an open save, read one by one with checked headers."""

    def __init__(self, zf: zipfile.ZipFile, label: str):
        self.zf, self.label = zf, label
        try:
            self.infos = {info.filename: info for info in zf.infolist()}
        except _ZIP_ERRORS as exc:
            raise _fail(label, f"the zip directory is corrupt ({exc})") from None
        self.budget = MAX_LOAD_BYTES

    def names(self) -> list[str]:
        """Entry names without the ``.npy`` suffix."""
        return [n[:-4] for n in self.infos if n.endswith(".npy")]

    def header(self, name: str) -> tuple[tuple, np.dtype, int]:
        """(shape, dtype, nbytes) of entry ``name``, from its .npy header only."""
        with self._open(name) as fp:
            return self._parse_header(fp, name)[:3]

    def read(self, name: str, kinds: str) -> np.ndarray:
        """Read entry ``name``; its dtype kind must be one of ``kinds`` (e.g. "f")."""
        with self._open(name) as fp:
            shape, dtype, nbytes, fortran = self._parse_header(fp, name)
            if dtype.kind not in kinds:
                raise _fail(
                    self.label,
                    f"entry {name!r} has dtype {dtype}; expected a "
                    f"{_KIND_NAMES.get(kinds, kinds)} array",
                )
            if nbytes > self.budget:
                raise _fail(
                    self.label,
                    f"entry {name!r} declares {nbytes} bytes, over the load limit "
                    f"of {MAX_LOAD_BYTES} bytes (numnet._savefile.MAX_LOAD_BYTES)",
                )
            self.budget -= nbytes
            out = np.empty(nbytes, dtype=np.uint8)
            try:
                got = _read_into(fp, out)
            except _ZIP_ERRORS as exc:
                raise _fail(self.label, f"entry {name!r} is corrupt ({exc})") from None
        if got != nbytes:
            raise _fail(self.label, f"entry {name!r} is truncated")
        return out.view(dtype).reshape(shape, order="F" if fortran else "C")

    def _open(self, name: str):
        info = self.infos.get(name + ".npy")
        if info is None:
            raise _fail(self.label, f"the entry {name!r} is missing")
        try:
            return self.zf.open(info)
        except _ZIP_ERRORS as exc:
            raise _fail(self.label, f"entry {name!r} cannot be read ({exc})") from None

    def _parse_header(self, fp, name: str):
        try:
            version = np.lib.format.read_magic(fp)
            reader = {
                (1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0,
            }[version]
            shape, fortran, dtype = reader(fp, max_header_size=10_000)
        except _ZIP_ERRORS as exc:
            raise _fail(
                self.label, f"entry {name!r} has no valid .npy header ({exc})"
            ) from None
        if dtype.hasobject or dtype.kind not in "biuf":
            raise _fail(self.label, f"entry {name!r} has dtype {dtype}, not numeric")
        nbytes = math.prod(shape) * dtype.itemsize
        declared = self.infos[name + ".npy"].file_size - fp.tell()
        if nbytes != declared:
            raise _fail(
                self.label,
                f"entry {name!r}: its header declares shape {shape} of {dtype} "
                f"({nbytes} bytes) but the archive holds {declared} data bytes",
            )
        return shape, dtype, nbytes, fortran


_KIND_NAMES = {"f": "floating-point", "iu": "integer", "u": "uint8"}


def _read_into(fp, out: np.ndarray) -> int:
    view, got = memoryview(out), 0
    while got < len(out):
        n = fp.readinto(view[got:])
        if not n:
            break
        got += n
    return got


def read_meta(archive: Archive) -> dict:
    """The metadata dict, size- and depth-bounded, with its fields type-checked."""
    label = archive.label
    if META not in archive.names():
        found = sorted(archive.names())[:5]
        raise _fail(label, f"the '{META}' metadata entry is missing (found {found})")
    shape, _, nbytes = archive.header(META)
    if len(shape) != 1 or nbytes > MAX_META_BYTES:
        raise _fail(label, f"the metadata entry has shape {shape}")
    raw = archive.read(META, "u")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _fail(label, f"corrupt metadata ({type(exc).__name__})") from None
    check_depth(meta, label)
    check_meta(meta, label)
    return meta


def check_weight_entries(archive: Archive, meta: dict) -> None:
    """Every weight the metadata lists is stored with that shape, within the limit."""
    total = 0
    for i, (name, shape) in enumerate(meta["weights"]):
        key = f"weights/{i:04d}"
        stored, dtype, nbytes = archive.header(key)
        if list(stored) != shape:
            raise _fail(
                archive.label,
                f"entry {key!r} ({name}) holds shape {stored}, the metadata "
                f"says {shape}",
            )
        if dtype.kind != "f":
            raise _fail(archive.label, f"entry {key!r} ({name}) has dtype {dtype}")
        total += nbytes
    if total > MAX_LOAD_BYTES:
        raise _fail(archive.label, f"the weights declare {total} bytes, over the limit")


def read_weights(archive: Archive, meta: dict) -> dict:
    """``{"weights/0000": array, ...}`` for the weights the metadata lists."""
    return {
        f"weights/{i:04d}": archive.read(f"weights/{i:04d}", "f")
        for i in range(len(meta["weights"]))
    }


def read_optimizer_state(archive: Archive, meta: dict, slot_names) -> dict:
    """The optimizer entries, checked: an int ``iterations`` >= 0, finite float
    slots shaped like a stored weight, each parameter with all slots or none."""
    label = archive.label
    names = [n for n in archive.names() if n.startswith("optimizer/")]
    if not names:
        return {}
    if "optimizer/iterations" not in names:
        raise _fail(label, "the optimizer state has no 'optimizer/iterations' entry")
    iterations = archive.read("optimizer/iterations", "iu")
    if iterations.shape != () or int(iterations) < 0:
        raise _fail(
            label,
            f"'optimizer/iterations' must be an int >= 0; got {iterations.tolist()!r}",
        )
    state = {"iterations": iterations}
    if "optimizer/accumulation_calls" in names:  # an open accumulation window
        calls = archive.read("optimizer/accumulation_calls", "iu")
        if calls.shape != () or int(calls) < 0:
            raise _fail(label, "'optimizer/accumulation_calls' must be an int >= 0")
        state["accumulation_calls"] = calls
    shapes = {tuple(shape) for _, shape in meta["weights"]}
    by_param: dict[str, set] = {}
    for name in names:
        match = _SLOT_KEY.fullmatch(name)
        if match is None or match.group(2) not in slot_names:
            continue
        value = archive.read(name, "f")
        if value.shape not in shapes or not np.isfinite(value).all():
            raise _fail(
                label,
                f"optimizer slot {name!r} is not finite or its shape {value.shape} "
                f"matches no weight",
            )
        state[name[len("optimizer/") :]] = value
        by_param.setdefault(match.group(1), set()).add(match.group(2))
    for index, found in by_param.items():
        missing = sorted(set(slot_names) - found)
        if missing:
            raise _fail(
                label, f"optimizer slots {missing} of parameter {index} are missing"
            )
    return state
