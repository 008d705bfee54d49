"""Reader and writer for the IDX format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then
the data in C order, big-endian::

    byte 0-1   0x00 0x00
    byte 2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
               0x0D float32, 0x0E float64
    byte 3     number of dimensions
    then       ndim x uint32 sizes, then prod(sizes) elements

So labels (ubyte, 1-D) have the magic number 2049 (0x00000801) and images
(ubyte, 3-D) 2051 (0x00000803). Files may be gzipped; the gzip magic bytes are
detected, whatever the file name says.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

#: IDX element-type code -> big-endian NumPy dtype.
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}

LABELS_MAGIC = 2049
IMAGES_MAGIC = 2051

#: Largest data section read_idx accepts (bytes); a header declaring more is an
#: IDXError before anything is allocated or decompressed.
MAX_IDX_BYTES = 1 << 31


class IDXError(ValueError):
    """A file that is not a valid IDX file (corrupt, truncated or foreign)."""


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into an array.

    Args:
        data: the whole file content.
        source: a name for error messages (usually the file path).

    Returns:
        An array in native byte order with the shape stored in the header.

    Raises:
        IDXError: on a bad magic number, an unknown element type, or a data
            section that is shorter or longer than the header announces.
    """
    if len(data) < 4:
        raise IDXError(
            f"{source}: not an IDX file: expected at least a 4-byte magic number, "
            f"received {len(data)} bytes"
        )
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    magic = int.from_bytes(data[:4], "big")
    if zero != 0 or code not in IDX_DTYPES or ndim == 0:
        raise IDXError(
            f"{source}: not an IDX file: bad magic number 0x{magic:08X} (expected "
            f"0x0000TTDD with a known type TT and DD >= 1 dimensions, e.g. "
            f"{LABELS_MAGIC} for labels or {IMAGES_MAGIC} for images)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(
            f"{source}: truncated IDX header: {ndim} dimensions need {header} "
            f"bytes, the file has {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    found = len(data) - header
    if found != expected:
        state = "truncated" if found < expected else "has trailing bytes"
        raise IDXError(
            f"{source}: IDX file {state}: shape {shape} of {dtype.name} needs "
            f"{expected} data bytes, found {found}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file, gzipped or raw.

    Args:
        path: the file to read.
        expected_magic: when given (e.g. 2051 for images), a file with another
            magic number is rejected.

    Returns:
        The array (uint8 for MNIST files), writeable, in native byte order.

    Raises:
        FileNotFoundError: when the file does not exist.
        IDXError: on a corrupt, truncated or foreign file.
    """
    path = os.fspath(path)
    raw = _read_bounded(path)
    if expected_magic is not None and len(raw) >= 4:
        magic = int.from_bytes(raw[:4], "big")
        if magic != expected_magic:
            raise IDXError(
                f"{path}: wrong IDX magic number: expected {expected_magic} "
                f"(0x{expected_magic:08X}), received {magic} (0x{magic:08X})"
            )
    array = parse_idx(raw, source=path)
    return array if array.flags.writeable else array.copy()


def _read_bounded(path: str) -> bytes:
    """The (decompressed) bytes of an IDX file, reading no more than its header
    declares plus one byte, and nothing when it declares over MAX_IDX_BYTES."""
    with open(path, "rb") as f:
        is_gzip = f.read(2) == b"\x1f\x8b"
    opener = gzip.open if is_gzip else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4)
            ndim = head[3] if len(head) == 4 else 0
            head += f.read(4 * ndim)
            size = _declared_bytes(head, path)
            return head + f.read(size + 1)  # one more byte reveals trailing data
    except (OSError, EOFError, zlib.error) as exc:
        raise IDXError(f"{path}: corrupt or truncated gzip data ({exc})") from exc


def _declared_bytes(head: bytes, path: str) -> int:
    if len(head) < 4 or head[2] not in IDX_DTYPES or len(head) < 4 + 4 * head[3]:
        return 0  # parse_idx reports the bad header
    shape = struct.unpack(f">{head[3]}I", head[4:])
    size = math.prod(shape) * IDX_DTYPES[head[2]].itemsize
    if size > MAX_IDX_BYTES:
        raise IDXError(
            f"{path}: the IDX header declares shape {shape} ({size} bytes), over "
            f"the limit of {MAX_IDX_BYTES} bytes (numnet.datasets.idx.MAX_IDX_BYTES)"
        )
    return size


def write_idx(path, array, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (gzipped when ``compress`` or the name ends .gz).

    Args:
        path: destination file.
        array: an array of uint8, int8, int16, int32, float32 or float64.
        compress: gzip the file; default: True when ``path`` ends with ``.gz``.

    Raises:
        TypeError: for a dtype the IDX format cannot hold.
    """
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise TypeError(
            f"write_idx: invalid dtype. Expected one of uint8, int8, int16, int32, "
            f"float32, float64. Received: dtype={array.dtype}"
        )
    code = _CODES[native]
    header = struct.pack(">HBB", 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, IDX_DTYPES[code]).tobytes()
    path = os.fspath(path)
    if compress is None:
        compress = path.endswith(".gz")
    if compress:
        payload = gzip.compress(payload, mtime=0)
    with open(path, "wb") as f:
        f.write(payload)
