"""numnet's CUDA kernel sources compile with NVRTC, also on a machine without a GPU.

CuPy compiles a kernel the first time it runs, so a syntax error in a kernel
that only runs on a GPU would otherwise be found only there. This test hands
every ``cupy.ElementwiseKernel`` and ``cupy.RawModule`` defined in numnet's
CuPy modules to NVRTC directly, for float32 and float64, with CuPy's headers:
the elementwise ones wrapped in a kernel that declares their parameters the
way CuPy does (``raw`` arguments as ``CArray``, element arguments as
references to the current element ``i``, scalars by value). It needs CuPy and
NVRTC (``pip install cupy-cuda13x "nvidia-cuda-nvrtc==13.*"``), no GPU, and
skips where they are missing.
"""

from __future__ import annotations

import importlib
import os

import pytest

cupy = pytest.importorskip("cupy")

MODULES = [
    "numnet.backend.cupy_ops",
    "numnet.backend.cupy_conv",
    "numnet.backend.cupy_pool",
    "numnet.backend.cupy_norm",
    "numnet.backend.cupy_reduce",
    "numnet.backend.cupy_loss",
    "numnet.backend.cupy_depthwise",
    "numnet.backend.cupy_rnn",
]
TYPES = [
    {"T": "float", "I": "unsigned char", "M": "bool", "L": "unsigned char"},
    {"T": "double", "I": "int", "M": "unsigned char", "L": "long long"},
]


def _nvrtc():
    try:
        from cupy_backends.cuda.libs import nvrtc

        nvrtc.getVersion()
    except Exception as error:  # the library is not found: no NVRTC here
        pytest.skip(f"NVRTC is not available: {error}")
    return nvrtc


def _compile(source: str, name: str, expressions=()) -> str:
    """NVRTC's log when ``source`` fails to compile, else ''."""
    nvrtc = _nvrtc()
    include = os.path.join(os.path.dirname(cupy.__file__), "_core", "include")
    program = nvrtc.createProgram(source, name, [], [])
    for expression in expressions:
        nvrtc.addNameExpression(program, expression)
    try:
        options = ["-I" + include, "--std=c++17", "-arch=compute_90"]
        nvrtc.compileProgram(program, options)
    except Exception as error:
        return f"{error}\n{nvrtc.getProgramLog(program)}"
    return ""


def _elementwise_source(kernel, types: dict) -> str:
    """``kernel`` wrapped as CuPy does: one thread per element ``i``."""
    args, decls = [], []
    for p in kernel.params:
        if p.name == "_ind":
            continue
        ctype = types.get(p.ctype, p.ctype)
        if p.raw:
            args.append(f"CArray<{ctype}, 1> {p.name}")
        elif p.dtype is not None:  # a scalar
            args.append(f"{ctype} {p.name}")
        else:  # an element of an array argument
            args.append(f"CArray<{ctype}, 1> _raw_{p.name}")
            const = "const " if p.is_const else ""
            decls.append(f"{const}{ctype}& {p.name} = _raw_{p.name}[i];")
    typedefs = "".join(f"typedef {c} {t};\n" for t, c in types.items())
    return (
        "#include <cupy/carray.cuh>\n#include <cupy/atomics.cuh>\n"
        f"{typedefs}{kernel.preamble}\n"
        f'extern "C" __global__ void {kernel.name}('
        f"{', '.join(args)}, long long _n) {{\n"
        "  struct { long long n; __device__ long long size() const { return n; } }"
        " _ind = {_n};\n"
        "  for (ptrdiff_t i = blockIdx.x * blockDim.x + threadIdx.x; i < _n;"
        " i += blockDim.x * gridDim.x) {\n"
        + "\n".join(decls)
        + f"\n{kernel.operation}\n  }}\n}}\n"
    )


def _kernels():
    found = []
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        for attr, obj in vars(module).items():
            if isinstance(obj, cupy.ElementwiseKernel | cupy.RawModule):
                found.append(pytest.param(obj, id=f"{name.rsplit('.', 1)[1]}.{attr}"))
    return found


@pytest.mark.parametrize("kernel", _kernels())
def test_kernel_source_compiles_with_nvrtc(kernel):
    if isinstance(kernel, cupy.RawModule):
        expressions = tuple(getattr(kernel, "name_expressions", None) or ())
        log = _compile(kernel.code, "module.cu", expressions)
        assert not log, log
        return
    for types in TYPES:
        log = _compile(_elementwise_source(kernel, types), f"{kernel.name}.cu")
        assert not log, f"{types['T']}: {log}"


def test_the_check_can_fail():
    bad = cupy.ElementwiseKernel("T x", "T y", "y = x + NOT_DEFINED;", "bad")
    log = _compile(_elementwise_source(bad, TYPES[0]), "bad.cu")
    assert "NOT_DEFINED" in log
