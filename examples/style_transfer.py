"""Neural style transfer with VGG-19 (given Keras weights) or a net trained here.

With ``--weights PATH`` the feature extractor is the course's network: VGG-19
with the published Keras weights (``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``
or any Keras ``.h5``/``.keras`` file of ``keras.applications.VGG19``), style at
block1_conv1..block5_conv1 and content at block4_conv2; a fixed 1x1 conv turns the
grey images into VGG's BGR, mean-subtracted input. Without it (the weights cannot
be downloaded on every machine) the feature extractor is a small conv net trained
first as a Fashion-MNIST classifier, whose conv layers play VGG's role.

The generated image G starts as the content image plus noise; its pixels are
optimised with Adam to minimise J = alpha J_content + beta J_style (content
cost at one layer, Gram-matrix style costs over several layers; see
``numnet.applications.style_transfer``). The content image is a Fashion-MNIST
test item upscaled 2x (56x56); the style image is a texture: diagonal stripes
with a woven cross pattern by default, or any PNG given with ``--style-image``.

Saved in ``--out``: style_content.png, style_style.png, style_generated.png and
style_transfer.png (the three side by side with the cost curve).

Run:  nice -n 5 python examples/style_transfer.py [--train-limit N] [--steps 300]
      [--device cuda]
      (add --net examples/out/style_net.npz to train the feature net once)
"""

from __future__ import annotations

import os
import time

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
from numnet import layers, optimizers
from numnet.applications.style_transfer import StyleTransfer
from numnet.datasets import fashion_mnist
from numnet.models import Sequential, load_model

STYLE_LAYERS = ["conv1", "conv2", "conv3"]
CONTENT_LAYER = "conv3"
VGG_STYLE_LAYERS = [f"block{i}_conv1" for i in range(1, 6)]
VGG_CONTENT_LAYER = "block4_conv2"
VGG_MEANS_BGR = (103.939, 116.779, 123.68)  # Keras's "caffe" preprocessing


def vgg19_feature_net(path: str, size: int) -> Sequential:
    """VGG-19 with the Keras weights in ``path``, behind a fixed 1x1 conv mapping a
    grey image in [0, 1] to VGG's input (BGR in [0, 255], channel means removed)."""
    from numnet.applications import vgg19

    vgg = vgg19(include_top=False, input_shape=(size, size, 3), weights=path)
    to_vgg = layers.Conv2D(3, 1, name="vgg_preprocess", trainable=False)
    convs = [la for la in vgg.layers if type(la).__name__ != "InputLayer"]
    net = Sequential([layers.Input((size, size, 1)), to_vgg, *convs])
    means = -np.array(VGG_MEANS_BGR, np.float32)
    to_vgg.set_weights([np.full((1, 1, 1, 3), 255.0, np.float32), means])
    return net


def feature_net() -> Sequential:
    """A small VGG-like classifier; its named conv layers are the features."""
    return Sequential([
        layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1",
                      input_shape=(28, 28, 1)),
        layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
        layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, padding="same", activation="relu", name="conv3"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])  # fmt: skip


def stripes_texture(size: int, period: float = 7.0) -> np.ndarray:
    """Diagonal stripes crossed by a fainter perpendicular weave, in [0, 1]."""
    i, j = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    stripes = 0.5 + 0.5 * np.sin(2 * np.pi * (i + j) / period)
    weave = 0.5 + 0.5 * np.sin(2 * np.pi * (i - j) / (2 * period))
    return (0.75 * stripes + 0.25 * weave).astype(np.float32)


def load_png_gray(path: str, size: int) -> np.ndarray:
    """A PNG as a (size, size) gray image in [0, 1] (centre crop, nearest resize)."""
    import matplotlib.pyplot as plt

    image = plt.imread(path).astype(np.float32)
    if image.ndim == 3:
        image = image[..., :3].mean(axis=-1)
    side = min(image.shape)
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    crop = image[top : top + side, left : left + side]
    rows = (np.arange(size) * side / size).astype(int)
    return crop[np.ix_(rows, rows)]


