"""lr_scheduler: state_dict round trips (a resumed schedule continues the same
sequence), PyTorch's state dicts, argument errors, the step-order warning, a
Keras ``fit`` driving a scheduler, and a PyTorch-style loop on Fashion-MNIST."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.example_helpers import fashion_mnist_subset, needs_fashion_mnist
from tests.optimizers.scheduler_helpers import numnet_optimizer, torch_optimizer

import numnet
import numnet.functional as F
from numnet import callbacks, layers, models, optimizers
from numnet.optimizers import lr_scheduler, schedules

MAKERS = {
    "step": lambda m, o: m.StepLR(o, 5, 0.5),
    "multistep": lambda m, o: m.MultiStepLR(o, [3, 8, 8, 20], 0.5),
    "exponential": lambda m, o: m.ExponentialLR(o, 0.9),
    "cosine": lambda m, o: m.CosineAnnealingLR(o, 12, 0.001),
    "lambda": lambda m, o: m.LambdaLR(o, lambda e: 1 / (1 + e)),
    "multiplicative": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.9),
    "linear": lambda m, o: m.LinearLR(o, 0.1, 1.0, 15),
    "constant": lambda m, o: m.ConstantLR(o, 0.5, 10),
    "polynomial": lambda m, o: m.PolynomialLR(o, 25, 2.0),
    "warm_restarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, 4, 2),
    "one_cycle": lambda m, o: m.OneCycleLR(o, 1.0, total_steps=40),
    "sequential": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.1, total_iters=6), m.CosineAnnealingLR(o, 20)], [6]
    ),
    "chained": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, 0.1, 4), m.ExponentialLR(o, 0.9)]
    ),
}


def _steps(opt, sched, n, metrics=None):
    rates = []
    for i in range(n):
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[i])
        rates.append(opt.learning_rate)
    return rates


def _adam():
    return numnet_optimizer(0.1, "Adam")


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_resuming_from_state_dict_continues_the_same_sequence(name):
    make = MAKERS[name]
    opt = _adam()
    sched = make(lr_scheduler, opt)
    _steps(opt, sched, 17)
    state = json.loads(json.dumps(sched.state_dict()))  # plain data only
    expected = _steps(opt, sched, 20)
    fresh = _adam()  # a new process: optimizer and scheduler made afresh
    resumed = make(lr_scheduler, fresh)
    resumed.load_state_dict(state)
    assert fresh.learning_rate == state["_last_lr"][0]
    assert _steps(fresh, resumed, 20) == expected


def test_reduce_lr_on_plateau_resumes_with_its_counters():
    metrics = [1.0, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8] * 3
    make = lambda opt: lr_scheduler.ReduceLROnPlateau(opt, patience=2, cooldown=1)  # noqa: E731
    opt = _adam()
    sched = make(opt)
    _steps(opt, sched, 13, metrics)
    state = json.loads(json.dumps(sched.state_dict()))
    expected = _steps(opt, sched, 17, metrics[13:])
    fresh = _adam()
    resumed = make(fresh)
    resumed.load_state_dict(state)
    assert _steps(fresh, resumed, 17, metrics[13:]) == expected
    assert min(expected) < 0.1 * 0.1  # it did reduce twice


@pytest.mark.parametrize("name", ["step", "multistep", "cosine", "linear"])
def test_a_pytorch_state_dict_loads(name):
    torch = pytest.importorskip("torch")
    theirs = torch_optimizer(0.1)
    t_sched = MAKERS[name](torch.optim.lr_scheduler, theirs)
    for _ in range(9):
        theirs.step(), t_sched.step()
    opt = _adam()
    ours = MAKERS[name](lr_scheduler, opt)
    ours.load_state_dict(t_sched.state_dict())
    for _ in range(30):
        theirs.step(), t_sched.step(), opt.step(), ours.step()
        assert opt.learning_rate == pytest.approx(theirs.param_groups[0]["lr"])


def test_load_state_dict_of_another_scheduler_raises():
    opt = _adam()
    step = lr_scheduler.StepLR(opt, 3)
    cosine = lr_scheduler.CosineAnnealingLR(opt, 10)
    with pytest.raises(ValueError, match=r"CosineAnnealingLR.load_state_dict.*T_max"):
        cosine.load_state_dict(step.state_dict())
    with pytest.raises(ValueError, match="Expected a number like 3.*'three'"):
        step.load_state_dict(dict(step.state_dict(), step_size="three"))


BAD_ARGUMENTS = [
    (lambda o: lr_scheduler.StepLR(o, 0), "StepLR.*'step_size'.*integer >= 1.*=0"),
    (lambda o: lr_scheduler.StepLR(o, 2.5), "StepLR.*'step_size'.*=2.5"),
    (lambda o: lr_scheduler.StepLR(o, True), "StepLR.*'step_size'.*=True"),
    (lambda o: lr_scheduler.StepLR(o, 3, gamma=0), "StepLR.*'gamma'.*\\(0, inf\\]"),
    (lambda o: lr_scheduler.ExponentialLR(o, -0.5), "ExponentialLR.*'gamma'"),
    (lambda o: lr_scheduler.MultiStepLR(o, [3, -1]), "MultiStepLR.*'milestones'"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, 0), "CosineAnnealingLR.*'T_max'"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, 5, -1), "'eta_min'.*=-1"),
    (lambda o: lr_scheduler.LinearLR(o, 0.0), "LinearLR.*'start_factor'"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=1.5), "LinearLR.*'end_factor'"),
    (lambda o: lr_scheduler.ConstantLR(o, 0.0), "ConstantLR.*'factor'.*\\(0, 1\\]"),
    (lambda o: lr_scheduler.PolynomialLR(o, 0), "PolynomialLR.*'total_iters'"),
    (lambda o: lr_scheduler.LambdaLR(o, 0.5), "LambdaLR.*'lr_lambda'.*function"),
    (lambda o: lr_scheduler.LambdaLR(o, [abs, abs]), "'lr_lambda'.*one group"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, 2, 0), "'T_mult'"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0), "OneCycleLR: give total_steps"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0, total_steps=9), "'max_lr'"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1, 9, pct_start=2), "'pct_start'"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1, 9, anneal_strategy="exp"), "'cos'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), "Plateau.*'factor'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="mean"), "'mode'.*'min'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"), "'rel'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=-1), "'patience'"),
    (lambda o: lr_scheduler.SequentialLR(o, [], []), "SequentialLR.*non-empty"),
    (
        lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)] * 2, []),
        "SequentialLR.*'milestones'.*1 epochs",
    ),
    (
        lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(o)]),
        "ChainedScheduler.*'schedulers\\[0\\]'.*other than ReduceLROnPlateau",
    ),
    (
        lambda o: lr_scheduler.ChainedScheduler(
            [lr_scheduler.StepLR(o, 2), lr_scheduler.StepLR(_adam(), 2)]
        ),
        "'schedulers\\[1\\]'.*same optimizer",
    ),
]


@pytest.mark.parametrize(("make", "message"), BAD_ARGUMENTS)
def test_bad_arguments_raise_naming_the_class_and_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make(_adam())


def test_optimizers_a_scheduler_cannot_drive():
    pytest.importorskip("torch")
    with pytest.raises(TypeError, match="StepLR.*numnet optimizer.*torch.optim"):
        lr_scheduler.StepLR(torch_optimizer(), 2)
    keras_style = optimizers.Adam(schedules.ExponentialDecay(0.1, 10, 0.9))
    with pytest.raises(TypeError, match="ExponentialLR.*schedule ExponentialDecay"):
        lr_scheduler.ExponentialLR(keras_style, 0.9)
    sgd = numnet_optimizer(0.1)  # no momentum to cycle (PyTorch switches it on)
    with pytest.raises(ValueError, match="OneCycleLR.*cycle_momentum=False"):
        lr_scheduler.OneCycleLR(sgd, 1.0, total_steps=10)


def test_bad_values_at_a_step_raise():
    opt = _adam()
    sched = lr_scheduler.LambdaLR(opt, lambda e: 1.0 - 0.5 * e)
    opt.step(), sched.step()
    with pytest.raises(ValueError, match="LambdaLR.*-0.0*5.* at epoch 3.*>= 0"):
        opt.step(), sched.step(), opt.step(), sched.step()
    cycle = lr_scheduler.OneCycleLR(opt, 1.0, total_steps=2)
    opt.step(), cycle.step(), cycle.step()
    with pytest.raises(ValueError, match="OneCycleLR: tried to step 3 times"):
        cycle.step()
    plateau = lr_scheduler.ReduceLROnPlateau(opt)
    with pytest.raises(TypeError, match="ReduceLROnPlateau.step.*'metrics'"):
        plateau.step("low")


def test_stepping_the_scheduler_before_the_optimizer_warns_once():
    opt = _adam()
    sched = lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    fine = lr_scheduler.StepLR(_adam(), 2)
    fine.optimizer.step()
    with pytest.warns(UserWarning, match="deprecated"):
        fine.step(4)
    assert fine.get_last_lr() == [pytest.approx(0.001)]  # 0.1 * 0.1 ** 2


def test_fit_steps_a_scheduler_through_a_lambda_callback():
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    model = models.Sequential([layers.Dense(1, input_shape=(4,))])
    opt = optimizers.SGD(0.05)
    model.compile(opt, "mse")
    per_epoch = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    seen = []
    cbs = [
        callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, logs: seen.append(opt.learning_rate),
            on_epoch_end=lambda epoch, logs: per_epoch.step(),
        )
    ]
    model.fit(x, y, batch_size=16, epochs=5, verbose=0, callbacks=cbs)
    assert seen == [0.05, 0.05, 0.025, 0.025, 0.0125]


def _mlp():
    return models.Sequential(
        [layers.Input((784,)), layers.Dense(64, activation="relu"), layers.Dense(10)]
    )


class _RecordingAdam(optimizers.Adam):
    """Adam that records the rate and beta_1 each update actually uses."""

    used: list

    def update_step(self, param, grad, slots, lr):
        self.used.append((lr, self.beta_1))
        super().update_step(param, grad, slots, lr)


@needs_fashion_mnist
def test_one_cycle_trains_fashion_mnist_in_a_pytorch_style_loop():
    torch = pytest.importorskip("torch")
    (x, y), (x_test, y_test) = fashion_mnist_subset(3200, 1000)
    numnet.manual_seed(0)
    model = _mlp()
    opt = _RecordingAdam(model.parameters())
    opt.used = []
    epochs, batch = 2, 64
    steps = epochs * len(x) // batch
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=steps)
    for _ in range(epochs):
        for i in range(0, len(x), batch):
            opt.zero_grad()
            logits = model(numnet.tensor(x[i : i + batch]))
            F.mean(F.sparse_softmax_cross_entropy(logits, y[i : i + batch])).backward()
            opt.step()
            sched.step()
    accuracy = (model.predict(x_test, verbose=0).argmax(-1) == y_test).mean()
    assert accuracy > 0.70, accuracy  # chance is 0.10; a linear model gets ~0.80
    # the rate and beta_1 each step trained with: PyTorch's OneCycleLR on Adam
    p = torch.zeros(1, requires_grad=True)
    t_opt = torch.optim.Adam([p], lr=0.001)
    t_sched = torch.optim.lr_scheduler.OneCycleLR(t_opt, 0.01, total_steps=steps)
    expected = []
    for _ in range(steps):
        group = t_opt.param_groups[0]
        expected += [(group["lr"], group["betas"][0])] * len(model.parameters())
        t_opt.step(), t_sched.step()
    np.testing.assert_allclose(opt.used, expected, rtol=1e-12)
