"""PyTorch-style state dicts: named parameters and buffers, state_dict and
load_state_dict of layers and models, and optimizer state dicts that resume
training bit-identically."""

from __future__ import annotations

import numpy as np
import pytest
from tests.gpu.strict_device import strict_device
from tests.strict_namespace import StrictArray, to_numpy

import numnet
import numnet.functional as F
from numnet import layers, models, optimizers
from numnet.layers._state_dict import IncompatibleKeys, StateDictError


def _sequential():
    return models.Sequential(
        [
            layers.Input((5, 3)),
            layers.LSTM(4, return_sequences=True),
            layers.Flatten(),
            layers.Dense(6, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(6, activation="relu", trainable=False),  # frozen
            layers.Dense(2),
        ]
    )


def _functional():
    inputs = layers.Input((5, 3))
    h = layers.LSTM(4)(inputs)
    h = layers.Dense(6, activation="relu")(h)
    h = layers.BatchNormalization()(h)
    frozen = layers.Dense(6, trainable=False)
    return models.Model(inputs, layers.Dense(2)(frozen(h)))


class _Net(models.Model):
    def __init__(self):
        super().__init__()
        self.rnn = layers.LSTM(4)
        self.blocks = [layers.Dense(6, activation="relu"), layers.BatchNormalization()]
        self.frozen = layers.Dense(6, trainable=False)
        self.head = layers.Dense(2)

    def call(self, x, training=False):
        h = self.rnn(x)
        for block in self.blocks:
            h = block(h, training=training)
        return self.head(self.frozen(h))


def _subclassed():
    net = _Net()
    net(np.zeros((1, 5, 3), np.float32))  # builds the weights
    return net


FACTORIES = [_sequential, _functional, _subclassed]
X = np.random.default_rng(0).normal(size=(16, 5, 3)).astype(np.float32)
Y = np.random.default_rng(1).normal(size=(16, 2)).astype(np.float32)


def _train(net, opt, steps: int) -> None:
    net.train()
    y = numnet.tensor(Y).to(net.device)
    for _ in range(steps):
        opt.zero_grad()
        F.mean((net(X) - y) ** 2).backward()
        opt.step()


def test_keys_follow_the_layer_path_in_each_kind_of_model():
    assert list(_sequential().state_dict()) == [
        "0.kernel", "0.recurrent_kernel", "0.bias", "2.kernel", "2.bias",
        "3.gamma", "3.beta", "3.moving_mean", "3.moving_variance",
        "4.kernel", "4.bias", "5.kernel", "5.bias",
    ]  # fmt: skip
    assert list(_functional().state_dict())[:6] == [
        "lstm.kernel", "lstm.recurrent_kernel", "lstm.bias",
        "dense.kernel", "dense.bias", "batch_normalization.gamma",
    ]  # fmt: skip
    assert "dense_2.kernel" in _functional().state_dict()  # numbered in the model
    keys = list(_subclassed().state_dict())
    assert keys[3:7] == ["blocks.0.kernel", "blocks.0.bias", "blocks.1.gamma",
                         "blocks.1.beta"]  # fmt: skip
    assert keys[-4:] == ["frozen.kernel", "frozen.bias", "head.kernel", "head.bias"]


@pytest.mark.parametrize("factory", FACTORIES)
def test_keys_are_the_same_for_two_builds_in_one_process(factory):
    first, second = factory(), factory()
    assert {w.name for w in first.weights}.isdisjoint(w.name for w in second.weights)
    assert list(first.state_dict()) == list(second.state_dict())


@pytest.mark.parametrize("factory", FACTORIES)
def test_parameters_and_buffers_split_the_weights_as_keras_does(factory):
    net = factory()
    params, buffers = dict(net.named_parameters()), dict(net.named_buffers())
    assert list(params.values()) == net.parameters()  # same order: optimizer slots
    assert sorted(map(id, buffers.values())) == sorted(
        map(id, net.non_trainable_weights)
    )
    assert any(k.endswith("moving_mean") for k in buffers)
    assert sum("kernel" in k for k in buffers) == 1  # the frozen Dense
    assert set(params) | set(buffers) == set(net.state_dict())


@pytest.mark.parametrize("factory", FACTORIES)
def test_a_state_dict_round_trips_into_a_fresh_build(factory, tmp_path):
    numnet.manual_seed(0)
    net = factory()
    _train(net, optimizers.Adam(net.parameters(), lr=0.01), 2)  # moves BN stats
    state = net.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["extra_copy_is_independent"] = None
    del state["extra_copy_is_independent"]
    path = tmp_path / "net.pt"
    numnet.save(state, path)
    numnet.manual_seed(1)
    twin = factory()
    result = twin.load_state_dict(numnet.load(path))
    assert result == IncompatibleKeys([], []) and result.missing_keys == []
    for a, b in zip(net.weights, twin.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    net.eval(), twin.eval()
    np.testing.assert_array_equal(net(X).numpy(), twin(X).numpy())


def test_state_dict_values_are_copies():
    net = _sequential()
    state = net.state_dict()
    state["4.bias"] += 1.0
    assert not np.array_equal(state["4.bias"], net.state_dict()["4.bias"])


def test_strict_loading_lists_missing_and_unexpected_keys_and_changes_nothing():
    net = _sequential()
    before = net.get_weights()
    state = net.state_dict()
    state["0.kernel"] = state["0.kernel"] + 1.0
    del state["3.moving_mean"], state["5.bias"]
    state["head.kernel"] = np.zeros(2, np.float32)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "3.moving_mean", "5.bias".' in message
    assert 'Unexpected key(s) in state_dict: "head.kernel".' in message
    assert message.startswith("Error(s) in loading state_dict for Sequential")
    assert isinstance(info.value, ValueError)  # numnet's weight-loading errors
    for a, b in zip(before, net.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # nothing was copied


def test_non_strict_loading_returns_the_keys_and_loads_the_rest():
    net, source = _sequential(), _sequential()
    net.load_state_dict({"5.bias": np.ones(2, np.float32)}, strict=False)
    state = source.state_dict()
    del state["5.bias"]
    state["extra"] = np.ones(3, np.float32)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["5.bias"] and result.unexpected_keys == ["extra"]
    assert isinstance(result, tuple) and result == (["5.bias"], ["extra"])
    assert repr(result) == (
        "IncompatibleKeys(missing_keys=['5.bias'], unexpected_keys=['extra'])"
    )
    assert repr(source.load_state_dict(source.state_dict())) == (
        "<All keys matched successfully>"
    )
    np.testing.assert_array_equal(net.state_dict()["0.kernel"], state["0.kernel"])
    np.testing.assert_array_equal(net.state_dict()["5.bias"], [1, 1])  # kept


@pytest.mark.parametrize("strict", [True, False])
def test_a_shape_mismatch_names_the_key_and_both_shapes(strict):
    net = _sequential()
    state = net.state_dict()
    state["2.kernel"] = np.zeros((7, 6), np.float32)
    with pytest.raises(StateDictError, match=r"size mismatch for 2\.kernel: copying "
                       r"a param with shape \(7, 6\) from checkpoint, the shape in "
                       r"current model is \(20, 6\)"):  # fmt: skip
        net.load_state_dict(state, strict=strict)


def test_values_may_be_tensors_or_other_dtypes_and_keep_the_weights_dtype():
    net = models.Sequential([layers.Dense(2, input_shape=(3,))])
    kernel = net.weights[0]
    ones = np.ones((3, 2))  # float64
    net.load_state_dict({"0.kernel": numnet.tensor(ones), "0.bias": [5, 6]})
    assert kernel.dtype == np.float32 and net.weights[0] is kernel  # in place
    np.testing.assert_array_equal(kernel.numpy(), ones)
    np.testing.assert_array_equal(net.weights[1].numpy(), [5, 6])
    with pytest.raises(StateDictError, match="0.bias is not a numeric array"):
        net.load_state_dict({"0.kernel": ones, "0.bias": "abc"})
    with pytest.raises(TypeError, match="expected a dict of arrays"):
        net.load_state_dict([ones])


def test_an_unbuilt_model_says_to_build_it_first():
    net = models.Sequential([layers.Dense(2)])
    with pytest.raises(StateDictError, match="has no weights yet: build it"):
        net.load_state_dict({"0.kernel": np.ones((3, 2))})


def test_a_shared_layer_is_listed_once():
    shared = layers.Dense(3)
    inputs = layers.Input((3,))
    net = models.Model(inputs, shared(shared(inputs)))
    assert list(net.state_dict()) == ["dense.kernel", "dense.bias"]


# -- optimizers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda params: optimizers.Adam(params, lr=0.01),
        lambda params: optimizers.SGD(params, lr=0.05, momentum=0.9),
    ],
    ids=["adam", "sgd_momentum"],
)
def test_resuming_from_state_dicts_continues_bit_identically(make_optimizer, tmp_path):
    numnet.manual_seed(0)
    net = _sequential()
    opt = make_optimizer(net.parameters())
    _train(net, opt, 3)
    path = tmp_path / "checkpoint.pt"
    numnet.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 3},
                path)  # fmt: skip
    _train(net, opt, 4)
    numnet.manual_seed(1)
    twin = _sequential()
    twin_opt = make_optimizer(twin.parameters())
    checkpoint = numnet.load(path)
    assert checkpoint["epoch"] == 3
    twin.load_state_dict(checkpoint["model"])
    twin_opt.load_state_dict(checkpoint["optimizer"])
    assert twin_opt.iterations == 3
    _train(twin, twin_opt, 4)
    for a, b in zip(net.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # the optimizer's state matters: without it the weights differ
    numnet.manual_seed(1)
    fresh = _sequential()
    fresh.load_state_dict(checkpoint["model"])
    _train(fresh, make_optimizer(fresh.parameters()), 4)
    assert not np.array_equal(net.get_weights()[0], fresh.get_weights()[0])


def test_optimizer_state_dict_restores_hyperparameters_and_schedules():
    net = _sequential()
    saved = optimizers.Adam(net.parameters(), lr=0.02, beta_1=0.8, clipnorm=1.0)
    state = saved.state_dict()
    assert state["class_name"] == "Adam" and state["slot_names"] == ["m", "v"]
    assert state["num_params"] == len(net.parameters())
    opt = optimizers.Adam(net.parameters())
    opt.load_state_dict(state)
    assert (opt.learning_rate, opt.beta_1, opt.clipnorm) == (0.02, 0.8, 1.0)
    schedule = optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    scheduled = optimizers.SGD(net.parameters(), lr=schedule).state_dict()
    sgd = optimizers.SGD(net.parameters(), lr=0.3)
    sgd.load_state_dict(scheduled)
    assert isinstance(sgd.schedule, optimizers.schedules.ExponentialDecay)


def test_optimizer_load_refuses_a_state_that_does_not_fit_and_changes_nothing():
    net = _sequential()
    adam = optimizers.Adam(net.parameters(), lr=0.01)
    _train(net, adam, 1)
    state = adam.state_dict()
    opt = optimizers.Adam(net.parameters(), lr=0.5)
    with pytest.raises(ValueError, match="state dict is of a Adam optimizer"):
        optimizers.SGD(net.parameters()).load_state_dict(state)
    with pytest.raises(ValueError, match=r"slots \['m', 'v'\].*amsgrad"):
        optimizers.Adam(net.parameters(), amsgrad=True).load_state_dict(state)
    with pytest.raises(ValueError, match="use_ema=False"):
        optimizers.Adam(net.parameters(), use_ema=True).load_state_dict(
            {**state, "slot_names": ["m", "v", "average"]}
        )
    with pytest.raises(ValueError, match="state of 9 parameters, the optimizer has 2"):
        optimizers.Adam(net.parameters()[:2]).load_state_dict(state)
    with pytest.raises(ValueError, match="knows no parameters yet"):
        optimizers.Adam().load_state_dict(state)
    bad = {**state, "state": {**state["state"], "0/m": np.zeros((2, 2), np.float32)}}
    with pytest.raises(ValueError, match=r"slot '0/m' has shape \(2, 2\)"):
        opt.load_state_dict(bad)
    bad_config = {**state, "config": {**state["config"], "beta_1": 7.0}}
    with pytest.raises(ValueError, match="invalid hyperparameters.*beta_1"):
        opt.load_state_dict(bad_config)
    with pytest.raises(ValueError, match="expected the dict of Optimizer.state_dict"):
        opt.load_state_dict({"state": {}})
    assert opt.learning_rate == 0.5 and opt.iterations == 0  # untouched


def test_a_keras_style_optimizer_saves_the_parameters_it_built():
    net = _sequential()
    net.compile(optimizer="adam", loss="mse")
    net.fit(X, Y, epochs=1, verbose=0)
    state = net.optimizer.state_dict()
    assert state["num_params"] == len(net.trainable_weights)
    twin = _sequential()
    twin.compile(optimizer="adam", loss="mse")
    twin.optimizer.load_state_dict(state, params=twin.trainable_weights)
    assert twin.optimizer.iterations == net.optimizer.iterations


def test_torch_style_lr_keyword_keeps_the_parameters():
    net = _sequential()
    opt = optimizers.SGD(net.parameters(), lr=0.1, momentum=0.9)
    assert opt.param_list == net.parameters() and opt.learning_rate == 0.1


# -- a second device -------------------------------------------------------------


def test_state_dicts_of_a_device_model_are_host_arrays_and_load_back_there(tmp_path):
    with strict_device():
        numnet.manual_seed(0)
        net = _sequential().to("strict")
        opt = optimizers.Adam(net.parameters(), lr=0.01)
        _train(net, opt, 2)
        state, opt_state = net.state_dict(), opt.state_dict()
        assert all(isinstance(v, np.ndarray) for v in state.values())
        assert all(isinstance(v, np.ndarray) for v in opt_state["state"].values())
        numnet.save({"model": state, "optimizer": opt_state}, tmp_path / "c.pt")
        on_device = numnet.load(tmp_path / "c.pt", map_location="strict")
        assert isinstance(on_device["model"]["0.kernel"], StrictArray)
        twin = _sequential().to("strict")
        twin_opt = optimizers.Adam(twin.parameters())
        twin.load_state_dict(on_device["model"])  # device arrays
        twin_opt.load_state_dict(on_device["optimizer"])
        assert all(isinstance(w.data, StrictArray) for w in twin.weights)
        assert all(isinstance(s, StrictArray) for s in twin_opt.variables)
        _train(net, opt, 2)
        _train(twin, twin_opt, 2)
        for a, b in zip(net.weights, twin.weights, strict=True):
            np.testing.assert_array_equal(to_numpy(a.data), to_numpy(b.data))
        cpu = _sequential()
        cpu.load_state_dict(state)  # host arrays into a CPU twin
        np.testing.assert_array_equal(cpu.get_weights()[0], state["0.kernel"])
