"""W6 and W7: one Adam training step of an RNN classifier.

W6: LSTM(128) over a Fashion-MNIST-shaped batch read as 28 steps of 28 features,
last hidden state -> Dense(10), softmax cross-entropy, Adam; batch 128.
W7: the same with GRU(128) (Keras's default reset_after=True, which is also
PyTorch's GRU formulation).

Each setup returns a zero-argument callable doing one full training step
(forward, loss, backward, Adam update). The data is random with fixed seeds:
the cost of a step does not depend on the values.
"""

from __future__ import annotations

import numpy as np

from benchmarks.registry import Workload

N, T, D, U, CLASSES = 128, 28, 28, 128, 10


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((N, T, D), dtype=np.float32)
    y = rng.integers(0, CLASSES, size=N)
    return x, y


def rnn_train_step(rnn, head, x, y):
    """One Adam step of ``head(rnn(x))`` on softmax cross-entropy (builds both)."""
    import numnet.functional as F
    from numnet import optimizers

    head(rnn(x))  # build
    params = rnn.trainable_weights + head.trainable_weights
    opt = optimizers.Adam(learning_rate=1e-3)

    def step():
        for p in params:
            p.grad = None
        logits = head(rnn(x, training=True), training=True)
        F.sparse_softmax_cross_entropy(logits, y).mean().backward()
        opt.apply(params)

    return step


def _numnet(kind: str):
    def setup():
        import numnet
        from numnet import layers

        numnet.manual_seed(0)
        rnn = layers.LSTM(U) if kind == "lstm" else layers.GRU(U)
        return rnn_train_step(rnn, layers.Dense(CLASSES), *_data())

    return setup


def _torch(kind: str):
    def setup():
        import torch

        torch.manual_seed(0)
        cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
        rnn, head = cls(D, U, batch_first=True), torch.nn.Linear(U, CLASSES)
        params = list(rnn.parameters()) + list(head.parameters())
        opt = torch.optim.Adam(params, lr=1e-3)
        x, y = (torch.from_numpy(a) for a in _data())

        def step():
            opt.zero_grad()
            out, _ = rnn(x)
            torch.nn.functional.cross_entropy(head(out[:, -1]), y).backward()
            opt.step()

        return step

    return setup


WORKLOADS = [
    Workload("W6", "LSTM(128) Adam step, 28 steps x 28, batch 128",
             _numnet("lstm"), _torch("lstm"), warmup=5, torch_warmup=10),
    Workload("W7", "GRU(128) Adam step, 28 steps x 28, batch 128",
             _numnet("gru"), _torch("gru"), warmup=5, torch_warmup=10),
]  # fmt: skip
