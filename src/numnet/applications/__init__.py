"""Architectures from the course, built from the public layers.

Every constructor returns a functional ``Model`` (``models.Model(inputs,
outputs)``); the block functions take and return symbolic tensors, so they
compose into your own graphs:

>>> from numnet import layers, models
>>> from numnet.applications import convolutional_block, identity_block
>>> x = layers.Input((28, 28, 16))
>>> y = identity_block(convolutional_block(x, 32), 32)
>>> y.shape
(None, 14, 14, 32)
"""

from numnet.applications.classic import lenet5, vgg_small
from numnet.applications.classic_nets import alexnet, vgg16, vgg19
from numnet.applications.inception import inception_module, small_inception
from numnet.applications.mobilenet import mobilenet_block, small_mobilenet
from numnet.applications.resnet import (
    convolutional_block,
    identity_block,
    small_resnet,
)
from numnet.applications.resnets import (
    basic_block,
    bottleneck_block,
    resnet18,
    resnet34,
    resnet50,
)
from numnet.applications.style_transfer import (
    StyleTransfer,
    content_cost,
    gram_matrix,
    run_style_transfer,
    style_cost,
    total_cost,
)
from numnet.applications.yolo import yolo_small

__all__ = [
    "StyleTransfer",
    "content_cost",
    "gram_matrix",
    "run_style_transfer",
    "style_cost",
    "total_cost",
    "alexnet",
    "basic_block",
    "bottleneck_block",
    "resnet18",
    "resnet34",
    "resnet50",
    "vgg16",
    "vgg19",
    "convolutional_block",
    "identity_block",
    "inception_module",
    "lenet5",
    "mobilenet_block",
    "small_inception",
    "small_mobilenet",
    "small_resnet",
    "vgg_small",
    "yolo_small",
]
