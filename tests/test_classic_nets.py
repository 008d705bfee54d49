"""Full-size classic networks: published parameter counts, Keras layer names and
weight layouts, include_top/pooling/weights options.

Construction allocates every weight and dry-runs every layer, so the 224x224
VGG/AlexNet builds (0.1-0.5 GB of weights) are opt-in (``-m slow``); the default
run checks the same counts through the size-independent parts.
"""

from __future__ import annotations

import numpy as np
import pytest

from numnet import applications


def test_resnet50_has_keras_parameter_count_and_names():
    # ResNet-50's top pools globally, so its count does not depend on the size.
    model = applications.resnet50(input_shape=(32, 32, 3))
    assert model.count_params() == 25_636_712  # keras.applications.ResNet50
    names = [layer.name for layer in model.layers]
    for name in (
        "conv1_pad",
        "conv1_conv",
        "conv1_bn",
        "pool1_pool",
        "conv2_block1_0_conv",
        "conv2_block1_1_conv",
        "conv2_block1_3_bn",
        "conv4_block6_out",
        "conv5_block3_add",
        "avg_pool",
        "predictions",
    ):
        assert name in names
    conv1 = model.get_layer("conv1_conv")
    assert conv1.kernel.shape == (7, 7, 3, 64) and conv1.bias.shape == (64,)
    assert model.get_layer("conv2_block1_1_conv").kernel.shape == (1, 1, 64, 64)
    assert model.get_layer("predictions").kernel.shape == (2048, 1000)


def test_resnet18_trainable_count_equals_torchvision():
    model = applications.resnet18(input_shape=(32, 32, 3))
    trainable = sum(w.size for w in model.trainable_weights)
    assert trainable == 11_689_512  # torchvision.models.resnet18
    assert model.get_layer("conv3_block1_0_conv").kernel.shape == (1, 1, 64, 128)
    assert model.get_layer("conv1_conv").bias is None


def test_vgg16_count_from_its_parts():
    # At 32x32 fc1 sees a 1x1x512 map instead of 7x7x512: 48 * 512 * 4096 fewer
    # weights than the published 138,357,544 at 224x224 (checked in the slow test).
    model = applications.vgg16(input_shape=(32, 32, 3))
    assert model.count_params() == 138_357_544 - 48 * 512 * 4096
    names = [layer.name for layer in model.layers]
    assert names[-4:] == ["flatten", "fc1", "fc2", "predictions"]
    assert model.get_layer("block5_conv3").kernel.shape == (3, 3, 512, 512)
    convs = sum(layer.count_params() for layer in model.layers if "conv" in layer.name)
    assert convs == 14_714_688  # keras VGG16(include_top=False)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("builder", "count"),
    [
        (applications.vgg16, 138_357_544),
        (applications.vgg19, 143_667_240),
        (applications.alexnet, 61_100_840),  # torchvision.models.alexnet
    ],
)
def test_published_counts_at_224(builder, count):
    assert builder().count_params() == count


@pytest.mark.slow
def test_resnet34_trainable_count_equals_torchvision():
    model = applications.resnet34(input_shape=(32, 32, 3))
    assert sum(w.size for w in model.trainable_weights) == 21_797_672


def test_include_top_false_pooling_and_weights_round_trip(tmp_path, rng):
    model = applications.alexnet(
        include_top=False, input_shape=(32, 32, 3), pooling="max"
    )
    assert model.output_shape == (None, 256)
    x = rng.uniform(size=(2, 32, 32, 3)).astype("float32")
    path = str(tmp_path / "alexnet.npz")
    model.save_weights(path)
    again = applications.alexnet(
        include_top=False, input_shape=(32, 32, 3), pooling="max", weights=path
    )
    np.testing.assert_array_equal(
        model.predict(x, verbose=0), again.predict(x, verbose=0)
    )
    features = applications.vgg19(include_top=False, input_shape=(32, 32, 3))
    assert features.output_shape == (None, 1, 1, 512)
    assert features.count_params() == 20_024_384  # keras VGG19(include_top=False)


def test_invalid_arguments_name_the_argument():
    with pytest.raises(ValueError, match="pooling"):
        applications.vgg16(include_top=False, input_shape=(32, 32, 3), pooling="sum")
    with pytest.raises(ValueError, match="at least 32"):
        applications.resnet18(input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="classes"):
        applications.alexnet(input_shape=(32, 32, 3), classes=0)
