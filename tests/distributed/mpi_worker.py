"""Programs the MPI tests launch with ``mpiexec -n R python mpi_worker.py MODE DIR``.

MODE ``train`` (2 ranks): data-parallel fits of small float64 models; rank 0
also runs the single-process reference (batch 2b, same initial weights) and
writes ``train.json`` with the largest weight differences; ranks save
checkpoints and final weights for ``resume``.
MODE ``resume`` (any rank count): load the epoch-1 checkpoint of ``train``,
train epoch 2 with the same global batch, write ``resume.json``.
MODE ``device`` (2 ranks): the ``train`` equivalence with every rank's model
on a second device (the strict array namespace of the tests, registered as
"strict" in each rank, as CuPy is "cuda"): gradients and batch statistics
cross MPI from device arrays.
MODE ``crash`` (2 ranks): rank 1 raises during fit; the job must end.
MODE ``interrupt`` (2 ranks): trains until Ctrl-C; both ranks stop together.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys

import numpy as np

import numnet
from numnet import callbacks, layers, models, optimizers
from numnet import distributed as dist

B = 4  # per-rank batch; the reference uses 2 * B


def _model(kind: str, sync: bool = True, device=None, options=None):
    bn = layers.SyncBatchNormalization if sync else layers.BatchNormalization
    stacks = {
        "dense": [
            layers.Input((5,)),
            layers.Dense(6, activation="tanh"),
            layers.Dense(3),
        ],
        "conv": [
            layers.Input((6, 6, 2)),
            layers.Conv2D(3, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(3),
        ],
        "lstm": [layers.Input((4, 3)), layers.LSTM(5), layers.Dense(3)],
        "syncbn": [
            layers.Input((6, 6, 2)),
            layers.Conv2D(3, 3),
            bn(),
            layers.Activation("relu"),
            layers.Flatten(),
            layers.Dense(6),
            bn(),
            layers.Dense(3),
        ],
    }
    model = models.Sequential(stacks[kind])
    model.compile(
        optimizer=optimizers.Adam(0.01, **(options or {})),
        loss=numnet.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        device=device,
    )
    return model


def _data(kind: str, n: int):
    rng = np.random.default_rng(42)
    shape = {"dense": (5,), "conv": (6, 6, 2), "lstm": (4, 3), "syncbn": (6, 6, 2)}
    return rng.normal(size=(n,) + shape[kind]), rng.integers(0, 3, n)


def _flat(model) -> np.ndarray:
    return np.concatenate([w.ravel() for w in model.get_weights()])


def _equivalence(kind: str, n: int, epochs: int = 2, device=None, options=None) -> dict:
    """Distributed (batch B per rank) vs one process (batch 2B) from the same start."""
    numnet.manual_seed(100 + dist.rank())  # different init per rank on purpose
    model = _model(kind, device=device, options=options)
    dist.broadcast_weights(model)
    start = model.get_weights()
    x, y = _data(kind, n)
    hist = model.fit(
        x, y, batch_size=B, epochs=epochs, shuffle=False, verbose=0, distributed=True
    )
    mine = _flat(model)
    spread = float(np.ptp(dist.allgather(mine), axis=0).max())
    result = {"rank_spread": spread}
    if dist.is_main():
        ref = _model(kind, sync=False, options=options)
        ref.set_weights(start)
        ref_hist = ref.fit(
            x, y, batch_size=B * dist.size(), epochs=epochs, shuffle=False, verbose=0
        )
        result["weight_diff"] = float(np.abs(mine - _flat(ref)).max())
        result["loss_diff"] = float(
            np.abs(np.subtract(hist.history["loss"], ref_hist.history["loss"])).max()
        )
        result["acc_diff"] = float(
            np.abs(
                np.subtract(hist.history["accuracy"], ref_hist.history["accuracy"])
            ).max()
        )
    dist.barrier()
    return result


def _metric_equivalence(n: int = 27) -> dict:
    """The thresholded, confusion-matrix and R2 metrics' states summed over the
    ranks give one process's history (their largest difference per name)."""
    from numnet import metrics

    def make():
        model = models.Sequential(
            [layers.Input((5,)), layers.Dense(1, activation="sigmoid")]
        )
        model.compile(
            optimizer=optimizers.SGD(0.1),
            loss="binary_crossentropy",
            metrics=[
                "auc",
                metrics.AUC(curve="PR", name="pr_auc"),
                metrics.PrecisionAtRecall(0.5),
                "true_positives",
                metrics.BinaryIoU(),
                "r2_score",
            ],
        )
        return model

    numnet.manual_seed(7)
    model = make()
    dist.broadcast_weights(model)
    start = model.get_weights()
    x, labels = _data("dense", n)
    y = (labels == 0).astype(np.float64)[:, None]
    hist = model.fit(
        x, y, batch_size=B, epochs=2, shuffle=False, verbose=0, distributed=True
    )
    if not dist.is_main():
        return {}
    ref = make()
    ref.set_weights(start)
    ref_hist = ref.fit(
        x, y, batch_size=B * dist.size(), epochs=2, shuffle=False, verbose=0
    )
    return {
        name: float(np.abs(np.subtract(hist.history[name], values)).max())
        for name, values in ref_hist.history.items()
    }


