"""The graph being built during an ONNX export: names, initializers, image layouts.

numnet images are channels-last (N, H, W, C); ONNX's Conv, pooling and
BatchNormalization want channels-first (N, C, H, W). Each 4-D value remembers its
layout, and :meth:`Graph.in_layout` inserts one Transpose only where a consumer
needs the other layout, so a run of conv/pool/BN layers stays channels-first and
the input is transposed once at the graph's entry.
"""

from __future__ import annotations

import itertools

import numpy as np

NHWC_TO_NCHW = (0, 3, 1, 2)
NCHW_TO_NHWC = (0, 2, 3, 1)


class UnsupportedLayerError(ValueError):
    """A layer (or a layer setting) the ONNX exporter cannot write."""


class Graph:
    """Nodes, initializers and value layouts of the ONNX graph being built."""

    def __init__(self, helper, numpy_helper):
        self.helper = helper
        self.numpy_helper = numpy_helper
        self.nodes: list = []
        self.initializers: list = []
        self.layout: dict[str, str] = {}  # value name -> "nhwc" | "nchw"
        self._ids = itertools.count()

    def fresh(self, hint: str) -> str:
        return f"{hint}_{next(self._ids)}"

    def constant(self, array, hint: str) -> str:
        name = self.fresh(hint)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str, n_out: int = 1, **attrs):
        outputs = [self.fresh(hint) for _ in range(n_out)]
        self.nodes.append(self.helper.make_node(op_type, inputs, outputs, **attrs))
        return outputs[0] if n_out == 1 else outputs

    def in_layout(self, name: str, want: str) -> str:
        """``name`` in layout ``want`` (a Transpose when it is 4-D in the other one)."""
        have = self.layout.get(name)
        if have is None or have == want:
            return name
        perm = NHWC_TO_NCHW if want == "nchw" else NCHW_TO_NHWC
        out = self.op("Transpose", [name], f"to_{want}", perm=list(perm))
        self.layout[out] = want
        return out

    def set_layout(self, name: str, layout: str | None) -> str:
        if layout is not None:
            self.layout[name] = layout
        return name
