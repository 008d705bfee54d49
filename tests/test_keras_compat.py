"""Keras spellings real programs use: Keras 2 arguments, utils, Nadam, metrics, summary.

Each expectation is Keras 3's documented behaviour (keras.io API pages).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import numnet
from numnet import layers, metrics, models, optimizers, utils, viz


def test_mean_metric_called_on_a_value():  # bug 5: Mean()(3.0)
    m = metrics.Mean()
    assert m(3.0) == 3.0
    assert m([1.0, 5.0]) == 3.0  # running mean of 3, 1, 5
    m.reset_states()  # Keras 2 spelling
    assert m.result() == 0.0
    acc = metrics.SparseCategoricalAccuracy()
    assert acc([1], np.array([[0.1, 0.9]])) == 1.0  # (y_true, y_pred) still works


@pytest.mark.parametrize(
    "name",
    [
        "SGD",
        "RMSprop",
        "Adam",
        "AdamW",
        "Adagrad",
        "Nadam",
        "Adamax",
        "Lion",
        "Adadelta",
    ],
)
def test_every_optimizer_takes_lr_and_has_lr(name):
    opt = getattr(optimizers, name)(lr=0.05)
    assert opt.learning_rate == opt.lr == 0.05
    opt.lr = 0.01
    assert opt.learning_rate == 0.01


def test_keras2_decay_is_inverse_time_decay():
    opt = optimizers.SGD(lr=0.1, decay=0.5)
    w = numnet.Parameter(np.array([0.0], np.float32))
    for _ in range(2):
        w.grad = np.array([1.0], np.float32)
        opt.apply([w])
    # Keras 2: lr_t = lr / (1 + decay * t) for t = 0, 1
    np.testing.assert_allclose(w.data, [-(0.1 + 0.1 / 1.5)], rtol=1e-6)


def test_unknown_optimizer_keywords_name_numnets_spelling():
    with pytest.raises(TypeError, match="'eps'; numnet spells it epsilon"):
        optimizers.Adam(eps=1e-8)
    with pytest.raises(TypeError, match="Valid arguments: learning_rate, momentum"):
        optimizers.SGD(mom=0.9)


def _nadam_reference(w, grads, lr=0.1, b1=0.9, b2=0.999, eps=1e-7):
    """Keras 3's Nadam (keras/src/optimizers/nadam.py), written out in float64."""
    m = v = 0.0
    product = 1.0
    for t, g in enumerate(grads, start=1):
        u_t = b1 * (1 - 0.5 * 0.96**t)
        u_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        product *= u_t
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        m_hat = u_next * m / (1 - product * u_next) + (1 - u_t) * g / (1 - product)
        w = w - lr * m_hat / (math.sqrt(v / (1 - b2**t)) + eps)
    return w


def test_nadam_matches_keras_formulas_for_three_steps():
    grads = [0.5, -0.2, 0.3]
    w = numnet.Parameter(np.array([1.0]), dtype="float64")
    opt = optimizers.get("nadam")
    opt.learning_rate = 0.1
    for g in grads:
        w.grad = np.array([g])
        opt.apply([w])
    np.testing.assert_allclose(w.data, [_nadam_reference(1.0, grads)], rtol=1e-12)
    # the first step by hand: m_hat = 0.48528*0.05/(1-0.468*0.48528) + 0.5 = 0.531394
    np.testing.assert_allclose(_nadam_reference(1.0, [0.5]), 1 - 0.1 * 0.531394 / 0.5,
                               rtol=1e-6)  # fmt: skip
    restored = optimizers.deserialize(optimizers.serialize(opt))
    assert isinstance(restored, optimizers.Nadam) and restored.beta_2 == 0.999


def test_layer_keras2_spellings():
    assert layers.Dense(3, input_dim=4)._input_shape == (4,)
    model = models.Sequential([layers.Dense(3, input_dim=4), layers.Dense(1)])
    assert model.built and model.count_params() == 4 * 3 + 3 + 4
    assert layers.LeakyReLU(alpha=0.1).negative_slope == 0.1
    assert layers.Input(batch_shape=(None, 5, 2)).shape == (None, 5, 2)
    assert layers.Dense(2, batch_input_shape=(None, 7))._input_shape == (7,)
    with pytest.raises(ValueError, match="'shape'"):
        layers.Input()


