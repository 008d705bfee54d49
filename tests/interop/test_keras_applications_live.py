"""Keras-layout weight files into numnet.applications (opt in: ``-m slow``).

Keras 3 writes the files (``keras.applications`` with random weights, as the
published files cannot be downloaded here); numnet's constructors load them
with ``weights=path`` and must predict as Keras does. The style-transfer
example runs two steps on VGG-19 from such a file.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

from numnet import applications  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CASES = {
    "vgg16": (keras.applications.VGG16, applications.vgg16),
    "vgg19": (keras.applications.VGG19, applications.vgg19),
    "resnet50": (keras.applications.ResNet50, applications.resnet50),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("suffix", [".h5", ".weights.h5"])
def test_applications_load_keras_weight_files(tmp_path, name, suffix):
    make_keras, make_numnet = CASES[name]
    shape = (32, 32, 3)
    theirs = make_keras(weights=None, include_top=False, input_shape=shape)
    path = tmp_path / f"{name}{suffix}"
    if suffix == ".h5":
        theirs.save(path)  # a Keras 2 style model file, as the published ones
    else:
        theirs.save_weights(path)
    x = np.random.default_rng(0).normal(size=(2, *shape)).astype(np.float32)
    ours = make_numnet(include_top=False, input_shape=shape, weights=str(path))
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-4, rtol=1e-4
    )


def test_style_transfer_runs_on_vgg19_from_a_keras_file(tmp_path, monkeypatch):
    vgg = keras.applications.VGG19(weights=None, include_top=False,
                                   input_shape=(56, 56, 3))  # fmt: skip
    path = tmp_path / "vgg19_notop.h5"
    vgg.save(path)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    argv = ["style_transfer.py", "--weights", str(path), "--steps", "2",
            "--out", str(tmp_path)]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(EXAMPLES / "style_transfer.py"), run_name="__main__")
    assert (tmp_path / "style_transfer.png").exists()
