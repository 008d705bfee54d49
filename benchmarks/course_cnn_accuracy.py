"""Test accuracy of the course CNN (W5's model) in numnet and in PyTorch, same recipe.

Evidence for the course CNN target "≥ 0.915 after 5 epochs": both frameworks train the
verbatim model (Conv32-Pool-Conv64-Pool-Dense128-Dropout0.5-Dense10, Adam 1e-3,
batch 128, inputs scaled to [0, 1]) on the first 55,000 training images for
``--epochs`` epochs, for each seed, and report the accuracy on the 10,000 test
images. Run:

    python -m benchmarks.course_cnn_accuracy --epochs 5 --seeds 0 1 2

Set ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` before running to pin threads.
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks.workloads.training_steps import (
    BATCH,
    _fashion,
    numnet_cnn,
    torch_cnn,
    torch_fit,
)

TRAIN = 55_000  # the examples hold out the last 5,000 images for validation


def numnet_accuracy(data, epochs: int, seed: int) -> float:
    """Train the course CNN in numnet; return its test accuracy."""
    import numnet
    from numnet import optimizers

    (x, y), (xt, yt) = data
    numnet.config.keep_freed_memory()  # a training script's allocator opt-in
    numnet.manual_seed(seed)
    model = numnet_cnn()
    model.compile(optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    model.fit(x[:TRAIN], y[:TRAIN], batch_size=BATCH, epochs=epochs, verbose=0)
    return model.evaluate(xt, yt, batch_size=256, verbose=0)[1]


def torch_accuracy(data, epochs: int, seed: int) -> float:
    """Train the PyTorch twin (NCHW) with the same recipe; return its test accuracy."""
    import torch

    (x, y), (xt, yt) = data
    torch.manual_seed(seed)
    x = torch.tensor(x[:TRAIN].transpose(0, 3, 1, 2))
    y = torch.tensor(y[:TRAIN])
    model = torch_cnn(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    torch_fit(torch, model, opt, x, y, epochs)
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor(xt.transpose(0, 3, 1, 2)))
    return float((logits.argmax(1).numpy() == yt).mean())


def main(argv=None) -> None:
    """Print the test accuracy of each side for each seed, then mean and max."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args(argv)
    data = _fashion()
    sides = [("numnet", numnet_accuracy)]
    if not args.no_torch:
        try:
            import torch  # noqa: F401

            sides.append(("PyTorch", torch_accuracy))
        except ImportError:
            pass
    print(f"course CNN, {args.epochs} epochs, {TRAIN} training images")
    for name, run in sides:
        accs = []
        for seed in args.seeds:
            start = time.perf_counter()
            accs.append(run(data, args.epochs, seed))
            print(f"{name} seed {seed}: test accuracy {accs[-1]:.4f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
        print(f"{name}: mean {statistics.mean(accs):.4f}, max {max(accs):.4f}"
              f" over {len(accs)} seeds")  # fmt: skip


if __name__ == "__main__":
    main()
