"""Differentiable operations on Tensors (``import numnet.functional as F``).

Importing this package also fills the Tensor operator table, so that ``a + b``,
``x.sum()`` and friends work.
"""

# ruff: noqa: F401 (a re-export module)

from numnet.autograd.tensor import OPS as _OPS
from numnet.functional.activations import (
    elu,
    gelu,
    get_activation,
    leaky_relu,
    log_softmax,
    relu,
    selu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from numnet.functional.attention import (
    additive_attention,
    attention,
    causal_mask,
    masked_softmax,
)
from numnet.functional.conv import (
    conv2d,
    conv2d_relu,
    conv2d_transpose,
    depthwise_conv2d,
)
from numnet.functional.conv_nd import (
    avg_pool1d,
    avg_pool3d,
    conv1d,
    conv3d,
    global_avg_pool1d,
    global_avg_pool3d,
    global_max_pool1d,
    global_max_pool3d,
    max_pool1d,
    max_pool3d,
    upsample1d,
    upsample3d,
)
from numnet.functional.conv_transpose_nd import (
    conv1d_transpose,
    conv3d_transpose,
    depthwise_conv1d,
)
from numnet.functional.elementwise import (
    abs,
    add,
    astype,
    clip,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sqrt,
    sub,
    where,
)
from numnet.functional.embedding import embedding
from numnet.functional.group_norm import group_norm
from numnet.functional.image import resize
from numnet.functional.linalg import linear, matmul
from numnet.functional.metric_learning import (
    batch_triplet_loss,
    mine_triplets,
    pairwise_distances,
    triplet_loss,
)
from numnet.functional.nn import (
    dropout,
    gaussian_dropout,
    gaussian_noise,
    sigmoid_binary_cross_entropy,
    softmax_cross_entropy,
    sparse_softmax_cross_entropy,
)
from numnet.functional.normalization import batch_norm, layer_norm
from numnet.functional.pooling import (
    avg_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    max_pool2d,
    max_pool2d_relu,
    upsample2d,
)
from numnet.functional.recurrent import gru, lstm, simple_rnn
from numnet.functional.reduce import logsumexp, max, mean, min, sum, var
from numnet.functional.shaping import (
    broadcast_to,
    concatenate,
    expand,
    flatten,
    getitem,
    pad,
    permute,
    reshape,
    shape,
    split,
    squeeze,
    stack,
    sum_to,
    swapaxes,
    transpose,
    unsqueeze,
)

# PyTorch-named losses and distances
from numnet.functional.torch_distances import (
    cdist,
    cosine_similarity,
    normalize,
    pairwise_distance,
)
from numnet.functional.torch_losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    kl_div,
    nll_loss,
)
from numnet.functional.torch_margin_losses import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from numnet.functional.torch_regression_losses import (
    gaussian_nll_loss,
    huber_loss,
    l1_loss,
    mse_loss,
    poisson_nll_loss,
    smooth_l1_loss,
)

# isort: split
# PyTorch- and Keras-named activations
from numnet.functional.activations_keras import (
    glu,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
)
from numnet.functional.activations_more import (
    celu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    relu6,
    silu,
    softshrink,
    softsign,
    swish,
    tanhshrink,
    threshold,
)
from numnet.functional.torch_image import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    pixel_shuffle,
    pixel_unshuffle,
)
from numnet.functional.torch_nn import (
    prelu,
    rrelu,
    scaled_dot_product_attention,
    softmin,
)

_OPS.update(
    add=add, sub=sub, mul=mul, div=div, pow=pow, neg=neg, matmul=matmul,
    exp=exp, log=log, sqrt=sqrt, abs=abs, clip=clip, astype=astype,
    relu=relu, sigmoid=sigmoid, tanh=tanh,
    sum=sum, mean=mean, var=var, max=max, min=min,
    reshape=reshape, flatten=flatten, transpose=transpose, squeeze=squeeze,
    unsqueeze=unsqueeze, broadcast_to=broadcast_to, getitem=getitem,
    maximum=maximum, minimum=minimum, where=where, split=split, swapaxes=swapaxes,
    logsumexp=logsumexp, softmax=softmax, log_softmax=log_softmax,
)  # fmt: skip
