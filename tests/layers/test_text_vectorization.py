"""TextVectorization against Keras 3's documented examples, a plain-Python
oracle, configs, errors, and a text classifier on real license texts."""

from __future__ import annotations

import re
import string
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import numnet
from numnet import layers, models

LICENSES = Path("/usr/share/common-licenses")


def test_text_vectorization_keras_doc_examples():
    layer = layers.TextVectorization(max_tokens=5000, output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    np.testing.assert_array_equal(
        layer([["foo qux bar"], ["qux baz"]]).numpy(), [[4, 1, 3, 0], [1, 2, 0, 0]]
    )
    known = layers.TextVectorization(
        max_tokens=5000,
        output_sequence_length=4,
        vocabulary=["earth", "wind", "and", "fire"],
    )
    assert known.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    np.testing.assert_array_equal(
        known([["earth wind and also fire"]]).numpy(), [[2, 3, 4, 1]]
    )


def _oracle_tokens(text: str) -> list[str]:
    """Keras's standardisation in plain Python: lower, drop punctuation, split."""
    return text.lower().translate(str.maketrans("", "", string.punctuation)).split()


def test_text_vectorization_against_a_python_oracle(rng):
    words = ["Alpha", "beta,", "GAMMA", "delta!", "eps", "zeta's", "eta", "theta."]
    texts = [" ".join(rng.choice(words, rng.integers(0, 9))) for _ in range(60)]
    layer = layers.TextVectorization(max_tokens=7)
    layer.adapt(texts)
    docs = [_oracle_tokens(t) for t in texts]
    counts = Counter(w for d in docs for w in d)
    ranked = sorted(counts, key=lambda w: (-counts[w], [-ord(c) for c in w]))[:5]
    assert layer.get_vocabulary() == ["", "[UNK]", *ranked]
    index = {w: i for i, w in enumerate(layer.get_vocabulary())}
    longest = max(len(d) for d in docs)
    expected = [[index.get(w, 1) for w in d] + [0] * (longest - len(d)) for d in docs]
    np.testing.assert_array_equal(layer(texts).numpy(), expected)

    tf_idf = layers.TextVectorization(output_mode="tf_idf", ngrams=2)
    tf_idf.adapt(texts)
    grams = [d + [f"{a} {b}" for a, b in zip(d, d[1:], strict=False)] for d in docs]
    vocab = tf_idf.get_vocabulary()
    df = Counter(g for d in grams for g in set(d))
    idf = np.log(1 + len(texts) / (1 + np.array([df[g] for g in vocab[1:]])))
    np.testing.assert_allclose(tf_idf.lookup.idf_weights[1:], idf)
    out = tf_idf(texts[:4]).numpy()
    for row, d in zip(out, grams[:4], strict=True):
        c = Counter(d)
        np.testing.assert_allclose(
            row[1:], [c[g] * w for g, w in zip(vocab[1:], idf, strict=True)], rtol=1e-6
        )


def test_text_vectorization_modes_and_splits():
    layer = layers.TextVectorization(output_mode="count", vocabulary=["a", "b"])
    assert layer.get_vocabulary() == ["[UNK]", "a", "b"]  # no mask outside "int"
    np.testing.assert_array_equal(
        layer(["A b, B!", "c"]).numpy(), [[0, 1, 2], [1, 0, 0]]
    )
    padded = layers.TextVectorization(
        output_mode="multi_hot", max_tokens=6, pad_to_max_tokens=True, vocabulary=["a"]
    )
    assert padded(["a a"]).shape == (1, 6)
    chars = layers.TextVectorization(
        split="character", standardize=None, vocabulary=["a", "b"]
    )
    np.testing.assert_array_equal(chars(["abA", "b"]).numpy(), [[2, 3, 1], [3, 0, 0]])
    whole = layers.TextVectorization(split=None, vocabulary=["new york"])
    np.testing.assert_array_equal(whole(["New York", "Paris"]).numpy(), [[2], [1]])
    custom = layers.TextVectorization(
        standardize=lambda t: np.char.upper(t),
        split=lambda t: [s.split("-") for s in t.tolist()],
        vocabulary=["A", "B"],
    )
    np.testing.assert_array_equal(custom(["a-b-c"]).numpy(), [[2, 3, 1]])
    with pytest.raises(
        TypeError, match="TextVectorization.*callable for 'standardize'"
    ):
        custom.get_config()


def test_text_vectorization_config_round_trip_and_model_save(tmp_path):
    layer = layers.TextVectorization(max_tokens=20, ngrams=(1, 3), output_mode="tf_idf")
    layer.adapt(["one two three", "two three four", "five"])
    again = layers.TextVectorization.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    np.testing.assert_allclose(
        again(["two three x"]).numpy(), layer(["two three x"]).numpy()
    )

    vectorize = layers.TextVectorization(output_sequence_length=5)
    vectorize.adapt(["the cat sat", "the dog ran far away"])
    model = models.Sequential(
        [
            vectorize,
            layers.Embedding(10, 3),
            layers.GlobalAveragePooling1D(),
            layers.Dense(2),
        ]
    )
    model.build((None, 1))
    model.save(tmp_path / "text.npz")
    loaded = models.load_model(tmp_path / "text.npz")
    assert loaded.layers[0].get_vocabulary() == vectorize.get_vocabulary()
    texts = np.array(["the dog sat", "a cat"])
    ids = vectorize(texts)
    np.testing.assert_array_equal(loaded.layers[0](texts).numpy(), ids.numpy())
    np.testing.assert_allclose(loaded.predict(texts), model.predict(texts), rtol=1e-6)
    tail = models.Sequential(loaded.layers[1:])
    np.testing.assert_allclose(
        tail.predict(ids.numpy()),
        models.Sequential(model.layers[1:]).predict(ids.numpy()),
        rtol=1e-6,
    )


def test_only_a_model_that_starts_with_a_string_layer_takes_texts():
    numbers = models.Sequential([layers.Dense(2)])
    numbers.build((None, 3))
    with pytest.raises(TypeError, match="predict: invalid dtype for argument 'x'"):
        numbers.predict(np.array(["a b", "c"]))
    with pytest.raises(TypeError, match="dense.*dtype.*<U"):
        layers.Dense(2)(np.array([["a", "b"]]))


def test_text_vectorization_errors_name_the_argument():
    with pytest.raises(ValueError, match="TextVectorization.*'standardize'.*'upper'"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="TextVectorization.*'split'.*'comma'"):
        layers.TextVectorization(split="comma")
    with pytest.raises(ValueError, match="TextVectorization.*'output_mode'.*'one_hot'"):
        layers.TextVectorization(output_mode="one_hot")
    with pytest.raises(
        ValueError, match="TextVectorization.*'output_sequence_length'.*'count'"
    ):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="TextVectorization.*'ngrams'.*ngrams=0"):
        layers.TextVectorization(ngrams=0)
    with pytest.raises(ValueError, match="TextVectorization.*'ragged'"):
        layers.TextVectorization(ragged=True)
    with pytest.raises(TypeError, match="TextVectorization.*texts.*int"):
        layers.TextVectorization(vocabulary=["a"])(np.array([1, 2]))
    with pytest.raises(
        ValueError, match="TextVectorization.*\\(N,\\) or \\(N, 1\\).*\\(2, 2\\)"
    ):
        layers.TextVectorization(vocabulary=["a"])([["a", "b"], ["c", "d"]])


