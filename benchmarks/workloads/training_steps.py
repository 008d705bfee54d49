"""W4, W5: one Adam training step of the MLP and of the course CNN; W8 end to end.

Each numnet side is the Keras-style path a user runs (``model.train_on_batch``:
forward in train mode, fused softmax cross-entropy, backward, Adam update); the
PyTorch twin is ``zero_grad(); loss.backward(); opt.step()`` on the same data
(NCHW for the CNN). W8 (two epochs of the W5 CNN on the 60k Fashion-MNIST
training images, then test accuracy) takes minutes: it runs only when selected
(``--only W8``) or with ``--full``; its accuracies are printed to stderr.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from benchmarks.registry import Workload

BATCH = 128


def _mnist_like(seed=0, n=BATCH):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return x, y


def numnet_mlp():
    """The W4 MLP: 784-512-512-10, ReLU, softmax output."""
    from numnet import layers, models

    return models.Sequential(
        [
            layers.Dense(512, activation="relu", input_shape=(784,)),
            layers.Dense(512, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )


def numnet_cnn():
    """The course-notes CNN of W5/W8 (issue 4), channels-last."""
    from numnet import layers, models

    return models.Sequential(
        [
            layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def torch_mlp(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Linear(784, 512),
        nn.ReLU(),
        nn.Linear(512, 512),
        nn.ReLU(),
        nn.Linear(512, 10),
    )


def torch_cnn(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(1600, 128),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, 10),
    )


def _numnet_step(make, flat):
    def setup():
        import numnet
        from numnet import optimizers

        numnet.manual_seed(0)
        model = make()
        model.compile(optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
        x, y = _mnist_like()
        if flat:
            x = x.reshape(len(x), -1)
        return lambda: model.train_on_batch(x, y)

    return setup


def _torch_step(make, flat):
    def setup():
        import torch

        torch.manual_seed(0)
        model = make(torch)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x, y = _mnist_like()
        xt = torch.tensor(x.reshape(len(x), -1) if flat else x.transpose(0, 3, 1, 2))
        yt = torch.tensor(y)
        model.train()

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt), yt)
            loss.backward()
            opt.step()

        return step

    return setup


def _fashion():
    from numnet.datasets import fashion_mnist

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    scale = np.float32(1 / 255)
    return (
        (x_train[..., None] * scale, y_train.astype(np.int64)),
        (x_test[..., None] * scale, y_test.astype(np.int64)),
    )


def _w8_numnet():
    import numnet
    from numnet import optimizers

    (x, y), (xt, yt) = _fashion()

    def run():
        numnet.manual_seed(0)
        model = numnet_cnn()
        model.compile(
            optimizers.Adam(1e-3),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0)
        _, acc = model.evaluate(xt, yt, batch_size=256, verbose=0)
        sys.stderr.write(
            f"W8 numnet: 2 epochs + test in {time.perf_counter() - start:.1f} s, "
            f"test accuracy {acc:.4f}\n"
        )

    return run


def torch_fit(torch, model, opt, x, y, epochs: int) -> None:
    """The PyTorch training loop: shuffled batches of BATCH, cross-entropy."""
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), BATCH):
            idx = order[i : i + BATCH]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()


def _w8_torch():
    import torch

    (x, y), (xt, yt) = _fashion()
    x, xt = (
        torch.tensor(x.transpose(0, 3, 1, 2)),
        torch.tensor(xt.transpose(0, 3, 1, 2)),
    )
    y, yt = torch.tensor(y), torch.tensor(yt)

    def run():
        torch.manual_seed(0)
        model = torch_cnn(torch)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        start = time.perf_counter()
        torch_fit(torch, model, opt, x, y, epochs=2)
        model.eval()
        with torch.no_grad():
            acc = (model(xt).argmax(1) == yt).float().mean().item()
        sys.stderr.write(
            f"W8 PyTorch: 2 epochs + test in {time.perf_counter() - start:.1f} s, "
            f"test accuracy {acc:.4f}\n"
        )

    return run


WORKLOADS = [
    Workload(
        "W4",
        "MLP 784-512-512-10 Adam step, batch 128",
        _numnet_step(numnet_mlp, flat=True),
        _torch_step(torch_mlp, flat=True),
        repeats=40,
    ),
    Workload(
        "W5",
        "course CNN Adam step, batch 128",
        _numnet_step(numnet_cnn, flat=False),
        _torch_step(torch_cnn, flat=False),
        repeats=20,
    ),
    Workload(
        "W8",
        "course CNN, 2 epochs on 60k Fashion-MNIST + test accuracy",
        _w8_numnet,
        _w8_torch,
        warmup=0,
        torch_warmup=0,
        repeats=1,
        quick_repeats=1,
        steps=1,  # one training run per process, not 40
        opt_in=True,
    ),
]
