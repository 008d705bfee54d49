"""numnet: a deep learning library written from scratch on NumPy.

Two APIs, both first class: tensors with reverse-mode autograd
(``numnet.tensor``, ``Tensor.backward()``, ``numnet.no_grad()``,
``numnet.functional``) and Keras-like layers and models (``numnet.layers``,
``numnet.models``).
"""

from numnet import (  # the Keras-like API, importable as numnet.layers etc.
    applications,
    callbacks,
    constraints,
    data,
    datasets,
    functional,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    saving,
    tuning,
    vision,
    viz,
)
from numnet._kernels.workspace import keep_freed_memory as _keep_freed_memory
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
    "applications",
    "callbacks",
    "constraints",
    "data",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "regularizers",
    "saving",
    "tuning",
    "vision",
    "viz",
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
    "manual_seed",
    "no_grad",
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

#: Whether glibc's malloc was asked to keep freed memory (see keep_freed_memory).
_FREED_MEMORY_KEPT = _keep_freed_memory()