def test_unknown_layer_keywords_name_numnets_spelling():
    with pytest.raises(TypeError, match=r"'in_features' -> input_shape=\(n,\)"):
        layers.Dense(3, in_features=4)
    with pytest.raises(TypeError, match=r"Dense: unexpected keyword argument\(s\)"):
        layers.Dense(3, foo=1)


def test_summary_prints_and_returns_none(capsys):
    model = models.Sequential([layers.Input((4,)), layers.Dense(2)])
    assert model.summary() is None
    printed = capsys.readouterr().out
    assert printed.strip() == model.summary_string().strip()
    assert "Total params: 10" in printed


def test_summary_before_build_prints_what_it_can(capsys):
    model = models.Sequential([layers.Dense(4), layers.Dense(2, name="head")])
    model.summary()
    text = capsys.readouterr().out
    assert "head (Dense)" in text and "0 (unbuilt)" in text
    assert "model.build(input_shape=" in text


def test_to_categorical_keras_semantics():
    out = utils.to_categorical(np.array([[1], [0], [2]]))  # (N, 1) -> (N, 3)
    np.testing.assert_array_equal(out, np.eye(3)[[1, 0, 2]])
    assert utils.to_categorical([1, 3], num_classes=5).shape == (2, 5)
    assert utils.to_categorical(np.array([0.0, 1.0])).shape == (2, 2)
    with pytest.raises(ValueError, match="num_classes"):
        utils.to_categorical([3], num_classes=2)


def test_pad_sequences_keras_semantics():
    seqs = [[1, 2, 3], [4, 5], [], [6, 7, 8, 9]]
    pre = utils.pad_sequences(seqs)  # maxlen = longest; pad and cut at the start
    np.testing.assert_array_equal(
        pre, [[0, 1, 2, 3], [0, 0, 4, 5], [0, 0, 0, 0], [6, 7, 8, 9]]
    )
    assert pre.dtype == np.int32
    post = utils.pad_sequences(seqs, maxlen=3, padding="post", truncating="post",
                               value=-1)  # fmt: skip
    np.testing.assert_array_equal(post, [[1, 2, 3], [4, 5, -1], [-1] * 3, [6, 7, 8]])
    cut_pre = utils.pad_sequences(seqs, maxlen=2)
    np.testing.assert_array_equal(cut_pre, [[2, 3], [4, 5], [0, 0], [8, 9]])
    floats = utils.pad_sequences([[0.5]], maxlen=2, dtype="float32")
    np.testing.assert_array_equal(floats, [[0.0, 0.5]])
    vectors = utils.pad_sequences([np.ones((2, 3)), np.ones((1, 3))], dtype="float32")
    assert vectors.shape == (2, 2, 3) and vectors[1, 0].sum() == 0
    with pytest.raises(ValueError, match="'padding'"):
        utils.pad_sequences(seqs, padding="middle")


def test_pad_sequences_matches_keras_when_installed():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    seqs = [list(rng.integers(1, 9, rng.integers(0, 7))) for _ in range(20)]
    for padding in ("pre", "post"):
        for truncating in ("pre", "post"):
            kw = {"maxlen": 4, "padding": padding, "truncating": truncating}
            np.testing.assert_array_equal(
                utils.pad_sequences(seqs, **kw),
                keras.utils.pad_sequences(seqs, **kw),
            )


def test_set_random_seed_makes_numnet_and_numpy_reproducible():
    utils.set_random_seed(7)
    a = (numnet.random.normal((3,)).numpy(), np.random.rand(2))  # noqa: NPY002
    utils.set_random_seed(7)
    b = (numnet.random.normal((3,)).numpy(), np.random.rand(2))  # noqa: NPY002
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_array_to_img_scales_to_bytes():
    image = utils.array_to_img(np.linspace(0, 1, 12).reshape(2, 2, 3))
    assert image.size == (2, 2) and image.mode == "RGB"
    pixels = np.asarray(image)
    assert pixels.min() == 0 and pixels.max() == 255
    gray = utils.array_to_img(np.ones((4, 5, 1)) * 7, scale=False)
    assert gray.mode == "L" and np.asarray(gray).max() == 7
    assert utils.img_to_array(gray).shape == (4, 5, 1)
    with pytest.raises(ValueError, match=r"x\[\.\.\., None\]"):
        utils.array_to_img(np.ones((4, 5)))


def _two_input_model():
    a, b = layers.Input((4,), name="a"), layers.Input((3,), name="b")
    merged = layers.concatenate([a, b])
    return models.Model([a, b], layers.Dense(2, name="out")(merged))


