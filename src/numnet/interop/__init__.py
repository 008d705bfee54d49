"""Interchange with Keras: read and write Keras weight files and ``.keras`` archives.

* :func:`load_keras_weights` loads a Keras 3 ``.keras``/``.weights.h5`` or a Keras 2
  ``.h5`` file into a numnet model of the same architecture (by order or by name,
  with a report of what matched);
* :func:`load_keras_model` builds the numnet model from a ``.keras`` archive's
  config and loads its weights;
* :func:`save_keras` writes a numnet model as a ``.keras`` archive Keras 3 loads.

``h5py`` is needed (``pip install "numnet[keras]"``); it is imported on first use.
ONNX export lives in :mod:`numnet.onnx`.
"""

from numnet.interop.keras_archive import load_keras_model, save_keras
from numnet.interop.keras_config import model_from_keras_config
from numnet.interop.keras_weights import (
    WeightsReport,
    load_keras_weights,
    read_keras_weights,
)

__all__ = [
    "WeightsReport",
    "load_keras_model",
    "load_keras_weights",
    "model_from_keras_config",
    "read_keras_weights",
    "save_keras",
]
