"""numnet.save / numnet.load: nested state in one .npz file, no pickle, atomic
writes, and crafted files refused with a clear error in bounded memory."""

from __future__ import annotations

import io
import json
import os
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from tests.gpu.strict_device import strict_device
from tests.strict_namespace import StrictArray

import numnet
from numnet import _state_file, layers, models
from numnet.saving import SaveFormatError

MEMORY_BOUND = 32 << 20  # bytes allocated while refusing one crafted file
TIME_BOUND = 5.0


def _nested():
    return {
        "model": {"0.kernel": np.arange(6, dtype=np.float32).reshape(2, 3),
                  "0.bias": np.zeros(3, np.float64)},
        "epoch": 3,
        "lr": 1e-3,
        "name": "run \u00e9 1",
        "flags": [True, False, None],
        "pair": (1, (2.5, "x")),
        "ints": {0: np.array([1, 2], np.int64), 1: np.array(True)},
        "half": np.ones((2, 2), np.float16),
        "scalar": np.float32(2.5),
        "nan": float("nan"),
        "empty": {"list": [], "dict": {}, "tuple": ()},
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    }  # fmt: skip


def _assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for u, v in zip(a, b, strict=True):
            _assert_same(u, v)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and a != a:
        assert b != b
    else:
        assert a == b


def test_nested_structures_round_trip_with_types_dtypes_and_order(tmp_path):
    obj = _nested()
    path = tmp_path / "state.pt"
    numnet.save(obj, path)
    assert path.exists() and not (tmp_path / "state.pt.npz").exists()
    _assert_same(obj, numnet.load(path))
    _assert_same(obj, numnet.load(str(path), map_location="cpu"))
    with np.load(path, allow_pickle=False) as f:  # a plain .npz archive
        assert sorted(f.files)[:2] == ["__numnet__", "arrays/0"]


def test_tensors_come_back_as_arrays_and_buffers_work():
    buffer = io.BytesIO()
    weight = numnet.Parameter(np.ones((2, 2), np.float32))
    numnet.save([weight, numnet.tensor([1, 2])], buffer)
    buffer.seek(0)
    loaded = numnet.load(buffer)
    assert isinstance(loaded, list) and all(isinstance(a, np.ndarray) for a in loaded)
    np.testing.assert_array_equal(loaded[0], weight.numpy())


def test_unsupported_values_are_refused_naming_where_they_are(tmp_path):
    path = tmp_path / "x.pt"
    with pytest.raises(TypeError, match=r"obj\['a'\]\[1\], a function"):
        numnet.save({"a": [1, lambda: 0]}, path)
    with pytest.raises(TypeError, match="a set"):
        numnet.save({1, 2}, path)
    with pytest.raises(TypeError, match="dtype <U3"):
        numnet.save({"s": np.array(["abc"])}, path)
    with pytest.raises(TypeError, match="dtype object"):
        numnet.save(np.array([{}, 1], dtype=object), path)
    with pytest.raises(TypeError, match="keys must be strings or ints"):
        numnet.save({(1, 2): 3}, path)
    assert not path.exists()


def test_nesting_is_refused_on_save_exactly_where_load_would_refuse(tmp_path):
    path = tmp_path / "deep.pt"
    obj = 0
    deepest = None
    for _ in range(200):
        obj = [obj]
        try:
            numnet.save(obj, path)
        except ValueError as exc:
            assert "nested deeper" in str(exc)
            break
        deepest = obj
    else:
        pytest.fail("200 nested lists were saved")
    numnet.save(deepest, path)
    assert numnet.load(path) == deepest
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="nested deeper"):
        numnet.save(cyclic, path)


def test_a_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    numnet.save({"epoch": 1}, path)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        numnet.save({"epoch": 2}, path)
    monkeypatch.undo()
    assert numnet.load(path) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # no temporary left


def test_map_location_puts_arrays_on_a_device(tmp_path):
    path = tmp_path / "s.pt"
    numnet.save({"w": np.ones(3, np.float32), "n": np.int64(4)}, path)
    with strict_device():
        on_device = numnet.tensor([1.0, 2.0]).to("strict")
        numnet.save({"t": on_device, "a": on_device.data}, tmp_path / "d.pt")
        back = numnet.load(tmp_path / "d.pt")  # device arrays were copied to host
        assert all(isinstance(v, np.ndarray) for v in back.values())
        np.testing.assert_array_equal(back["a"], [1.0, 2.0])
        loaded = numnet.load(path, map_location="strict")
        assert isinstance(loaded["w"], StrictArray)
        assert isinstance(loaded["n"], StrictArray) and loaded["n"].shape == ()
        assert isinstance(numnet.load(path, map_location=numnet.device("cpu"))["w"],
                          np.ndarray)  # fmt: skip
    with pytest.raises(ValueError, match="unknown device type 'tpu'"):
        numnet.load(path, map_location="tpu")


