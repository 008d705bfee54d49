"""Save/load: round trips, resumed training, safety, atomic writes (Keras's tests)."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest

import numnet
from numnet import callbacks, layers, models, optimizers, saving


def make_model(seed=0):
    numnet.manual_seed(seed)
    return models.Sequential(
        [
            layers.Dense(16, activation="relu", input_shape=(4,)),
            layers.BatchNormalization(),
            layers.Dropout(0.3),
            layers.Dense(3, activation="softmax"),
        ]
    )


def data(rng, n=96):
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    return x, y


def trained(rng, epochs=2):
    x, y = data(rng)
    model = make_model()
    model.compile(
        optimizers.Adam(0.01, amsgrad=True),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
    return model, x, y


def files_in(directory) -> list[str]:
    return sorted(os.listdir(directory))


def test_round_trip_is_bit_identical_and_keeps_compile_state(rng, tmp_path):
    model, x, y = trained(rng)
    path = tmp_path / "model.npz"
    model.save(path)
    clone = models.load_model(path)
    assert type(clone) is models.Sequential and clone.name == model.name
    np.testing.assert_array_equal(
        clone.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    for a, b in zip(clone.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert type(clone.optimizer) is optimizers.Adam
    assert clone.optimizer.get_config() == model.optimizer.get_config()
    assert clone.optimizer.iterations == model.optimizer.iterations == 12
    for a, b in zip(clone.optimizer.variables, model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a, b)
    assert clone.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    assert files_in(tmp_path) == ["model.npz"]


def test_continuing_after_reload_equals_uninterrupted_training(rng, tmp_path):
    model, x, y = trained(rng)
    model.save(tmp_path / "ckpt.npz")
    numnet.manual_seed(42)  # same shuffles and dropout masks for both runs
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    resumed = models.load_model(tmp_path / "ckpt.npz")
    numnet.manual_seed(42)
    resumed.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for a, b in zip(resumed.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_metadata_and_file_layout(rng, tmp_path):
    model, _, _ = trained(rng, epochs=1)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as f:
        names = set(f.files)
        meta = json.loads(f["__numnet__"].tobytes().decode())
    assert meta["format"] == "numnet.model" and meta["numnet_version"]
    assert "date_saved" in meta and meta["class_name"] == "Sequential"
    assert "weights/0000" in names and "optimizer/iterations" in names
    assert "optimizer/0/v_hat" in names
    model.save(tmp_path / "bare.npz", include_optimizer=False)
    meta, arrays = saving.read_file(tmp_path / "bare.npz")
    assert meta["compile_config"] is None and not any("optimizer" in k for k in arrays)
    assert models.load_model(tmp_path / "bare.npz").compiled is None


def test_weights_only_round_trip_into_an_unbuilt_model(rng, tmp_path):
    model, x, _ = trained(rng, epochs=1)
    model.save_weights(tmp_path / "w.npz")
    fresh = models.Sequential(
        [
            layers.Dense(16, activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.3),
            layers.Dense(3, activation="softmax"),
        ]
    )
    fresh.load_weights(tmp_path / "w.npz")  # built from the recorded input shape
    np.testing.assert_array_equal(
        fresh.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    with pytest.raises(saving.SaveFormatError, match="weights only"):
        models.load_model(tmp_path / "w.npz")


def test_file_objects(rng):
    model, x, _ = trained(rng, epochs=1)
    buffer = io.BytesIO()
    model.save(buffer)
    buffer.seek(0)
    clone = models.load_model(buffer)
    np.testing.assert_array_equal(
        clone.predict(x, verbose=0), model.predict(x, verbose=0)
    )


def test_mismatched_architecture_is_refused(rng, tmp_path):
    model, _, _ = trained(rng, epochs=1)
    model.save_weights(tmp_path / "w.npz")
    other = models.Sequential(
        [
            layers.Dense(16, input_shape=(5,)),
            layers.BatchNormalization(),
            layers.Dense(3),
        ]
    )
    with pytest.raises(ValueError, match="must match shape \\(5, 16\\)"):
        other.load_weights(tmp_path / "w.npz")
    small = models.Sequential([layers.Dense(3, input_shape=(4,))])
    with pytest.raises(ValueError, match="holds 8 weights, the model"):
        small.load_weights(tmp_path / "w.npz")


def test_subclassed_model_needs_custom_objects(tmp_path, rng):
    class Net(models.Model):
        def __init__(self, name=None, trainable=True):
            super().__init__(name=name, trainable=trainable)
            self.hidden = layers.Dense(5, activation="tanh")
            self.out = layers.Dense(2)

        def call(self, x, training=False):
            return self.out(self.hidden(x))

    net = Net()
    x = rng.normal(size=(3, 4)).astype(np.float32)
    net.compile("sgd", "mse")
    net.fit(x, np.zeros((3, 2), np.float32), verbose=0)
    net.save(tmp_path / "net.npz")
    with pytest.raises(ValueError, match="Unknown layer class 'Net'"):
        models.load_model(tmp_path / "net.npz")
    clone = models.load_model(tmp_path / "net.npz", custom_objects={"Net": Net})
    np.testing.assert_array_equal(
        clone.predict(x, verbose=0), net.predict(x, verbose=0)
    )


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "not a valid numnet save"),
        (b"garbage that is not a zip file", "not a valid numnet save"),
    ],
)
def test_foreign_bytes_are_refused(tmp_path, content, match):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(saving.SaveFormatError, match=match):
        models.load_model(path)


def test_truncated_save_is_refused(rng, tmp_path):
    model, _, _ = trained(rng, epochs=1)
    model.save(tmp_path / "m.npz")
    raw = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(saving.SaveFormatError, match="not a valid numnet save"):
        models.load_model(tmp_path / "cut.npz")


def test_foreign_npz_and_pickled_objects_are_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(saving.SaveFormatError, match="'__numnet__' metadata entry"):
        models.load_model(tmp_path / "plain.npz")
    evil = np.array([{"payload": "os.system"}], dtype=object)  # pickled by savez
    np.savez(tmp_path / "evil.npz", __numnet__=evil)
    with pytest.raises(saving.SaveFormatError, match="not numeric"):
        models.load_model(tmp_path / "evil.npz")


def _write_meta(path, meta):
    raw = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(path, __numnet__=raw)


def test_config_naming_a_function_is_refused(tmp_path):
    meta = {
        "format": "numnet.model",
        "format_version": 1,
        "kind": "model",
        "class_name": "os.system",
        "config": {"command": "echo pwned"},
        "weights": [],
    }
    _write_meta(tmp_path / "m.npz", meta)
    with pytest.raises(ValueError, match="Unknown layer class 'os.system'"):
        models.load_model(tmp_path / "m.npz")
    meta["class_name"] = "Sequential"
    meta["config"] = {"layers": [{"class_name": "builtins.eval", "config": {}}]}
    _write_meta(tmp_path / "m.npz", meta)
    with pytest.raises(ValueError, match="Unknown layer class 'builtins.eval'"):
        models.load_model(tmp_path / "m.npz")
    meta["format_version"] = 99
    _write_meta(tmp_path / "m.npz", meta)
    with pytest.raises(saving.SaveFormatError, match="format version 99"):
        models.load_model(tmp_path / "m.npz")


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failed_save_keeps_the_previous_file(rng, tmp_path, monkeypatch, error):
    model, x, y = trained(rng, epochs=1)
    path = tmp_path / "model.npz"
    model.save(path)
    before = path.read_bytes()
    model.fit(x, y, epochs=1, verbose=0)  # new weights, then a save that dies

    def dying_savez(f, **arrays):
        f.write(b"PK\x03\x04 half of a zip")
        raise error

    monkeypatch.setattr(saving.np, "savez", dying_savez)
    with pytest.raises(type(error)):
        model.save(path)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["model.npz"]  # no temporary file left


def test_unserializable_config_leaves_no_file(tmp_path):
    model = models.Sequential([layers.Lambda(lambda t: t * 2, input_shape=(3,))])
    with pytest.raises(Exception, match="(?i)serial|JSON|lambda"):
        model.save(tmp_path / "m.npz")
    assert files_in(tmp_path) == []


def test_unbuilt_model_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="not built"):
        models.Sequential([layers.Dense(2)]).save(tmp_path / "m.npz")


def test_model_checkpoint_writes_loadable_files(rng, tmp_path):
    x, y = data(rng)
    model = make_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    cb = callbacks.ModelCheckpoint(str(tmp_path / "ep{epoch}.npz"))
    best = callbacks.ModelCheckpoint(
        tmp_path / "best.npz",
        monitor="loss",
        save_best_only=True,
        save_weights_only=True,
    )
    model.fit(x, y, epochs=2, verbose=0, callbacks=[cb, best])
    assert files_in(tmp_path) == ["best.npz", "ep1.npz", "ep2.npz"]
    clone = models.load_model(tmp_path / "ep2.npz")
    np.testing.assert_array_equal(
        clone.predict(x, verbose=0), model.predict(x, verbose=0)
    )


def test_saving_into_a_missing_directory_names_it(tmp_path):
    from numnet.saving import atomic_write

    target = tmp_path / "no_such_dir" / "model.npz"
    with pytest.raises(FileNotFoundError, match="no_such_dir"):
        atomic_write(target, lambda f: f.write(b"x"))
    assert not target.parent.exists()
