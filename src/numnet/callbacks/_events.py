"""A dependency-free writer of TensorBoard event files (scalars and histograms).

An event file is a TFRecord stream: each record is

    uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)

(little-endian), where ``data`` is a serialized ``tensorflow.Event`` protocol
buffer. Only the fields written here are encoded, by hand:

    Event:        wall_time = 1 (double), step = 2 (int64),
                  file_version = 3 (string), summary = 5 (Summary)
    Summary:      value = 1 (repeated Value)
    Value:        tag = 1 (string), simple_value = 2 (float), histo = 5
    HistogramProto: min = 1, max = 2, num = 3, sum = 4, sum_squares = 5 (double),
                  bucket_limit = 6, bucket = 7 (packed repeated double)

References: tensorflow/core/util/event.proto, core/framework/summary.proto,
core/lib/hash/crc32c.h (the mask) and the protobuf wire format.
"""

from __future__ import annotations

import os
import socket
import struct
import time

import numpy as np


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):  # reflected Castagnoli polynomial
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``, as TFRecord uses."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotate right by 15 bits and add a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data: bytes) -> bytes:
    """One length-prefixed, checksummed record."""
    header = struct.pack("<Q", len(data))
    return (
        header
        + struct.pack("<I", masked_crc32c(header))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 are ten-byte two's complement
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _bytes_field(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _varint(len(payload)) + payload


def _double_field(field: int, value: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", value)


def _histogram(values: np.ndarray, bins: int = 30) -> bytes:
    """A HistogramProto: bucket i counts values in (limit[i-1], limit[i]]."""
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        values = np.zeros(1)
    counts, edges = np.histogram(values, bins=bins)
    packed = struct.pack(f"<{len(edges) - 1}d", *edges[1:])
    return (
        _double_field(1, float(values.min()))
        + _double_field(2, float(values.max()))
        + _double_field(3, float(values.size))
        + _double_field(4, float(values.sum()))
        + _double_field(5, float(np.dot(values, values)))
        + _bytes_field(6, packed)
        + _bytes_field(7, struct.pack(f"<{len(counts)}d", *counts.astype(float)))
    )


def event(step: int, wall_time: float, values=(), histograms=(), version=None) -> bytes:
    """A serialized Event with scalar ``values`` and ``histograms`` (tag, array)."""
    summary = b"".join(
        _bytes_field(1, _bytes_field(1, tag.encode()) + _key(2, 5)
                     + struct.pack("<f", float(v)))
        for tag, v in values
    ) + b"".join(
        _bytes_field(1, _bytes_field(1, tag.encode()) + _bytes_field(5, _histogram(a)))
        for tag, a in histograms
    )  # fmt: skip
    out = _double_field(1, wall_time) + _key(2, 0) + _varint(int(step))
    if version is not None:
        out += _bytes_field(3, version.encode())
    if summary:
        out += _bytes_field(5, summary)
    return out


class EventFileWriter:
    """Append events to ``<log_dir>/events.out.tfevents.<time>.<host>``.

    The file starts with the ``brain.Event:2`` version record, as TensorFlow's
    writer does; every write is flushed, so TensorBoard sees it at once.
    """

    def __init__(self, log_dir: str):
        os.makedirs(log_dir, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}"
        self.path = os.path.join(log_dir, name)
        self._file = open(self.path, "ab")  # noqa: SIM115 - closed by close()
        self._write(event(0, time.time(), version="brain.Event:2"))

    def _write(self, data: bytes) -> None:
        self._file.write(tfrecord(data))
        self._file.flush()

    def scalars(self, step: int, values: dict) -> None:
        """Write one event with a scalar per ``{tag: value}``."""
        if values:
            self._write(event(step, time.time(), values=sorted(values.items())))

    def histograms(self, step: int, arrays: dict) -> None:
        """Write one event with a histogram per ``{tag: array}``."""
        if arrays:
            self._write(event(step, time.time(), histograms=list(arrays.items())))

    def close(self) -> None:
        """Close the file (later writes raise)."""
        self._file.close()
