"""Reverse-mode automatic differentiation: Tensor, Function, the engine, gradcheck."""

from numnet.autograd.engine import strict_dtypes
from numnet.autograd.function import (
    Function,
    enable_grad,
    is_grad_enabled,
    no_grad,
    unbroadcast,
    zero_grad,
)
from numnet.autograd.gradcheck import GradcheckError, gradcheck
from numnet.autograd.tape import GradientTape, grad
from numnet.autograd.tensor import Parameter, Tensor, as_tensor, tensor

__all__ = [
    "Function",
    "GradcheckError",
    "GradientTape",
    "Parameter",
    "Tensor",
    "as_tensor",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "strict_dtypes",
    "tensor",
    "unbroadcast",
    "zero_grad",
]