def _license_paragraphs():
    names = ["GPL-3", "LGPL-2.1", "MPL-2.0", "GFDL-1.3", "Apache-2.0"]
    texts, labels = [], []
    for label, name in enumerate(names):
        text = (LICENSES / name).read_text(encoding="utf-8", errors="replace")
        paragraphs = [p for p in re.split(r"\n\s*\n", text) if len(p.split()) >= 8]
        texts += paragraphs
        labels += [label] * len(paragraphs)
    return np.array(texts), np.array(labels)


@pytest.mark.skipif(not (LICENSES / "MPL-2.0").exists(), reason="no license texts")
def test_text_classifier_learns_which_license_a_paragraph_is_from():
    texts, labels = _license_paragraphs()
    order = np.random.default_rng(0).permutation(len(texts))
    texts, labels = texts[order], labels[order]
    split = int(0.75 * len(texts))
    numnet.manual_seed(0)
    vectorize = layers.TextVectorization(max_tokens=3000, output_sequence_length=80)
    vectorize.adapt(texts[:split])  # the vocabulary of the training paragraphs
    classifier = models.Sequential(
        [
            vectorize,
            layers.Embedding(3000, 16),
            layers.GlobalAveragePooling1D(),
            layers.Dense(5, activation="softmax"),
        ]
    )
    classifier.compile(
        optimizer=numnet.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    classifier.fit(texts[:split], labels[:split], epochs=30, batch_size=32, verbose=0)
    accuracy = classifier.evaluate(texts[split:], labels[split:], verbose=0)[1]
    majority = np.bincount(labels[split:]).max() / (len(labels) - split)
    # five licenses, GPL-3 (the largest) about a third of the paragraphs: a
    # bag of embedded words must beat the majority class by a wide margin
    print(f"license classifier: accuracy {accuracy:.3f}, majority {majority:.3f}")
    assert accuracy > majority + 0.25, (accuracy, majority)
