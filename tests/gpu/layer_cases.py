"""One small case for every public layer class, for the device tests.

``CASES`` maps a case name to a :class:`LayerCase`: how to build the layer,
which inputs to call it on and how (a list for the merge layers, query and
value for attention, states for the cells). ``test_every_layer_on_devices.py``
runs each case on the CPU and on a second device and compares, and gradchecks
it on that device; ``test_every_public_layer_has_a_case`` there fails when a
public layer class of ``numnet.layers`` has no case here.

Inputs are drawn away from the kinks of ReLU-like functions and with distinct
values (no max-pooling ties), so that a float64 gradcheck with eps 1e-6 is
well defined everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from numnet import layers as L


def normal(*shape):
    """Standard normal input of ``shape`` with |x| >= 0.05 (no kink within eps)."""

    def draw(rng):
        x = rng.standard_normal(shape)
        return np.where(np.abs(x) < 0.05, np.sign(x + 1e-12) * 0.05 + x, x)

    return draw


def images(*shape):
    """Pixels in [0, 1) for the preprocessing layers."""
    return lambda rng: rng.random(shape)


def tokens(n, *shape):
    """Integer ids in [0, n)."""
    return lambda rng: rng.integers(0, n, shape)


def words(*shape):
    """One-letter strings for the string-input layers."""
    return lambda rng: np.array(list("abcd"))[rng.integers(0, 4, shape)]


#: the reason the string-input layers have no device comparison
STRINGS = "string inputs: a host (NumPy str) array that no device array holds"


def padded_steps(rng):
    """(2, 5, 3) sequences whose last two steps of the first row are all zero."""
    x = normal(2, 5, 3)(rng)
    x[0, 3:] = 0.0
    return x


def one(layer, xs, training):
    return layer(xs[0], training=training)


def several(layer, xs, training):
    return layer(list(xs), training=training)


def query_value(layer, xs, training):
    return layer(xs[0], xs[1], training=training)


def cell_step(layer, xs, training):
    out, _ = layer(xs[0], list(xs[1:]), training=training)
    return out


class Scale(L.Layer):
    """``x * w + b`` per feature: a user-written layer on the ``Layer`` base."""

    def build(self, input_shape):
        self.w = self.add_weight((input_shape[-1],), initializer="random_normal")
        self.b = self.add_weight((input_shape[-1],), initializer="random_normal")

    def call(self, x):
        return x * self.w + self.b


@dataclass
class LayerCase:
    """A layer factory, its inputs (``rng -> array`` each) and how to call it."""

    factory: Callable[[], L.Layer]
    inputs: list = field(default_factory=list)
    call: Callable = one
    #: the gradient is defined (False: integer inputs only, or no backward)
    differentiable: bool = True
    #: inputs for the gradcheck where ``inputs`` sit on a discontinuity
    smooth_inputs: list | None = None
    #: interpolates with scipy.ndimage / cupyx.scipy.ndimage (NumPy and CuPy only)
    interpolates: bool = False
    #: why the layer runs on the host only (string inputs, which no device
    #: array holds): no device comparison; empty for every other layer
    host_only: str = ""


def _case(factory, *inputs, **kwargs) -> LayerCase:
    return LayerCase(factory, list(inputs), **kwargs)


def _augment(factory, shape, interpolates: bool = True) -> LayerCase:
    """A random augmentation layer on images in [0, 1): no gradient."""
    return LayerCase(factory, [images(*shape)], differentiable=False,
                     interpolates=interpolates)  # fmt: skip


CASES: dict[str, LayerCase] = {
    # core
    "Dense": _case(lambda: L.Dense(4, activation="tanh"), normal(3, 5)),
    "Dense_3d": _case(lambda: L.Dense(2, use_bias=False), normal(2, 3, 4)),
    "Activation": _case(lambda: L.Activation("gelu"), normal(3, 4)),
    "Activation_mish": _case(lambda: L.Activation("mish"), normal(3, 4)),
    "Activation_hard_silu": _case(lambda: L.Activation("hard_silu"), normal(3, 4)),
    "Activation_glu": _case(lambda: L.Activation("glu"), normal(3, 4)),
    "Dense_swish": _case(lambda: L.Dense(3, activation="swish"), normal(3, 5)),
    "InputLayer": _case(lambda: L.InputLayer((4,)), normal(3, 4)),
    "Lambda": _case(lambda: L.Lambda(lambda t: t * t + 1.0), normal(3, 4)),
    "Embedding": _case(lambda: L.Embedding(7, 3), tokens(7, 3, 4)),
    "Masking": _case(
        lambda: L.Masking(),
        padded_steps,  # masked steps: a jump
        smooth_inputs=[normal(2, 5, 3)],
    ),
    "Rescaling": _case(lambda: L.Rescaling(0.5, offset=-1.0), normal(2, 3, 3, 2)),
    "Resizing": _case(lambda: L.Resizing(5, 3), normal(2, 3, 4, 2)),
    "Resizing_nearest_crop": _case(
        lambda: L.Resizing(2, 2, "nearest", crop_to_aspect_ratio=True),
        normal(2, 3, 4, 2),
    ),
    "CenterCrop": _case(lambda: L.CenterCrop(2, 3), normal(2, 4, 5, 2)),
    "Normalization": _case(
        lambda: L.Normalization(mean=0.5, variance=2.0), normal(3, 4)
    ),
    # activations
    "ReLU": _case(lambda: L.ReLU(max_value=1.0, negative_slope=0.1), normal(4, 5)),
    "LeakyReLU": _case(lambda: L.LeakyReLU(0.2), normal(4, 5)),
    "ELU": _case(lambda: L.ELU(0.5), normal(4, 5)),
    "PReLU": _case(
        lambda: L.PReLU("random_normal", shared_axes=[1]), normal(2, 3, 3, 4)
    ),
    "Softmax": _case(lambda: L.Softmax(), normal(2, 3, 4)),
    # regularisation
    "Dropout": _case(lambda: L.Dropout(0.5), normal(6, 8)),
    "SpatialDropout2D": _case(lambda: L.SpatialDropout2D(0.3), normal(2, 3, 3, 4)),
    "SpatialDropout1D": _case(lambda: L.SpatialDropout1D(0.4), normal(3, 4, 5)),
    "SpatialDropout3D": _case(lambda: L.SpatialDropout3D(0.4), normal(2, 2, 3, 2, 4)),
    "GaussianNoise": _case(lambda: L.GaussianNoise(0.5), normal(4, 5)),
    "GaussianDropout": _case(lambda: L.GaussianDropout(0.4), normal(4, 5)),
    "ActivityRegularization": _case(
        lambda: L.ActivityRegularization(l1=0.1, l2=0.2), normal(3, 4)
    ),
    "Identity": _case(lambda: L.Identity(), normal(3, 4)),
    # normalisation
    "BatchNormalization": _case(lambda: L.BatchNormalization(), normal(5, 4)),
    "BatchNormalization_4d": _case(
        lambda: L.BatchNormalization(momentum=0.9), normal(3, 4, 4, 3)
    ),
    "SyncBatchNormalization": _case(lambda: L.SyncBatchNormalization(), normal(6, 3)),
    "LayerNormalization": _case(lambda: L.LayerNormalization(), normal(3, 6)),
    "GroupNormalization": _case(
        lambda: L.GroupNormalization(3, gamma_initializer="random_normal"),
        normal(2, 3, 3, 6),
    ),
    "UnitNormalization": _case(lambda: L.UnitNormalization(), normal(3, 4, 5)),
    # convolution
    "Conv1D": _case(
        lambda: L.Conv1D(4, 3, padding="causal", dilation_rate=2), normal(2, 7, 3)
    ),
    "Conv2D": _case(lambda: L.Conv2D(3, 3, activation="relu"), normal(2, 6, 6, 2)),
    "Conv2D_strided": _case(
        lambda: L.Conv2D(2, 3, strides=2, padding="same"), normal(2, 7, 7, 3)
    ),
    "Conv3D": _case(
        lambda: L.Conv3D(3, (2, 3, 2), strides=(1, 2, 1), padding="same"),
        normal(2, 3, 4, 3, 2),
    ),
    "Conv2DTranspose": _case(
        lambda: L.Conv2DTranspose(3, 3, strides=2), normal(2, 4, 4, 2)
    ),
    "DepthwiseConv2D": _case(
        lambda: L.DepthwiseConv2D(3, depth_multiplier=2), normal(2, 5, 5, 2)
    ),
    "Conv1DTranspose": _case(
        lambda: L.Conv1DTranspose(3, 3, strides=2, padding="same"), normal(2, 4, 2)
    ),
    "Conv3DTranspose": _case(
        lambda: L.Conv3DTranspose(2, (2, 3, 2), strides=(2, 1, 2)),
        normal(2, 2, 3, 2, 2),
    ),
    "DepthwiseConv1D": _case(
        lambda: L.DepthwiseConv1D(3, depth_multiplier=2), normal(2, 6, 2)
    ),
    "SeparableConv1D": _case(
        lambda: L.SeparableConv1D(3, 3, padding="same"), normal(2, 6, 2)
    ),
    "SeparableConv2D": _case(
        lambda: L.SeparableConv2D(3, 3, padding="same"), normal(2, 5, 5, 2)
    ),
    # pooling
    "MaxPooling1D": _case(lambda: L.MaxPooling1D(2), normal(2, 6, 3)),
    "MaxPooling2D": _case(lambda: L.MaxPooling2D(2), normal(2, 6, 6, 3)),
    "MaxPooling2D_overlap": _case(
        lambda: L.MaxPooling2D(3, strides=2, padding="same"), normal(2, 7, 7, 2)
    ),
    "MaxPooling3D": _case(lambda: L.MaxPooling3D(2), normal(2, 4, 4, 4, 2)),
    "AveragePooling1D": _case(lambda: L.AveragePooling1D(2), normal(2, 6, 3)),
    "AveragePooling2D": _case(
        lambda: L.AveragePooling2D(2, padding="same"), normal(2, 5, 5, 3)
    ),
    "AveragePooling3D": _case(lambda: L.AveragePooling3D(2), normal(2, 4, 4, 4, 2)),
    "GlobalMaxPooling1D": _case(lambda: L.GlobalMaxPooling1D(), normal(2, 5, 3)),
    "GlobalMaxPooling2D": _case(lambda: L.GlobalMaxPooling2D(), normal(2, 4, 4, 3)),
    "GlobalMaxPooling3D": _case(lambda: L.GlobalMaxPooling3D(), normal(2, 2, 3, 3, 2)),
    "GlobalAveragePooling3D": _case(
        lambda: L.GlobalAveragePooling3D(keepdims=True), normal(2, 2, 3, 3, 2)
    ),
    "GlobalAveragePooling1D": _case(
        lambda: L.GlobalAveragePooling1D(), normal(2, 5, 3)
    ),
    "GlobalAveragePooling2D": _case(
        lambda: L.GlobalAveragePooling2D(keepdims=True), normal(2, 4, 4, 3)
    ),
    # reshaping
    "Flatten": _case(lambda: L.Flatten(), normal(2, 3, 4)),
    "Reshape": _case(lambda: L.Reshape((4, -1)), normal(2, 12)),
    "Permute": _case(lambda: L.Permute((2, 1)), normal(2, 3, 4)),
    "RepeatVector": _case(lambda: L.RepeatVector(3), normal(2, 4)),
    "Cropping2D": _case(lambda: L.Cropping2D(((1, 2), (0, 1))), normal(2, 6, 5, 2)),
    "ZeroPadding2D": _case(lambda: L.ZeroPadding2D((1, 2)), normal(2, 3, 3, 2)),
    "UpSampling1D": _case(lambda: L.UpSampling1D(2), normal(2, 3, 2)),
    "UpSampling2D": _case(lambda: L.UpSampling2D((2, 3)), normal(2, 2, 3, 2)),
    "UpSampling3D": _case(lambda: L.UpSampling3D((2, 1, 3)), normal(2, 2, 2, 2, 2)),
    "ZeroPadding1D": _case(lambda: L.ZeroPadding1D((1, 2)), normal(2, 3, 2)),
    "ZeroPadding3D": _case(lambda: L.ZeroPadding3D((1, 0, 2)), normal(2, 2, 2, 3, 2)),
    "Cropping1D": _case(lambda: L.Cropping1D((2, 1)), normal(2, 5, 2)),
    "Cropping3D": _case(
        lambda: L.Cropping3D(((1, 0), (0, 1), (1, 1))), normal(2, 3, 3, 4, 2)
    ),
    # merging
    "Add": _case(lambda: L.Add(), normal(2, 3), normal(2, 3), call=several),
    "Subtract": _case(lambda: L.Subtract(), normal(2, 3), normal(2, 3), call=several),
    "Multiply": _case(lambda: L.Multiply(), normal(2, 3), normal(2, 3), call=several),
    "Average": _case(lambda: L.Average(), normal(2, 3), normal(2, 3), call=several),
    "Maximum": _case(lambda: L.Maximum(), normal(2, 3), normal(2, 3), call=several),
    "Minimum": _case(lambda: L.Minimum(), normal(2, 3), normal(2, 3), call=several),
    "Concatenate": _case(
        lambda: L.Concatenate(axis=-1), normal(2, 3, 2), normal(2, 3, 4), call=several
    ),
    "Dot": _case(
        lambda: L.Dot(axes=1, normalize=True), normal(2, 4), normal(2, 4), call=several
    ),
    # attention
    "Attention": _case(
        lambda: L.Attention(use_scale=True),
        normal(2, 3, 4),
        normal(2, 5, 4),
        call=several,
    ),
    "AdditiveAttention": _case(
        lambda: L.AdditiveAttention(), normal(2, 3, 4), normal(2, 5, 4), call=several
    ),
    "MultiHeadAttention": _case(
        lambda: L.MultiHeadAttention(2, 3),
        normal(2, 3, 4),
        normal(2, 5, 4),
        call=query_value,
    ),
    # recurrent
    "SimpleRNN": _case(lambda: L.SimpleRNN(3, return_sequences=True), normal(2, 4, 3)),
    "GRU": _case(lambda: L.GRU(3, go_backwards=True), normal(2, 3, 2)),
    "LSTM": _case(lambda: L.LSTM(3, return_sequences=True), normal(2, 3, 2)),
    "LSTM_dropout": _case(
        lambda: L.LSTM(3, dropout=0.3, recurrent_dropout=0.4, return_sequences=True),
        normal(2, 3, 2),
    ),
    "RNN": _case(
        lambda: L.RNN(L.SimpleRNNCell(3), return_sequences=True), normal(2, 4, 2)
    ),
    "SimpleRNNCell": _case(
        lambda: L.SimpleRNNCell(3), normal(2, 2), normal(2, 3), call=cell_step
    ),
    "GRUCell": _case(lambda: L.GRUCell(3), normal(2, 2), normal(2, 3), call=cell_step),
    "LSTMCell": _case(
        lambda: L.LSTMCell(3), normal(2, 2), normal(2, 3), normal(2, 3), call=cell_step
    ),
    "Bidirectional": _case(
        lambda: L.Bidirectional(L.GRU(2, return_sequences=True)), normal(2, 3, 2)
    ),
    "TimeDistributed": _case(lambda: L.TimeDistributed(L.Dense(4)), normal(2, 3, 5)),
    # random augmentation: parameters drawn on the host, the same on every
    # device; no gradient (they sit at the input)
    "RandomFlip": _augment(lambda: L.RandomFlip(), (3, 5, 4, 2), False),
    "RandomCrop": _augment(lambda: L.RandomCrop(4, 3), (3, 6, 5, 2)),
    "RandomRotation": _augment(lambda: L.RandomRotation(0.2), (3, 6, 6, 2)),
    "RandomTranslation": _augment(lambda: L.RandomTranslation(0.2, 0.2), (3, 6, 6, 2)),
    "RandomZoom": _augment(lambda: L.RandomZoom(0.2), (3, 6, 6, 2)),
    "RandomContrast": _augment(
        lambda: L.RandomContrast(0.3, (0, 1)), (3, 5, 4, 2), False
    ),
    "RandomBrightness": _augment(
        lambda: L.RandomBrightness(0.3, (0, 1)), (3, 5, 4, 2), False
    ),
    # categorical preprocessing: integer or float in, no gradient
    "CategoryEncoding": _case(
        lambda: L.CategoryEncoding(7, output_mode="count"),
        tokens(7, 3, 4),
        differentiable=False,
    ),
    "CategoryEncoding_one_hot": _case(
        lambda: L.CategoryEncoding(7, output_mode="one_hot"),
        tokens(7, 5),
        differentiable=False,
    ),
    "Discretization": _case(
        lambda: L.Discretization([-0.5, 0.0, 0.8]), normal(3, 4), differentiable=False
    ),
    "Discretization_multi_hot": _case(
        lambda: L.Discretization([-0.5, 0.0, 0.8], output_mode="multi_hot"),
        normal(3, 4),
        differentiable=False,
    ),
    "IntegerLookup": _case(
        lambda: L.IntegerLookup(vocabulary=[4, 0, 2]),
        tokens(6, 3, 4),
        differentiable=False,
    ),
    "IntegerLookup_count": _case(
        lambda: L.IntegerLookup(vocabulary=[4, 0, 2], output_mode="count"),
        tokens(6, 3, 4),
        differentiable=False,
    ),
    "IntegerLookup_invert": _case(
        lambda: L.IntegerLookup(vocabulary=[40, 10, 20], invert=True),
        tokens(5, 3, 4),
        differentiable=False,
    ),
    "StringLookup": _case(
        lambda: L.StringLookup(vocabulary=["b", "c"]),
        words(3, 4),
        differentiable=False,
        host_only=STRINGS,
    ),
    "TextVectorization": _case(
        lambda: L.TextVectorization(vocabulary=["a", "b"], split="character"),
        words(3),
        differentiable=False,
        host_only=STRINGS,
    ),
    # a user's layer: the base class with weights made in build
    "Layer_subclass": _case(lambda: Scale(), normal(3, 4)),
}
