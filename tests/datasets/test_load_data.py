"""load_data: lookup order, downloads with checksums, offline errors, real files."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os

import numpy as np
import pytest

from numnet.datasets import (
    DatasetNotFoundError,
    IDXError,
    _files,
    fashion_mnist,
    mnist,
    write_idx,
)

STEMS = [stem for _, stem, _ in _files.FILES]
REAL_DIR = "/usr/share/datasets/fashion-mnist"


def _tiny_dataset(directory, rng, n_train=6, n_test=4, gz=True):
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for key, stem, _ in _files.FILES:
        write_idx(directory / (stem + (".gz" if gz else "")), arrays[key])
    return arrays


def _check(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, key in zip((x_train, y_train, x_test, y_test), arrays, strict=True):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No $NUMNET_DATA, no system directory, an empty cache, an unreachable mirror."""
    monkeypatch.delenv("NUMNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    spec = dataclasses.replace(
        fashion_mnist.SPEC,
        system_dirs=(str(tmp_path / "no-system"),),
        mirrors=((tmp_path / "no-mirror").as_uri() + "/",),
    )
    monkeypatch.setattr(fashion_mnist, "SPEC", spec)
    return tmp_path


def _mirror(tmp_path, rng, kind):
    """A file:// mirror with tiny files and a spec whose checksums match them."""
    mirror = tmp_path / "mirror"
    arrays = _tiny_dataset(mirror, rng)
    checksums = {}
    for stem in STEMS:
        raw = (mirror / (stem + ".gz")).read_bytes()
        body = gzip.decompress(raw) if kind == "idx" else raw
        checksums[stem + ".gz"] = (kind, hashlib.sha256(body).hexdigest())
    return mirror.as_uri() + "/", checksums, arrays


def test_explicit_path_raw_and_gz(tmp_path, rng):
    arrays = _tiny_dataset(tmp_path / "raw", rng, gz=False)
    _check(fashion_mnist.load_data(verify=False, path=tmp_path / "raw"), arrays)
    arrays = _tiny_dataset(tmp_path / "gz", rng)
    _check(fashion_mnist.load_data(verify=False, path=str(tmp_path / "gz")), arrays)


def test_explicit_path_missing_files_lists_them(tmp_path, rng):
    _tiny_dataset(tmp_path, rng)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DatasetNotFoundError, match="lacks \\['t10k-labels-idx1-ubyte'"):
        fashion_mnist.load_data(path=tmp_path)


def test_numnet_data_comes_before_system_dirs(monkeypatch, tmp_path, rng):
    arrays = _tiny_dataset(tmp_path / "fashion-mnist", rng)
    monkeypatch.setenv("NUMNET_DATA", str(tmp_path))
    _check(fashion_mnist.load_data(verify=False), arrays)


def test_numnet_data_may_hold_the_files_directly(isolated, monkeypatch, rng):
    arrays = _tiny_dataset(isolated / "data", rng)
    monkeypatch.setenv("NUMNET_DATA", str(isolated / "data"))
    _check(fashion_mnist.load_data(verify=False), arrays)


def test_system_dir_then_cache(isolated, monkeypatch, rng):
    cached = _tiny_dataset(isolated / "cache" / "numnet" / "fashion-mnist", rng)
    _check(fashion_mnist.load_data(verify=False), cached)
    system = _tiny_dataset(isolated / "no-system", rng)
    _check(fashion_mnist.load_data(verify=False), system)


def test_offline_error_says_how_to_get_the_files(isolated):
    with pytest.raises(DatasetNotFoundError) as info:
        fashion_mnist.load_data()
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "NUMNET_DATA" in message and "download failed" in message
    assert "train-images-idx3-ubyte.gz" in message


@pytest.mark.parametrize("kind", ["idx", "gz"])
def test_download_into_cache_with_checksum(isolated, monkeypatch, rng, kind):
    url, checksums, arrays = _mirror(isolated, rng, kind)
    spec = dataclasses.replace(fashion_mnist.SPEC, mirrors=(url,), checksums=checksums)
    monkeypatch.setattr(fashion_mnist, "SPEC", spec)
    _check(fashion_mnist.load_data(), arrays)
    cache = isolated / "cache" / "numnet" / "fashion-mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(s + ".gz" for s in STEMS)
    # Second call reads the cache: the mirror may disappear.
    for p in (isolated / "mirror").iterdir():
        p.unlink()
    _check(fashion_mnist.load_data(), arrays)


def test_second_mirror_is_tried(isolated, monkeypatch, rng):
    url, checksums, arrays = _mirror(isolated, rng, "idx")
    spec = dataclasses.replace(
        fashion_mnist.SPEC,
        mirrors=fashion_mnist.SPEC.mirrors + (url,),
        checksums=checksums,
    )
    monkeypatch.setattr(fashion_mnist, "SPEC", spec)
    _check(fashion_mnist.load_data(), arrays)


def test_checksum_mismatch_leaves_nothing_in_cache(isolated, monkeypatch, rng):
    url, checksums, _ = _mirror(isolated, rng, "gz")
    checksums["t10k-images-idx3-ubyte.gz"] = ("gz", "0" * 64)
    spec = dataclasses.replace(fashion_mnist.SPEC, mirrors=(url,), checksums=checksums)
    monkeypatch.setattr(fashion_mnist, "SPEC", spec)
    with pytest.raises(DatasetNotFoundError, match="SHA-256 mismatch for t10k-images"):
        fashion_mnist.load_data()
    cache = isolated / "cache" / "numnet" / "fashion-mnist"
    names = sorted(p.name for p in cache.iterdir())
    assert "t10k-images-idx3-ubyte.gz" not in names
    assert not [n for n in names if n.endswith(".part")]


def test_interrupted_download_removes_the_temporary_file(isolated, monkeypatch):
    def interrupted(url, out):
        out.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(_files, "_stream", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fashion_mnist.load_data()
    cache = isolated / "cache" / "numnet" / "fashion-mnist"
    assert list(cache.iterdir()) == []


def test_images_and_labels_count_mismatch(tmp_path, rng):
    _tiny_dataset(tmp_path, rng)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(IDXError, match="train images and labels do not match"):
        fashion_mnist.load_data(verify=False, path=tmp_path)


def test_swapped_files_are_rejected(tmp_path, rng):
    _tiny_dataset(tmp_path, rng)
    labels = (tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(labels)
    with pytest.raises(IDXError, match="wrong IDX magic number: expected 2051"):
        fashion_mnist.load_data(verify=False, path=tmp_path)


def test_mnist_uses_the_same_machinery(tmp_path, rng):
    arrays = _tiny_dataset(tmp_path, rng)
    _check(mnist.load_data(verify=False, path=tmp_path), arrays)
    assert all(kind == "gz" for kind, _ in mnist.SPEC.checksums.values())


@pytest.mark.skipif(not os.path.isdir(REAL_DIR), reason="dataset-fashion-mnist absent")
def test_real_fashion_mnist_files_match_their_checksums():
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(path=REAL_DIR)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
    assert y_train[:3].tolist() == [9, 0, 0]
    for stem in STEMS:
        kind, digest = fashion_mnist.SPEC.checksums[stem + ".gz"]
        assert _files.sha256_of(f"{REAL_DIR}/{stem}.gz", kind) == digest
