"""The Transform base class shared by the augmentation modules."""

from __future__ import annotations

import numpy as np

from numnet import backend

FILL_MODES = ("nearest", "constant", "reflect", "wrap")
INTERPOLATIONS = {"nearest": 0, "bilinear": 1}  # spline order for scipy.ndimage


def _is_cupy(x) -> bool:
    xp = backend.get_array_module(x)
    return getattr(xp, "__name__", "").split(".")[0] == "cupy"


def ndimage_for(x):
    """``(xp, ndimage)`` for images ``x``: NumPy with ``scipy.ndimage``, or CuPy
    with ``cupyx.scipy.ndimage`` (the same functions on the GPU). Both are
    imported on first use, so ``import numnet`` imports neither."""
    xp = backend.get_array_module(x)
    if _is_cupy(x):
        from cupyx.scipy import ndimage
    elif xp is np:
        from scipy import ndimage
    else:
        raise TypeError(
            f"image transforms: interpolation needs scipy.ndimage (NumPy arrays) "
            f"or cupyx.scipy.ndimage (CuPy arrays). Received an array of "
            f"{getattr(xp, '__name__', xp)!r}"
        )
    return xp, ndimage


def like(x, params, dtype=None):
    """Host (NumPy) ``params`` as an array of ``x``'s namespace (NumPy: no copy)."""
    return backend.get_array_module(x).asarray(params, dtype=dtype)


def as_images(x, who: str) -> np.ndarray:
    """Validate an NHWC batch; integer images become floats of the default dtype.

    Arrays of another namespace (CuPy) stay where they are; anything else
    becomes a NumPy array.
    """
    x = np.asarray(x) if backend.get_array_module(x) is np else x
    if x.ndim != 4:
        raise ValueError(
            f"{who}: expected a batch of images of shape (N, H, W, C) "
            f"(channels last). Received: x.shape={x.shape}"
        )
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(backend.floatx())


def check_option(value, options, argument: str, who: str) -> str:
    if value not in options:
        raise ValueError(
            f"{who}: invalid value for argument '{argument}'. Expected one of "
            f"{list(options)}. Received: {argument}={value!r}"
        )
    return value


def value_range(value, argument: str, who: str, center: float = 0.0, positive=False):
    """``v`` -> ``(center - v, center + v)``; a ``(low, high)`` pair is kept."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        low, high = center - float(value), center + float(value)
        ok = value >= 0
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        low, high = float(value[0]), float(value[1])
        ok = low <= high
    else:
        low = high = 0.0
        ok = False
    if not ok or (positive and low <= 0):
        kind = "a positive range" if positive else "a range"
        raise ValueError(
            f"{who}: invalid value for argument '{argument}'. Expected a "
            f"non-negative number or a (low, high) pair with low <= high giving "
            f"{kind}. Received: {argument}={value!r}"
        )
    return low, high


class Transform:
    """Base class of the random, batch-vectorized image transforms.

    A transform separates randomness from computation, as Keras 3 and
    torchvision v2 do: :meth:`get_params` draws the random parameters of a whole
    batch (an ndarray with one row per image), :meth:`apply` is deterministic.
    ``transform(x)`` does both. Tests use the split to check that applying the
    batch equals applying each image with its own row of parameters.

    Args:
        seed: int for a private, reproducible generator; None draws from numnet's
            global generator (``numnet.manual_seed``) at call time.
    """

    def __init__(self, seed=None):
        self.seed = seed
        self._rng = None if seed is None else backend.get_rng(seed)

    def resolve_rng(self, rng=None) -> np.random.Generator:
        """The generator to use: the argument, else our own, else the global one."""
        if rng is not None:
            return rng
        return self._rng if self._rng is not None else backend.get_rng()

    def get_params(self, shape: tuple, rng: np.random.Generator) -> np.ndarray:
        """Draw the parameters for a batch of the given NHWC ``shape``."""
        raise NotImplementedError

    def apply(self, x: np.ndarray, params: np.ndarray) -> np.ndarray:
        """Transform the batch ``x`` with the given parameters (deterministic)."""
        raise NotImplementedError

    def __call__(self, x, rng: np.random.Generator | None = None) -> np.ndarray:
        """Transform a batch with freshly drawn parameters.

        Args:
            x: images of shape (N, H, W, C).
            rng: an explicit generator, overriding the transform's own seed.
        """
        x = as_images(x, type(self).__name__)
        return self.apply(x, self.get_params(x.shape, self.resolve_rng(rng)))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        return f"{type(self).__name__}({args})"

    def _config(self) -> dict:
        return {}
