"""CategoryEncoding, Discretization, StringLookup and IntegerLookup against
Keras 3's documented examples, independent NumPy formulas, configs and errors."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from numnet import layers, models

# -- CategoryEncoding -----------------------------------------------------------


def test_category_encoding_keras_doc_examples():
    one_hot = layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
    np.testing.assert_array_equal(
        one_hot([3, 2, 0, 1]).numpy(), np.eye(4)[[3, 2, 0, 1]]
    )
    data = [[0, 1], [0, 0], [1, 2], [3, 1]]
    multi = layers.CategoryEncoding(num_tokens=4, output_mode="multi_hot")
    np.testing.assert_array_equal(
        multi(data).numpy(), [[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]]
    )
    count = layers.CategoryEncoding(num_tokens=4, output_mode="count")
    weights = np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]])
    np.testing.assert_allclose(
        count(data, count_weights=weights).numpy(),
        [[0.1, 0.2, 0, 0], [0.2, 0, 0, 0], [0, 0.2, 0.3, 0], [0, 0.2, 0, 0.4]],
        rtol=1e-6,
    )
    assert multi(data).dtype == np.float32


def test_category_encoding_against_bincount_and_shapes(rng):
    x = rng.integers(0, 7, (50, 6))
    counts = layers.CategoryEncoding(7, output_mode="count")(x).numpy()
    expected = np.stack([np.bincount(row, minlength=7) for row in x])
    np.testing.assert_array_equal(counts, expected)
    multi = layers.CategoryEncoding(7)(x).numpy()
    np.testing.assert_array_equal(multi, expected > 0)
    assert layers.CategoryEncoding(7, "one_hot")(x).shape == (50, 6, 7)
    assert layers.CategoryEncoding(7, "one_hot")(x[:, :1]).shape == (50, 7)
    assert layers.CategoryEncoding(7)(x[0]).shape == (7,)  # rank 1: one sample


def test_category_encoding_config_and_errors():
    layer = layers.CategoryEncoding(5, output_mode="count")
    again = layers.CategoryEncoding.from_config(layer.get_config())
    assert (again.num_tokens, again.output_mode) == (5, "count")
    with pytest.raises(ValueError, match="CategoryEncoding.*'sparse'.*sparse=True"):
        layers.CategoryEncoding(5, sparse=True)
    with pytest.raises(ValueError, match="CategoryEncoding.*'num_tokens'.*=0"):
        layers.CategoryEncoding(0)
    with pytest.raises(ValueError, match="CategoryEncoding.*'output_mode'.*'int'"):
        layers.CategoryEncoding(3, output_mode="int")
    with pytest.raises(ValueError, match="CategoryEncoding.*0 <= values < 3.*max=3"):
        layers.CategoryEncoding(3)([[0, 3]])
    with pytest.raises(ValueError, match="CategoryEncoding.*rank 0, 1 or 2"):
        layers.CategoryEncoding(3)(np.zeros((2, 2, 2), int))
    with pytest.raises(TypeError, match="CategoryEncoding.*numeric.*<U"):
        layers.CategoryEncoding(3)(["a"])
    with pytest.raises(ValueError, match="CategoryEncoding.*count_weights.*shape"):
        layers.CategoryEncoding(3, "count")([[0, 1]], count_weights=[[1.0]])


# -- Discretization -------------------------------------------------------------

DOC_X = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])


def test_discretization_keras_doc_examples():
    fixed = layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    np.testing.assert_array_equal(fixed(DOC_X).numpy(), [[0, 2, 3, 1], [1, 3, 2, 1]])
    adapted = layers.Discretization(num_bins=4, epsilon=0.01)
    adapted.adapt(DOC_X)
    np.testing.assert_array_equal(adapted(DOC_X).numpy(), [[0, 2, 3, 2], [1, 3, 3, 1]])
    assert adapted(DOC_X).dtype == np.int64


def test_discretization_against_digitize_and_quantiles(rng):
    x = rng.normal(size=(400, 3))
    edges = [-1.0, -0.2, 0.0, 0.7]
    np.testing.assert_array_equal(
        layers.Discretization(bin_boundaries=edges)(x).numpy(), np.digitize(x, edges)
    )
    layer = layers.Discretization(num_bins=5, epsilon=1e-4)  # every value kept
    layer.adapt(x)
    # exact quantiles: boundary k is the sorted value at cumulative fraction k/5
    expected = np.sort(x.reshape(-1))[np.arange(1, 5) * x.size // 5 - 1]
    np.testing.assert_allclose(layer.bin_boundaries, expected)
    bins = layer(x).numpy()
    # a value equal to a boundary goes to the upper bin (Keras, np.digitize)
    np.testing.assert_array_equal(
        np.bincount(bins.reshape(-1)), [239, 240, 240, 240, 241]
    )
    one_hot = layers.Discretization(bin_boundaries=edges, output_mode="one_hot")(x)
    np.testing.assert_array_equal(one_hot.numpy(), np.eye(5)[np.digitize(x, edges)])


def test_discretization_config_and_errors():
    layer = layers.Discretization(num_bins=4)
    layer.adapt(DOC_X)
    again = layers.Discretization.from_config(layer.get_config())
    np.testing.assert_array_equal(again(DOC_X).numpy(), layer(DOC_X).numpy())
    with pytest.raises(
        ValueError, match="Discretization.*'bin_boundaries'.*'num_bins'"
    ):
        layers.Discretization()
    with pytest.raises(
        ValueError, match="Discretization.*non-decreasing.*\\[2.0, 1.0\\]"
    ):
        layers.Discretization(bin_boundaries=[2.0, 1.0])
    with pytest.raises(ValueError, match="Discretization.*'epsilon'.*epsilon=1.5"):
        layers.Discretization(num_bins=3, epsilon=1.5)
    with pytest.raises(ValueError, match="Discretization.*num_bins - 1.*num_bins=5"):
        layers.Discretization(bin_boundaries=[0.0], num_bins=5)
    with pytest.raises(ValueError, match="Discretization.*adapt"):
        layers.Discretization(num_bins=3)(DOC_X)
    with pytest.raises(ValueError, match="Discretization.adapt.*'bin_boundaries'"):
        layers.Discretization(bin_boundaries=[0.0]).adapt(DOC_X)
    with pytest.raises(TypeError, match="Discretization.*numeric"):
        layers.Discretization(bin_boundaries=[0.0])(["x"])


# -- StringLookup / IntegerLookup -----------------------------------------------

VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]
DATA4 = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]


def test_string_lookup_keras_doc_examples():
    np.testing.assert_array_equal(
        layers.StringLookup(vocabulary=VOCAB)(DATA).numpy(), [[1, 3, 4], [4, 0, 2]]
    )
    layer = layers.StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    np.testing.assert_array_equal(
        layers.StringLookup(vocabulary=VOCAB, mask_token="")(DATA).numpy(),
        [[2, 4, 5], [5, 1, 3]],
    )
    one_hot = layers.StringLookup(vocabulary=VOCAB[:3], output_mode="one_hot")
    np.testing.assert_array_equal(
        one_hot(["a", "b", "c", "z"]).numpy(), np.eye(4)[[1, 2, 3, 0]]
    )
    multi = layers.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")
    np.testing.assert_array_equal(
        multi(DATA4).numpy(), [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    )
    count = layers.StringLookup(vocabulary=VOCAB, output_mode="count")
    np.testing.assert_array_equal(
        count(DATA4).numpy(), [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]
    )
    tf_idf = layers.StringLookup(output_mode="tf_idf")
    tf_idf.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(
        tf_idf(DATA4).numpy(),
        [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]],
        rtol=1e-6,
    )
    inverse = layers.StringLookup(vocabulary=VOCAB, invert=True)
    np.testing.assert_array_equal(
        inverse([[1, 3, 4], [4, 0, 2]]), [["a", "c", "d"], ["d", "[UNK]", "b"]]
    )


def test_integer_lookup_keras_doc_examples():
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    layer = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
    np.testing.assert_array_equal(layer(data).numpy(), [[1, 3, 4], [4, 0, 2]])
    assert layer(data).dtype == np.int64
    adapted = layers.IntegerLookup()
    adapted.adapt(data)
    assert adapted.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    inverse = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], invert=True)
    np.testing.assert_array_equal(
        inverse(np.array([[1, 3, 4], [4, 0, 2]])), [[12, 1138, 42], [42, -1, 36]]
    )


def test_lookup_adapt_against_a_counter_and_a_dict(rng):
    words = np.array([f"w{i}" for i in range(40)])
    data = words[rng.zipf(1.5, (300, 8)) % 40]
    layer = layers.StringLookup(max_tokens=21, output_mode="tf_idf")
    layer.adapt(data)
    counts = Counter(data.reshape(-1).tolist())
    ranked = sorted(counts, key=lambda w: (-counts[w], [-ord(c) for c in w]))
    assert layer.get_vocabulary()[1:] == ranked[:20]
    assert layer.vocabulary_size() == 21
    index = {w: i for i, w in enumerate(layer.get_vocabulary())}
    ids = layers.StringLookup(vocabulary=ranked[:20])(data).numpy()
    np.testing.assert_array_equal(ids, [[index.get(w, 0) for w in row] for row in data])
    docs = [set(row) for row in data.tolist()]
    df = np.array([sum(w in d for d in docs) for w in ranked[:20]])
    np.testing.assert_allclose(layer.idf_weights[1:], np.log(1 + 300 / (1 + df)))
    tfidf = layer(data[:3]).numpy()
    row = Counter(data[0].tolist())
    expected = [row[w] * layer.idf_weights[index[w]] for w in ranked[:20]]
    np.testing.assert_allclose(tfidf[0, 1:], expected, rtol=1e-6)


def test_lookup_special_tokens_and_oov_indices():
    layer = layers.IntegerLookup(vocabulary=[5, 6], mask_token=0, num_oov_indices=3)
    assert layer.get_vocabulary() == [0, -1, -1, -1, 5, 6]
    np.testing.assert_array_equal(
        layer(np.array([0, 5, 6, 7, 9])).numpy(), [0, 4, 5, 2, 1]
    )
    with pytest.raises(KeyError, match="StringLookup.*num_oov_indices=0.*'z'"):
        layers.StringLookup(vocabulary=VOCAB, num_oov_indices=0)(DATA)
    # outside "int" mode the mask token has no index and masked inputs drop out
    masked = layers.StringLookup(vocabulary=VOCAB, mask_token="", output_mode="count")
    assert masked.get_vocabulary() == ["[UNK]", *VOCAB]
    np.testing.assert_array_equal(
        masked([["a", "", "z", ""]]).numpy(), [[1, 1, 0, 0, 0]]
    )
    specials = layers.StringLookup(vocabulary=["[UNK]", *VOCAB])
    assert specials.get_vocabulary() == ["[UNK]", *VOCAB]
    padded = layers.StringLookup(
        vocabulary=VOCAB, output_mode="multi_hot", max_tokens=8, pad_to_max_tokens=True
    )
    assert padded(DATA).shape == (2, 8)


def test_lookup_configs_round_trip_with_the_vocabulary():
    for layer in (
        layers.StringLookup(vocabulary=VOCAB, mask_token="", output_mode="count"),
        layers.IntegerLookup(vocabulary=[3, 1, 2], invert=True),
    ):
        again = type(layer).from_config(layer.get_config())
        assert again.get_vocabulary() == layer.get_vocabulary()
        assert again.get_config() == layer.get_config()
    tf_idf = layers.StringLookup(output_mode="tf_idf")
    tf_idf.adapt(DATA4)
    again = layers.StringLookup.from_config(tf_idf.get_config())
    np.testing.assert_allclose(again(DATA4).numpy(), tf_idf(DATA4).numpy())


def test_lookup_errors_name_the_layer_and_argument():
    with pytest.raises(ValueError, match="StringLookup.*'output_mode'.*'bad'"):
        layers.StringLookup(output_mode="bad")
    with pytest.raises(ValueError, match="IntegerLookup.*'num_oov_indices'.*-1"):
        layers.IntegerLookup(num_oov_indices=-1)
    with pytest.raises(ValueError, match="StringLookup.*invert=True.*'count'"):
        layers.StringLookup(invert=True, output_mode="count")
    with pytest.raises(ValueError, match="StringLookup.*'vocabulary'.*repeated"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="StringLookup.*'vocabulary'.*\\[UNK\\]"):
        layers.StringLookup(vocabulary=["a", "[UNK]"])
    with pytest.raises(ValueError, match="StringLookup.*max_tokens=3"):
        layers.StringLookup(vocabulary=VOCAB, max_tokens=3)
    with pytest.raises(ValueError, match="StringLookup.*'idf_weights'.*tf_idf"):
        layers.StringLookup(vocabulary=VOCAB, idf_weights=[1.0] * 4)
    with pytest.raises(ValueError, match="StringLookup.*idf weight per token \\(4\\)"):
        layers.StringLookup(vocabulary=VOCAB, idf_weights=[1.0], output_mode="tf_idf")
    with pytest.raises(TypeError, match="StringLookup.*string inputs.*int"):
        layers.StringLookup(vocabulary=VOCAB)(np.array([1, 2]))
    with pytest.raises(TypeError, match="IntegerLookup.*integer inputs.*float"):
        layers.IntegerLookup(vocabulary=[1])(np.array([1.5]))
    with pytest.raises(ValueError, match="IntegerLookup.*'oov_token'.*'x'"):
        layers.IntegerLookup(oov_token="x")
    with pytest.raises(ValueError, match="StringLookup.*'sparse'"):
        layers.StringLookup(sparse=True)


def test_adapted_layers_save_and_reload_in_a_model(tmp_path, rng):
    ids = rng.integers(0, 30, (64, 5)) * 7
    lookup = layers.IntegerLookup(max_tokens=20)
    lookup.adapt(ids)
    model = models.Sequential(
        [
            lookup,
            layers.Embedding(20, 4),
            layers.GlobalAveragePooling1D(),
            layers.Dense(3),
        ]
    )
    model.build((None, 5))
    model.save(tmp_path / "int.npz")
    again = models.load_model(tmp_path / "int.npz")
    assert again.layers[0].get_vocabulary() == lookup.get_vocabulary()
    np.testing.assert_allclose(again.predict(ids), model.predict(ids), rtol=1e-6)

    x = rng.normal(size=(64, 3))
    bins = layers.Discretization(num_bins=6)
    bins.adapt(x)
    encoder = models.Sequential(
        [bins, layers.CategoryEncoding(6, "count"), layers.Dense(2)]
    )
    encoder.build((None, 3))
    encoder.save(tmp_path / "bins.npz")
    np.testing.assert_allclose(
        models.load_model(tmp_path / "bins.npz").predict(x),
        encoder.predict(x),
        rtol=1e-6,
    )

    words = layers.StringLookup(output_mode="multi_hot")
    words.adapt(DATA4)
    text_model = models.Sequential([words, layers.Dense(2)])
    text_model.build((None, 4))
    text_model.save(tmp_path / "str.npz")
    loaded = models.load_model(tmp_path / "str.npz")
    assert loaded.layers[0].get_vocabulary() == words.get_vocabulary()
    np.testing.assert_allclose(  # numnet's models take numbers: call the layers
        loaded.layers[1](loaded.layers[0](DATA4)).numpy(),
        text_model.layers[1](words(DATA4)).numpy(),
        rtol=1e-6,
    )
