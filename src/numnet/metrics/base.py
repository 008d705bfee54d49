"""Metric base classes: Metric, Mean, Sum, MeanMetricWrapper, and label helpers."""

from __future__ import annotations

import math

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Tensor


def _array(value, owner: str = "metric", argument: str = "values"):
    """``value`` (a Tensor or array-like) through numnet's one input rule; arrays
    of another namespace (a device) stay where they are."""
    value = value.data if isinstance(value, Tensor) else value
    return backend.as_input_array(value, owner, argument)


def _host_array(value, owner: str = "metric", argument: str = "values") -> np.ndarray:
    """``value`` as a NumPy array: the counting metrics (confusion matrix,
    precision, recall, F1) count on the host, so a device batch is copied over."""
    return backend.to_host(_array(value, owner, argument))


def _int_labels(owner: str, labels: np.ndarray) -> np.ndarray:
    if labels.dtype.kind == "f":
        if isinstance(labels, np.ndarray) and not np.all(np.mod(labels, 1) == 0):
            raise ValueError(f"{owner}: labels must be integers (class indices)")
        return labels.astype(np.int64)
    if labels.dtype.kind not in "iub":
        raise ValueError(
            f"{owner}: labels must be integers. Received dtype {labels.dtype}"
        )
    return labels.astype(np.int64, copy=False)


