"""numnet.applications: architectures build, have the right shapes and sizes, train."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import applications, layers, losses, models, optimizers


def _conv_params(k: int, c_in: int, c_out: int, bias: bool = False) -> int:
    return k * k * c_in * c_out + (c_out if bias else 0)


def _bn_params(c: int) -> int:
    return 4 * c  # gamma, beta, moving mean, moving variance


@pytest.mark.parametrize(
    ("builder", "kwargs"),
    [
        (applications.lenet5, {}),
        (applications.vgg_small, {"input_shape": (16, 16, 3)}),
        (applications.small_resnet, {}),
        (applications.small_resnet, {"bottleneck": True, "input_shape": (32, 32, 3)}),
        (applications.small_inception, {"input_shape": (16, 16, 1)}),
        (applications.small_mobilenet, {"input_shape": (16, 16, 1)}),
    ],
)
def test_architectures_build_with_output_shape(builder, kwargs):
    model = builder(num_classes=7, **kwargs)
    assert isinstance(model, models.Model)
    assert model.output_shape == (None, 7)
    x = np.zeros((2, *model.input_shape[1:]), np.float32)
    probs = model.predict(x, verbose=0)
    assert probs.shape == (2, 7) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)  # softmax head


def test_lenet5_matches_the_paper_parameter_count():
    model = applications.lenet5()
    assert model.count_params() == 61706
    names = ["c1", "s2", "c3", "s4"]
    expected = [(None, 28, 28, 6), (None, 14, 14, 6), (None, 10, 10, 16),
                (None, 5, 5, 16)]  # fmt: skip
    probe = models.Model(model.inputs, [_output_of(model, n) for n in names])
    assert probe.output_shape == expected


def _output_of(model, layer_name):
    for node in model._nodes:
        if node.layer.name == layer_name:
            return node.outputs[0]
    raise KeyError(layer_name)


def test_resnet20_has_the_paper_size():
    # He et al. 2015, CIFAR ResNet-20: 0.27M parameters
    model = applications.small_resnet(input_shape=(32, 32, 3), blocks_per_stage=3)
    assert 0.26e6 < model.count_params() < 0.28e6
    convs = [la for la in model.layers if isinstance(la, layers.Conv2D)]
    assert len(convs) == 1 + 3 * 3 * 2 + 2  # stem, 18 block convs, 2 projections


def test_identity_block_shape_and_parameter_count():
    x = layers.Input((8, 8, 16))
    y = applications.identity_block(x, 16, name="b")
    assert y.shape == (None, 8, 8, 16)
    model = models.Model(x, y)
    assert model.count_params() == 2 * (_conv_params(3, 16, 16) + _bn_params(16))
    assert isinstance(model.get_layer("b_add"), layers.Add)


def test_bottleneck_identity_block_parameter_count():
    x = layers.Input((8, 8, 32))
    model = models.Model(x, applications.identity_block(x, (8, 8, 32)))
    expected = (_conv_params(1, 32, 8) + _conv_params(3, 8, 8) + _conv_params(1, 8, 32)
                + _bn_params(8) * 2 + _bn_params(32))  # fmt: skip
    assert model.count_params() == expected


def test_convolutional_block_projects_and_downsamples():
    x = layers.Input((9, 9, 8))
    y = applications.convolutional_block(x, 16, strides=2, name="p")
    assert y.shape == (None, 5, 5, 16)
    model = models.Model(x, y)
    shortcut = model.get_layer("p_1_conv")
    assert shortcut.get_weights()[0].shape == (1, 1, 8, 16)
    expected = (_conv_params(3, 8, 16) + _conv_params(3, 16, 16)
                + _conv_params(1, 8, 16) + 3 * _bn_params(16))  # fmt: skip
    assert model.count_params() == expected


def test_identity_block_refuses_a_channel_change():
    x = layers.Input((8, 8, 16))
    with pytest.raises(ValueError, match="convolutional_block"):
        applications.identity_block(x, 32)
    with pytest.raises(ValueError, match="filters"):
        applications.identity_block(x, (4, 4))


def test_inception_module_concatenates_the_four_branches():
    x = layers.Input((8, 8, 12))
    y = applications.inception_module(x, 4, 3, 6, 2, 5, 7, name="inc")
    assert y.shape == (None, 8, 8, 4 + 6 + 5 + 7)
    model = models.Model(x, y)
    convs = [(1, 12, 4), (1, 12, 3), (3, 3, 6), (1, 12, 2), (5, 2, 5), (1, 12, 7)]
    expected = sum(_conv_params(k, c_in, c_out, True) for k, c_in, c_out in convs)
    assert model.count_params() == expected
    assert isinstance(model.get_layer("inc_concat"), layers.Concatenate)


def test_inception_module_rejects_bad_widths():
    x = layers.Input((8, 8, 3))
    with pytest.raises(ValueError, match="filters_5x5"):
        applications.inception_module(x, 4, 3, 6, 2, 0, 7)


def test_mobilenet_block_is_depthwise_separable():
    x = layers.Input((8, 8, 6))
    y = applications.mobilenet_block(x, 10, strides=2, name="m")
    assert y.shape == (None, 4, 4, 10)
    model = models.Model(x, y)
    assert isinstance(model.get_layer("m_dw"), layers.DepthwiseConv2D)
    expected = 3 * 3 * 6 + _bn_params(6) + _conv_params(1, 6, 10) + _bn_params(10)
    assert model.count_params() == expected


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="num_classes"):
        applications.small_resnet(num_classes=0)
    with pytest.raises(ValueError, match="input_shape"):
        applications.lenet5(input_shape=(28, 28))


@pytest.mark.parametrize("training", [True, False])
def test_residual_blocks_gradcheck(rng, float64, training):
    x = layers.Input((4, 4, 2))
    y = applications.convolutional_block(x, 3, strides=2)
    y = applications.identity_block(y, 3)
    model = models.Model(x, y)
    model.train(training)
    for bn in [la for la in model.layers if isinstance(la, layers.BatchNormalization)]:
        gamma, beta, mean, var = bn.get_weights()  # non-trivial inference statistics
        bn.set_weights([gamma, beta, rng.normal(size=mean.shape) * 0.1,
                        rng.uniform(0.5, 1.5, size=var.shape)])  # fmt: skip
    data = rng.normal(size=(3, 4, 4, 2))
    assert numnet.gradcheck(model, [data], wrt=model.trainable_weights)


@pytest.mark.parametrize(
    "builder",
    [applications.lenet5, applications.small_resnet, applications.vgg_small,
     applications.small_inception, applications.small_mobilenet],
)  # fmt: skip
def test_training_steps_decrease_the_loss(rng, builder):
    model = builder(input_shape=(28, 28, 1), num_classes=3)
    model.compile(optimizers.Adam(1e-3), losses.SparseCategoricalCrossentropy())
    x = rng.random((8, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 3, 8)
    first = model.train_on_batch(x, y)
    for _ in range(4):
        last = model.train_on_batch(x, y)
    assert np.isfinite(first) and last < first


def test_small_resnet_stage_strides():
    model = applications.small_resnet(
        stage_filters=(8, 16, 32), stage_strides=(2, 2, 2)
    )
    pooled = model.get_layer("avg_pool")
    probe = models.Model(model.inputs, _input_of(model, pooled))
    assert probe.output_shape == (None, 4, 4, 32)  # 28 -> 14 -> 7 -> 4
    assert isinstance(model.get_layer("stage1_block1_1_conv"), layers.Conv2D)
    with pytest.raises(ValueError, match="stage_strides"):
        applications.small_resnet(stage_strides=(2, 2))


def _input_of(model, layer):
    for node in model._nodes:
        if node.layer is layer:
            return node.inputs[0]
    raise KeyError(layer.name)
