"""The IDX reader and writer: round trips and every kind of corrupt file."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

from numnet.datasets.idx import IDXError, parse_idx, read_idx, write_idx

DTYPES = ["uint8", "int8", "int16", "int32", "float32", "float64"]


def _labels_bytes(values) -> bytes:
    # Written by hand (not with write_idx) so the reader is checked against the spec.
    return struct.pack(">II", 2049, len(values)) + bytes(values)


def test_parse_hand_written_labels_file():
    array = parse_idx(_labels_bytes([3, 1, 4, 1, 5]))
    assert array.dtype == np.uint8
    np.testing.assert_array_equal(array, [3, 1, 4, 1, 5])


def test_parse_hand_written_big_endian_int32_image():
    values = (np.arange(6).reshape(2, 3) - 3).astype(">i4")
    data = struct.pack(">BBBBII", 0, 0, 0x0C, 2, 2, 3) + values.tobytes()
    array = parse_idx(data)
    assert array.dtype == np.dtype("int32") and array.dtype.isnative
    np.testing.assert_array_equal(array, values)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_write_read_round_trip(tmp_path, rng, dtype, suffix):
    array = (rng.standard_normal((4, 3, 2)) * 50).astype(dtype)
    path = tmp_path / f"a-idx3-ubyte{suffix}"
    write_idx(path, array)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype)
    assert out.flags.writeable
    np.testing.assert_array_equal(out, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


@given(shape=array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5))
def test_round_trip_any_shape(tmp_path_factory, shape):
    array = np.arange(int(np.prod(shape)), dtype=np.uint8).reshape(shape)
    path = tmp_path_factory.mktemp("idx") / "x.idx"
    write_idx(path, array)
    out = read_idx(path)
    assert out.shape == shape
    np.testing.assert_array_equal(out, array)


def test_gzip_detected_by_content_not_name(tmp_path):
    path = tmp_path / "labels-without-suffix"
    path.write_bytes(gzip.compress(_labels_bytes([7, 8])))
    np.testing.assert_array_equal(read_idx(path), [7, 8])


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "at least a 4-byte magic"),
        (b"\x00\x00", "at least a 4-byte magic"),
        (b"PK\x03\x04rest", "bad magic number 0x504B0304"),
        (b"\x00\x00\x07\x01" + b"\x00" * 8, "bad magic number"),  # unknown type
        (b"\x00\x00\x08\x00", "bad magic number"),  # zero dimensions
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header"),
        (_labels_bytes([1, 2, 3])[:-1], "truncated: shape \\(3,\\)"),
        (_labels_bytes([1, 2, 3]) + b"\x00", "trailing bytes"),
    ],
)
def test_corrupt_bytes_raise_clear_errors(data, match):
    with pytest.raises(IDXError, match=match):
        parse_idx(data, source="f.idx")


def test_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    full = gzip.compress(_labels_bytes(list(range(200))))
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(IDXError, match="train-labels-idx1-ubyte.gz: corrupt or trunc"):
        read_idx(path)


def test_truncated_image_file_reports_sizes(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    write_idx(path, np.zeros((5, 4, 4), np.uint8))
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(IDXError, match="needs 80 data bytes, found 73"):
        read_idx(path)


def test_expected_magic_rejects_the_wrong_kind_of_file(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(_labels_bytes([1]))
    with pytest.raises(IDXError, match="expected 2051 .* received 2049"):
        read_idx(path, expected_magic=2051)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="Received: dtype=complex128"):
        write_idx(tmp_path / "x", np.zeros(2, np.complex128))


@given(st.binary(max_size=64))
def test_random_bytes_never_crash_with_another_error(data):
    try:
        parse_idx(data)
    except IDXError:
        pass