def train(out: str) -> None:
    results = {}
    # 2*B*3 + 3: last global batch split 2/1; 2*B*2 + 1: one rank gets padding
    for kind, n in [
        ("dense", 27),
        ("dense", 17),
        ("conv", 27),
        ("lstm", 27),
        ("syncbn", 27),
        ("syncbn", 17),
    ]:
        results[f"{kind}_{n}"] = _equivalence(kind, n)
    # the base-class options: accumulation windows over the averaged gradients
    options = {"use_ema": True, "ema_momentum": 0.5, "gradient_accumulation_steps": 2}
    results["dense_27_accumulate_ema"] = _equivalence("dense", 27, 3, options=options)
    results["metrics"] = _metric_equivalence()
    results["shuffle"] = _shuffled_shards()
    results["stop"] = _stop_together()
    results["loop"] = _pytorch_style_loop()
    _checkpoints(out)
    if dist.is_main():
        with open(os.path.join(out, "train.json"), "w") as f:
            json.dump(results, f)


def _shuffled_shards() -> dict:
    """Each epoch the ranks' shards are disjoint, cover the data, and change."""
    n = 23
    x = np.arange(n, dtype=np.float64)[:, None]
    seen = []

    class Record(layers.Layer):
        def call(self, inputs, training=False):
            if training:
                seen[-1].extend(np.asarray(inputs.data).ravel().astype(int).tolist())
            return inputs

    class NewEpoch(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append([])

    model = models.Sequential([layers.Input((1,)), Record(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(
        x,
        x,
        batch_size=3,
        epochs=2,
        verbose=0,
        distributed=True,
        callbacks=[NewEpoch()],
    )
    epochs = []
    for ids in seen:
        counts = np.zeros(n, np.int64)
        np.add.at(counts, np.array(ids, np.int64), 1)
        epochs.append(dist.allreduce_sum(counts).tolist())
    orders = [json.dumps(e) for e in seen]
    return {"counts": epochs, "changed": orders[0] != orders[1]}


def _stop_together() -> dict:
    """A callback that stops training on rank 1 only stops every rank."""

    class StopOnRank1(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if dist.rank() == 1 and epoch == 1:
                self.model.stop_training = True

    x, y = _data("dense", 24)
    model = _model("dense")
    early = callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    one = model.fit(x, y, batch_size=B, epochs=6, verbose=0, distributed=True,
                    callbacks=[StopOnRank1()],
                    validation_data=(x[:1], y[:1]))  # fmt: skip
    two = model.fit(x, y, batch_size=B, epochs=6, verbose=0, distributed=True,
                    callbacks=[early])  # fmt: skip
    epochs = np.array([len(one.epoch), len(two.epoch)], np.float64)
    val = one.history["val_loss"]
    same = val == dist.broadcast(val)  # global values: rank 0's on every rank
    return {
        "epochs_per_rank": dist.allgather(epochs).tolist(),
        "val_same": bool(dist.allreduce_sum(np.array([float(same)]))[0] == 2),
        "val_finite": bool(np.all(np.isfinite(val)) and len(val) == 2),
    }


def _loop(model, opt, x, y, batches) -> None:
    loss_fn = numnet.losses.SparseCategoricalCrossentropy(from_logits=True)
    params = model.trainable_weights
    for idx in batches:
        loss = loss_fn(y[idx], model(x[idx], training=True))
        opt.zero_grad(params)
        loss.backward()
        if opt.gradient_reducer is not None:
            opt.gradient_reducer.local_weight = len(idx)
        opt.step(params)


def _pytorch_style_loop() -> dict:
    """DistributedOptimizer + shard_indices, as docs/distributed.md shows."""
    numnet.manual_seed(300 + dist.rank())
    x, y = _data("dense", 20)
    model = _model("dense")
    dist.broadcast_weights(model)
    start = model.get_weights()
    opt = dist.DistributedOptimizer(optimizers.Adam(0.01), model.trainable_weights)
    shards = [dist.shard_indices(len(x), r, dist.size()) for r in range(dist.size())]
    steps = 3  # ceil(10 / 4): the last step has 2 samples per rank
    _loop(
        model,
        opt,
        x,
        y,
        [shards[dist.rank()][k * B : (k + 1) * B] for k in range(steps)],
    )
    result = {"rank_spread": float(np.ptp(dist.allgather(_flat(model)), axis=0).max())}
    if dist.is_main():
        ref = _model("dense")
        ref.set_weights(start)
        union = [
            np.concatenate([s[k * B : (k + 1) * B] for s in shards])
            for k in range(steps)
        ]
        _loop(ref, optimizers.Adam(0.01), x, y, union)
        result["weight_diff"] = float(np.abs(_flat(model) - _flat(ref)).max())
    return result


def _checkpoints(out: str) -> None:
    numnet.manual_seed(7)
    model = _model("conv")
    x, y = _data("conv", 27)
    path = os.path.join(out, "ckpt_{epoch}.npz")
    model.fit(
        x,
        y,
        batch_size=B,
        epochs=2,
        shuffle=False,
        verbose=0,
        distributed=True,
        callbacks=[callbacks.ModelCheckpoint(path)],
    )
    if dist.is_main():
        np.save(os.path.join(out, "final.npy"), _flat(model))
    else:
        model.save(os.path.join(out, "rank1.npz"))  # a no-op off rank 0


def resume(out: str) -> None:
    model = models.load_model(os.path.join(out, "ckpt_1.npz"))
    x, y = _data("conv", 27)
    per_rank = B * 2 // dist.size()  # the same global batch as the 2-rank run
    model.fit(
        x,
        y,
        batch_size=per_rank,
        epochs=2,
        initial_epoch=1,
        shuffle=False,
        verbose=0,
        distributed=True,
    )
    if dist.is_main():
        final = np.load(os.path.join(out, "final.npy"))
        diff = float(np.abs(_flat(model) - final).max())
        with open(os.path.join(out, "resume.json"), "w") as f:
            json.dump({"weight_diff": diff, "ranks": dist.size()}, f)


def device(out: str) -> None:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
    from tests.gpu.strict_device import strict_device

    name = os.environ.get("NUMNET_WORKER_DEVICE", "strict")  # or "cuda"
    results = {}
    with strict_device() if name == "strict" else contextlib.nullcontext():
        for kind, n in [("dense", 27), ("conv", 27), ("lstm", 27), ("syncbn", 17)]:
            results[f"{kind}_{n}"] = _equivalence(kind, n, device=name)
    if dist.is_main():
        with open(os.path.join(out, "device.json"), "w") as f:
            json.dump(results, f)


def crash(out: str) -> None:
    class Fail(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if dist.rank() == 1 and batch == 2:
                raise ValueError("planted failure on rank 1")

    model = _model("dense")
    x, y = _data("dense", 400)
    model.fit(
        x, y, batch_size=B, epochs=50, verbose=0, distributed=True, callbacks=[Fail()]
    )


def interrupt(out: str) -> None:
    """Train "forever"; the test sends Ctrl-C (SIGINT) to mpiexec."""

    class Started(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 0 and dist.is_main() and not self.params.get("said"):
                self.params["said"] = True  # every rank is inside fit by now
                print("training", flush=True)

    model = _model("dense")
    x, y = _data("dense", 400)
    history = model.fit(
        x, y, batch_size=B, epochs=10_000, verbose=0, distributed=True,
        callbacks=[Started()],
    )  # fmt: skip
    print(f"rank {dist.rank()} stopped after epoch {len(history.epoch)}", flush=True)


if __name__ == "__main__":
    numnet.backend.set_default_dtype("float64")
    dist.init()
    mode, directory = sys.argv[1], sys.argv[2]
    modes = {"train": train, "resume": resume, "crash": crash, "interrupt": interrupt,
             "device": device}  # fmt: skip
    modes[mode](directory)