def test_model_files_and_state_files_point_to_each_other(tmp_path):
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    model.save(tmp_path / "model.npz")
    with pytest.raises(SaveFormatError, match="models.load_model"):
        numnet.load(tmp_path / "model.npz")
    numnet.save(model.state_dict(), tmp_path / "state.pt")
    with pytest.raises(SaveFormatError, match="unknown format"):
        models.load_model(tmp_path / "state.pt")


# -- crafted files ------------------------------------------------------------------


def _npy(array=None, header=None, data=b"") -> bytes:
    buffer = io.BytesIO()
    if header is None:
        np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=True)
    else:
        np.lib.format.write_array_header_1_0(buffer, header)
        buffer.write(data)
    return buffer.getvalue()


def _meta(tree, arrays=0, **changes) -> bytes:
    meta = {"format": "numnet.state", "format_version": 1, "arrays": arrays,
            "tree": tree, **changes}  # fmt: skip
    return _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))


def _crafted(path, meta: bytes | None, entries: dict) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        if meta is not None:
            zf.writestr("__numnet__.npy", meta)
        for name, data in entries.items():
            zf.writestr(name + ".npy", data)


def _huge_header() -> bytes:
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)}
    return _npy(header=header, data=b"\0" * 64)


def _raw_meta(text: bytes) -> bytes:
    return _npy(np.frombuffer(text, np.uint8))


CRAFTED = {
    "huge_declared_shape": (_meta({"array": 0}, 1), {"arrays/0": _huge_header()}),
    "pickled_object_array": (
        _meta({"array": 0}, 1),
        {"arrays/0": _npy(np.array([{"a": 1}, None], dtype=object))},
    ),
    "string_array": (_meta({"array": 0}, 1), {"arrays/0": _npy(np.array(["a"]))}),
    "bad_json": (_raw_meta(b'{"format": "numnet.state", "tree": [1, 2'), {}),
    "not_utf8": (_raw_meta(b"\xff\xfe{}"), {}),
    "deep_json": (_raw_meta(b"[" * 5000 + b"]" * 5000), {}),
    "depth_over_limit": (_meta(json.loads("[" * 70 + "]" * 70)), {}),
    "missing_metadata": (None, {"arrays/0": _npy(np.ones(2))}),
    "unknown_format": (_meta(1, format="numnet.other"), {}),
    "newer_version": (_meta(1, format_version=99), {}),
    "bool_version": (_meta(1, format_version=True), {}),
    "array_count_too_large": (_meta(1, arrays=10**9), {}),
    "missing_array_entry": (_meta({"array": 0}, 1), {}),
    "index_out_of_range": (_meta({"array": 5}, 1), {"arrays/0": _npy(np.ones(2))}),
    "negative_index": (_meta({"array": -1}, 1), {"arrays/0": _npy(np.ones(2))}),
    "unknown_tag": (_meta({"os.system": "ls"}), {}),
    "dict_length_mismatch": (_meta({"dict": ["a", "b"], "values": [1]}), {}),
    "dict_bad_key": (_meta({"dict": [[1]], "values": [1]}), {}),
    "duplicate_keys": (_meta({"dict": ["a", "a"], "values": [1, 2]}), {}),
    "tuple_not_list": (_meta({"tuple": 3}), {}),
    "metadata_2d": (_npy(np.zeros((2, 2), np.uint8)), {}),
    "truncated_entry": (
        _meta({"array": 0}, 1),
        {"arrays/0": _npy(np.ones(100, np.float32))[:-40]},
    ),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_a_crafted_file_is_refused_clearly_fast_and_in_bounded_memory(name, tmp_path):
    meta, entries = CRAFTED[name]
    path = tmp_path / f"{name}.pt"
    _crafted(path, meta, entries)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(SaveFormatError) as info:
            numnet.load(path)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert "pickle" not in message[len(str(path)) :].lower()
    assert time.perf_counter() - start < TIME_BOUND
    assert peak < MEMORY_BOUND, peak


def test_too_many_members_are_refused_before_any_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(_state_file, "MAX_MEMBERS", 8)
    path = tmp_path / "many.pt"
    entries = {f"arrays/{i}": _npy(np.ones(1)) for i in range(8)}
    _crafted(path, _meta([{"array": i} for i in range(8)], 8), entries)
    with pytest.raises(SaveFormatError, match="the archive has 9 entries"):
        numnet.load(path)


def test_arrays_over_the_load_limit_are_refused_before_reading(tmp_path, monkeypatch):
    from numnet import _savefile

    monkeypatch.setattr(_savefile, "MAX_LOAD_BYTES", 5000)
    path = tmp_path / "big.pt"
    numnet.save([np.ones(1000, np.float32), np.ones(1000, np.float32)], path)
    with pytest.raises(SaveFormatError, match="the arrays declare 8000 bytes"):
        numnet.load(path)


def test_foreign_files_are_refused(tmp_path):
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(SaveFormatError, match="starts b'hell'"):
        numnet.load(text)
    single = tmp_path / "one.npy"
    np.save(single, np.ones(2))
    with pytest.raises(SaveFormatError, match="single NumPy .npy array"):
        numnet.load(single)
    with pytest.raises(FileNotFoundError):
        numnet.load(tmp_path / "absent.pt")
