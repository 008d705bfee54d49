"""A PyTorch-style training loop on Fashion-MNIST: the loop written out by hand.

The model is a subclassed ``numnet.models.Model`` (layers as attributes, as an
``nn.Module``); the loop is PyTorch's::

    for x, y in batches:
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y, label_smoothing=0.1)
        loss.backward()
        numnet.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        scheduler.step()

with AdamW, a one-cycle learning-rate schedule (``optimizers.lr_scheduler``),
``net.train()``/``net.eval()`` and ``numnet.no_grad()`` for evaluation. Every
epoch writes a checkpoint with ``numnet.save`` (model, optimizer and scheduler
state dicts: one file, no pickle); ``--resume`` continues from one with the
same ``--epochs`` (the one-cycle schedule spans them all); each epoch is
seeded (``--seed`` plus its number), so a resumed run ends with the weights
the uninterrupted one ends with.

Run:  python examples/pytorch_style_loop.py [--epochs 5] [--limit N]
      [--checkpoint loop.ckpt [--stop-after 2]] [--resume loop.ckpt]
      [--device cuda]
"""

from __future__ import annotations

import time

import fashion_common as common
import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
import numnet.functional as F
from numnet import layers, models, optimizers
from numnet.optimizers import lr_scheduler


class Net(models.Model):
    """784 -> 512 -> 256 -> 10, SiLU activations and dropout."""

    def __init__(self):
        super().__init__()
        self.fc1 = layers.Dense(512, activation="silu")
        self.drop1 = layers.Dropout(0.2)
        self.fc2 = layers.Dense(256, activation="silu")
        self.drop2 = layers.Dropout(0.2)
        self.out = layers.Dense(10)  # logits: F.cross_entropy takes them

    def call(self, x, training=False):
        """Logits of ``x`` (N, 784); dropout only when ``training``."""
        x = self.drop1(self.fc1(x), training=training)
        x = self.drop2(self.fc2(x), training=training)
        return self.out(x)


def parse_args(argv=None):
    """The command line (``--help`` shows this module's docstring)."""
    p = make_parser(__doc__)
    p.add_argument("--epochs", type=int, default=5, help="training epochs")
    p.add_argument("--limit", type=int, default=None, help="use the first N images")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3, help="OneCycleLR's max_lr")
    p.add_argument("--seed", type=int, default=0, help="numnet.manual_seed")
    p.add_argument("--checkpoint", default=None, help="write a checkpoint each epoch")
    p.add_argument("--resume", default=None, help="continue from this checkpoint")
    p.add_argument(
        "--stop-after",
        type=int,
        default=None,
        help="stop after this many epochs, as an interrupted run (resume it with "
        "the same --epochs)",
    )
    add_device_flag(p)
    return p.parse_args(argv)


def batches(x, y, batch_size: int, device):
    """Shuffled (x, y) batches as tensors on ``device`` (numnet's generator)."""
    order = numnet.randperm(len(x)).numpy()
    for start in range(0, len(x), batch_size):
        idx = order[start : start + batch_size]
        yield numnet.tensor(x[idx], device=device), numnet.tensor(y[idx], device=device)


def accuracy(net, x, y, device, batch_size: int = 1000) -> float:
    """Test accuracy, in evaluation mode and without a graph."""
    net.eval()
    correct = 0
    with numnet.no_grad():
        for start in range(0, len(x), batch_size):
            logits = net(numnet.tensor(x[start : start + batch_size], device=device))
            predicted = numnet.argmax(logits, axis=-1).numpy()
            correct += int((predicted == y[start : start + batch_size]).sum())
    return correct / len(x)


def train_epoch(net, opt, scheduler, x, y, args) -> float:
    """One pass over the data; the mean training loss."""
    net.train()
    total, count = 0.0, 0
    for xb, yb in batches(x, y, args.batch_size, args.device):
        opt.zero_grad()
        loss = F.cross_entropy(net(xb, training=True), yb, label_smoothing=0.1)
        loss.backward()
        numnet.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        scheduler.step()
        total, count = total + float(loss.item()) * len(yb), count + len(yb)
    return total / count


def main(argv=None) -> float:
    """Train, report each epoch, return the final test accuracy."""
    args = parse_args(argv)
    numnet.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = common.load(args.limit, flatten=True)
    net = Net()
    net(np.zeros((1, 784), np.float32))  # build the weights
    net.to(args.device)
    opt = optimizers.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    steps = args.epochs * -(-len(x_train) // args.batch_size)
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps)
    first = 0
    if args.resume:
        state = numnet.load(args.resume)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        first = state["epoch"] + 1
        print(f"resumed from {args.resume} after epoch {first}")
    last = args.epochs if args.stop_after is None else min(args.stop_after, args.epochs)
    for epoch in range(first, last):
        numnet.manual_seed(args.seed + epoch)  # a resumed epoch draws the same
        start = time.perf_counter()
        loss = train_epoch(net, opt, scheduler, x_train, y_train, args)
        acc = accuracy(net, x_test, y_test, args.device)
        print(
            f"epoch {epoch + 1}/{args.epochs}: loss {loss:.4f}, test accuracy "
            f"{acc:.4f}, lr {scheduler.get_last_lr()[0]:.2e}, "
            f"{time.perf_counter() - start:.1f} s"
        )
        if args.checkpoint:
            numnet.save(
                {
                    "model": net.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "epoch": epoch,
                },
                args.checkpoint,
            )
    final = accuracy(net, x_test, y_test, args.device)
    print(f"PyTorch-style loop: test accuracy {final:.4f}")
    return final


if __name__ == "__main__":
    main()
