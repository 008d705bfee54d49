"""W9: one training step of the ResNet example's network (../shared/BENCHMARKS.md).

The network of ``examples/resnet_fashion_mnist.py`` with its defaults:
``applications.small_resnet`` with a 3x3 stem of 32 channels, stages of 32, 64
and 128 channels each starting with a stride-2 projection block (ResNet-8,
BatchNorm everywhere), global average pooling and a 10-way logits head; AdamW,
softmax cross-entropy from logits, batch 128 of 28x28x1. The PyTorch twin is
the same network in NCHW (symmetric padding 1 where numnet pads TensorFlow's
"same": the same output sizes and FLOPs).
"""

from __future__ import annotations

import numpy as np

from benchmarks.registry import Workload

BATCH = 128
FILTERS = (32, 64, 128)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((BATCH, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, BATCH)


def _numnet():
    import numnet
    from numnet import applications, losses, optimizers

    numnet.manual_seed(0)
    model = applications.small_resnet(
        input_shape=(28, 28, 1), num_classes=10, stage_filters=FILTERS,
        stage_strides=(2, 2, 2), blocks_per_stage=1, classifier_activation=None,
    )  # fmt: skip
    model.compile(
        optimizer=optimizers.AdamW(1e-3, weight_decay=1e-4),
        loss=losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x, y = _data()
    return lambda: model.train_on_batch(x, y)


def _torch_resnet(torch):
    nn = torch.nn

    def conv_bn(c_in, c_out, k, s):
        conv = nn.Conv2d(c_in, c_out, k, s, padding=k // 2, bias=False)
        return nn.Sequential(conv, nn.BatchNorm2d(c_out))

    class Block(nn.Module):  # convolutional_block: projection shortcut
        def __init__(self, c_in, c_out, s):
            super().__init__()
            self.a, self.b = conv_bn(c_in, c_out, 3, s), conv_bn(c_out, c_out, 3, 1)
            self.shortcut = conv_bn(c_in, c_out, 1, s)

        def forward(self, x):
            y = self.b(torch.relu(self.a(x)))
            return torch.relu(y + self.shortcut(x))

    layers = [conv_bn(1, FILTERS[0], 3, 1), nn.ReLU()]
    c = FILTERS[0]
    for f in FILTERS:
        layers.append(Block(c, f, 2))
        c = f
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10)]
    return nn.Sequential(*layers)


def _torch():
    import torch

    torch.manual_seed(0)
    model = _torch_resnet(torch)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    x, y = _data()
    xt, yt = torch.tensor(x.transpose(0, 3, 1, 2).copy()), torch.tensor(y)
    model.train()

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()

    return step


WORKLOADS = [
    Workload(
        "W9",
        "ResNet example's network (ResNet-8, 32-64-128) AdamW step, batch 128",
        _numnet,
        _torch,
        repeats=10,
        steps=20,
    ),
]