def _match_rank(y_true: np.ndarray, y_pred: np.ndarray):
    """Squeeze a trailing axis of size 1 so that (N,) and (N, 1) compare per sample."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred[..., 0]
    return y_true, y_pred


def _scores(owner: str, y_pred) -> np.ndarray:
    """Class scores (..., C) with C >= 1, through the input rule."""
    y_pred = _array(y_pred, owner, "y_pred")
    if y_pred.ndim == 0 or y_pred.shape[-1] == 0:
        raise ValueError(
            f"{owner}: invalid value for argument 'y_pred'. Expected class scores "
            f"with a non-empty class axis (..., C). Received: y_pred.shape="
            f"{y_pred.shape}"
        )
    return y_pred


def _sparse_labels(owner: str, y_true, y_pred: np.ndarray) -> np.ndarray:
    y_pred = _scores(owner, y_pred)
    labels = _array(y_true, owner, "y_true")
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(
            f"{owner}: expected one integer label per row of y_pred, shape "
            f"{y_pred.shape[:-1]}. Received: y_true.shape={np.shape(y_true)}, "
            f"y_pred.shape={y_pred.shape}"
        )
    return _int_labels(owner, labels)


def _safe_divide(xp, a, b):
    """a / b, and 0 where b == 0 (Keras's ``divide_no_nan``)."""
    nonzero = b != 0
    return xp.where(nonzero, a / xp.where(nonzero, b, 1), 0)


def _add(state, counts):
    """state + counts on the counts' namespace (a reset host state moves over)."""
    xp = backend.get_array_module(counts)
    if backend.get_array_module(state) is not xp:
        state = xp.asarray(state)
    return state + counts


def _scalar_result(value):
    """A float on the host; a 0-d array on a device (converted when shown)."""
    return float(value) if isinstance(value, (np.ndarray, np.generic)) else value


class Metric:
    """Base class: subclasses implement update_state, result and reset_state."""

    default_name = "metric"

    def __init__(self, name=None, dtype=None):
        self.name = name or self.default_name
        self.dtype = np.dtype(dtype or "float32")
        self.reset_state()

    def add_weight(self, name=None, shape=(), initializer="zeros", dtype=None):
        """Create a state variable (a Tensor with ``assign``/``assign_add``),
        reset to its initial value by the default :meth:`reset_state` (Keras).

        Example:
            >>> from numnet import metrics
            >>> class Count(metrics.Metric):
            ...     def __init__(self, name="count"):
            ...         super().__init__(name=name)
            ...         self.n = self.add_weight(shape=(), name="n")
            ...     def update_state(self, values, sample_weight=None):
            ...         self.n.assign_add(len(values))
            ...     def result(self):
            ...         return self.n
            >>> m = Count(); m.update_state([1, 2, 3]); float(m.result())
            3.0
        """
        from numnet import initializers
        from numnet.autograd.tensor import Tensor

        dtype = np.dtype(dtype or getattr(self, "dtype", "float32"))
        init = initializers.get(initializer)
        value = np.asarray(init(tuple(shape), dtype=dtype), dtype=dtype)
        variable = Tensor._from_op(value)
        variable.name = f"{self.name}/{name or 'variable'}"
        self.__dict__.setdefault("_variables", []).append((variable, value.copy()))
        return variable

    add_variable = add_weight  # Keras 3 spelling

    @property
    def variables(self) -> list:
        """The state variables made with :meth:`add_weight`."""
        return [v for v, _ in self.__dict__.get("_variables", [])]

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Accumulate the statistics of one batch."""
        raise NotImplementedError

    def result(self):
        """The metric over everything seen since the last reset."""
        raise NotImplementedError

    def reset_state(self) -> None:
        """Forget the accumulated statistics (called at each epoch start); by
        default every :meth:`add_weight` variable returns to its initial value."""
        for variable, initial in self.__dict__.get("_variables", []):
            variable.data[...] = initial

    def __call__(self, *args, **kwargs):
        """Update with one batch and return the running result (Keras semantics).

        The arguments are ``update_state``'s: ``(y_true, y_pred)`` for most
        metrics, ``(values)`` for ``Mean``/``Sum``, e.g. ``Mean()(3.0)``.
        """
        self.update_state(*args, **kwargs)
        return self.result()

    def reset_states(self) -> None:
        """Keras 2 spelling of :meth:`reset_state`."""
        self.reset_state()

    def get_config(self) -> dict:
        """The constructor arguments (JSON-friendly)."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        """Rebuild from :meth:`get_config` output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def _broadcast_weights(sample_weight, values: np.ndarray) -> np.ndarray:
    xp = backend.get_array_module(values)
    if sample_weight is None:
        return xp.ones_like(values)
    if xp is np:  # host values (the counting metrics): device weights come over
        sw = _host_array(sample_weight, argument="sample_weight")
    else:
        sw = xp.asarray(_array(sample_weight))  # host weights go to device values
    sw = sw.astype(np.float64)
    while sw.ndim > values.ndim and sw.shape[-1] == 1:
        sw = sw[..., 0]
    sw = sw.reshape(sw.shape + (1,) * (values.ndim - sw.ndim))
    try:
        return xp.broadcast_to(sw, values.shape)
    except ValueError:
        raise ValueError(
            f"sample_weight of shape {np.shape(sample_weight)} does not match the "
            f"metric values of shape {values.shape}"
        ) from None


def _plain_weight(sample_weight) -> bool:
    """None, a float or an int within int64 (what NumPy's general path takes)."""
    kind = type(sample_weight)
    return (
        sample_weight is None
        or kind is float
        or (kind is int and -(2**63) <= sample_weight < 2**63)
    )


class Mean(Metric):
    """The (weighted) mean of the values passed to ``update_state(values)``."""

    default_name = "mean"
    #: ``update_state`` accepts arrays of any device (kept there)
    supports_device = True

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None) -> None:
        if type(values) is float and _plain_weight(sample_weight):
            # a loss tracker's per-step call: the float64 arithmetic of the
            # general path below on one value, without its arrays
            w = 1.0 if sample_weight is None else float(sample_weight)
            product = values * w
            if math.isfinite(product):  # else NumPy's warnings: the general path
                self.total += product
                self.count += w
                return
        values = _array(values)
        if not isinstance(values, np.ndarray):
            self._update_on_device(values, sample_weight)
            return
        values = np.asarray(values, dtype=np.float64)
        weights = _broadcast_weights(sample_weight, values)
        self.total += float(np.sum(values * weights))
        self.count += float(np.sum(weights))

    def _update_on_device(self, values, sample_weight) -> None:
        """Accumulate on the values' device: no host sync until :meth:`result`."""
        values = values.astype(np.float64)
        if sample_weight is None or isinstance(sample_weight, (int, float)):
            w = 1.0 if sample_weight is None else float(sample_weight)
            self.total = self.total + values.sum() * w  # stays on the device
            self.count += w * values.size  # known on the host
            return
        weights = _broadcast_weights(sample_weight, values)
        self.total = self.total + (values * weights).sum()
        self.count = self.count + weights.sum()

    def result(self) -> float:
        """The mean: a float, or a 0-d device array for values on a device
        (converted to a float only when a log is shown, not at every batch)."""
        if not isinstance(self.total, float):
            return self.total / self.count  # device: no host sync here
        return self.total / self.count if self.count else 0.0


class Sum(Mean):
    """The (weighted) sum of the values passed to ``update_state(values)``."""

    default_name = "sum"

    def result(self) -> float:
        return self.total


class MeanMetricWrapper(Mean):
    """Average a per-sample function ``fn(y_true, y_pred, **kwargs)`` over samples."""

    def __init__(self, fn, name=None, **kwargs):
        self.fn, self._fn_kwargs = fn, kwargs
        super().__init__(name or getattr(fn, "__name__", "metric"))
        # numnet's own functions run on any device; a user's may use NumPy
        module = getattr(fn, "__module__", "") or ""
        self.supports_device = module.startswith("numnet.")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        super().update_state(self.fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, **self._fn_kwargs}
