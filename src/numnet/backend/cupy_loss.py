"""Softmax cross-entropy against integer labels on CUDA: one kernel each way.

For logits z (N, ..., C) and labels (N, ...), with rows r over the leading
axes, what ``_SparseSoftmaxCrossEntropy`` in ``numnet/functional/nn.py``
computes, in the same order of operations:

* forward (one kernel, one warp per row): m = max_k z[r, k],
  s = sum_k exp(z[r, k] - m), loss[r] = log(s) - (z[r, label] - m), and the
  softmax p[r, k] = exp((z[r, k] - m) - log(s)) that backward needs;
* backward (one elementwise kernel): dL/dz[r, k] = gy[r] (p[r, k] - [k == label]).

A warp reads a row's classes 32 at a time (coalesced) and combines its lanes
with shuffles, so any class count works: 10 classes leave lanes idle, a
vocabulary of 30,000 is 940 reads per lane. Labels are read in their own
integer type (uint8, int32, int64: no conversion kernel); a label outside
[0, C) gives a NaN loss (the caller validates labels first). Imported only
with CuPy present (see ``cupy_ops``).
"""

from __future__ import annotations

import cupy
import numpy as np

#: rows (warps) per thread block of the forward kernel
_ROWS_PER_BLOCK = 8

_SOURCE = r"""
template<typename T>
__device__ T numnet_warp_max(T value) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        const T other = __shfl_xor_sync(0xffffffffu, value, offset);
        value = other > value ? other : value;
    }
    return value;
}

template<typename T>
__device__ T numnet_warp_sum(T value) {
    for (int offset = 16; offset > 0; offset >>= 1)
        value += __shfl_xor_sync(0xffffffffu, value, offset);
    return value;
}

// block (32, rows per block): warp threadIdx.y takes row blockIdx.x * rows + y
// bad = [flag, label]: set when a label is outside [0, C) (any such label)
template<typename T, typename L>
__global__ void numnet_sparse_ce_forward(const T* z, const L* labels, T* loss,
                                         T* p, long long* bad, long long N, int C) {
    const long long row = (long long)blockIdx.x * blockDim.y + threadIdx.y;
    if (row >= N) return;  // the whole warp: the shuffles stay complete
    const int lane = threadIdx.x;
    const T* zr = z + row * C;
    T m = zr[lane < C ? lane : 0];
    for (int k = lane + 32; k < C; k += 32) m = zr[k] > m ? zr[k] : m;
    m = numnet_warp_max(m);
    T s = 0;
    for (int k = lane; k < C; k += 32) s += exp(zr[k] - m);
    const T log_s = log(numnet_warp_sum(s));
    T* pr = p + row * C;
    for (int k = lane; k < C; k += 32) pr[k] = exp((zr[k] - m) - log_s);
    if (lane == 0) {
        const long long label = (long long)labels[row];
        if (label >= 0 && label < C) {
            loss[row] = log_s - (zr[label] - m);
        } else {
            loss[row] = (T)0 / (T)0;  // NaN, and the flag for LabelCheck
            bad[1] = label;
            bad[0] = 1;
        }
    }
}
"""

_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_LABELS = {
    np.dtype(np.uint8): "unsigned char",
    np.dtype(np.int32): "int",
    np.dtype(np.int64): "long long",
}
_MODULE = cupy.RawModule(
    code=_SOURCE,
    name_expressions=[
        f"numnet_sparse_ce_forward<{t}, {lab}>"
        for t in _TYPES.values()
        for lab in _LABELS.values()
    ],
)
# gy and labels are raw: indexed by row (through their strides, so a broadcast
# gy from a mean reduction is read in place, not copied)
_BACKWARD = cupy.ElementwiseKernel(
    "T p, raw T gy, raw L labels, int32 C",
    "T gz",
    """
    const ptrdiff_t row = i / C;
    gz = gy[row] * ((ptrdiff_t)labels[row] == i % C ? p - (T)1 : p);
    """,
    "numnet_sparse_ce_backward",
)


def supports(z) -> bool:
    """True for float32/float64 logits with at least one class."""
    return z.dtype in _TYPES and z.ndim >= 1 and z.shape[-1] > 0


