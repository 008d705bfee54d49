"""Preprocessing layers (Keras names and arguments): ``Rescaling`` and
``Normalization``, plain arithmetic and differentiable. The random
augmentation layers are in :mod:`numnet.layers.augmentation`.

Example:
    >>> import numpy as np
    >>> from numnet import layers
    >>> layers.Rescaling(1 / 255)(np.full((1, 2), 255, np.uint8)).numpy().tolist()
    [[1.0, 1.0]]
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet import functional as F
from numnet.autograd.tensor import Tensor
from numnet.backend.device import device_of
from numnet.layers import _utils as U
from numnet.layers.base import Layer

_CHANNELS_LAST = (
    "numnet uses channels-last (N, H, W, C); add a channel axis with x[..., None]"
)


class Rescaling(Layer):
    """``x * scale + offset``: e.g. ``Rescaling(1 / 255)`` maps bytes to [0, 1].

    Args:
        scale: the factor (a number).
        offset: added after scaling (``Rescaling(1 / 127.5, offset=-1)`` maps to
            [-1, 1]).

    Shape:
        input: any; output: the same shape, in the layer's float dtype.
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def call(self, x):
        x = U.float_input(self, x)
        return F.add(F.mul(x, self.scale), self.offset)

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Normalization(Layer):
    """Standardize features: ``(x - mean) / sqrt(variance)``, statistics from ``adapt``.

    As Keras: the statistics are per index of ``axis`` (default the last, the
    features or channels) and reduced over every other axis; the divisor is
    ``max(sqrt(variance), 1e-7)``. Give ``mean`` and ``variance`` directly, or
    call :meth:`adapt` on training data before ``fit``. ``invert=True`` maps
    standardized values back.

    Args:
        axis: the axis (or axes) that keep separate statistics; None for one
            scalar mean and variance.
        mean, variance: known statistics (broadcastable), instead of ``adapt``.
        invert: apply the inverse transformation.

    Example:
        >>> import numpy as np
        >>> norm = Normalization()
        >>> norm.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
        >>> norm(np.array([[1.0, 20.0]])).numpy()
        array([[0., 0.]], dtype=float32)
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = (axis,) if isinstance(axis, int) else axis
        self.axis = None if axis is None else tuple(self.axis)
        if (mean is None) != (variance is None):
            raise ValueError(
                "Normalization: give both 'mean' and 'variance', or neither (then "
                f"call adapt). Received: mean={mean!r}, variance={variance!r}"
            )
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)
        self._adapted = mean is not None

    def _stat_shape(self, shape) -> tuple:
        if self.axis is None:
            return ()
        keep = {a % len(shape) for a in self.axis}
        if 0 in keep:
            raise ValueError(
                f"Normalization: 'axis' cannot include the batch axis 0. Received: "
                f"axis={self.axis}"
            )
        return tuple(n if i in keep else 1 for i, n in enumerate(shape))

    def build(self, input_shape) -> None:
        shape = self._stat_shape(tuple(input_shape))
        self.mean = self.add_weight("mean", shape, "zeros", trainable=False)
        self.variance = self.add_weight("variance", shape, "ones", trainable=False)
        if self.input_mean is not None:
            self.mean.data[...] = np.broadcast_to(self.input_mean, shape)
            self.variance.data[...] = np.broadcast_to(self.input_variance, shape)

    def adapt(self, data) -> None:
        """Compute the mean and variance of ``data``: an array, or batches of one.

        Batches are combined exactly (Chan's parallel update of the mean and
        the sum of squared deviations), so a DataLoader gives the statistics
        of the whole data set.
        """
        batches = [data] if isinstance(data, (np.ndarray, Tensor, list)) else data
        count, mean, m2 = 0, None, None
        for batch in batches:
            if isinstance(batch, tuple):  # (x, y) pairs from a loader
                batch = batch[0]
            x = backend.to_host(batch).astype(np.float64)  # statistics on the host
            if not self.built:
                self.build((None, *x.shape[1:]))
                self.built = True
            axes = self._reduce_axes(x.ndim)
            n = int(np.prod([x.shape[a] for a in axes]))
            b_mean = x.mean(axis=axes, keepdims=True)
            b_m2 = ((x - b_mean) ** 2).sum(axis=axes, keepdims=True)
            if mean is None:
                count, mean, m2 = n, b_mean, b_m2
                continue
            delta, total = b_mean - mean, count + n
            mean = mean + delta * n / total
            m2 = m2 + b_m2 + delta**2 * count * n / total
            count = total
        if mean is None:
            raise ValueError("Normalization.adapt: received no data")
        shape = self.mean.shape
        for weight, value in ((self.mean, mean), (self.variance, m2 / count)):
            value = value.reshape(shape).astype(weight.dtype)
            weight.data[...] = device_of(weight.data).put(value)  # the layer's device
        self._adapted = True

    def _reduce_axes(self, ndim: int) -> tuple:
        if self.axis is None:
            return tuple(range(ndim))
        keep = {a % ndim for a in self.axis}
        return tuple(i for i in range(ndim) if i not in keep)

    def call(self, x):
        x = U.float_input(self, x)
        std = F.maximum(F.sqrt(self.variance), 1e-7)
        if self.invert:
            return F.add(F.mul(x, std), self.mean)
        return F.div(F.sub(x, self.mean), std)

    def get_config(self) -> dict:
        config = {**super().get_config(), "axis": self.axis, "invert": self.invert}
        if self.input_mean is not None:
            config["mean"] = np.asarray(self.input_mean).tolist()
            config["variance"] = np.asarray(self.input_variance).tolist()
        return config


__all__ = ["Normalization", "Rescaling"]
