"""Datasets written for PyTorch (``ds[i]`` is one sample) in numnet's DataLoader."""

from __future__ import annotations

import os

import numpy as np
import pytest
from tests.example_helpers import DATA

import numnet
from numnet import layers, models
from numnet.data import DataLoader
from numnet.data.collate import default_collate


class Samples:
    """A PyTorch-style dataset: an int index gives (image, label)."""

    def __init__(self, x, y):
        self.x, self.y, self.calls = x, y, 0

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        assert isinstance(i, int)  # PyTorch passes one int
        self.calls += 1
        return self.x[i] * 2.0, int(self.y[i])


def test_batches_stack_the_samples_in_the_shuffled_order():
    x = np.arange(30, dtype=np.float64).reshape(10, 3)
    y = np.arange(10) % 3
    ds = Samples(x, y)
    batches = list(DataLoader(ds, batch_size=4, shuffle=True, seed=5))
    order = np.random.default_rng(5).permutation(10)
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    xs = np.concatenate([b[0] for b in batches])
    ys = np.concatenate([b[1] for b in batches])
    np.testing.assert_array_equal(xs, x[order] * 2.0)
    np.testing.assert_array_equal(ys, y[order])
    assert xs.dtype == np.float32 and ys.dtype == np.int64  # numnet's dtypes
    assert ds.calls == 10


def test_the_batched_hook_of_pytorch_is_used_when_present():
    class Batched(Samples):
        def __getitems__(self, indices):
            self.batches = getattr(self, "batches", 0) + 1
            return [(self.x[i], int(self.y[i])) for i in indices]

    ds = Batched(np.ones((7, 2)), np.zeros(7))
    assert [len(b[0]) for b in DataLoader(ds, batch_size=3)] == [3, 3, 1]
    assert ds.batches == 3 and ds.calls == 0


def test_default_collate_follows_pytorch_structures():
    samples = [
        {"image": np.zeros((2, 2)), "label": 1, "flag": True},
        {"image": np.ones((2, 2)), "label": 2, "flag": False},
    ]
    batch = default_collate(samples)
    assert batch["image"].shape == (2, 2, 2) and batch["image"].dtype == np.float32
    np.testing.assert_array_equal(batch["label"], [1, 2])
    assert batch["flag"].dtype == bool
    tensors = [(numnet.tensor([1.0, 2.0]), 0.5), (numnet.tensor([3.0, 4.0]), 1.5)]
    x, w = default_collate(tensors)
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])
    assert w.dtype == np.float32
    ds = Samples(np.ones((4, 3)), np.zeros(4))
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert y.shape == (4,)


def test_samples_without_a_target_give_none():
    class Inputs:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full(2, float(i))

    x, y = next(iter(DataLoader(Inputs(), batch_size=5)))
    assert y is None and x.shape == (5, 2)


@pytest.mark.parametrize(
    "sample, error, match",
    [
        (lambda i: np.ones(1 + i), ValueError, r"one shape to be stacked.*\(1,\)"),
        (lambda i: (np.ones(2), 1, 2), TypeError, "pair. Received samples of 3"),
        (lambda i: "text", TypeError, "cannot collate samples of dtype <U4"),
        (lambda i: (np.ones(2), 1) if i == 0 else np.ones(2), TypeError, "structure"),
    ],
)
def test_bad_samples_raise_errors_naming_what_was_received(sample, error, match):
    class Bad:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return sample(i)

    with pytest.raises(error, match=match):
        list(DataLoader(Bad(), batch_size=3))


@pytest.mark.skipif(not os.path.isdir(DATA), reason="Fashion-MNIST files absent")
def test_fit_trains_on_a_pytorch_style_fashion_mnist_dataset():
    from numnet.datasets import fashion_mnist

    (x, y), (xt, yt) = fashion_mnist.load_data()

    class FashionItems:  # scales each image when it is read, as a torch transform
        def __init__(self, images, labels):
            self.images, self.labels = images, labels

        def __len__(self):
            return len(self.images)

        def __getitem__(self, i):
            return self.images[i].reshape(784) / 255.0, int(self.labels[i])

    numnet.manual_seed(0)
    model = models.Sequential(
        [layers.Input((784,)), layers.Dense(64, activation="relu"), layers.Dense(10)]
    )
    loss = numnet.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile("adam", loss, metrics=["accuracy"])
    loader = DataLoader(FashionItems(x[:3000], y[:3000]), batch_size=64, shuffle=True)
    model.fit(loader, epochs=2, verbose=0)
    test = DataLoader(FashionItems(xt[:1000], yt[:1000]), batch_size=250)
    _, accuracy = model.evaluate(test, verbose=0)
    assert accuracy > 0.7, accuracy  # chance: 0.1
