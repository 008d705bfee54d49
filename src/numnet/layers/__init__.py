"""Keras-like layers (``from numnet import layers``).

Every layer is a :class:`Layer`: weights are created lazily from the first input
(``build``), ``__call__`` works on Tensors and ndarrays and composes with
autograd, ``training`` switches Dropout/BatchNorm behaviour, and
``get_config``/``from_config`` round-trip through JSON.
"""

from numnet.layers.activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from numnet.layers.attention import AdditiveAttention, Attention
from numnet.layers.base import Layer
from numnet.layers.conv import (
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv2D,
    SeparableConv2D,
)
from numnet.layers.conv_nd import (
    AveragePooling1D,
    AveragePooling3D,
    Conv1D,
    Conv3D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
    MaxPooling3D,
    UpSampling1D,
)
from numnet.layers.conv_variants import (
    Conv1DTranspose,
    Conv3DTranspose,
    DepthwiseConv1D,
    SeparableConv1D,
)
from numnet.layers.core import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Reshape,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from numnet.layers.embedding import Embedding, Masking
from numnet.layers.group_normalization import GroupNormalization, UnitNormalization
from numnet.layers.input_layer import Input, InputLayer
from numnet.layers.lambda_layer import Lambda, LambdaNotSerializableError
from numnet.layers.merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)
from numnet.layers.multi_head_attention import MultiHeadAttention
from numnet.layers.noise import (
    ActivityRegularization,
    GaussianDropout,
    GaussianNoise,
    Identity,
)
from numnet.layers.normalization import BatchNormalization, LayerNormalization
from numnet.layers.pooling import (
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling2D,
)
from numnet.layers.recurrent import GRU, LSTM, SimpleRNN
from numnet.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from numnet.layers.rnn_cells import RNN, GRUCell, LSTMCell, SimpleRNNCell
from numnet.layers.sequence import Permute, RepeatVector
from numnet.layers.serialization import deserialize, serialize
from numnet.layers.sync_batch_norm import SyncBatchNormalization
from numnet.layers.wrappers import Bidirectional, TimeDistributed

__all__ = [
    "RNN",
    "GRUCell",
    "LSTMCell",
    "SimpleRNNCell",
    "deserialize",
    "serialize",
    "ELU",
    "LeakyReLU",
    "ReLU",
    "Softmax",
    "AveragePooling2D",
    "Conv2D",
    "Conv2DTranspose",
    "Cropping2D",
    "DepthwiseConv2D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "MaxPooling2D",
    "SeparableConv2D",
    "UpSampling2D",
    "ZeroPadding2D",
    "Activation",
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Lambda",
    "LambdaNotSerializableError",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "BatchNormalization",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "Layer",
    "LayerNormalization",
    "Reshape",
    "SpatialDropout2D",
    "Bidirectional",
    "Embedding",
    "GRU",
    "LSTM",
    "Masking",
    "SimpleRNN",
    "TimeDistributed",
    "SyncBatchNormalization",
    "AdditiveAttention",
    "Attention",
    "MultiHeadAttention",
    "Permute",
    "RepeatVector",
    "AveragePooling1D",
    "AveragePooling3D",
    "Conv1D",
    "Conv3D",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "MaxPooling1D",
    "MaxPooling3D",
    "UpSampling1D",
    "ActivityRegularization",
    "Cropping1D",
    "Cropping3D",
    "GaussianDropout",
    "GaussianNoise",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling3D",
    "GroupNormalization",
    "Identity",
    "PReLU",
    "SpatialDropout1D",
    "SpatialDropout3D",
    "UnitNormalization",
    "UpSampling3D",
    "ZeroPadding1D",
    "ZeroPadding3D",
    "Conv1DTranspose",
    "Conv3DTranspose",
    "DepthwiseConv1D",
    "SeparableConv1D",
]

# Keras's functional merge helpers (layers.add, layers.concatenate, ...)
from numnet.layers.merge import (  # noqa: E402
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)

__all__ += [
    "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply",
    "subtract",
]  # fmt: skip

# Preprocessing and augmentation layers (these reuse numnet.data's transforms)
from numnet.layers.augmentation import (  # noqa: E402
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from numnet.layers.categorical import CategoryEncoding, Discretization  # noqa: E402
from numnet.layers.image_preprocessing import (  # noqa: E402
    CenterCrop,
    RandomBrightness,
    RandomContrast,
    Resizing,
)
from numnet.layers.lookup import IntegerLookup, StringLookup  # noqa: E402
from numnet.layers.preprocessing import Normalization, Rescaling  # noqa: E402
from numnet.layers.text_vectorization import TextVectorization  # noqa: E402

__all__ += [
    "CenterCrop", "RandomBrightness", "RandomContrast", "Resizing",
    "Normalization", "RandomCrop", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom", "Rescaling",
    "CategoryEncoding", "Discretization", "IntegerLookup", "StringLookup",
    "TextVectorization",
]  # fmt: skip
