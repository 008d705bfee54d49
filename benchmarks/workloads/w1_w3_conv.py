"""W1-W3: convolution and max pooling, forward + backward.

numnet runs on channels-last float32 tensors; PyTorch gets the same numbers
transposed to NCHW. Every input requires grad, so both sides compute dX, dW, db.
"""

from __future__ import annotations

import numpy as np

from benchmarks.registry import Workload


def _data(shape, seed, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(
        np.float32
    )


def _conv_shapes(N, H, C, O, K, stride, pad):
    OH = (H + 2 * pad - K) // stride + 1
    return (N, H, H, C), (K, K, C, O), (N, OH, OH, O)


def _conv_numnet(N, H, C, O, K, stride, pad, padding):
    def setup():
        import numnet
        import numnet.functional as F

        xs, ws, ys = _conv_shapes(N, H, C, O, K, stride, pad)
        x = numnet.tensor(_data(xs, 0), requires_grad=True)
        w = numnet.tensor(_data(ws, 1, 0.1), requires_grad=True)
        b = numnet.tensor(_data((O,), 2), requires_grad=True)
        gy = _data(ys, 3)

        def step():
            x.grad = w.grad = b.grad = None
            y = F.conv2d(x, w, b, stride=stride, padding=padding)
            y.backward(gy)

        return step

    return setup


def _conv_torch(N, H, C, O, K, stride, pad):
    def setup():
        import torch

        xs, ws, ys = _conv_shapes(N, H, C, O, K, stride, pad)
        x = torch.tensor(_data(xs, 0).transpose(0, 3, 1, 2).copy(), requires_grad=True)
        w = torch.tensor(_data(ws, 1, 0.1).transpose(3, 2, 0, 1).copy())
        w.requires_grad_(True)
        b = torch.tensor(_data((O,), 2), requires_grad=True)
        gy = torch.tensor(_data(ys, 3).transpose(0, 3, 1, 2).copy())

        def step():
            x.grad = w.grad = b.grad = None
            y = torch.nn.functional.conv2d(x, w, b, stride=stride, padding=pad)
            y.backward(gy)

        return step

    return setup


def _pool_numnet(N, H, C, P):
    def setup():
        import numnet
        import numnet.functional as F

        x = numnet.tensor(_data((N, H, H, C), 0), requires_grad=True)
        gy = _data((N, H // P, H // P, C), 3)

        def step():
            x.grad = None
            F.max_pool2d(x, P).backward(gy)

        return step

    return setup


def _pool_torch(N, H, C, P):
    def setup():
        import torch

        x = torch.tensor(_data((N, H, H, C), 0).transpose(0, 3, 1, 2).copy())
        x.requires_grad_(True)
        gy = torch.tensor(_data((N, H // P, H // P, C), 3).transpose(0, 3, 1, 2).copy())

        def step():
            x.grad = None
            torch.nn.functional.max_pool2d(x, P, P).backward(gy)

        return step

    return setup


def _conv_flops(N, H, C, O, K, stride, pad):
    OH = (H + 2 * pad - K) // stride + 1
    return 3 * 2 * N * OH * OH * K * K * C * O  # forward, dX and dW GEMMs


W1 = (64, 28, 32, 64, 3, 1, 1)
W2 = (64, 32, 3, 32, 5, 2, 2)
W3 = (64, 28, 64, 2)

WORKLOADS = [
    Workload(
        id="W1",
        name="Conv2D fwd+bwd N=64 28x28 32->64 3x3 s1 same",
        numnet_setup=_conv_numnet(*W1, padding="same"),
        torch_setup=_conv_torch(*W1),
        flops=_conv_flops(*W1),
    ),
    Workload(
        id="W2",
        name="Conv2D fwd+bwd N=64 32x32 3->32 5x5 s2 p2",
        numnet_setup=_conv_numnet(*W2, padding=2),
        torch_setup=_conv_torch(*W2),
        flops=_conv_flops(*W2),
        repeats=60,
    ),
    Workload(
        id="W3",
        name="MaxPool 2x2 s2 fwd+bwd N=64 28x28x64",
        numnet_setup=_pool_numnet(*W3),
        torch_setup=_pool_torch(*W3),
        repeats=60,
    ),
]
