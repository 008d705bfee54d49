"""Keras files in and out, checked against predictions Keras itself made.

The fixtures (``fixtures/*.keras``, ``*.weights.h5``, Keras 2 ``*.h5`` and the
inputs with Keras's outputs in ``*.npz``) were written by real Keras 3 with
``make_keras_fixtures.py``; ``test_keras_live.py`` (``-m slow``) redoes the
round trip against a live Keras.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("h5py")

from numnet import layers, models  # noqa: E402
from numnet.interop import (  # noqa: E402
    load_keras_model,
    load_keras_weights,
    read_keras_weights,
    save_keras,
)
from numnet.saving import SaveFormatError  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
NAMES = ["cnn", "rnn", "gru_v1", "bidir", "embed", "sep", "functional"]


def _expected(name):
    data = np.load(FIXTURES / f"{name}.npz")
    return data["x"], data["y"]


@pytest.mark.parametrize("name", NAMES)
def test_keras_archive_predicts_as_keras(name):
    x, y = _expected(name)
    model = load_keras_model(FIXTURES / f"{name}.keras")
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("suffix", [".weights.h5", ".h5"])
def test_weights_files_load_into_the_same_architecture(name, suffix):
    x, y = _expected(name)
    model = load_keras_model(FIXTURES / f"{name}.keras")
    for weight in model.weights:  # forget the archive's weights
        weight.data[...] = 0
    report = load_keras_weights(model, FIXTURES / f"{name}{suffix}")
    assert report.matched and not report.skipped
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-5)


def _native_cnn():
    return models.Sequential(
        [
            layers.Input((8, 8, 1)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )


def test_a_model_written_in_numnet_takes_keras_weights_by_order():
    x, y = _expected("cnn")
    model = _native_cnn()
    report = load_keras_weights(model, FIXTURES / "cnn.h5")
    assert [a for a, _ in report.matched] == [
        la.name for la in model.layers if la.weights
    ]
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-5)
    assert "loaded 3 layers" in str(report)


def test_shape_mismatch_names_the_layer_and_both_shapes():
    model = models.Sequential(
        [
            layers.Input((8, 8, 1)),
            layers.Conv2D(5, 3, activation="relu"),  # 5 filters, the file has 4
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(3),
        ]
    )
    with pytest.raises(ValueError, match=r"conv2d.*\(3, 3, 1, 5\).*\(3, 3, 1, 4\)"):
        load_keras_weights(model, FIXTURES / "cnn.h5")
    report = load_keras_weights(model, FIXTURES / "cnn.h5", skip_mismatch=True)
    assert len(report.skipped) == 3 and report.matched == []


def test_by_name_skips_layers_the_file_does_not_have():
    model = _native_cnn()
    model.layers[0].name, model.layers[1].name = "conv2d", "batch_normalization"
    model.layers[-1].name = "classifier"
    report = load_keras_weights(model, FIXTURES / "cnn.h5", by_name=True)
    assert ("classifier", "no layer of that name in the file") in report.skipped
    assert report.unused == ["dense"]


def test_numnet_archive_round_trips(tmp_path):
    for name in NAMES:
        x, y = _expected(name)
        model = load_keras_model(FIXTURES / f"{name}.keras")
        save_keras(model, tmp_path / f"{name}.keras")
        again = load_keras_model(tmp_path / f"{name}.keras")
        np.testing.assert_array_equal(
            again.predict(x, verbose=0), model.predict(x, verbose=0)
        )
        entries, keras3 = read_keras_weights(tmp_path / f"{name}.keras")
        assert keras3 and entries


def _crafted_archive(path, config):
    with zipfile.ZipFile(FIXTURES / "cnn.keras") as source:
        weights = source.read("model.weights.h5")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", weights)


@pytest.mark.parametrize(
    "class_name", ["os.system", "Lambda", "builtins.eval", "MyLayer"]
)
def test_unknown_classes_are_refused_by_name(tmp_path, class_name):
    config = json.loads(zipfile.ZipFile(FIXTURES / "cnn.keras").read("config.json"))
    config["config"]["layers"][1]["class_name"] = class_name
    _crafted_archive(tmp_path / "bad.keras", config)
    with pytest.raises(SaveFormatError, match=class_name.split(".")[-1]):
        load_keras_model(tmp_path / "bad.keras")


def test_unsupported_keras_argument_is_named(tmp_path):
    config = json.loads(zipfile.ZipFile(FIXTURES / "cnn.keras").read("config.json"))
    config["config"]["layers"][1]["config"]["groups"] = 2
    _crafted_archive(tmp_path / "bad.keras", config)
    with pytest.raises(SaveFormatError, match="groups=2"):
        load_keras_model(tmp_path / "bad.keras")


def test_foreign_files_give_save_format_error(tmp_path):
    text = tmp_path / "x.h5"
    text.write_text("not hdf5")
    with pytest.raises(SaveFormatError, match="x.h5"):
        read_keras_weights(text)
    with pytest.raises(SaveFormatError, match="not a .keras archive"):
        load_keras_model(text)
