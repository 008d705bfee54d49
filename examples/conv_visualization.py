"""What a conv net learns: top-9 patches per unit and class saliency maps.

A small CNN (conv 5x5 -> pool -> conv 3x3 -> pool -> conv 3x3 -> dense) is
trained on Fashion-MNIST. For a few units of each conv layer,
``numnet.vision.top_activating_patches`` finds the 9 test images on which the
unit fires most and cuts out what the unit sees there (its receptive field):
the first layer's units answer to edges and strokes, deeper units to larger
parts (collars, soles, straps). ``numnet.vision.saliency_map`` shows, for
test images, which pixels move the true class's score most. Both are saved as
pictures.

Run:  OPENBLAS_NUM_THREADS=1 nice -n 5 python examples/conv_visualization.py
      [--epochs 2] [--limit N] [--units 6] [--device cuda]
"""

from __future__ import annotations

import time

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
from numnet import layers, models
from numnet.datasets import fashion_mnist
from numnet.vision import receptive_field, saliency_map, top_activating_patches

LAYERS = ("conv1", "conv2", "conv3")


def build_model() -> models.Sequential:
    """A small Fashion-MNIST CNN with named conv layers."""
    return models.Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Conv2D(16, 5, activation="relu", name="conv1"),  # 24x24
            layers.MaxPooling2D(2, name="pool1"),  # 12x12
            layers.Conv2D(32, 3, activation="relu", name="conv2"),  # 10x10
            layers.MaxPooling2D(2, name="pool2"),  # 5x5
            layers.Conv2D(64, 3, activation="relu", name="conv3"),  # 3x3
            layers.Flatten(name="flatten"),
            layers.Dense(10, activation="softmax", name="predictions"),
        ],
        name="small_cnn",
    )


def save_patches(path, grids: dict) -> None:
    """One row per (layer, unit): its 9 patches side by side (a dead unit, zero
    everywhere, shows the first 9 images)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(name, unit, p) for name, units in grids.items() for unit, p in units]
    fig, axes = plt.subplots(len(rows), 9, figsize=(9, 1.05 * len(rows)))
    for r, (name, unit, patches) in enumerate(rows):
        for c in range(9):
            ax = axes[r, c]
            if c < len(patches):
                ax.imshow(patches[c, ..., 0], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(f"{name}:{unit}", fontsize=7)
    fig.suptitle("Top-9 test patches per unit (receptive fields)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def save_saliency(path, images, maps, labels) -> None:
    """Images above their saliency maps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(images), figsize=(1.4 * len(images), 3))
    for k in range(len(images)):
        axes[0, k].imshow(images[k, ..., 0], cmap="gray")
        axes[0, k].set_title(str(labels[k]), fontsize=8)
        axes[1, k].imshow(maps[k], cmap="hot")
        for ax in axes[:, k]:
            ax.set_axis_off()
    fig.suptitle("Class saliency |d score / d pixel| of the true class", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None) -> dict:
    parser = make_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=2, help="training epochs")
    parser.add_argument("--limit", type=int, default=None, help="training images")
    parser.add_argument("--test-limit", type=int, default=10000, help="test images")
    parser.add_argument("--units", type=int, default=6, help="units per layer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    parser.add_argument("--patches-plot", default="top_patches.png")
    parser.add_argument("--saliency-plot", default="saliency.png")
    add_device_flag(parser)
    args = parser.parse_args(argv)

    numnet.manual_seed(args.seed)
    (x, y), (x_test, y_test) = fashion_mnist.load_data()
    x = (x[: args.limit] / np.float32(255)).astype(np.float32)[..., None]
    y = y[: args.limit].astype(np.int64)
    x_test = (x_test[: args.test_limit] / np.float32(255)).astype(np.float32)[..., None]
    y_test = y_test[: args.test_limit].astype(np.int64)
    model = build_model()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.to(args.device)
    start = time.perf_counter()
    model.fit(x, y, epochs=args.epochs, batch_size=128, verbose=args.verbose)
    train_seconds = time.perf_counter() - start
    accuracy = float((model.predict(x_test, verbose=0).argmax(1) == y_test).mean())

    start = time.perf_counter()
    grids = {}
    for name in LAYERS:
        found = top_activating_patches(model, name, range(args.units), x_test, k=9)
        grids[name] = [
            (f"{unit}" if values.max() > 0 else f"{unit} (dead)", patches)
            for unit, (patches, values, _) in enumerate(found)
        ]
        dead = [unit for unit, (_, values, _) in enumerate(found) if values.max() <= 0]
        if dead:
            print(f"{name}: units {dead} never fire on the test images (dead ReLU)")
        size = receptive_field(model, name, (28, 28))[0]
        print(f"{name}: receptive field {size[0]}x{size[1]} pixels")
    patch_seconds = time.perf_counter() - start
    start = time.perf_counter()
    maps = saliency_map(model, x_test[:8], y_test[:8])
    saliency_seconds = time.perf_counter() - start
    print(
        f"small CNN: test accuracy {accuracy:.4f} after {args.epochs} epochs "
        f"({train_seconds:.0f} s)"
    )
    print(
        f"top-9 patches of {args.units} units x {len(LAYERS)} layers over "
        f"{len(x_test)} test images: {patch_seconds:.1f} s; saliency of 8 "
        f"images: {saliency_seconds:.2f} s"
    )
    if args.patches_plot:
        save_patches(args.patches_plot, grids)
        print(f"patches saved to {args.patches_plot}")
    if args.saliency_plot:
        save_saliency(args.saliency_plot, x_test[:8], maps, y_test[:8])
        print(f"saliency maps saved to {args.saliency_plot}")
    return {
        "accuracy": accuracy,
        "patch_seconds": patch_seconds,
        "saliency_seconds": saliency_seconds,
    }


if __name__ == "__main__":
    main()
