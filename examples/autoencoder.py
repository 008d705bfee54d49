"""Autoencoders on Fashion-MNIST: Dense, denoising Dense, and convolutional.

An autoencoder learns x -> code -> x_hat through a bottleneck; a *denoising*
autoencoder gets a corrupted x~ = clip(x + N(0, sigma^2)) as input and the
clean x as target, so it must learn the structure of the images to undo the
noise. Three models:

1. Dense 784-128-32-128-784 (sigmoid output), trained on clean images;
2. the same architecture trained to denoise;
3. a convolutional denoiser: Conv2D + MaxPooling2D down to 7x7x16, back up with
   Conv2DTranspose (stride 2) to 28x28.

Reported: the test mean squared error of each reconstruction next to two
baselines (the noisy input itself, and the mean training image), and a picture
of rows originals / noisy / Dense / denoising Dense / conv denoiser saved as
``<out>/autoencoder_reconstructions.png``.

Run:  nice -n 5 python examples/autoencoder.py [--epochs 10] [--limit N]
      [--device cuda]
"""

from __future__ import annotations

import os
import time

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
from numnet import layers, optimizers
from numnet.datasets import fashion_mnist
from numnet.models import Sequential


def dense_autoencoder(code_size: int = 32) -> Sequential:
    """784 -> 128 -> code -> 128 -> 784, sigmoid output in [0, 1]."""
    return Sequential(
        [
            layers.Dense(128, activation="relu", input_shape=(784,)),
            layers.Dense(code_size, activation="relu", name="code"),
            layers.Dense(128, activation="relu"),
            layers.Dense(784, activation="sigmoid"),
        ]
    )


def conv_autoencoder() -> Sequential:
    """28x28x1 -> 7x7x16 -> 28x28x1 with strided Conv2DTranspose upsampling."""
    return Sequential(
        [
            layers.Conv2D(
                16, 3, padding="same", activation="relu", input_shape=(28, 28, 1)
            ),
            layers.MaxPooling2D(2),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2, name="code"),
            layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2D(1, 3, padding="same", activation="sigmoid"),
        ]
    )


def add_noise(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """x + N(0, sigma^2), clipped back into [0, 1], float32."""
    noisy = x + rng.normal(0.0, sigma, size=x.shape).astype(np.float32)
    return np.clip(noisy, 0.0, 1.0)


def train(model, x_in, x_target, epochs, batch_size, verbose, device="cpu") -> float:
    """Fit with Adam on binary cross-entropy on ``device``; return the wall time in
    seconds."""
    model.compile(optimizer=optimizers.Adam(1e-3), loss="binary_crossentropy")
    model.to(device)
    start = time.perf_counter()
    model.fit(x_in, x_target, batch_size=batch_size, epochs=epochs, verbose=verbose)
    return time.perf_counter() - start


def mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared error per pixel."""
    return float(np.mean((a.reshape(len(a), -1) - b.reshape(len(b), -1)) ** 2))


def save_picture(rows: list[tuple[str, np.ndarray]], path: str) -> None:
    """One row of 28x28 images per (title, images) pair."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(rows[0][1])
    fig, axes = plt.subplots(len(rows), n, figsize=(1.1 * n, 1.25 * len(rows)))
    for r, (title, images) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(images[c].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> dict:
    parser = make_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument(
        "--conv-epochs",
        type=int,
        default=None,
        help="epochs of the conv model (default: --epochs)",
    )
    parser.add_argument("--limit", type=int, default=None, help="training images")
    parser.add_argument(
        "--conv-limit",
        type=int,
        default=None,
        help="training images of the conv model (default: --limit)",
    )
    parser.add_argument("--test-limit", type=int, default=None, help="test images")
    parser.add_argument("--noise", type=float, default=0.3, help="noise sigma")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--out", default=os.path.join("examples", "out"))
    parser.add_argument("--verbose", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    add_device_flag(parser)
    args = parser.parse_args(argv)

    numnet.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    (x_train, _), (x_test, _) = fashion_mnist.load_data()
    x_train = (x_train[: args.limit] / 255.0).astype(np.float32).reshape(-1, 784)
    x_test = (x_test[: args.test_limit] / 255.0).astype(np.float32).reshape(-1, 784)
    noisy_train = add_noise(x_train, args.noise, rng)
    noisy_test = add_noise(x_test, args.noise, rng)
    conv_epochs = args.conv_epochs if args.conv_epochs is not None else args.epochs

    dense, denoise, conv = dense_autoencoder(), dense_autoencoder(), conv_autoencoder()
    times = {
        "dense": train(
            dense,
            x_train,
            x_train,
            args.epochs,
            args.batch_size,
            args.verbose,
            args.device,
        ),
        "denoising dense": train(
            denoise,
            noisy_train,
            x_train,
            args.epochs,
            args.batch_size,
            args.verbose,
            args.device,
        ),
        "conv denoiser": train(
            conv,
            noisy_train[: args.conv_limit].reshape(-1, 28, 28, 1),
            x_train[: args.conv_limit].reshape(-1, 28, 28, 1),
            conv_epochs,
            args.batch_size,
            args.verbose,
            args.device,
        ),
    }
    recon = {
        "dense": dense.predict(x_test, batch_size=512, verbose=0),
        "denoising dense": denoise.predict(noisy_test, batch_size=512, verbose=0),
        "conv denoiser": conv.predict(
            noisy_test.reshape(-1, 28, 28, 1), batch_size=512, verbose=0
        ).reshape(-1, 784),
    }
    results = {
        "baseline: mean image": mse(
            np.broadcast_to(x_train.mean(0), x_test.shape), x_test
        ),
        "baseline: noisy input": mse(noisy_test, x_test),
        **{f"{name} (test MSE)": mse(r, x_test) for name, r in recon.items()},
    }
    print(
        f"{len(x_train)} training images, {len(x_test)} test images, "
        f"noise sigma {args.noise}"
    )
    for name, value in results.items():
        print(f"  {name:<32s} {value:.4f}")
    for name, seconds in times.items():
        print(f"  {name} training time: {seconds:.0f} s")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "autoencoder_reconstructions.png")
    picks = np.arange(10)
    save_picture(
        [
            ("original", x_test[picks]),
            ("noisy", noisy_test[picks]),
            ("dense AE\n(clean in)", recon["dense"][picks]),
            ("denoising\ndense AE", recon["denoising dense"][picks]),
            ("conv\ndenoiser", recon["conv denoiser"][picks]),
        ],
        path,
    )
    print(f"saved {path}")
    return results


if __name__ == "__main__":
    main()
