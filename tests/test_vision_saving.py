"""Save/load round trips of the vision models: YOLO, FCN, similarity head,
classic nets (through the architecture tests' weights path)."""

from __future__ import annotations

import numpy as np

from numnet import layers, models
from numnet.applications import yolo_small
from numnet.vision import similarity_head, to_fully_convolutional


def _round_trip(model, x, tmp_path):
    path = str(tmp_path / f"{model.name}.npz")
    model.save(path)
    again = models.load_model(path)
    np.testing.assert_allclose(
        again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6
    )
    return again


def test_yolo_small_round_trip(rng, tmp_path):
    model = yolo_small(
        (32, 32, 1), num_anchors=2, num_classes=3, stage_filters=(4, 8), head_filters=8
    )
    _round_trip(model, rng.uniform(size=(2, 32, 32, 1)).astype("float32"), tmp_path)


def test_fully_convolutional_model_round_trip(rng, tmp_path):
    model = models.Sequential(
        [
            layers.Input((8, 8, 1)),
            layers.Conv2D(2, 3),
            layers.Flatten(),
            layers.Dense(3),
        ]
    )
    fcn = to_fully_convolutional(model)
    again = _round_trip(
        fcn, rng.uniform(size=(1, 12, 10, 1)).astype("float32"), tmp_path
    )
    assert again.input_shape == (None, None, None, 1)


def test_similarity_head_round_trip(rng, tmp_path):
    head = similarity_head(5)
    e = [rng.normal(size=(4, 5)).astype("float32") for _ in range(2)]
    np.testing.assert_allclose(
        head.predict(e, verbose=0)[:, 0],
        1
        / (
            1
            + np.exp(
                -(
                    np.abs(e[0] - e[1]) @ head.get_layer("same").kernel.data[:, 0]
                    + head.get_layer("same").bias.data[0]
                )
            )
        ),
        rtol=1e-5,
    )
    _round_trip(head, e, tmp_path)
