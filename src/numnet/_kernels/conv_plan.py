"""How a convolution runs: the plan object, the planner, and the choices' evidence.

``plan_conv(g, device, C=..., O=...)`` looks at one convolution's geometry and
returns a frozen :class:`ConvPlan`: which executor runs it and, for the CPU
executor, how (column layout, input-gradient path, blocking, kept columns, bias
in the GEMM, kernel threads, fused ReLU). ``plan.explain()`` says it in words.
Executors only read the plan; every choice is made here, in one place.

Tests and users pick paths through a plan, never by patching module internals:
``F.conv2d(x, w, plan=ConvPlan(executor="reference"))`` runs the course's im2col
convolution, ``plan=plan_conv(...).replace(dx_path="taps")`` one variant of it.
A scope can override every convolution in it through ``numnet.config``'s kernel
plans: ``with numnet.config.using(kernel_plans={"conv2d": plan}): ...`` (an
explicit ``plan=`` wins over it; see :func:`configured_plan`).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

from numnet import config
from numnet._kernels import conv_dx
from numnet._kernels.im2col import Geometry, get_memory_budget
from numnet.backend import blas

#: "flat" dx only where the padded grid is at most this much larger than the
#: output (its GEMMs run over the grid's rows); decisions.md has the measurements.
FLAT_MAX_OVERHEAD = 1.5
#: ... and C_in at least this: each tap's GEMM is (rows, C_out) @ (C_out, C_in),
#: and a thinner output runs at a fraction of BLAS's rate (C_in 1: 2x slower).
FLAT_MIN_CHANNELS = 8
#: Target bytes of columns per block (fewer, larger BLAS calls; decisions.md).
BLOCK_BYTES = 64 * 2**20

_CHOICES = {
    "executor": ("cpu", "reference", "cupy"),
    "layout": ("rows", "k_major"),
    "dx_path": ("col2im", "flipped", "taps", "flat"),
}


@dataclass(frozen=True)
class ConvPlan:
    """One convolution's execution plan (frozen; ``replace`` makes a variant).

    Attributes:
        executor: "reference" (the course's im2col form, any array namespace),
            "cpu" (NumPy: the choices below) or "cupy" (CuPy arrays: im2col and
            col2im as one CUDA kernel each, GEMMs on cuBLAS,
            ``numnet.backend.cupy_conv``; only ``keep_columns`` and
            ``fused_relu`` apply).
        layout: CPU column layout, "rows" (rows, KH*KW*C) or "k_major"
            (KH*KW*C [+ 1], rows), one plane copy per (i, j, c).
        dx_path: "col2im" (gy w2^T, then col2im), "flipped" (a stride-1
            convolution of gy with the 180-degree rotated kernel), "taps"
            (one GEMM per kernel tap, added into a shifted window of dx) or
            "flat" (one GEMM per tap over the padded grid flattened with the
            batch, accumulated in place by BLAS; ``_kernels/conv_dx.py``).
        bias_in_gemm: k_major columns end with a row of ones, so the forward
            GEMM adds b and the dW GEMM returns db as its last row.
        keep_columns: keep the forward's columns for dW (within the memory
            budget) instead of recomputing them in backward.
        block_bytes: at most this many bytes of columns per batch block.
        threads: run the memory-bound copies (im2col, col2im) on the kernel
            threads of ``threads.over_batch``.
        fused_relu: y = relu(conv); set by ``conv2d_relu``, not a choice.
        reasons: why the planner chose what it chose (for :meth:`explain`).
    """

    executor: str = "cpu"
    layout: str = "rows"
    dx_path: str = "col2im"
    bias_in_gemm: bool = False
    keep_columns: bool = True
    block_bytes: int = BLOCK_BYTES
    threads: bool = False
    fused_relu: bool = False
    reasons: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self):
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"ConvPlan: invalid value for argument '{name}'. Expected one "
                    f"of {allowed}. Received: {name}={getattr(self, name)!r}"
                )
        if self.bias_in_gemm and self.layout != "k_major":
            raise ValueError(
                "ConvPlan: bias_in_gemm=True needs layout='k_major' (the ones row "
                f"of K-major columns). Received: layout={self.layout!r}"
            )
        if not isinstance(self.block_bytes, int) or self.block_bytes < 1:
            raise ValueError(
                "ConvPlan: invalid value for argument 'block_bytes'. Expected a "
                f"positive int. Received: block_bytes={self.block_bytes!r}"
            )

    def replace(self, **changes) -> ConvPlan:
        """A copy with some fields changed (validated), e.g. ``dx_path="taps"``."""
        return dataclasses.replace(self, **changes)

    def explain(self) -> str:
        """The plan in words, one line per choice, with the planner's reasons."""
        if self.executor == "reference":
            lines = ["reference executor: cols = im2col(x); y = cols @ w2 + b;",
                     "  dW = cols^T gy; db = sum gy; dx = col2im(gy w2^T)"]  # fmt: skip
        elif self.executor == "cupy":
            lines = [
                "cupy executor (CUDA): im2col and col2im one kernel each, "
                "GEMMs on cuBLAS",
                f"  columns kept for dW: {'yes' if self.keep_columns else 'no'}",
            ]
        else:
            lines = [
                "cpu executor (NumPy)",
                f"  columns: {_LAYOUTS[self.layout]}",
                f"  bias: {_BIAS[self.bias_in_gemm]}",
                f"  dx: {_DX_PATHS[self.dx_path]}",
                f"  columns kept for dW: {'yes' if self.keep_columns else 'no'}",
                f"  blocks of at most {self.block_bytes // 2**20} MiB of columns",
                f"  kernel threads for copies: {'yes' if self.threads else 'no'}",
            ]
        if self.fused_relu:
            lines.append("  fused ReLU on the output, its mask on gy")
        lines += [f"  because: {reason}" for reason in self.reasons]
        return "\n".join(lines)


