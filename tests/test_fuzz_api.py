"""Property-based fuzzing of the public API: a correct result or a clear numnet error.

Layers, losses, optimizers and models are called with random shapes, dtypes (int,
bool, float16/32/64, complex, object, str, datetime), NaN/inf, empty and 0-d inputs,
wrong ranks and out-of-range arguments. Every outcome must be one of:

* a result, finite whenever the inputs were finite (the settings were accepted,
  so they are valid);
* a ``ValueError``/``TypeError`` (or a numnet subclass) whose message says what
  was expected or received, never a raw NumPy/Python internals error (an
  ``IndexError``, ``AttributeError``, NumPy's ``AxisError``, "operands could not
  be broadcast", ...).

The outcomes are counted by class; ``NUMNET_FUZZ_REPORT=path.json`` writes the
counts there. The default run is bounded (2,000 derandomized examples, well under
60 s); ``NUMNET_FUZZ_SEED=n`` draws other examples and ``NUMNET_FUZZ_SCALE=k`` runs
k times as many, to explore.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import numnet
from numnet import layers, losses, models, optimizers

NAN, INF = float("nan"), float("inf")
DTYPES = [
    "float32",
    "float32",
    "float32",
    "float32",
    "float64",
    "float16",
    "int64",
    "uint8",
    "bool",
    "complex64",
    "object",
    "str",
    "datetime64[s]",
]
#: a clear message says what was expected or received (numnet's error template)
CLEAR = re.compile(
    r"(?i)expected|received|incompatible|must |invalid value|not supported|required"
    r"|cannot|out of range|out of bounds|smaller than|leaves an empty|is empty"
)
#: NumPy/Python internals: never acceptable as the message of a user-facing error
RAW = re.compile(
    r"could not be broadcast|object is not|not iterable|has no attribute|index out of"
    r"|zero-size array|unsupported operand|positional argument|invalid literal"
    r"|object cannot be interpreted|not subscriptable|cannot reshape array"
)


class Budget:
    """Outcome counts and failures of one fuzz run."""

    def __init__(self):
        self.counts: Counter = Counter()
        self.failures: list[str] = []

    def run(self, what: str, fn, finite_inputs: bool) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = fn()
        except (ValueError, TypeError) as exc:
            self._error(what, exc)
            return
        except Exception as exc:  # noqa: BLE001 - the point: classify everything
            self.counts[f"raw {type(exc).__name__}"] += 1
            self.failures.append(f"{what}: raw {type(exc).__name__}: {exc}")
            return
        if finite_inputs and not _all_finite(out):
            self.counts["non-finite output"] += 1
            self.failures.append(f"{what}: non-finite output from finite inputs")
            return
        self.counts["ok"] += 1

    def _error(self, what: str, exc: BaseException) -> None:
        cls = type(exc)
        ours = cls in (ValueError, TypeError) or cls.__module__.startswith("numnet")
        message = str(exc)
        if not ours or RAW.search(message) or not CLEAR.search(message):
            self.counts[f"raw {cls.__name__}"] += 1
            self.failures.append(f"{what}: unclear {cls.__name__}: {message[:300]}")
            return
        self.counts[cls.__name__] += 1


def _all_finite(out) -> bool:
    if isinstance(out, (list, tuple)):
        return all(_all_finite(o) for o in out)
    if isinstance(out, dict):
        return all(_all_finite(o) for o in out.values())
    if out is None or isinstance(out, (str, numnet.callbacks.History)):
        return True
    data = getattr(out, "data", out)
    array = np.asarray(data)
    return array.dtype.kind not in "fc" or bool(np.isfinite(array).all())


def _array(draw, min_ndim=0, max_ndim=4, dtypes=DTYPES, special=True):
    """(array or nested list, finite?) with a random shape, dtype and values."""
    ndim = draw(st.integers(min_ndim, max_ndim))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    if dtypes is DTYPES and draw(st.integers(0, 2)):
        dtypes = ["float32", "float64", "int64"]  # mostly data a model can take
    dtype = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2**16))
    values = np.random.default_rng(seed).normal(0, 2, shape)
    if dtype == "str":
        return values.astype(str), True
    if dtype == "object":
        return values.astype(object), True
    if dtype.startswith("datetime"):
        return values.astype(np.int64).astype(dtype), True
    array = values.astype(dtype)
    finite = True
    if special and array.dtype.kind == "f" and array.size and draw(st.booleans()):
        array.flat[draw(st.integers(0, array.size - 1))] = draw(
            st.sampled_from([NAN, INF, -INF])
        )
        finite = False
    if draw(st.integers(0, 9)) == 0 and array.dtype.kind in "if":
        return array.tolist(), finite  # a nested Python list
    return array, finite


ODD_NUMBERS = [0, -1, 0.5, 2.5, NAN, INF, -INF, "3", True, None]


def _arg(draw, good: list, odd=ODD_NUMBERS):
    """Mostly a valid value, sometimes an out-of-range or wrongly typed one."""
    return (
        draw(st.sampled_from(good))
        if draw(st.integers(0, 7))
        else draw(st.sampled_from(odd))
    )


LAYERS = {
    "Dense": lambda d: layers.Dense(
        _arg(d, [1, 3]),
        activation=_arg(d, [None, "relu", "softmax", "tanh"], ["bogus", 3]),
        use_bias=_arg(d, [True, False], ["yes", 2]),
    ),
    "Conv2D": lambda d: layers.Conv2D(
        _arg(d, [1, 2]),
        _arg(d, [1, 2, (2, 1)], [0, -1, "a", (2,), 1.5]),
        strides=_arg(d, [1, 2], [0, -1, "a"]),
        padding=_arg(d, ["valid", "same"], ["bad", 1]),
    ),
    "MaxPooling2D": lambda d: layers.MaxPooling2D(_arg(d, [1, 2], [0, -2, "x"])),
    "AveragePooling2D": lambda d: layers.AveragePooling2D(_arg(d, [1, 2], [0, "x"])),
    "GlobalAveragePooling2D": lambda d: layers.GlobalAveragePooling2D(
        keepdims=_arg(d, [True, False], ["no", 1])
    ),
    "BatchNormalization": lambda d: layers.BatchNormalization(
        epsilon=_arg(d, [1e-3, 1e-5]),
        momentum=_arg(d, [0.9, 0.99]),
        center=_arg(d, [True, False], ["x"]),
    ),
    "LayerNormalization": lambda d: layers.LayerNormalization(
        axis=_arg(d, [-1, 1], [(1, 1), 1.5, "a", 9]), epsilon=_arg(d, [1e-3])
    ),
    "Dropout": lambda d: layers.Dropout(
        _arg(d, [0.0, 0.5]), seed=_arg(d, [None, 0, 3], [-1, "a", 1.5])
    ),
    "ReLU": lambda d: layers.ReLU(
        max_value=_arg(d, [None, 6.0]),
        negative_slope=_arg(d, [0.0, 0.1]),
        threshold=_arg(d, [0.0, 0.5]),
    ),
    "LeakyReLU": lambda d: layers.LeakyReLU(_arg(d, [0.3, 0.0])),
    "ELU": lambda d: layers.ELU(_arg(d, [1.0, 0.5])),
    "Softmax": lambda d: layers.Softmax(_arg(d, [-1, 1], [1.5, "x", 7])),
    "Activation": lambda d: layers.Activation(
        _arg(d, ["relu", "sigmoid", "tanh", "softmax"], ["bogus", 3])
    ),
    "Flatten": lambda d: layers.Flatten(),
    "Reshape": lambda d: layers.Reshape(_arg(d, [(-1,), (2, -1)], [(0,), "a", 3])),
    "SimpleRNN": lambda d: layers.SimpleRNN(
        _arg(d, [2]), return_sequences=_arg(d, [True, False], ["x"])
    ),
    "LSTM": lambda d: layers.LSTM(_arg(d, [2])),
    "GRU": lambda d: layers.GRU(_arg(d, [2])),
    "Embedding": lambda d: layers.Embedding(_arg(d, [5, 10]), _arg(d, [2])),
    "Masking": lambda d: layers.Masking(_arg(d, [0.0, NAN], ["x"])),
}


def layer_case(budget: Budget, data) -> None:
    name = data.draw(st.sampled_from(sorted(LAYERS)))
    x, finite = _array(data.draw, min_ndim=0, max_ndim=4 if "2D" in name else 3)
    training = data.draw(st.booleans())
    what = f"{name} on {getattr(np.asarray(x, dtype=object), 'shape', '?')}"

    def call():
        layer = LAYERS[name](data.draw)
        return layer(x, training=training)

    budget.run(what, call, finite)


PROBABILISTIC = (
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "KLDivergence",
    "BinaryFocalCrossentropy",
    "CategoricalFocalCrossentropy",
)
LOSSES = {
    "MeanSquaredError": lambda d: losses.MeanSquaredError(),
    "MeanAbsoluteError": lambda d: losses.MeanAbsoluteError(),
    "Huber": lambda d: losses.Huber(_arg(d, [1.0, 0.5])),
    "BinaryCrossentropy": lambda d: losses.BinaryCrossentropy(
        from_logits=_arg(d, [True, False], ["auto", 1]),
        label_smoothing=_arg(d, [0.0, 0.1], [-1, 2, NAN]),
    ),
    "CategoricalCrossentropy": lambda d: losses.CategoricalCrossentropy(
        from_logits=_arg(d, [True, False], ["auto"]), axis=_arg(d, [-1], [1.5, "a"])
    ),
    "SparseCategoricalCrossentropy": lambda d: losses.SparseCategoricalCrossentropy(
        from_logits=_arg(d, [True, False], ["auto"])
    ),
    "TripletLoss": lambda d: losses.TripletLoss(margin=_arg(d, [0.2, 1.0])),
    "KLDivergence": lambda d: losses.KLDivergence(),
    "CosineSimilarity": lambda d: losses.CosineSimilarity(axis=_arg(d, [-1, 0], [5])),
    "LogCosh": lambda d: losses.LogCosh(),
    "Poisson": lambda d: losses.Poisson(),
    "MeanSquaredLogarithmicError": lambda d: losses.MeanSquaredLogarithmicError(),
    "MeanAbsolutePercentageError": lambda d: losses.MeanAbsolutePercentageError(),
    "Hinge": lambda d: losses.Hinge(),
    "SquaredHinge": lambda d: losses.SquaredHinge(),
    "CategoricalHinge": lambda d: losses.CategoricalHinge(),
    "BinaryFocalCrossentropy": lambda d: losses.BinaryFocalCrossentropy(
        apply_class_balancing=_arg(d, [True, False], [1]),
        gamma=_arg(d, [2.0, 0.5], [-1.0, NAN]),
        from_logits=_arg(d, [True, False], ["auto"]),
    ),
    "CategoricalFocalCrossentropy": lambda d: losses.CategoricalFocalCrossentropy(
        alpha=_arg(d, [0.25, [0.5, 0.5]], [[]]),
        from_logits=_arg(d, [True, False]),
        axis=_arg(d, [-1, 0], [7]),
    ),
}


def loss_case(budget: Budget, data) -> None:
    name = data.draw(st.sampled_from(sorted(LOSSES)))
    y_pred, finite_p = _array(data.draw, 0, 3)
    if data.draw(st.booleans()):  # the matching shape, as real training gives
        shape = np.shape(y_pred)
        y_true = np.random.default_rng(0).integers(0, 2, shape).astype(np.float32)
        finite_t = True
    else:
        y_true, finite_t = _array(data.draw, 0, 3)
    finite = finite_p and finite_t
    as_probs = name in PROBABILISTIC and isinstance(y_pred, np.ndarray)
    if as_probs and y_pred.dtype.kind == "f":
        logits = np.nan_to_num(y_pred.astype(np.float64)).clip(-20, 20)
        y_pred = 1 / (1 + np.exp(-logits))
        y_pred = y_pred.clip(0.01, 0.99).astype(np.float32)  # probabilities in (0, 1)

    def call():
        return LOSSES[name](data.draw)(y_true, y_pred)

    budget.run(f"{name} on {np.shape(y_pred)}", call, finite)


OPTIMIZERS = {
    "SGD": lambda d: optimizers.SGD(
        _arg(d, [0.1, 0.01]),
        momentum=_arg(d, [0.0, 0.9], [1.0, -0.1, NAN]),
        nesterov=_arg(d, [True, False], ["yes"]),
        clipnorm=_arg(d, [None, 1.0]),
    ),
    "Adam": lambda d: optimizers.Adam(
        _arg(d, [1e-3]),
        epsilon=_arg(d, [1e-7, 1e-3]),
        amsgrad=_arg(d, [True, False], ["no"]),
        clipvalue=_arg(d, [None, 0.5]),
    ),
    "RMSprop": lambda d: optimizers.RMSprop(
        _arg(d, [1e-3]), epsilon=_arg(d, [1e-7]), centered=_arg(d, [True, False], [3])
    ),
    "Adagrad": lambda d: optimizers.Adagrad(_arg(d, [0.01]), epsilon=_arg(d, [1e-7])),
    "Adamax": lambda d: optimizers.Adamax(
        _arg(d, [1e-3]), beta_2=_arg(d, [0.9], [1.0])
    ),
    "Lion": lambda d: optimizers.Lion(_arg(d, [1e-3]), beta_1=_arg(d, [0.9], [0.0])),
    "Adadelta": lambda d: optimizers.Adadelta(_arg(d, [1.0]), rho=_arg(d, [0.95])),
    "AdamW": lambda d: optimizers.AdamW(
        _arg(d, [1e-3]),
        weight_decay=_arg(d, [0.0, 0.01]),
        global_clipnorm=_arg(d, [None, 1.0]),
    ),
}


METRICS = [
    "accuracy",
    "mae",
    "mse",
    "binary_accuracy",
    "sparse_categorical_accuracy",
    "kld",
    "cosine_similarity",
    "categorical_hinge",
]


def metric_case(budget: Budget, data) -> None:
    name = data.draw(st.sampled_from(METRICS))
    y_pred, finite_p = _array(data.draw, 0, 3)
    y_true, finite_t = _array(data.draw, 0, 3)
    if data.draw(st.booleans()) and isinstance(y_pred, np.ndarray):
        y_true = np.zeros(y_pred.shape, np.float32)  # a matching shape

    def call():
        return numnet.metrics.get(name)(y_true, y_pred)

    budget.run(f"metric {name} on {np.shape(y_pred)}", call, finite_p and finite_t)


def optimizer_case(budget: Budget, data) -> None:
    name = data.draw(st.sampled_from(sorted(OPTIMIZERS)))
    seed = data.draw(st.integers(0, 2**16))
    zero_grad = data.draw(st.booleans())

    def call():
        optimizer = OPTIMIZERS[name](data.draw)
        rng = np.random.default_rng(seed)
        param = numnet.Parameter(rng.normal(size=(3, 2)).astype(np.float32))
        for _ in range(3):
            param.grad = (
                np.zeros((3, 2), np.float32)
                if zero_grad
                else rng.normal(size=(3, 2)).astype(np.float32)
            )
            optimizer.apply([param])
        return param.data

    budget.run(f"{name} step", call, True)


def model_case(budget: Budget, data) -> None:
    d = data.draw
    x, finite_x = _array(d, 0, 3, special=d(st.integers(0, 4)) == 0)
    y_kind = d(st.sampled_from(["regression", "sparse", "odd"]))
    n = len(x) if np.ndim(x) >= 1 else 4
    rng = np.random.default_rng(d(st.integers(0, 99)))
    y = {
        "regression": rng.normal(size=(n, 2)).astype(np.float32),
        "sparse": rng.integers(0, 2, n),
        "odd": d(st.sampled_from(["y", 3, None, np.zeros((n + 1, 2))])),
    }[y_kind]
    kwargs = {
        "epochs": _arg(d, [1, 2], [0, -1, "3", 1.5, True]),
        "batch_size": _arg(d, [None, 2, 8], [0, -2, 2.5, "8"]),
        "shuffle": _arg(d, [True, False], ["no", 2]),
        "verbose": 0,
    }
    if d(st.booleans()):
        kwargs["validation_split"] = _arg(d, [0.0, 0.25], [1.0, "0.2", -0.5, NAN])
    if d(st.booleans()):
        kwargs["steps_per_epoch"] = _arg(d, [None, 1], [0, -1, "1", 1.5])
    if d(st.integers(0, 4)) == 0:
        kwargs["class_weight"] = d(st.sampled_from([0, {0: 1.0}, {0: NAN}, "x"]))
    if d(st.integers(0, 4)) == 0:
        kwargs["callbacks"] = d(st.sampled_from([True, [], [3], "cb"]))
    loss = {"regression": "mse", "sparse": "sparse_categorical_crossentropy"}.get(
        y_kind, d(st.sampled_from(["mse", "bogus_loss"]))
    )
    metrics = d(st.sampled_from([None, ["mae"], ["accuracy"], "bogus"]))
    loss_weights = _arg(d, [None, 1.0], [NAN, -1.0, "a", True])
    steps = _arg(d, [None, 1], [0, -1, 1.5, "1", True, "same"])

    def call():
        model = models.Sequential(
            [layers.Dense(4, activation="relu"), layers.Dense(2, activation="softmax")]
        )
        model.compile("adam", loss, metrics=metrics, loss_weights=loss_weights)
        history = model.fit(x, y, **kwargs)
        logs = model.evaluate(x, y, steps=steps, verbose=0, return_dict=True)
        return [history.history, logs]

    budget.run(f"fit x{np.shape(x)} {y_kind} {kwargs}", call, finite_x)


CASES = [
    (layer_case, 800),
    (loss_case, 500),
    (metric_case, 300),
    (optimizer_case, 200),
    (model_case, 200),
]


def _runner(case, examples: int, budget: Budget):
    fuzz_seed = os.environ.get("NUMNET_FUZZ_SEED")  # explore: other examples

    @settings(
        max_examples=examples * int(os.environ.get("NUMNET_FUZZ_SCALE", "1")),
        deadline=None,
        derandomize=fuzz_seed is None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def run(data):
        case(budget, data)

    return run if fuzz_seed is None else seed(int(fuzz_seed))(run)


@pytest.fixture(scope="module")
def fuzz_counts():
    budget = Budget()
    numnet.manual_seed(0)
    for case, examples in CASES:
        _runner(case, examples, budget)()
    report = os.environ.get("NUMNET_FUZZ_REPORT")
    if report:
        with open(report, "w") as f:
            json.dump(
                {"cases": sum(budget.counts.values()), "outcomes": budget.counts}, f
            )
    return budget


def test_every_outcome_is_a_result_or_a_clear_numnet_error(fuzz_counts):
    failures = fuzz_counts.failures
    assert not failures, f"{len(failures)} bad outcomes:\n" + "\n".join(
        sorted(set(failures))[:40]
    )


def test_the_fuzzer_reaches_both_results_and_errors(fuzz_counts):
    counts = fuzz_counts.counts
    total = sum(counts.values())
    assert total >= 1800
    assert counts["ok"] > total // 5
    assert counts["ValueError"] + counts["TypeError"] > total // 5
    assert math.isclose(sum(counts.values()), total)
