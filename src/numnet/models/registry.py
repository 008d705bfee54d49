"""The allowlist of classes a saved config may name: see
:mod:`numnet.layers.serialization`, the one registry (this module keeps the
names the models and the saving module use)."""

from __future__ import annotations

from numnet.layers.serialization import (  # noqa: F401 (re-exported)
    deserialize as deserialize_layer,
)
from numnet.layers.serialization import layer_class  # noqa: F401
from numnet.layers.serialization import serialize as serialize_layer  # noqa: F401
