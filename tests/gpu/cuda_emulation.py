"""Run numnet's CUDA kernel sources on the CPU: g++ and a small CUDA shim.

Without a GPU, ``test_kernel_sources_compile.py`` proves that a kernel
compiles; this proves what it *computes*. The kernel text is compiled as C++20
with a shim that defines ``threadIdx``/``blockIdx``/``blockDim``, runs a
launch block by block with one ``std::thread`` per CUDA thread, maps
``__syncthreads`` to a ``std::barrier`` (a thread that returns early drops out
of it, as on the GPU) and ``__shfl_xor_sync`` to an exchange through a buffer
between two barriers. Elementwise kernels run their body in a loop over ``i``.
Arrays are contiguous NumPy arrays (``raw`` arguments become pointers).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile

import numpy as np

SHIM = r"""
#include <barrier>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <thread>
#include <vector>
using namespace std;
struct dim3 { unsigned x = 1, y = 1, z = 1; };
thread_local dim3 threadIdx;
dim3 blockIdx, blockDim, gridDim;
std::barrier<>* numnet_barrier = nullptr;
static double numnet_exchange[1024];
#define __global__
#define __device__
#define __forceinline__ inline
inline double __longlong_as_double(long long v) {
    double d;
    memcpy(&d, &v, 8);
    return d;
}
#define __shared__ static
#define __syncthreads() numnet_barrier->arrive_and_wait()
template<typename T> T __shfl_xor_sync(unsigned, T value, int mask) {
    const int tid = threadIdx.y * blockDim.x + threadIdx.x;
    numnet_exchange[tid] = (double)value;
    numnet_barrier->arrive_and_wait();
    const T other = (T)numnet_exchange[tid ^ mask];
    numnet_barrier->arrive_and_wait();
    return other;
}
template<typename F> void numnet_launch(dim3 grid, dim3 block, F kernel) {
    gridDim = grid;
    blockDim = block;
    for (unsigned by = 0; by < grid.y; ++by)
    for (unsigned bx = 0; bx < grid.x; ++bx) {
        blockIdx = {bx, by, 0};
        std::barrier<> barrier(block.x * block.y);
        numnet_barrier = &barrier;
        std::vector<std::thread> threads;
        for (unsigned ty = 0; ty < block.y; ++ty)
        for (unsigned tx = 0; tx < block.x; ++tx)
            threads.emplace_back([&, tx, ty] {
                threadIdx = {tx, ty, 0};
                kernel();
                barrier.arrive_and_drop();
            });
        for (auto& t : threads) t.join();
    }
}
"""
_CTYPES = {"double": ctypes.c_double, "float": ctypes.c_float}


def available() -> bool:
    """True where g++ can build the shim (C++20: std::barrier)."""
    return shutil.which("g++") is not None


def build(source: str) -> ctypes.CDLL:
    """Compile ``source`` (once per text) into a shared library and load it."""
    key = hashlib.sha1(source.encode()).hexdigest()[:16]
    so = os.path.join(tempfile.gettempdir(), f"numnet_cuda_emulation_{key}.so")
    if not os.path.exists(so):
        cpp = so[:-3] + f".{os.getpid()}.cpp"
        with open(cpp, "w") as f:
            f.write(source)
        tmp = so + f".{os.getpid()}"
        flags = ["-O1", "-std=c++20", "-shared", "-fPIC", "-pthread"]
        subprocess.run(["g++", *flags, cpp, "-o", tmp], check=True)
        os.replace(tmp, so)
        os.remove(cpp)
    return ctypes.CDLL(so)


def _pointer(a: np.ndarray):
    assert a.flags.c_contiguous
    return a.ctypes.data_as(ctypes.c_void_p)


def elementwise(kernel, types: dict, args, n: int) -> None:
    """Run ``cupy.ElementwiseKernel`` ``kernel`` for i in [0, n).

    ``args`` follow the kernel's parameters (inputs, then outputs): arrays for
    array parameters (an element parameter's array has n elements), numbers
    for scalars. ``types`` maps the type placeholders to C types.
    """
    params = [p for p in kernel.params if p.name != "_ind"]
    signature, decls, values = [], [], []
    for p, a in zip(params, args, strict=True):
        ctype = types.get(p.ctype, p.ctype)
        if isinstance(a, np.ndarray):
            name = p.name if p.raw else f"_raw_{p.name}"
            signature.append(f"{ctype}* {name}")
            if not p.raw:
                decls.append(f"{ctype}& {p.name} = _raw_{p.name}[i];")
            values.append(_pointer(a))
        else:
            signature.append(f"{ctype} {p.name}")
            values.append(_CTYPES.get(ctype, ctypes.c_int)(a))
    typedefs = "".join(f"typedef {c} {t};\n" for t, c in types.items())
    source = (
        f"{SHIM}{typedefs}{kernel.preamble}\n"
        f'extern "C" void run({", ".join(signature)}, long long _n) {{\n'
        "  for (ptrdiff_t i = 0; i < _n; ++i) {\n"
        + "\n".join(decls)
        + f"\n{kernel.operation}\n  }}\n}}\n"
    )
    build(source).run(*values, ctypes.c_longlong(n))


def launch(code: str, call: str, signature: str, grid, block, args) -> None:
    """Run ``call`` (a kernel of ``code`` applied to the names of ``signature``)
    as a launch of ``grid`` x ``block`` threads; ``args`` in signature order,
    arrays as NumPy arrays, scalars as ctypes values."""
    source = (
        f"{SHIM}{code}\n"
        f'extern "C" void run({signature}) {{\n'
        f"  numnet_launch(dim3{{{grid[0]}u, {grid[1]}u, 1u}}, "
        f"dim3{{{block[0]}u, {block[1]}u, 1u}}, [&] {{ {call}; }});\n}}\n"
    )
    values = [_pointer(a) if isinstance(a, np.ndarray) else a for a in args]
    build(source).run(*values)
