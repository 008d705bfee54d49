"""Dataset files are verified wherever they come from; IDX reads are bounded."""

from __future__ import annotations

import gzip
import os
import shutil
import struct
import tracemalloc

import numpy as np
import pytest

from numnet.datasets import IDXError, _files, fashion_mnist, idx, mnist, write_idx

REAL_DIR = "/usr/share/datasets/fashion-mnist"
STEMS = [stem for _, stem, _ in _files.FILES]
needs_real = pytest.mark.skipif(
    not os.path.isdir(REAL_DIR), reason="dataset-fashion-mnist absent"
)


def tiny(directory, rng, labels=None, rows=28):
    directory.mkdir(parents=True, exist_ok=True)
    for key, stem, _ in _files.FILES:
        n = 6 if "train" in key else 4
        if key.startswith("x"):
            array = rng.integers(0, 256, (n, rows, 28), dtype=np.uint8)
        else:
            array = (
                rng.integers(0, 10, n, dtype=np.uint8) if labels is None else labels[:n]
            )
        write_idx(directory / (stem + ".gz"), array)


def test_known_checksums_are_those_of_the_installed_standard_files():
    if not os.path.isdir(REAL_DIR):
        pytest.skip("dataset-fashion-mnist absent")
    for stem in STEMS:
        kind, digest = fashion_mnist.SPEC.checksums[stem + ".gz"]
        assert kind == "idx"
        assert _files.sha256_of(f"{REAL_DIR}/{stem}.gz", "idx") == digest


def test_other_files_under_the_standard_names_are_refused(tmp_path, rng):
    """Item 11: e.g. MNIST files in a directory loaded as Fashion-MNIST."""
    tiny(tmp_path, rng)
    with pytest.raises(IDXError, match="not the standard train-images.*verify=False"):
        fashion_mnist.load_data(path=tmp_path)
    with pytest.raises(IDXError, match="not the standard"):
        mnist.load_data(path=tmp_path)
    fashion_mnist.load_data(path=tmp_path, verify=False)  # the explicit opt-out
    with pytest.raises(TypeError, match="verify"):
        fashion_mnist.load_data(path=tmp_path, verify="no")


def test_raw_mnist_files_cannot_be_verified_against_gz_checksums(tmp_path, rng):
    tiny(tmp_path, rng)
    for stem in STEMS:
        (tmp_path / stem).write_bytes(
            gzip.decompress((tmp_path / (stem + ".gz")).read_bytes())
        )
        os.remove(tmp_path / (stem + ".gz"))
    with pytest.raises(IDXError, match="uncompressed.*cannot be verified"):
        mnist.load_data(path=tmp_path)


@needs_real
def test_a_tampered_label_file_is_refused(tmp_path):
    for stem in STEMS:
        os.symlink(f"{REAL_DIR}/{stem}.gz", tmp_path / (stem + ".gz"))
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(labels.read_bytes()))
    content[8] = (content[8] + 1) % 10  # one relabelled image
    os.remove(labels)
    labels.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(IDXError, match="t10k-labels.*not the standard"):
        fashion_mnist.load_data(path=tmp_path)


@needs_real
def test_each_file_is_hashed_once_per_process_until_it_changes(tmp_path, monkeypatch):
    for stem in STEMS:
        os.symlink(f"{REAL_DIR}/{stem}.gz", tmp_path / (stem + ".gz"))
    small = tmp_path / "t10k-labels-idx1-ubyte.gz"
    os.remove(small)
    shutil.copy(f"{REAL_DIR}/t10k-labels-idx1-ubyte.gz", small)
    calls = []
    real_sha = _files.sha256_of
    monkeypatch.setattr(
        _files, "sha256_of", lambda p, k="gz": calls.append(p) or real_sha(p, k)
    )
    fashion_mnist.load_data(path=tmp_path)
    first = len(calls)
    fashion_mnist.load_data(path=tmp_path)
    assert len(calls) == first  # cached by (path, size, mtime)
    os.utime(small, ns=(1, 1))
    fashion_mnist.load_data(path=tmp_path)
    assert len(calls) == first + 1 and str(calls[-1]).endswith("labels-idx1-ubyte.gz")


def test_label_range_and_image_size_are_checked_even_unverified(tmp_path, rng):
    tiny(tmp_path / "a", rng, labels=np.array([1, 2, 250, 3, 4, 5], np.uint8))
    with pytest.raises(
        IDXError, match="labels must lie in \\[0, 10\\); label 2 is 250"
    ):
        fashion_mnist.load_data(path=tmp_path / "a", verify=False)
    tiny(tmp_path / "b", rng, rows=7)
    with pytest.raises(IDXError, match="images are 7x28; expected 28x28"):
        fashion_mnist.load_data(path=tmp_path / "b", verify=False)


def test_a_small_gzip_that_inflates_hugely_is_refused_in_bounded_memory(tmp_path):
    """Item 5: header + 64 MiB of trailing zeros in a ~64 KB .gz."""
    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">HBBI", 0, 0x08, 1, 10) + bytes(10))
        block = bytes(1 << 20)
        for _ in range(64):
            f.write(block)
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    with pytest.raises(IDXError, match="trailing bytes"):
        idx.read_idx(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 << 20


def test_a_header_declaring_too_much_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(struct.pack(">HBBIII", 0, 0x08, 3, 60000, 280, 280)))
    monkeypatch.setattr(idx, "MAX_IDX_BYTES", 1 << 20)
    with pytest.raises(IDXError, match="over the limit"):
        idx.read_idx(path)


def test_a_header_whose_size_overflows_int64_is_an_idx_error(tmp_path):
    """Item 16: dimension products are Python ints, never wrapped int64."""
    header = struct.pack(">HBB", 0, 0x0E, 3) + struct.pack(">3I", *([2**32 - 1] * 3))
    with pytest.raises(IDXError, match="needs .* data bytes"):
        idx.parse_idx(header + bytes(16))
    path = tmp_path / "overflow"
    path.write_bytes(header)
    with pytest.raises(IDXError, match="over the limit"):
        idx.read_idx(path)