def test_plot_model_on_a_multi_input_model(tmp_path):  # bug 2
    rows = {r[0]: r for r in viz.model_rows(_two_input_model())}
    assert rows["a"][2] == "(None, 4)" and rows["b"][2] == "(None, 3)"
    assert rows["out"][2] == "(None, 2)"
    fig = utils.plot_model(_two_input_model(), to_file=str(tmp_path / "m.png"),
                           show_shapes=True)  # fmt: skip
    assert (tmp_path / "m.png").stat().st_size > 0
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("(None, 7)" in t for t in texts)


def test_plot_model_with_an_unknown_axis():  # bug 2: input shape (None,)
    inputs = layers.Input((None,), dtype="int32")
    seq = layers.LSTM(3, return_sequences=True)(layers.Embedding(10, 4)(inputs))
    rows = viz.model_rows(models.Model(inputs, seq))
    assert [r[2] for r in rows] == [
        "(None, None)",
        "(None, None, 4)",
        "(None, None, 3)",
    ]
    sequential = models.Sequential(
        [layers.Input((None,)), layers.Embedding(10, 4), layers.LSTM(3)]
    )
    assert [r[2] for r in viz.model_rows(sequential)] == [
        "(None, None, 4)",
        "(None, 3)",
    ]


def test_plot_model_show_shapes_and_layer_names():
    model = models.Sequential([layers.Input((4,)), layers.Dense(2, name="head")])
    bare = viz.plot_model(model, show_shapes=False, show_layer_names=False)
    texts = " ".join(t.get_text() for t in bare.axes[0].texts)
    assert "head" not in texts and "(None, 2)" not in texts and "Dense" in texts
    full = viz.plot_model(model)
    texts = " ".join(t.get_text() for t in full.axes[0].texts)
    assert "head" in texts and "(None, 2)" in texts


def test_lowercase_aliases_are_the_classes():
    from numnet import initializers, regularizers

    assert isinstance(regularizers.l2(1e-4), regularizers.L2)
    assert regularizers.l2(1e-4).l2 == pytest.approx(1e-4)
    assert regularizers.l1 is regularizers.L1
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.he_normal(seed=0)((3, 4)).shape == (3, 4)
    dense = layers.Dense(2, kernel_initializer=initializers.zeros(),
                         kernel_regularizer=regularizers.l2(0.1))  # fmt: skip
    dense(np.ones((1, 3), np.float32))
    assert not dense.kernel.numpy().any()


@pytest.mark.parametrize(
    ("helper", "cls", "kwargs"),
    [
        ("add", "Add", {}),
        ("subtract", "Subtract", {}),
        ("multiply", "Multiply", {}),
        ("average", "Average", {}),
        ("maximum", "Maximum", {}),
        ("minimum", "Minimum", {}),
        ("concatenate", "Concatenate", {"axis": -1}),
        ("dot", "Dot", {"axes": 1}),
    ],
)
def test_functional_merge_helpers_equal_their_layers(helper, cls, kwargs, rng):
    a = rng.normal(size=(2, 3)).astype(np.float32)
    b = rng.normal(size=(2, 3)).astype(np.float32)
    out = getattr(layers, helper)([numnet.tensor(a), numnet.tensor(b)], **kwargs)
    ref = getattr(layers, cls)(**kwargs)([numnet.tensor(a), numnet.tensor(b)])
    np.testing.assert_allclose(out.numpy(), ref.numpy())
    x, y = layers.Input((3,)), layers.Input((3,))
    model = models.Model([x, y], getattr(layers, helper)([x, y], **kwargs))
    np.testing.assert_allclose(model.predict([a, b], verbose=0), ref.numpy(), rtol=1e-6)


def test_image_layers_teach_channels_last():
    model = models.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(4, 3)])
    with pytest.raises(ValueError, match=r"channels-last \(N, H, W, C\); add a "
                       r"channel axis with x\[\.\.\., None\]"):  # fmt: skip
        model.predict(np.zeros((2, 28, 28), np.float32), verbose=0)
    with pytest.raises(
        ValueError, match=r"looks channels-first.*transpose\(0, 2, 3, 1\)"
    ):
        model.predict(np.zeros((2, 1, 28, 28), np.float32), verbose=0)
    with pytest.raises(ValueError, match=r"add a channel axis"):
        layers.MaxPooling2D()(np.zeros((2, 28, 28), np.float32))