def save_images(out: str, content, style, generated, history) -> None:
    """The three PNGs and a summary figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = {"content": content, "style": style, "generated": generated}
    for name, image in images.items():
        plt.imsave(
            os.path.join(out, f"style_{name}.png"), image, cmap="gray", vmin=0, vmax=1
        )
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
    for ax, (name, image) in zip(axes, images.items(), strict=False):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_title(name)
        ax.axis("off")
    axes[3].semilogy(history["J"], label="J")
    axes[3].semilogy(history["J_content"], label="J_content")
    axes[3].semilogy(history["J_style"], label="J_style")
    axes[3].set_xlabel("Adam step")
    axes[3].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "style_transfer.png"), dpi=100)
    plt.close(fig)  # fmt: skip


def trained_feature_net(args, x, y, x_test, y_test) -> Sequential:
    """Train the feature net on ``--train-limit`` images (or load it from --net)."""
    if args.net and os.path.exists(args.net):
        print(f"feature net: loaded from {args.net}")
        return load_model(args.net)
    x = (x[: args.train_limit] / 255.0).astype(np.float32)[..., None]
    net = feature_net()
    net.compile(
        optimizer=optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    net.to(args.device)
    start = time.perf_counter()
    net.fit(x, y[: args.train_limit], batch_size=64, epochs=args.epochs, verbose=2)
    test = (x_test[:2000] / 255.0).astype(np.float32)[..., None]
    _, accuracy = net.evaluate(test, y_test[:2000], verbose=0)
    print(
        f"feature net: test accuracy {accuracy:.4f} on 2000 images "
        f"({time.perf_counter() - start:.0f} s)"
    )
    if args.net:
        os.makedirs(os.path.dirname(os.path.abspath(args.net)), exist_ok=True)
        net.save(args.net)
    return net


def main(argv=None) -> dict:
    parser = make_parser(__doc__)
    parser.add_argument(
        "--limit",
        "--train-limit",
        dest="train_limit",
        type=int,
        default=6000,
        help="training images for the feature net",
    )
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--steps", type=int, default=300, help="Adam steps on pixels")
    parser.add_argument("--learning-rate", type=float, default=0.02)
    parser.add_argument("--alpha", type=float, default=10.0)
    parser.add_argument("--beta", type=float, default=1000.0)
    parser.add_argument("--content-index", type=int, default=0, help="test item")
    parser.add_argument("--style-image", default=None, help="a PNG for the style")
    parser.add_argument("--out", default=os.path.join("examples", "out"))
    parser.add_argument(
        "--net",
        default=None,
        help="load the feature net from this file if it exists, "
        "else train it and save it there",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--weights",
        default=None,
        help="a Keras VGG-19 weights file (.h5/.keras): use VGG-19 as the course "
        "does instead of the small net trained here",
    )
    add_device_flag(parser)
    args = parser.parse_args(argv)

    numnet.manual_seed(args.seed)
    (x, y), (x_test, y_test) = fashion_mnist.load_data()
    item = x_test[args.content_index] / 255.0
    content = np.kron(item, np.ones((2, 2))).astype(np.float32)  # 56x56
    size = content.shape[0]
    if args.weights:
        net = vgg19_feature_net(args.weights, size)
        style_layers, content_layer = VGG_STYLE_LAYERS, VGG_CONTENT_LAYER
        print(f"feature net: VGG-19 with the weights of {args.weights}")
    else:
        net = trained_feature_net(args, x, y, x_test, y_test)
        style_layers, content_layer = STYLE_LAYERS, CONTENT_LAYER
    net.to(args.device)  # the generated image is optimised where the net runs
    style = (
        load_png_gray(args.style_image, size)
        if args.style_image
        else stripes_texture(size)
    )
    transfer = StyleTransfer(
        net, style_layers, content_layer, alpha=args.alpha, beta=args.beta
    )
    start = time.perf_counter()
    generated, history = transfer.run(
        content[..., None],
        style[..., None],
        steps=args.steps,
        learning_rate=args.learning_rate,
        noise_ratio=0.3,
        seed=args.seed,
    )
    print(
        f"style transfer: {args.steps} Adam steps in "
        f"{time.perf_counter() - start:.0f} s"
    )
    for key in ("J", "J_content", "J_style"):
        print(
            f"  {key:<10s} start {history[key][0]:.5g} -> final {history[key][-1]:.5g}"
        )
    os.makedirs(args.out, exist_ok=True)
    save_images(args.out, content, style, generated[0, ..., 0], history)
    print(f"saved {args.out}/style_transfer.png and the three images")
    return {key: (values[0], values[-1]) for key, values in history.items()}


if __name__ == "__main__":
    main()
