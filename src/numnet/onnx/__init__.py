"""Export numnet models to ONNX, to run them with any ONNX runtime.

>>> import os, tempfile
>>> import numpy as np
>>> from numnet import layers, models
>>> import numnet.onnx
>>> model = models.Sequential([
...     layers.Input((8, 8, 1)),
...     layers.Conv2D(4, 3, activation="relu"),
...     layers.MaxPooling2D(),
...     layers.Flatten(),
...     layers.Dense(3, activation="softmax"),
... ])
>>> path = os.path.join(tempfile.mkdtemp(), "model.onnx")
>>> numnet.onnx.export(model, path)     # needs the onnx package (numnet[onnx])
>>> import onnxruntime                  # doctest: +SKIP
>>> session = onnxruntime.InferenceSession(path)  # doctest: +SKIP
>>> x = np.zeros((2, 8, 8, 1), np.float32)
>>> session.run(None, {"input": x})[0].shape  # doctest: +SKIP
(2, 3)

The graph takes channels-last images as numnet does (the input is transposed
once to ONNX's channels-first where convolutions start) and has a dynamic batch
axis. Dropout and other training-only layers disappear; a layer the exporter
cannot write raises :class:`UnsupportedLayerError` naming it.
"""

from numnet.onnx._export import export
from numnet.onnx._graph import UnsupportedLayerError

__all__ = ["UnsupportedLayerError", "export"]
