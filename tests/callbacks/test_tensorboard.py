"""TensorBoard event files: read back by an independent parser and by TensorBoard."""

from __future__ import annotations

import glob
import os
import struct

import numpy as np
import pytest

from numnet import callbacks, layers, models
from numnet.callbacks import _events


def _crc32c_bitwise(data: bytes) -> int:
    # bit-at-a-time CRC-32C: an independent check of the table-driven writer
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def _unmask(masked: int) -> int:
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot << 15) | (rot >> 17)) & 0xFFFFFFFF


def read_records(path: str) -> list[bytes]:
    """TFRecord reader that checks both checksums of every record."""
    blob, records, i = open(path, "rb").read(), [], 0
    while i < len(blob):
        header = blob[i : i + 8]
        (length,) = struct.unpack("<Q", header)
        (head_crc,) = struct.unpack("<I", blob[i + 8 : i + 12])
        assert _unmask(head_crc) == _crc32c_bitwise(header)
        data = blob[i + 12 : i + 12 + length]
        (data_crc,) = struct.unpack("<I", blob[i + 12 + length : i + 16 + length])
        assert _unmask(data_crc) == _crc32c_bitwise(data)
        records.append(data)
        i += 16 + length
    return records


def parse_proto(data: bytes) -> dict[int, list]:
    """Generic protobuf wire-format decoder: field number -> raw values."""
    out: dict[int, list] = {}
    i = 0

    def varint():
        nonlocal i
        shift = value = 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while i < len(data):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            value = varint()
        elif wire == 1:
            value, i = data[i : i + 8], i + 8
        elif wire == 5:
            value, i = data[i : i + 4], i + 4
        elif wire == 2:
            n = varint()
            value, i = data[i : i + n], i + n
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        out.setdefault(field, []).append(value)
    return out


def read_events(log_dir: str) -> list[dict]:
    """[{"step", "scalars": {tag: value}, "histograms": {tag: (min, max, num)}}]."""
    (path,) = glob.glob(os.path.join(log_dir, "events.out.tfevents.*"))
    events = []
    for record in read_records(path):
        fields = parse_proto(record)
        entry = {"step": fields.get(2, [0])[0], "scalars": {}, "histograms": {},
                 "version": fields.get(3, [b""])[0]}  # fmt: skip
        for summary in fields.get(5, []):
            for value in parse_proto(summary).get(1, []):
                v = parse_proto(value)
                tag = v[1][0].decode()
                if 2 in v:
                    entry["scalars"][tag] = struct.unpack("<f", v[2][0])[0]
                if 5 in v:
                    h = parse_proto(v[5][0])
                    entry["histograms"][tag] = tuple(
                        struct.unpack("<d", h[k][0])[0] for k in (1, 2, 3)
                    )
        events.append(entry)
    return events


def test_crc32c_check_value_and_masking():
    assert _events.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    data = bytes(range(256)) * 3
    assert _events.crc32c(data) == _crc32c_bitwise(data)
    assert _unmask(_events.masked_crc32c(data)) == _events.crc32c(data)


def test_varint_encodes_large_and_negative_steps():
    event = parse_proto(_events.event(300, 1.0))
    assert event[2] == [300]
    assert parse_proto(_events.event(-1, 1.0))[2] == [2**64 - 1]  # int64 -1


def _fit_with_board(tmp_path, rng, **kwargs):
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = models.Sequential([layers.Input((4,)), layers.Dense(3, name="hidden"),
                               layers.Dense(2, name="out")])  # fmt: skip
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    board = callbacks.TensorBoard(log_dir=tmp_path / "run", **kwargs)
    history = model.fit(x, y, epochs=3, batch_size=10, validation_data=(x, y),
                        callbacks=[board], verbose=0)  # fmt: skip
    return model, history.history


def test_epoch_scalars_follow_keras_layout(tmp_path, rng):
    _, history = _fit_with_board(tmp_path, rng)
    train = read_events(str(tmp_path / "run" / "train"))
    assert train[0]["version"] == b"brain.Event:2"
    epochs = [e for e in train if e["scalars"]]
    assert [e["step"] for e in epochs] == [0, 1, 2]
    np.testing.assert_allclose([e["scalars"]["epoch_loss"] for e in epochs],
                               history["loss"], rtol=1e-6)  # fmt: skip
    assert epochs[0]["scalars"]["epoch_learning_rate"] == pytest.approx(0.01)
    assert "epoch_accuracy" in epochs[0]["scalars"]
    val = [e for e in read_events(str(tmp_path / "run" / "validation")) if e["scalars"]]
    np.testing.assert_allclose([e["scalars"]["epoch_loss"] for e in val],
                               history["val_loss"], rtol=1e-6)  # fmt: skip


def test_batch_scalars_and_histograms(tmp_path, rng):
    model, _ = _fit_with_board(tmp_path, rng, histogram_freq=2, update_freq=2)
    train = read_events(str(tmp_path / "run" / "train"))
    batch_steps = [e["step"] for e in train if "batch_loss" in e["scalars"]]
    assert batch_steps == [2, 4, 6, 8, 10, 12]  # 4 batches an epoch, every 2nd
    hists = [e for e in train if e["histograms"]]
    assert [e["step"] for e in hists] == [0, 2]  # epochs 0 and 2
    kernel = model.layers[0].kernel.numpy()
    low, high, num = hists[-1]["histograms"]["hidden/kernel/histogram"]
    assert (low, high, num) == pytest.approx((kernel.min(), kernel.max(), 12))
    assert len(hists[-1]["histograms"]) == len(model.weights)


def test_tensorboard_reads_the_files(tmp_path, rng):
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    )
    _, history = _fit_with_board(tmp_path, rng, histogram_freq=1)
    acc = accumulator.EventAccumulator(str(tmp_path / "run" / "train"))
    acc.Reload()
    assert "epoch_loss" in acc.Tags()["scalars"]
    losses = [s.value for s in acc.Scalars("epoch_loss")]
    np.testing.assert_allclose(losses, history["loss"], rtol=1e-6)
    assert [s.step for s in acc.Scalars("epoch_loss")] == [0, 1, 2]
    assert "out/bias/histogram" in acc.Tags()["histograms"]


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="update_freq"):
        callbacks.TensorBoard(update_freq="sometimes")
    with pytest.raises(TypeError, match="unexpected"):
        callbacks.TensorBoard(logdir="x")
    callbacks.TensorBoard(write_graph=True, profile_batch=0)  # Keras's, ignored
