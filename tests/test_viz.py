"""Every numnet.viz plot renders headless (Agg) to a non-empty image of the
right size."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.image import imread  # noqa: E402

from numnet import layers, viz  # noqa: E402


class _TinyNet:
    """A sequential stand-in: a list of real numnet layers, no layer_outputs."""

    def __init__(self):
        self.name = "tiny"
        self.layers = [
            layers.Flatten(input_shape=(6, 6, 1)),
            layers.Dense(8, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ]


def _check_png(fig, path):
    """The saved PNG has the figure's pixel size and is not a blank canvas."""
    image = imread(path)
    width, height = fig.get_size_inches() * fig.dpi
    assert image.shape[:2] == (round(height), round(width))
    assert image.shape[2] in (3, 4)
    # Something was drawn: many distinct colours, and not all white.
    assert len(np.unique(image.reshape(-1, image.shape[2]), axis=0)) > 10
    assert image[..., :3].mean() < 0.99


def test_plot_history(tmp_path):
    history = {
        "loss": [1.0, 0.6, 0.4],
        "val_loss": [1.1, 0.8, 0.7],
        "accuracy": [0.6, 0.8, 0.9],
        "val_accuracy": [0.55, 0.7, 0.75],
    }
    fig = viz.plot_history(history, path=tmp_path / "history.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].lines) == 2  # train and validation
    _check_png(fig, tmp_path / "history.png")


def test_plot_history_accepts_a_history_object_and_rejects_unknown(tmp_path):
    class History:
        history = {"loss": [0.5, 0.25]}

    fig = viz.plot_history(History())
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), [0.5, 0.25])
    with pytest.raises(ValueError, match="unknown metric"):
        viz.plot_history(History(), metrics=["accuracy"])
    with pytest.raises(ValueError, match="history"):
        viz.plot_history({})


def test_plot_filters_gray_and_rgb(rng, tmp_path):
    fig = viz.plot_filters(rng.normal(size=(5, 5, 1, 20)), path=tmp_path / "f.png")
    _check_png(fig, tmp_path / "f.png")
    grid = fig.axes[0].images[0].get_array()
    assert grid.shape == (4 * 6 - 1, 5 * 6 - 1)  # 5 columns x 4 rows of 5x5 tiles
    rgb = viz.plot_filters(rng.normal(size=(3, 3, 3, 4)), path=tmp_path / "rgb.png")
    assert rgb.axes[0].images[0].get_array().shape[-1] == 3
    _check_png(rgb, tmp_path / "rgb.png")


def test_plot_filters_of_a_layer_and_errors(rng):
    dense = layers.Dense(4)
    dense(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match="KH, KW, C_in, C_out"):
        viz.plot_filters(dense)  # a 2-D kernel is not a convolution
    with pytest.raises(ValueError, match="channel"):
        viz.plot_filters(rng.normal(size=(3, 3, 2, 4)), channel=2)


def test_plot_feature_maps_and_layer_activations(rng, tmp_path):
    net = _TinyNet()
    x = rng.random((4, 6, 6, 1)).astype(np.float32)
    acts = viz.layer_activations(net, x[:1])
    assert [a.shape for _, a in acts] == [(1, 36), (1, 8), (1, 3)]
    fig = viz.plot_feature_maps(net, x, path=tmp_path / "maps.png")
    assert len(fig.axes) == 4  # the input and three layers
    _check_png(fig, tmp_path / "maps.png")


def test_plot_feature_maps_uses_layer_outputs(rng, tmp_path):
    class ConvLike:
        def layer_outputs(self, x):
            return [("conv", np.tile(x, (1, 1, 1, 5))), ("dense", np.ones((1, 10)))]

    x = rng.random((1, 8, 8, 1))
    fig = viz.plot_feature_maps(ConvLike(), x, max_channels=4, path=tmp_path / "m.png")
    conv_row = fig.axes[1].images[0].get_array()
    assert conv_row.shape == (8, 4 * 9 - 1)  # four channel tiles in a row
    _check_png(fig, tmp_path / "m.png")


def test_plot_model(tmp_path):
    rows = viz.model_rows(_TinyNet())
    assert [r[1:] for r in rows] == [
        ("Flatten", "(None, 36)", 0, []),
        ("Dense", "(None, 8)", 36 * 8 + 8, []),
        ("Dense", "(None, 3)", 8 * 3 + 3, []),
    ]
    fig = viz.plot_model(_TinyNet(), path=tmp_path / "model.png")
    assert fig.axes[0].get_title() == f"tiny: {36 * 8 + 8 + 27:,} params"
    _check_png(fig, tmp_path / "model.png")


