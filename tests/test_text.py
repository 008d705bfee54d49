"""numnet.text: Tokenizer, pad_sequences, GloVe-format word vectors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from numnet import text


def test_word_tokenizer_orders_by_frequency_and_filters():
    tok = text.Tokenizer()
    tok.fit_on_texts(["The cat, the hat!", "A cat."])
    assert tok.word_index == {"the": 1, "cat": 2, "hat": 3, "a": 4}
    assert tok.texts_to_sequences(["the dog and the cat"]) == [[1, 1, 2]]
    assert tok.sequences_to_texts([[1, 2, 0, 3]]) == ["the cat hat"]
    assert tok.vocabulary_size == 5


def test_oov_and_num_words():
    tok = text.Tokenizer(num_words=3, oov_token="<unk>")
    tok.fit_on_texts(["b b b a a c"])
    assert tok.word_index == {"<unk>": 1, "b": 2, "a": 3, "c": 4}
    # ids >= num_words are out of vocabulary when converting
    assert tok.texts_to_sequences(["b a c z"]) == [[2, 1, 1, 1]]
    assert tok.sequences_to_texts([[2, 3, 1]]) == ["b <unk> <unk>"]
    assert tok.vocabulary_size == 3


def test_char_level_round_trip():
    tok = text.Tokenizer(char_level=True, lower=False)
    tok.fit_on_texts(["hello world"])
    seqs = tok.texts_to_sequences(["hello", "word"])
    assert tok.sequences_to_texts(seqs) == ["hello", "word"]
    assert tok.word_index["l"] == 1  # the most frequent character


def test_config_round_trip_is_json():
    tok = text.Tokenizer(oov_token="?")
    tok.fit_on_texts(["x y y z"])
    clone = text.Tokenizer.from_config(json.loads(json.dumps(tok.get_config())))
    assert clone.word_index == tok.word_index


def test_tokenizer_errors():
    with pytest.raises(ValueError, match="fit_on_texts"):
        text.Tokenizer().texts_to_sequences(["a"])
    with pytest.raises(TypeError, match="list of texts"):
        text.Tokenizer().fit_on_texts("a single string")
    with pytest.raises(ValueError, match="num_words"):
        text.Tokenizer(num_words=0)


@pytest.mark.parametrize(
    "padding,truncating,expected",
    [
        ("pre", "pre", [[0, 0, 1], [3, 4, 5]]),
        ("post", "pre", [[1, 0, 0], [3, 4, 5]]),
        ("pre", "post", [[0, 0, 1], [2, 3, 4]]),
        ("post", "post", [[1, 0, 0], [2, 3, 4]]),
    ],
)
def test_pad_sequences_keras_semantics(padding, truncating, expected):
    out = text.pad_sequences(
        [[1], [2, 3, 4, 5]], maxlen=3, padding=padding, truncating=truncating
    )
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.int32


def test_pad_sequences_default_length_value_and_vectors():
    out = text.pad_sequences([[1, 2], [], [3]], value=-1)
    np.testing.assert_array_equal(out, [[1, 2], [-1, -1], [-1, 3]])
    vec = text.pad_sequences([np.ones((2, 3)), np.ones((1, 3))], dtype="float32")
    assert vec.shape == (2, 2, 3) and vec[1, 0].sum() == 0
    assert text.pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)
    with pytest.raises(ValueError, match="padding"):
        text.pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="same shape"):
        text.pad_sequences([np.ones((1, 2)), np.ones((1, 3))])


def test_glove_format_round_trip(tmp_path, rng):
    words = ["the", "cat", "ünïcode"]
    vectors = rng.normal(size=(3, 4)).astype(np.float32)
    path = tmp_path / "vectors.txt"
    text.write_word_vectors(path, words, vectors)
    assert path.read_text(encoding="utf-8").splitlines()[1].startswith("cat ")
    got_words, got = text.read_word_vectors(path)
    assert got_words == words
    np.testing.assert_allclose(got, vectors, rtol=1e-5)
    assert text.read_word_vectors(path, limit=2)[1].shape == (2, 4)


def test_glove_reader_rejects_bad_files_and_writer_is_atomic(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2\nb 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.txt:2: 1 values"):
        text.read_word_vectors(bad)
    bad.write_text("a 1 x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="non-numeric"):
        text.read_word_vectors(bad)
    bad.write_text("a " + "1 " * 20 + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="d <= 10"):
        text.read_word_vectors(bad, max_dim=10)
    good = tmp_path / "good.txt"
    text.write_word_vectors(good, ["a"], np.ones((1, 2)))
    before = good.read_text()
    with pytest.raises(ValueError, match="whitespace"):
        text.write_word_vectors(good, ["a b"], np.ones((1, 2)))
    failing = np.array([[1.0, 2.0], ["x", 1.0]], dtype=object)  # fails mid-write
    with pytest.raises(ValueError):
        text.write_word_vectors(good, ["a", "b"], failing)
    assert good.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt", "good.txt"]


def test_embedding_matrix_follows_word_index():
    matrix = text.embedding_matrix({"b": 1, "zz": 2}, ["a", "b"], np.eye(2))
    np.testing.assert_array_equal(matrix, [[0, 0], [0, 1], [0, 0]])