_LAYOUTS = {
    "rows": "row-major (rows, KH*KW*C), one copy per kernel row",
    "k_major": "K-major (KH*KW*C, rows), one plane copy per (i, j, c)",
}
_BIAS = {True: "in the GEMMs (a ones row)", False: "y += b"}
_DX_PATHS = {
    "col2im": "col2im(gy w2^T)",
    "flipped": "stride-1 convolution of gy with the rotated kernel",
    "taps": "one GEMM per kernel tap into a shifted window of dx",
    "flat": "one in-place accumulating GEMM per kernel tap on the flattened grid",
}


def configured_plan(kernel: str = "conv2d"):
    """The plan ``numnet.config``'s ``kernel_plans`` sets for ``kernel``, or None.

    Keys read: "conv2d" (a :class:`ConvPlan`, for conv2d and conv2d_relu) and
    "max_pool2d" (a method name of ``max_pool2d``). None when no override is
    set.
    """
    return config.get().kernel_plans.get(kernel)


def flipped_geometry(g: Geometry) -> Geometry | None:
    """The stride-1 convolution of the padded gy whose output is dx, or None.

    For stride 1, dx[p, q] = sum_ij gy[p - i*dh, q - j*dw] . w[i, j]^T: a
    convolution of gy, padded by (K-1)*d minus the forward padding on each side,
    with the kernel rotated by 180 degrees and its channel axes swapped.
    """
    if (g.sh, g.sw) != (1, 1):
        return None
    pads = (
        (g.KH - 1) * g.dh - g.pt,
        (g.KH - 1) * g.dh - g.pb,
        (g.KW - 1) * g.dw - g.pl,
        (g.KW - 1) * g.dw - g.pr,
    )
    if min(pads) < 0:  # padding wider than the window: use another path
        return None
    return Geometry(g.OH, g.OW, g.KH, g.KW, 1, 1, g.dh, g.dw, *pads)


def valid_dx_paths(g: Geometry) -> tuple[str, ...]:
    """The input-gradient paths that can run on geometry ``g``."""
    if (g.sh, g.sw) != (1, 1):
        return ("col2im", "flat")
    paths = ("col2im", "taps", "flat")
    return paths + (("flipped",) if flipped_geometry(g) else ())


def plan_conv(
    g: Geometry,
    device: str = "cpu",
    *,
    C: int,
    O: int,
    N: int = 1,
    itemsize: int = 4,
    weight_grad: bool = True,
    bias: bool = True,
    relu: bool = False,
) -> ConvPlan:
    """Choose how to run one convolution (``plan.explain()`` says why).

    Args:
        g: the geometry; device: "cpu" for NumPy arrays, "cupy" for CuPy
            arrays (the CUDA executor), anything else runs the portable
            reference executor.
        C, O: input and output channels; N, itemsize: batch and dtype size
            (whether the columns fit the memory budget).
        weight_grad: whether dW will be needed (columns worth keeping).
        bias: whether there is a bias; relu: fused ReLU (``conv2d_relu``).

    Measurements behind the choices (docs/decisions.md has the full story):

    - layout "k_major" + bias in the GEMM when KW*C <= OW/2 (a first conv on
      grey images, KW*C = 3): W5's first conv forward 3.7 -> 1.6 ms, fwd+bwd
      7.4 -> 4.6 ms, the whole W5 step 0.95x; W2 (KW*C = 15, OW = 16) gained
      nothing.
    - dx "flat" (one in-place accumulating GEMM per tap on the flattened
      phase grid, ``conv_dx.py``) for KxK convs with C_in >= 8 whose phase grid
      is at most 1.5x the output: quiet machine, separate processes, 3-4
      alternating rounds: W1 48.4 -> 43.6 ms, W9 178 -> 153 ms, W5 even
      (kernel level, dx alone: 0.4-0.95x of the best other path where chosen,
      0.95-2.2x where not; the table is in decisions.md).
    - else dx "taps" (KH*KW thin GEMMs into shifted windows, no column buffer)
      for stride-1 convs with C_out >= C_in, else "col2im" (one fat GEMM gy2 @ w2^T
      and the scatter-add). Quiet 2-core machine, separate processes, 4
      alternating rounds, 2 threads: W5 step median 34.7 ms with taps against
      40.5 ms with col2im everywhere (0.86x); W1 60.7 vs 63.1 ms. On the
      shared machine at load 15 the order flipped (col2im made W5 0.82x and
      0.73x of taps): each thin GEMM is one more OpenBLAS thread
      synchronisation, and a loaded machine deschedules the waiting thread.
      dx "flipped" (for C_out <= C_in) is opt-in: 44 vs 55 ms against col2im
      on 128x14x14x64 3x3 (quiet, kernel level), but the ResNet example's step
      (W9, where it runs in every block's second conv) was even: col2im 1.02x
      at load 13.
    - columns kept for dW when the batch's columns fit the memory budget.
    - kernel threads off: no gain in whole training steps (W5, W1, BN-CNN
      measured with 1 vs 2 kernel threads; quiet machine, taps with threads:
      W5 39.0 vs 34.7 ms without), see docs/decisions.md.

    Plans are memoized: the key is every argument (with its type) and the
    memory budget, the one setting the choice reads.
    """
    args = (g, device, C, O, N, itemsize, weight_grad, bias, relu)
    try:
        return _cached_plan(*args, get_memory_budget())
    except TypeError:  # an unhashable argument: plan it afresh (same result)
        return _plan(*args)