def test_plot_model_of_sequential_and_functional_models(tmp_path):
    from numnet.models import Model, Sequential

    seq = Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    assert [r[2] for r in viz.model_rows(seq)] == ["(None, 4)", "(None, 2)"]
    inputs = layers.Input(shape=(3,))
    hidden = layers.Dense(4, name="hidden")(inputs)
    skip = layers.Dense(4, name="skip")(inputs)
    merged = layers.Add(name="merge")([hidden, skip])
    graph = Model(inputs, layers.Dense(1, name="out")(merged))
    rows = {r[0]: r for r in viz.model_rows(graph)}
    assert rows["merge"][4] == ["hidden", "skip"]  # a branch: inputs are named
    assert rows["merge"][2] == "(None, 4)" and rows["hidden"][4] == []
    fig = viz.plot_model(graph, path=tmp_path / "graph.png")
    _check_png(fig, tmp_path / "graph.png")


def test_plot_confusion_matrix(rng, tmp_path):
    y_true = rng.integers(0, 4, 200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 4, 200))
    counts = viz.confusion_counts(y_true, y_pred)
    assert counts.sum() == 200 and np.trace(counts) == (y_true == y_pred).sum()
    assert counts[1, 2] == np.sum((y_true == 1) & (y_pred == 2))
    names = ["a", "b", "c", "d"]
    fig = viz.plot_confusion_matrix(
        y_true,
        np.eye(4)[y_pred],
        class_names=names,
        normalize=True,
        path=tmp_path / "cm.png",
    )
    assert fig.axes[0].get_title() == f"accuracy {np.mean(y_true == y_pred):.4f}"
    assert len(fig.axes[0].texts) == 16
    _check_png(fig, tmp_path / "cm.png")


def test_plot_misclassified(rng, tmp_path):
    x = rng.random((30, 28 * 28))  # flat rows are reshaped to 28x28
    y_true = np.arange(30) % 3
    probs = np.eye(3)[(y_true + (np.arange(30) % 4 == 0)) % 3] * 0.8 + 0.05
    fig = viz.plot_misclassified(
        x, y_true, probs, ["x", "y", "z"], max_images=6, path=tmp_path / "err.png"
    )
    titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titled) == 6 and titled[0] == "x\n→ y (0.85)"
    _check_png(fig, tmp_path / "err.png")
    none = viz.plot_misclassified(x[:3], y_true[:3], y_true[:3])
    assert "no misclassified" in none.axes[0].texts[0].get_text()


def test_plot_decision_boundary(rng, tmp_path):
    x = rng.normal(size=(100, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)

    def predict(points):  # the true XOR-like rule, as a probability of class 1
        return 0.5 + 0.5 * np.tanh(5 * points[:, 0] * points[:, 1])

    fig = viz.plot_decision_boundary(
        predict, x, y, resolution=50, path=tmp_path / "boundary.png"
    )
    assert fig.axes[0].get_title() == "decision boundary (accuracy 1.000)"
    _check_png(fig, tmp_path / "boundary.png")
    three = viz.plot_decision_boundary(
        lambda p: np.eye(3)[(p[:, 0] > 0).astype(int) + (p[:, 0] > 1)],
        x,
        x[:, 0] > 0,
        30,
    )
    assert three.axes[0].get_title().startswith("decision boundary")
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        viz.plot_decision_boundary(predict, np.zeros((5, 3)), np.zeros(5))


def test_svg_output_and_bad_suffix(tmp_path):
    fig = viz.plot_history({"loss": [1.0, 0.5]}, path=tmp_path / "h.svg")
    assert "<svg" in (tmp_path / "h.svg").read_text()[:1000]
    with pytest.raises(ValueError, match="path"):
        viz.plot_history({"loss": [1.0]}, path=tmp_path / "h.docx")
    assert fig.canvas is not None


def test_importing_numnet_does_not_import_matplotlib():
    import subprocess
    import sys

    code = (
        "import sys, numnet, numnet.viz, numnet.data, numnet.tuning; "
        "print('matplotlib' in sys.modules, 'scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"], out.stderr
