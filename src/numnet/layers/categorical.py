"""Categorical preprocessing layers (Keras names and arguments):
``CategoryEncoding`` and ``Discretization``, and the host-side base class of
the non-differentiable preprocessing layers (these and the lookup layers).

They pass no gradient: the output is a plain integer or float Tensor with no
graph. Integer and float inputs may live on a device; the arithmetic then runs
in that array namespace and the output stays there.

Example:
    >>> import numpy as np
    >>> from numnet import layers
    >>> layers.CategoryEncoding(4, output_mode="one_hot")([3, 0]).numpy().tolist()
    [[0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Tensor
from numnet.layers import _utils as U
from numnet.layers.base import Layer
from numnet.layers.symbolic import in_dry_run, is_symbolic

ENCODINGS = ("one_hot", "multi_hot", "count")


def choice(owner: str, name: str, value, allowed: tuple):
    """``value`` if it is one of ``allowed``, else the Keras-style ValueError."""
    if isinstance(value, str) and value in allowed:
        return value
    raise ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected one of "
        f"{list(allowed)}. Received: {name}={value!r}"
    )


def refuse_true(owner: str, name: str, value) -> bool:
    """False, checked: numnet has no sparse (or ragged) tensors, so a flag
    asking for them is refused with the Keras-style error."""
    if U.boolean(owner, name, value):
        raise ValueError(
            f"{owner}: invalid value for argument '{name}'. numnet has no {name} "
            f"tensors: expected False. Received: {name}=True"
        )
    return False


def input_data(owner: str, x):
    """The raw array of a call's input: a Tensor's data (any device), an array,
    or a (nested) list turned into a NumPy array (strings stay strings)."""
    if isinstance(x, Tensor):
        return x.data
    if backend.is_array(x):
        return x
    try:
        return np.asarray(x)
    except ValueError as error:  # ragged lists
        raise ValueError(
            f"{owner}: expected a rectangular array or nested list of inputs. "
            f"Received a ragged list ({error})"
        ) from None


def encode(owner: str, ids, depth: int, mode: str, dtype, weights=None):
    """Keras's ``encode_categorical_inputs``: integer ``ids`` (values in
    [0, depth)) to one-hot, multi-hot or count vectors, in ``ids``'s namespace.

    one_hot: shape + (depth,), a trailing axis of 1 replaced; multi_hot and
    count: shape[:-1] + (depth,), the last axis summarised (a rank-1 input is
    one sample). ``weights`` (count only): summed instead of 1 per id.
    """
    xp = backend.get_array_module(ids)
    if ids.ndim > 2:
        raise ValueError(
            f"{owner}: expected inputs of rank 0, 1 or 2 for output_mode={mode!r}. "
            f"Received: input shape={tuple(ids.shape)}"
        )
    ids = ids.reshape(1) if ids.ndim == 0 else ids
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= depth):
        raise ValueError(
            f"{owner}: input values must be in the range 0 <= values < {depth}. "
            f"Received: min={int(ids.min())}, max={int(ids.max())}"
        )
    ids = ids.astype(xp.int64)
    if mode == "one_hot":
        if ids.shape[-1] == 1:
            ids = ids[..., 0]
        return (ids[..., None] == xp.arange(depth)).astype(dtype)
    flat = ids.reshape(-1, ids.shape[-1])
    rows = xp.broadcast_to(xp.arange(flat.shape[0])[:, None], flat.shape)
    if mode == "multi_hot":
        out = xp.zeros((flat.shape[0], depth), dtype=dtype)
        out[rows, flat] = 1
    else:
        w = xp.ones(flat.shape, dtype) if weights is None else weights
        w = w.reshape(flat.shape).astype(dtype)
        out = backend.get_ops(ids).index_add((flat.shape[0], depth), (rows, flat), w)
    return out.reshape(*ids.shape[:-1], depth)


class HostPreprocessingLayer(Layer):
    """Base of the non-differentiable preprocessing layers.

    ``__call__`` takes strings as well as numbers (NumPy arrays, lists,
    Tensors of any device) and calls ``encode(array)``, which returns an array;
    the result is a Tensor with no graph (strings, which numnet's tensors do not
    hold, come back as a NumPy ``str`` array). Subclasses implement ``encode``.
    """

    takes_strings = True

    def __call__(self, x, *args, training=None, **kwargs):
        if is_symbolic(x):
            return super().__call__(x, *args, training=training, **kwargs)
        data = input_data(type(self).__name__, x)
        if in_dry_run() and data.dtype.kind == "f":  # a functional graph's probe
            data = self.probe(data)
        self.built = True
        out = self.encode(data, *args, **kwargs)
        return out if out.dtype.kind == "U" else Tensor(out)

    def call(self, x, training: bool = False):
        """The symbolic (functional API) path: the same as a direct call."""
        return Tensor(self.encode(input_data(type(self).__name__, x)))

    def probe(self, zeros):
        """What the layer takes, in place of the float zeros with which a
        functional graph or Sequential model infers output shapes."""
        return zeros

    def encode(self, data):  # pragma: no cover - abstract
        """The layer's output array for the input array ``data``."""
        raise NotImplementedError