@functools.lru_cache(maxsize=512, typed=True)
def _cached_plan(g, device, C, O, N, itemsize, weight_grad, bias, relu, budget):
    # ``budget`` is only part of the key: _plan reads the same value itself
    return _plan(g, device, C, O, N, itemsize, weight_grad, bias, relu)


def _plan(g, device, C, O, N, itemsize, weight_grad, bias, relu) -> ConvPlan:
    if device != "cpu":
        return _device_plan(device, weight_grad, relu)
    reasons = []
    k_major = 2 * g.KW * C <= g.OW
    if k_major:
        reasons.append(f"KW*C = {g.KW * C} <= OW/2 = {g.OW / 2:g}: K-major columns")
    dx_path = _dx_path(g, C, O, reasons)
    per_item = g.OH * g.OW * (g.KH * g.KW * C + k_major) * itemsize
    keep = weight_grad and N * per_item <= get_memory_budget()
    if weight_grad and not keep:
        reasons.append("the batch's columns exceed the memory budget: recomputed")
    return ConvPlan(
        executor="cpu",
        layout="k_major" if k_major else "rows",
        dx_path=dx_path,
        bias_in_gemm=k_major and bias,
        keep_columns=keep,
        fused_relu=relu,
        reasons=tuple(reasons),
    )


def _dx_path(g: Geometry, C: int, O: int, reasons: list) -> str:
    """ "flat" where it measured faster (see FLAT_* above), else "taps" for
    stride-1 convs that do not narrow the channels, else "col2im"; "flipped"
    is opt-in."""
    overhead = conv_dx.grid_overhead(g)
    if (
        g.KH * g.KW > 1  # a 1x1 conv's col2im is one strided copy: kept
        and C >= FLAT_MIN_CHANNELS
        and overhead <= FLAT_MAX_OVERHEAD
        and blas.accumulates_in_place()
    ):
        reasons.append(
            f"phase grid {overhead:.2f}x the output, C_in {C}: dx one in-place "
            "GEMM per kernel tap on the flattened grid"
        )
        return "flat"
    if "taps" in valid_dx_paths(g) and O >= C:
        reasons.append(f"stride 1, C_out {O} >= C_in {C}: dx one kernel tap at a time")
        return "taps"
    reasons.append("dx by col2im (one GEMM, then the scatter-add)")
    return "col2im"


def _device_plan(device: str, weight_grad: bool, relu: bool) -> ConvPlan:
    """The plan off the CPU: the CUDA executor for CuPy, else the reference."""
    if device == "cupy":
        # the forward's columns are kept for dW: recomputing them costs one more
        # im2col kernel, and GPU memory is not the CPU's budget
        return ConvPlan(
            executor="cupy", keep_columns=weight_grad, fused_relu=relu,
            reasons=("CuPy arrays: im2col/col2im CUDA kernels, cuBLAS GEMMs",),
        )  # fmt: skip
    return ConvPlan(
        executor="reference", fused_relu=relu,
        reasons=(f"device {device!r}: the portable im2col form",),
    )  # fmt: skip


def candidate_plans(g: Geometry, *, bias: bool = True, relu: bool = False):
    """Every CPU plan that can run on ``g``, plus the reference one (tests, tuning)."""
    plans = [ConvPlan(executor="reference", fused_relu=relu)]
    for layout in ("rows", "k_major"):
        for dx_path in valid_dx_paths(g):
            for bias_in_gemm in (
                (False, True) if bias and layout == "k_major" else (False,)
            ):
                for keep in (True, False):
                    plans.append(
                        ConvPlan("cpu", layout, dx_path, bias_in_gemm, keep,
                                 fused_relu=relu)
                    )  # fmt: skip
    return plans
