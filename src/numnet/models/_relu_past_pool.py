"""Models run a ReLU after the max pool that follows it, on the smaller array.

A ReLU is monotone, so it commutes with a window maximum:
``max_pool(relu(z)) = relu(max_pool(z))``, values and gradients alike (every
window has the same winner; where its maximum is <= 0 both give 0 and no
gradient). When a ReLU's output feeds nothing but a ``MaxPooling2D``, a model
runs the pair as the unactivated layer followed by ``F.max_pool2d_relu``: the
ReLU and its backward mask then touch the pooled output, a quarter of the
ReLU's input for a 2x2 pool, instead of all of it (two full-size passes fewer
each way; the course CNN's training step about 12 % faster: docs/decisions.md).

The ReLU is a ``Conv2D(activation="relu")`` (run as a plain convolution), an
``Activation("relu")`` or a plain ``ReLU()`` layer (skipped). A Sequential model
finds such pairs among consecutive layers, a functional model where the
ReLU's output has the pool as its only consumer and is not a model output. A
layer with an activity regularizer (which reads the ReLU's output) is left as
it is, and so is every layer while its outputs are recorded (``layer_outputs``,
``summary``: :func:`as_written`).
``numnet.config.using(kernel_plans={"relu_past_max_pool": False})`` turns the
rewrite off.
"""

from __future__ import annotations

import numnet.functional as F
from numnet import config
from numnet.layers._relu_move import moving
from numnet.layers.activation import ReLU
from numnet.layers.conv import Conv2D
from numnet.layers.core import Activation
from numnet.layers.pooling import MaxPooling2D

#: The layers whose ReLU can move: Conv2D and Activation with activation
#: "relu", and a plain ReLU().
_RELU_LAYERS = (Conv2D, Activation, ReLU)


def enabled() -> bool:
    """False inside ``config.using(kernel_plans={"relu_past_max_pool": False})``."""
    return bool(config.get().kernel_plans.get("relu_past_max_pool", True))


def as_written():
    """A ``config.using`` scope in which models run their layers as written
    (for code that records each layer's output: ``layer_outputs``, ``summary``)."""
    plans = {**config.get().kernel_plans, "relu_past_max_pool": False}
    return config.using(kernel_plans=plans)


def moves_relu(layer, consumer) -> bool:
    """Whether ``layer`` is a ReLU that can run after ``consumer``, a max pool."""
    if type(consumer) is not MaxPooling2D or type(layer) not in _RELU_LAYERS:
        return False
    if layer.activity_regularizer is not None or layer.dtype != consumer.dtype:
        return False
    if type(layer) is ReLU:
        plain = layer.max_value is None and layer.negative_slope == 0
        return plain and layer.threshold == 0
    return layer.activation is F.relu


def graph_pairs(nodes, outputs) -> list[tuple]:
    """(ReLU-candidate node, max-pool node) pairs of a functional graph: the
    first node's one output is not a model output and feeds only the pool."""
    users: dict[int, list] = {}
    for node in nodes:
        for t in node.inputs:
            users.setdefault(id(t), []).append(node)
    model_outputs = {id(t) for t in outputs}
    pairs = []
    for node in nodes:
        if node.output_is_list or len(node.outputs) != 1:
            continue
        out = node.outputs[0]
        consumers = users.get(id(out), [])
        if id(out) in model_outputs or len(consumers) != 1:
            continue
        pool = consumers[0]
        alone = len(pool.inputs) == 1 and not pool.input_is_list
        if alone and type(pool.layer) is MaxPooling2D:
            pairs.append((node, pool))
    return pairs


def roles(pairs) -> dict:
    """node id -> "relu" or "pool" for the pairs of :func:`graph_pairs` whose
    layers allow the move now (empty when the rewrite is off)."""
    found: dict = {}
    if not enabled():
        return found
    for relu, pool in pairs:
        if moves_relu(relu.layer, pool.layer):
            found[relu.id], found[pool.id] = "relu", "pool"
    return found


def call_as(role, layer, x, **kwargs):
    """Call ``layer`` in its ``role`` from :func:`roles` (None: as it is)."""
    if role == "relu":
        return call_unactivated(layer, x, **kwargs)
    if role == "pool":
        return call_pool(layer, x, **kwargs)
    return layer(x, **kwargs)


def call_pair(layer, pool, x, training):
    """``pool(layer(x))`` with ``layer``'s ReLU moved past the pool."""
    x = call_unactivated(layer, x, training=training)
    return call_pool(pool, x, training=training)


def call_unactivated(layer, x, *args, **kwargs):
    """``layer`` without its ReLU: the plain convolution, or ``x`` itself."""
    if type(layer) is not Conv2D:  # Activation / ReLU: the layer is the ReLU
        return x
    with moving(layer, "deferred"):
        return layer(x, *args, **kwargs)


def call_pool(pool, x, *args, **kwargs):
    """``relu(pool(x))`` as one fused op (``F.max_pool2d_relu``)."""
    with moving(pool, "fused"):
        return pool(x, *args, **kwargs)
