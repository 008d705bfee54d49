"""Dataset / DataLoader: batching, shuffling, memory maps, generators, transforms."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet.data import ArrayDataset, DataLoader, Dataset, GeneratorDataset


def _collect(loader):
    batches = list(loader)
    return batches, np.concatenate([b[1] for b in batches])


@pytest.mark.parametrize(
    "n, bs, drop_last, sizes",
    [
        (10, 4, False, [4, 4, 2]),
        (10, 4, True, [4, 4]),
        (8, 4, False, [4, 4]),
        (3, 5, False, [3]),
        (3, 5, True, []),
    ],
)
def test_batch_sizes_and_len(n, bs, drop_last, sizes):
    x, y = np.arange(n * 2).reshape(n, 2), np.arange(n)
    loader = DataLoader((x, y), batch_size=bs, drop_last=drop_last)
    assert len(loader) == len(sizes)
    batches, ys = _collect(loader) if sizes else ([], np.array([]))
    assert [len(b[0]) for b in batches] == sizes
    if sizes and not drop_last:
        np.testing.assert_array_equal(ys, y)  # unshuffled: the original order


def test_shuffle_is_a_permutation_new_each_epoch_and_seeded():
    x, y = np.arange(100)[:, None], np.arange(100)
    loader = DataLoader((x, y), batch_size=16, shuffle=True, seed=0)
    _, first = _collect(loader)
    _, second = _collect(loader)
    np.testing.assert_array_equal(np.sort(first), y)
    assert not np.array_equal(first, y) and not np.array_equal(first, second)
    _, replay = _collect(DataLoader((x, y), batch_size=16, shuffle=True, seed=0))
    np.testing.assert_array_equal(first, replay)
    for xb, yb in loader:  # x and y stay aligned
        np.testing.assert_array_equal(xb[:, 0], yb)


def test_global_seed_drives_an_unseeded_loader():
    data = (np.arange(20)[:, None], np.arange(20))
    numnet.manual_seed(5)
    _, a = _collect(DataLoader(data, batch_size=8, shuffle=True))
    numnet.manual_seed(5)
    _, b = _collect(DataLoader(data, batch_size=8, shuffle=True))
    np.testing.assert_array_equal(a, b)


def test_memory_mapped_arrays_are_read_by_batch(tmp_path, rng):
    x = rng.random((50, 4, 4, 1)).astype(np.float32)
    y = rng.integers(0, 10, 50)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    xm = np.load(tmp_path / "x.npy", mmap_mode="r")
    ym = np.load(tmp_path / "y.npy", mmap_mode="r")
    loader = DataLoader(ArrayDataset(xm, ym), batch_size=7, shuffle=True, seed=2)
    order = np.random.default_rng(2).permutation(50)
    xs = np.concatenate([b[0] for b in loader])
    assert type(xs) is np.ndarray
    np.testing.assert_array_equal(xs, x[order])  # exact shuffled order kept


def test_custom_map_style_dataset():
    class Squares(Dataset):
        def __len__(self):
            return 9

        def __getitem__(self, indices):
            return indices[:, None] ** 2, indices

    xs = np.concatenate([b[0] for b in DataLoader(Squares(), batch_size=4)])
    np.testing.assert_array_equal(xs[:, 0], np.arange(9) ** 2)


def test_generator_dataset_rebatches_chunks_and_restarts_each_epoch():
    def chunks():
        for size in (3, 5, 1, 4):
            yield np.ones((size, 2)), np.full(size, size)

    loader = DataLoader(GeneratorDataset(chunks, num_samples=13), batch_size=4)
    for _ in range(2):
        batches, ys = _collect(loader)
        assert [len(b[0]) for b in batches] == [4, 4, 4, 1]
        np.testing.assert_array_equal(ys, [3] * 3 + [5] * 5 + [1] + [4] * 4)
    assert len(loader) == 4
    assert len(DataLoader(GeneratorDataset(chunks, 13), 4, drop_last=True)) == 3
    assert [
        len(b[0]) for b in DataLoader(GeneratorDataset(chunks, 13), 4, drop_last=True)
    ] == [4, 4, 4]


def test_generator_of_single_samples():
    def samples():
        for i in range(5):
            yield np.full((2, 2), i), i

    batches = list(DataLoader(GeneratorDataset(samples, batched=False), batch_size=2))
    assert [b[0].shape for b in batches] == [(2, 2, 2), (2, 2, 2), (1, 2, 2)]
    np.testing.assert_array_equal(batches[2][1], [4])


def test_unknown_stream_length_has_no_len():
    loader = DataLoader(GeneratorDataset(lambda: iter([])), batch_size=2)
    with pytest.raises(TypeError, match="num_samples"):
        len(loader)


def test_transform_is_applied_to_x_only():
    x, y = np.ones((6, 2), np.float32), np.arange(6)
    loader = DataLoader((x, y), batch_size=4, transform=lambda xb: xb * 3)
    xb, yb = next(iter(loader))
    np.testing.assert_array_equal(xb, 3 * np.ones((4, 2)))
    np.testing.assert_array_equal(yb, np.arange(4))


def test_y_none_yields_none_targets():
    xb, yb = next(iter(DataLoader((np.zeros((3, 1)), None), batch_size=2)))
    assert xb.shape == (2, 1) and yb is None


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 2.5}, ValueError, "batch_size"),
        ({"transform": 3}, TypeError, "transform"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader((np.zeros((4, 1)), np.zeros(4)), **kwargs)


def test_bad_dataset_and_stream_shuffle():
    with pytest.raises(TypeError, match="dataset"):
        DataLoader(42)
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(GeneratorDataset(lambda: iter([])), shuffle=True)
    with pytest.raises(ValueError, match="len\\(x\\)=3, len\\(y\\)=2"):
        ArrayDataset(np.zeros(3), np.zeros(2))


def test_fit_trains_from_a_loader_and_a_stream(rng):
    from numnet import layers, models, optimizers

    x = rng.normal(size=(256, 4)).astype(np.float32)
    y = (x[:, 0] - x[:, 1] > 0).astype(np.int64)

    def chunks():
        for start in range(0, 256, 100):
            yield x[start : start + 100], y[start : start + 100]

    for data in (
        DataLoader((x, y), batch_size=32, shuffle=True, seed=0),
        DataLoader(GeneratorDataset(chunks, num_samples=256), batch_size=32),
    ):
        numnet.manual_seed(0)
        model = models.Sequential(
            [layers.Dense(2, activation="softmax", input_shape=(4,))]
        )
        model.compile(
            optimizers.Adam(0.05), "sparse_categorical_crossentropy", ["accuracy"]
        )
        history = model.fit(data, epochs=5, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]
        assert history.history["accuracy"][-1] > 0.9
