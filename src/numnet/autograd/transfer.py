"""Moving a tensor between devices, differentiably (``Tensor.to``)."""

from __future__ import annotations

from numnet.autograd.function import Function


class ToDevice(Function):
    """``y = x`` on another device; the gradient flows back to ``x``'s device.

    dL/dx = move(dL/dy, device of x): a copy is the identity map.
    """

    def __init__(self, target):
        self.target = target

    def forward(self, x):
        from numnet.backend.device import device_of  # L0

        self.source = device_of(x)
        return self.target.put(x)

    def backward(self, gy):
        return self.source.put(gy)