def sparse_ce_forward(z, labels):
    """(loss shaped like labels, softmax p shaped like z) for logits ``z``.

    A label outside [0, C) gives a NaN loss and raises a ValueError at the
    next call or :func:`check_labels` (see :class:`LabelCheck`).

    Args:
        z: (N, ..., C) float32/float64 logits.
        labels: (N, ...) integer class indices in [0, C).
    """
    check = LabelCheck.of_current_device()
    check.raise_if_found(wait=False)
    C = z.shape[-1]
    z2 = cupy.ascontiguousarray(z).reshape(-1, C)
    if labels.dtype not in _LABELS:
        labels = labels.astype(np.int64)
    labels = cupy.ascontiguousarray(labels).reshape(-1)
    N = z2.shape[0]
    loss = cupy.empty(N, z.dtype)
    p = cupy.empty_like(z2)
    if N:
        name = f"numnet_sparse_ce_forward<{_TYPES[z.dtype]}, {_LABELS[labels.dtype]}>"
        blocks = -(-N // _ROWS_PER_BLOCK)
        args = (z2, labels, loss, p, check.flag, np.int64(N), np.int32(C))
        _MODULE.get_function(name)((blocks,), (32, _ROWS_PER_BLOCK), args)
        check.read_later(C)
    return loss.reshape(z.shape[:-1]), p.reshape(z.shape)


def sparse_ce_backward(gy, p, labels):
    """dL/dz = gy[..., None] * (p - one_hot(labels)), shaped like ``p``."""
    gy = gy.astype(p.dtype, copy=False)  # the kernel's T (a no-op as a rule)
    if gy.shape != labels.shape:  # a scalar upstream gradient
        gy = cupy.broadcast_to(gy, labels.shape)
    return _BACKWARD(p, gy, labels, np.int32(p.shape[-1]))


class LabelCheck:
    """Out-of-range labels found by the forward kernel, reported without a sync.

    Checking labels on the host (``labels.min() < 0``) would wait for the GPU
    at every batch. Instead the kernel sets a flag on the device; after the
    launch the flag is copied to pinned host memory asynchronously, and a later
    call reads that copy once it has arrived (never waiting for it). So a bad
    label raises a batch or two late, and at the latest when ``fit`` or
    ``evaluate`` refresh their logs (they call :func:`check_labels`, which
    waits): PyTorch's asynchronous device assert in spirit, Keras's message.
    One per GPU.
    """

    _by_device: dict[int, LabelCheck] = {}

    def __init__(self):
        import cupyx

        self.flag = cupy.zeros(2, np.int64)  # [found, label] on the device
        self.host = cupyx.zeros_pinned(2, np.int64)
        self.copied = None  # the event after the pending copy, if any
        self.classes = 0

    @classmethod
    def of_current_device(cls) -> LabelCheck:
        """The check of the current GPU (created on first use)."""
        device = cupy.cuda.Device().id
        if device not in cls._by_device:
            cls._by_device[device] = cls()
        return cls._by_device[device]

    def read_later(self, classes: int) -> None:
        """Copy the flag to the host after the work queued so far (no waiting)."""
        self.classes = classes
        if self.copied is None:
            self.flag.get(out=self.host, blocking=False)
            self.copied = cupy.cuda.get_current_stream().record()

    def raise_if_found(self, wait: bool) -> None:
        """Raise the ValueError of a bad label: from an arrived copy, or with
        ``wait``, from the flag itself (a host sync)."""
        if wait:
            if self.copied is not None:
                self.copied.synchronize()
            self.copied = None
            found = self.flag.get()
        elif self.copied is not None and self.copied.done:
            self.copied = None
            found = self.host.copy()
        else:
            return
        if found[0]:
            self.flag.fill(0)
            raise ValueError(
                f"sparse_softmax_cross_entropy: received a label value of "
                f"{int(found[1])} which is outside the valid range of "
                f"[0, {self.classes}) (found on the GPU after its batch)"
            )


def check_labels() -> None:
    """Raise the ValueError of a bad label seen on any GPU so far (a host sync)."""
    for device, check in list(LabelCheck._by_device.items()):
        with cupy.cuda.Device(device):
            check.raise_if_found(wait=True)
