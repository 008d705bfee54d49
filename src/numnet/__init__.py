"""numnet: a deep learning library written from scratch on NumPy.

Two APIs, both first class: tensors with reverse-mode autograd
(``numnet.tensor``, ``Tensor.backward()``, ``numnet.no_grad()``,
``numnet.functional``) and Keras-like layers and models (``numnet.layers``,
``numnet.models``).
"""

import importlib

from numnet import (  # the Keras-like API, importable as numnet.layers etc.
    callbacks,
    config,
    constraints,
    data,
    functional,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    saving,
)
from numnet._state_file import load, save  # torch.save/torch.load, without pickle
from numnet._version import __version__  # noqa: F401 (the one version source)
from numnet.autograd import (
    Function,
    GradcheckError,
    Parameter,
    Tensor,
    enable_grad,
    gradcheck,
    is_grad_enabled,
    no_grad,
    tensor,
    zero_grad,
)
from numnet.backend import get_default_dtype, manual_seed, set_default_dtype
from numnet.layers import Input
from numnet.models import Model, Sequential

__all__ = [
    "applications",  # noqa: F405 (lazy, see __getattr__)
    "config",
    "callbacks",
    "constraints",
    "data",
    "datasets",  # noqa: F405 (lazy, see __getattr__)
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "regularizers",
    "saving",
    "tuning",  # noqa: F405 (lazy, see __getattr__)
    "vision",  # noqa: F405 (lazy, see __getattr__)
    "viz",  # noqa: F405 (lazy, see __getattr__)
    "Function",
    "GradcheckError",
    "Input",
    "Model",
    "Sequential",
    "Parameter",
    "Tensor",
    "enable_grad",
    "functional",
    "get_default_dtype",
    "gradcheck",
    "is_grad_enabled",
    "load",
    "manual_seed",
    "no_grad",
    "save",
    "set_default_dtype",
    "tensor",
    "zero_grad",
]

# The tensor namespace (numnet.ones, numnet.sin, numnet.einsum, ...), numnet.random
# and numnet.utils: Keras's ops/random/utils and PyTorch's top-level functions.
import builtins as _builtins  # noqa: E402

from numnet import ops, random, utils  # noqa: E402,F401
from numnet.ops import *  # noqa: E402,F403

# star-imports skip names that would shadow Python's (sum, max, abs, round, random)
__all__ += ["ops", "utils", *(n for n in ops.__all__ if not hasattr(_builtins, n))]

# PyTorch's top-level tensor functions (numnet.cat, numnet.randn, ...)
from numnet import _torch_functions, _torch_random  # noqa: E402
from numnet._torch_functions import *  # noqa: E402,F403
from numnet._torch_random import *  # noqa: E402,F403

__all__ += [*_torch_functions.__all__, *_torch_random.__all__]

#: Subpackages imported on first use (PEP 562): ``import numnet`` stays light.
_LAZY_SUBMODULES = (
    "applications",
    "datasets",
    "decoding",
    "distributed",
    "interop",
    "onnx",
    "text",
    "tuning",
    "vision",
    "viz",
)


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        module = importlib.import_module(f"numnet.{name}")
        globals()[name] = module  # later lookups skip this function
        return module
    raise AttributeError(f"module 'numnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))


# Allocator tuning is opt-in: numnet.config.keep_freed_memory(), or
# NUMNET_KEEP_FREED_MEMORY=1 in the environment (read here, once).
config.keep_freed_memory_from_environment()

# Devices: numnet.device("cpu" | "cuda" | "cuda:1"), Tensor.to, Model.to
from numnet.backend.device import Device, device  # noqa: E402

__all__ += ["Device", "device"]