def numeric(owner: str, data):
    """``data`` if it holds numbers (bool, int or float), else a clear error."""
    if data.dtype.kind not in "biuf":
        raise TypeError(
            f"{owner}: expected numeric inputs. Received: dtype={data.dtype}"
        )
    return data


class CategoryEncoding(HostPreprocessingLayer):
    """Encode integer features as one-hot, multi-hot or count vectors.

    As Keras: inputs of rank 0, 1 or 2 with values in ``[0, num_tokens)``;
    ``one_hot`` appends an axis of ``num_tokens`` (replacing a trailing axis
    of 1); ``multi_hot`` and ``count`` summarise the last axis (a rank-1 input
    is one sample). ``count_weights`` (an array of the input's shape, count
    mode) sums weights instead of 1 per occurrence.

    Args:
        num_tokens: the number of categories.
        output_mode: "multi_hot" (default), "one_hot" or "count".
        sparse: must be False (numnet has no sparse tensors).

    Example:
        >>> layer = CategoryEncoding(num_tokens=4, output_mode="multi_hot")
        >>> layer([[0, 1], [0, 0], [1, 2], [3, 1]]).numpy()
        array([[1., 1., 0., 0.],
               [1., 0., 0., 0.],
               [0., 1., 1., 0.],
               [0., 1., 0., 1.]], dtype=float32)
    """

    def __init__(
        self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs
    ):
        super().__init__(**kwargs)
        self.num_tokens = U.positive_int("CategoryEncoding", "num_tokens", num_tokens)
        self.output_mode = choice(
            "CategoryEncoding", "output_mode", output_mode, ENCODINGS
        )
        self.sparse = refuse_true("CategoryEncoding", "sparse", sparse)

    def encode(self, data, count_weights=None):
        data = numeric("CategoryEncoding", data)
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    "CategoryEncoding: 'count_weights' is only used with "
                    f"output_mode='count'. Received: output_mode={self.output_mode!r}"
                )
            count_weights = input_data("CategoryEncoding", count_weights)
            if tuple(count_weights.shape) != tuple(data.shape):
                raise ValueError(
                    "CategoryEncoding: 'count_weights' must have the shape of the "
                    f"inputs {tuple(data.shape)}. Received: count_weights shape="
                    f"{tuple(count_weights.shape)}"
                )
        return encode(
            "CategoryEncoding", data, self.num_tokens, self.output_mode,
            backend.floatx(), count_weights,
        )  # fmt: skip

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_tokens": self.num_tokens,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }


def keras_quantile_boundaries(values: np.ndarray, num_bins: int, epsilon: float):
    """Keras's quantile summary of ``values`` (sorted, every ``len * epsilon``-th
    value kept) compressed to ``num_bins`` bins: the ``num_bins - 1`` bin
    boundaries, interpolated at the cumulative-weight fractions 1/num_bins, ...

    With ``epsilon * len(values) < 1`` every value is kept and the boundaries
    are exact (interpolated) quantiles.
    """
    values = np.sort(values.reshape(-1).astype(np.float64))
    increment = values.size * epsilon
    step = max(int(increment), 1)
    kept = values[int(increment) :: step]
    weights = np.full(kept.shape, float(max(increment, 1)))
    if kept.size < num_bins:  # too few values to compress: Keras keeps them
        return kept[:-1].tolist()
    percents = np.arange(1, num_bins + 1) / num_bins
    cumulative = np.cumsum(weights)
    return np.interp(percents, cumulative / cumulative[-1], kept)[:-1].tolist()


