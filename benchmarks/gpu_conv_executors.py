"""Time conv2d forward+backward on CuPy arrays: the planner's "cupy" executor
against the portable reference executor (a GPU is needed).

    python benchmarks/gpu_conv_executors.py
"""

from __future__ import annotations

import time

import numpy as np


def _median_ms(step, repeats=20):
    import cupy

    step()
    cupy.cuda.Device().synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        cupy.cuda.Device().synchronize()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main() -> None:
    import cupy

    import numnet
    from numnet._kernels.conv_plan import ConvPlan

    rng = np.random.default_rng(0)
    shapes = [(128, 28, 28, 1, 32), (128, 14, 14, 32, 64), (128, 32, 32, 64, 64)]
    for N, H, W, C, O in shapes:
        x = cupy.asarray(rng.standard_normal((N, H, W, C), np.float32))
        w = cupy.asarray(rng.standard_normal((3, 3, C, O), np.float32))
        b = cupy.zeros(O, np.float32)
        row = []
        for plan in (None, ConvPlan(executor="reference")):

            def step(plan=plan, arrays=(x, w, b)):
                ts = [numnet.tensor(a, requires_grad=True) for a in arrays]
                y = numnet.functional.conv2d(*ts, 1, "same", plan=plan)
                y.backward(cupy.ones(y.shape, np.float32))

            row.append(_median_ms(step))
        print(
            f"conv2d fwd+bwd {N}x{H}x{W}x{C} -> {O}, 3x3 same: cupy executor "
            f"{row[0]:.2f} ms, reference {row[1]:.2f} ms ({row[1] / row[0]:.1f}x)"
        )


if __name__ == "__main__":
    main()
