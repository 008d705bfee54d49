#!/usr/bin/env bash
# The one prepared GPU check: run it from the repository root on a machine with
# an NVIDIA GPU, CuPy and PyTorch CUDA installed (no network needed):
#
#     bash benchmarks/gpu_check.sh
#
# It runs the GPU tests (tests/gpu, -m gpu: the CUDA kernels, the conv planner's
# cupy executor, augmentation on CuPy), the device tests that also run on
# the CPU, the GPU benchmark table (python -m benchmarks --device cuda: W1,
# W4, W5 at batch 128 and 1024, W6, W7 against PyTorch CUDA, and W8), then the
# CPU-vs-CUDA agreement of every public layer, loss, metric and callback, of the
# applications, vision tools, decoders and examples, in under 8 minutes, and writes everything to one file: $OUT/gpu_check.txt
# ($OUT defaults to ./out). Fashion-MNIST (for W8) is read from
# $NUMNET_DATA/fashion-mnist, by default ./data/fashion-mnist (git-ignored):
# copy the four IDX files there first. GPU_CHECK_RESNET=1 also trains
# examples/resnet_fashion_mnist.py --device cuda (its GPU defaults: 64/128/256
# channels, the first stage at full 28x28 resolution, 20 epochs, which
# GPU_CHECK_RESNET_EPOCHS overrides) with test-time mirroring reported beside the
# plain accuracy, under its own time limit (GPU_CHECK_RESNET_SECONDS).
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/out}"
mkdir -p "$OUT"
REPORT="$OUT/gpu_check.txt"
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export NUMNET_DATA="${NUMNET_DATA:-$PWD/data}"
start=$(date +%s)

section() { echo; echo "== $1 ($(( $(date +%s) - start )) s)"; }
# the CPU-vs-CUDA agreement of every public class, run after the benchmark table
# (every layer, loss, metric, ...; the examples last: the slowest)
EVERY_CLASS=$(ls tests/gpu/test_*_on_devices.py | grep -v examples;
              ls tests/gpu/test_examples*_on_devices.py)
EVERY_CLASS_IGNORED=$(for f in $EVERY_CLASS; do printf -- '--ignore=%s ' "$f"; done)

{
  section "machine"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1
  python - <<'PY' 2>&1
import numpy, sys
print("python", sys.version.split()[0], "numpy", numpy.__version__)
try:
    import cupy
    print("cupy", cupy.__version__, "CUDA runtime", cupy.cuda.runtime.runtimeGetVersion(),
          "devices", cupy.cuda.runtime.getDeviceCount())
except Exception as error:
    print("cupy unavailable:", error)
try:
    import torch
    print("torch", torch.__version__, "cuda", torch.cuda.is_available())
except Exception as error:
    print("torch unavailable:", error)
PY
  ls "$NUMNET_DATA/fashion-mnist" 2>&1 | head -5

  section "GPU tests: pytest -m gpu tests/gpu (the kernels, fit, save/load)"
  timeout 200 python -m pytest -q -p no:cacheprovider -m gpu tests/gpu -rfEs \
    $EVERY_CLASS_IGNORED --maxfail=30 --tb=line 2>&1 | tail -60

  section "kernel sources compile with NVRTC"
  timeout 60 python -m pytest -q -p no:cacheprovider \
    tests/gpu/test_kernel_sources_compile.py 2>&1 | tail -3

  section "device tests (also run on the CPU)"
  timeout 60 python -m pytest -q -p no:cacheprovider tests/gpu/test_devices.py \
    -rfE 2>&1 | tail -20

  section "op profiles: python -m benchmarks.op_profile --device cuda"
  for w in W5 W5/1024 W9; do
    timeout 30 python -m benchmarks.op_profile --workload "$w" --device cuda \
      --steps 10 --warmup 3 2>&1 | head -14
  done
  echo "-- the same W5 steps with each ReLU before its max pool, as written"
  for w in W5 W5/1024; do
    timeout 30 python -m benchmarks.op_profile --workload "$w" --device cuda \
      --steps 10 --warmup 3 --relu-before-pool 2>&1 | head -1
  done

  section "conv executors on CuPy: benchmarks/gpu_conv_executors.py"
  timeout 60 python benchmarks/gpu_conv_executors.py 2>&1 | tail -5

  section "benchmark table: python -m benchmarks --device cuda"
  timeout 220 python -m benchmarks --device cuda --repeats 20 \
    --json "$OUT/gpu_bench.json" 2>&1 | tail -40
  echo "-- json"
  cat "$OUT/gpu_bench.json" 2>/dev/null

  section "every layer, loss, metric and callback, the applications and examples, on CUDA"
  timeout 150 python -m pytest -q -p no:cacheprovider -m gpu $EVERY_CLASS -rfEs \
    --maxfail=30 --tb=line 2>&1 | tail -40

  section "data parallelism: 2 MPI ranks, each model on CUDA"
  timeout 60 python -m pytest -q -p no:cacheprovider -m gpu -rfEs --tb=line \
    tests/distributed/test_distributed_mpi.py -k device 2>&1 | tail -8

  if [ "${GPU_CHECK_RESNET:-0}" = "1" ]; then
    section "examples/resnet_fashion_mnist.py --device cuda"
    timeout "${GPU_CHECK_RESNET_SECONDS:-420}" python examples/resnet_fashion_mnist.py \
      --device cuda --epochs "${GPU_CHECK_RESNET_EPOCHS:-20}" --tta --verbose 2 \
      2>&1 | tail -30
  fi
  section "done"
} > "$REPORT" 2>&1
rm -f "$OUT/gpu_bench.json"  # its content is in the report: one file
echo "wrote $REPORT"
