"""Round trips against a live Keras 3 (opt in: ``python -m pytest -m slow``).

Needs ``keras`` and ``torch`` (``pip install keras torch==2.13.0``); skipped
without them. Keras builds and saves small models, numnet loads them; numnet
writes ``.keras`` archives, Keras loads them; predictions agree to 1e-5.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

from numnet.interop import load_keras_model, load_keras_weights, save_keras  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import make_keras_fixtures  # noqa: E402


@pytest.mark.parametrize("name", list(make_keras_fixtures.models()))
def test_both_directions_with_live_keras(tmp_path, name):
    model, x = make_keras_fixtures.models()[name]
    make_keras_fixtures.randomize(model, np.random.default_rng(3))
    model.save(tmp_path / "k.keras")
    model.save(tmp_path / "k2.h5")
    expected = model.predict(x, verbose=0)
    ours = load_keras_model(tmp_path / "k.keras")
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-5)
    load_keras_weights(ours, tmp_path / "k2.h5")
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-5)
    save_keras(ours, tmp_path / "n.keras")
    back = keras.models.load_model(tmp_path / "n.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), expected, atol=1e-5)