class Discretization(HostPreprocessingLayer):
    """Bucket numeric features into ranges: bin ``i`` is
    ``bin_boundaries[i-1] <= x < bin_boundaries[i]``.

    Give ``bin_boundaries``, or ``num_bins`` and call :meth:`adapt`, which
    computes quantile boundaries with Keras's algorithm (a sorted summary of
    every ``len(data) * epsilon``-th value, then the boundaries interpolated at
    the fractions 1/num_bins, 2/num_bins, ...); with ``epsilon < 1/len(data)``
    they are exact quantiles. ``adapt`` takes one array (or a list of batches,
    concatenated first).

    Args:
        bin_boundaries: increasing boundaries (``len + 1`` bins).
        num_bins: the number of bins for ``adapt``.
        epsilon: the summary's error tolerance (0 < epsilon < 1).
        output_mode: "int" (default: the bin index, int64), "one_hot",
            "multi_hot" or "count" (float).

    Example:
        >>> x = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
        >>> Discretization(bin_boundaries=[0.0, 1.0, 2.0])(x).numpy().tolist()
        [[0, 2, 3, 1], [1, 3, 2, 1]]
    """

    def __init__(
        self,
        bin_boundaries=None,
        num_bins=None,
        epsilon=0.01,
        output_mode="int",
        sparse=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = "Discretization"
        if bin_boundaries is None and num_bins is None:
            raise ValueError(
                f"{owner}: give 'bin_boundaries', or 'num_bins' and call adapt. "
                "Received: bin_boundaries=None, num_bins=None"
            )
        self.num_bins = None if num_bins is None else U.positive_int(
            owner, "num_bins", num_bins
        )  # fmt: skip
        self.bin_boundaries = None
        if bin_boundaries is not None:
            self.bin_boundaries = self._boundaries(bin_boundaries)
            if num_bins is not None and len(self.bin_boundaries) != num_bins - 1:
                raise ValueError(
                    f"{owner}: 'bin_boundaries' must hold num_bins - 1 values. "
                    f"Received: num_bins={num_bins!r}, {len(self.bin_boundaries)} "
                    "boundaries"
                )
        self.epsilon = U.real_number(owner, "epsilon", epsilon, positive=True)
        if self.epsilon >= 1:
            raise ValueError(
                f"{owner}: invalid value for argument 'epsilon'. Expected 0 < epsilon "
                f"< 1. Received: epsilon={epsilon!r}"
            )
        self.output_mode = choice(
            owner, "output_mode", output_mode, ("int", *ENCODINGS)
        )
        refuse_true(owner, "sparse", sparse)

    @staticmethod
    def _boundaries(values) -> list:
        b = np.asarray(values, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(b)) or np.any(np.diff(b) < 0):
            raise ValueError(
                "Discretization: invalid value for argument 'bin_boundaries'. "
                f"Expected finite, non-decreasing numbers. Received: {list(values)!r}"
            )
        return b.tolist()

    def adapt(self, data) -> None:
        """Compute ``num_bins`` quantile boundaries of ``data`` (see the class)."""
        if self.num_bins is None:  # Keras: bin_boundaries given, adapt refuses
            raise ValueError(
                "Discretization.adapt: the layer was created with 'bin_boundaries'; "
                "create it with 'num_bins' to compute boundaries from data."
            )
        batches = data if isinstance(data, (list, tuple)) and data and not np.isscalar(
            data[0]) else [data]  # fmt: skip
        values = [backend.to_host(input_data("Discretization", b)) for b in batches]
        values = np.concatenate(
            [numeric("Discretization", v).reshape(-1) for v in values]
        )
        if values.size == 0:
            raise ValueError("Discretization.adapt: received no data")
        self.bin_boundaries = keras_quantile_boundaries(
            values, self.num_bins, self.epsilon
        )

    def encode(self, data):
        data = numeric("Discretization", data)
        if self.bin_boundaries is None:
            raise ValueError(
                "Discretization: no bin boundaries yet. Call adapt(data) first, or "
                "give 'bin_boundaries'."
            )
        xp = backend.get_array_module(data)
        edges = xp.asarray(np.asarray(self.bin_boundaries, dtype=data.dtype))
        if data.dtype.kind in "biu":
            edges = xp.asarray(np.asarray(self.bin_boundaries))
        bins = xp.searchsorted(edges, data, side="right").astype(xp.int64)
        if self.output_mode == "int":
            return bins
        depth = len(self.bin_boundaries) + 1
        return encode("Discretization", bins, depth, self.output_mode, backend.floatx())

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": False,
        }


__all__ = ["CategoryEncoding", "Discretization"]
