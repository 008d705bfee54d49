"""Image resizing (Keras ``Resizing``, TensorFlow's ``tf.image.resize``).

Resizing is linear in the image, and separable: ``y = A_h x A_w^T`` per image
and channel, with ``A_h`` (OH, H) and ``A_w`` (OW, W) interpolation matrices
built on the host (``numnet._kernels.resize``; small: output by input size)
and moved to ``x``'s
array namespace. So it is two matmuls, differentiable through ``matmul``
(``dL/dx = A_h^T g A_w``), on any device, with no loop over images or pixels.

Sampling positions use half-pixel centres (``align_corners=False``, TF's
``half_pixel_centers=True``): output pixel i reads input coordinate
``(i + 0.5) * n_in / n_out - 0.5``.

* ``"bilinear"``: the coordinate is clamped to [0, n_in - 1] and split between
  its two neighbours. No antialiasing: when shrinking, each output pixel still
  reads its two nearest inputs (``tf.image.resize(antialias=False)``, Keras's
  default ``antialias=False``, PyTorch's ``interpolate(mode="bilinear",
  antialias=False)``).
* ``"nearest"``: input ``min(floor((i + 0.5) * n_in / n_out), n_in - 1)``
  (TensorFlow's nearest with half-pixel centres, PyTorch's "nearest-exact").
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet._kernels.resize import resize_matrix
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.functional.linalg import matmul
from numnet.functional.shaping import reshape

INTERPOLATIONS = ("bilinear", "nearest")


def _check(x: Tensor, height, width, interpolation) -> None:
    if x.ndim != 4:
        raise ValueError(
            f"resize: expected images of shape (N, H, W, C) (channels-last). "
            f"Received: x.shape={x.shape}"
        )
    for name, value in (("height", height), ("width", width)):
        if (
            not isinstance(value, (int, np.integer))
            or isinstance(value, bool)
            or (value < 1)
        ):
            raise ValueError(
                f"resize: invalid value for argument '{name}'. Expected a positive "
                f"int. Received: {name}={value!r}"
            )
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"resize: invalid value for argument 'interpolation'. Expected one of "
            f"{list(INTERPOLATIONS)}. Received: interpolation={interpolation!r}"
        )
    if x.dtype.kind != "f":
        raise TypeError(
            f"resize: expected floating-point images. Received: x.dtype={x.dtype}"
        )


def resize(x, height: int, width: int, interpolation: str = "bilinear") -> Tensor:
    """Resize NHWC images to (height, width), half-pixel centres, no antialiasing.

    Args:
        x: images (N, H, W, C), floating point.
        height, width: the output size.
        interpolation: ``"bilinear"`` or ``"nearest"``.

    Returns:
        (N, height, width, C) in x's dtype; differentiable in x.

    Shape:
        x: (N, H, W, C) -> (N, height, width, C)

    Example:
        >>> import numpy as np, numnet.functional as F
        >>> F.resize(np.array([0.0, 1.0]).reshape(1, 1, 2, 1), 1, 4).numpy().ravel()
        array([0.  , 0.25, 0.75, 1.  ])
    """
    x = as_tensor(x)
    _check(x, height, width, interpolation)
    N, H, W, C = x.shape
    xp = backend.get_array_module(x.data)
    if H != height:
        rows = xp.asarray(resize_matrix(H, height, interpolation), dtype=x.dtype)
        x = reshape(matmul(rows, reshape(x, (N, H, W * C))), (N, height, W, C))
    if W != width:
        cols = xp.asarray(resize_matrix(W, width, interpolation), dtype=x.dtype)
        x = reshape(matmul(cols, reshape(x, (N * height, W, C))), (N, height, width, C))
    return x
