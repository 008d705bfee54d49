"""PyTorch's classification losses: cross_entropy, nll_loss, the binary
cross-entropies and kl_div, with PyTorch's names, arguments and formulas.

They compose numnet's fused, stable ops (``sparse_softmax_cross_entropy``,
``softmax_cross_entropy``, ``sigmoid_binary_cross_entropy``) with elementwise
arithmetic. One op is fused here: ``binary_cross_entropy`` on probabilities,
whose composed form gives 0 * inf = NaN in its gradient at p = 0 or 1 (a
saturated float32 sigmoid); its backward is PyTorch's, floored.

Arguments after the ones PyTorch users pass by position are keyword-only:
PyTorch keeps its deprecated ``size_average`` / ``reduce`` in those places, so
a positional call that reaches them fails loudly instead of shifting meaning.
"""

from __future__ import annotations

from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor, _raw, array_module
from numnet.functional._args import (
    check_reduction,
    class_axis,
    class_weight,
    floating,
    index_target,
    like,
    number,
    reduce,
    weight_like,
)
from numnet.functional._arrange import moveaxis
from numnet.functional._gather import take_along_axis
from numnet.functional.activations import softplus
from numnet.functional.elementwise import exp, log, where
from numnet.functional.nn import (
    sigmoid_binary_cross_entropy,
    softmax_cross_entropy,
    sparse_softmax_cross_entropy,
)
from numnet.functional.reduce import sum
from numnet.functional.shaping import reshape


def cross_entropy(
    input,
    target,
    weight=None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    axis: int | None = None,
) -> Tensor:
    """Cross-entropy of logits against class indices or class probabilities.

    ``torch.nn.functional.cross_entropy``: ``-w[y] log softmax(x)[y]`` per
    position for integer targets, ``-sum_c w[c] t[c] log softmax(x)[c]`` for
    float targets of the input's shape. Fused log-sum-exp: finite for logits of
    any size.

    Args:
        input: logits, classes on ``axis``: (C,), (N, C) or (N, C, d1, ...).
        target: class indices (the input's shape without the class axis) or
            class probabilities (the input's shape).
        weight: optional per-class weights, shape (C,).
        ignore_index: a target value that counts for nothing (indices only).
        reduction: ``"mean"`` (for indices the weighted mean
            ``sum(w[y] l) / sum(w[y])`` over the non-ignored targets, as
            PyTorch; for probabilities the mean over positions), ``"sum"`` or
            ``"none"``.
        label_smoothing: epsilon in [0, 1]: the target becomes
            ``(1 - eps) target + eps / C``.
        axis: numnet's addition: the class axis. Default None is PyTorch's (1,
            or 0 for a 1-D input); channels-last scores (N, H, W, C) need
            ``axis=-1``.

    Raises:
        ValueError: for a bad reduction, shape, weight or a label outside [0, C).

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> round(F.cross_entropy(np.array([[2.0, 0.0]]), np.array([0])).item(), 4)
        0.1269
    """
    owner = "cross_entropy"
    check_reduction(owner, reduction)
    smoothing = number(owner, "label_smoothing", label_smoothing, low=0.0)
    if smoothing > 1:
        raise ValueError(
            f"{owner}: invalid value for argument 'label_smoothing'. Expected a "
            f"number in [0, 1]. Received: label_smoothing={label_smoothing!r}"
        )
    z = floating(owner, input)
    axis = class_axis(owner, z, axis)
    w = class_weight(owner, weight, z, z.shape[axis])
    if array_module(z).asarray(_raw(target)).shape == z.shape:
        return reduce(_soft_cross_entropy(z, target, w, axis, smoothing), reduction)
    labels, keep = index_target(owner, target, z, axis, ignore_index)
    if smoothing:
        q = _smoothed_targets(z, labels, keep, w, axis, smoothing)
        per = softmax_cross_entropy(z, q, axis=axis)  # 0 where ignored (q = 0)
        return _class_reduce(per, _picked(w, labels), keep, reduction)
    last = z if axis == z.ndim - 1 else moveaxis(z, axis, -1)
    return _class_loss(sparse_softmax_cross_entropy(last, labels), labels, w, keep,
                       reduction)  # fmt: skip


def nll_loss(
    input,
    target,
    weight=None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    axis: int | None = None,
) -> Tensor:
    """Negative log-likelihood ``-w[y] input[y]`` of log-probabilities.

    ``torch.nn.functional.nll_loss``: ``input`` holds log-probabilities (e.g.
    ``F.log_softmax(x, axis=1)``); ``cross_entropy(x, y)`` equals
    ``nll_loss(log_softmax(x), y)``.

    Args:
        input: log-probabilities, classes on ``axis``: (C,), (N, C) or
            (N, C, d1, ...).
        target: class indices, the input's shape without the class axis.
        weight, ignore_index, reduction, axis: as :func:`cross_entropy`.

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> log_p = np.log([[0.5, 0.5], [0.25, 0.75]])
        >>> round(F.nll_loss(log_p, np.array([0, 1])).item(), 4)  # -(ln .5 + ln .75)/2
        0.4904
    """
    owner = "nll_loss"
    check_reduction(owner, reduction)
    x = floating(owner, input)
    axis = class_axis(owner, x, axis)
    w = class_weight(owner, weight, x, x.shape[axis])
    labels, keep = index_target(owner, target, x, axis, ignore_index)
    picked = take_along_axis(x, array_module(x).expand_dims(labels, axis), axis)
    return _class_loss(-reshape(picked, labels.shape), labels, w, keep, reduction)


def _soft_cross_entropy(z: Tensor, target, w, axis: int, smoothing: float):
    """-sum_c w[c] t[c] log softmax(z)[c] along ``axis`` (probability targets)."""
    t = like("cross_entropy", target, z)
    if smoothing:
        t = t * (1.0 - smoothing) + smoothing / z.shape[axis]
    if w is not None:
        t = t * _along(w, axis, z.ndim)
    return softmax_cross_entropy(z, t, axis=axis)


def _smoothed_targets(z: Tensor, labels, keep, w, axis: int, smoothing: float):
    """The target distribution whose cross-entropy is PyTorch's smoothed loss:
    q[c] = (1 - eps) w[y] [c == y] + eps w[c] / C, zero where ignored."""
    xp = array_module(z)
    classes = z.shape[axis]
    one_hot = xp.expand_dims(labels, axis) == _along(xp.arange(classes), axis, z.ndim)
    hit = (1.0 - smoothing) * one_hot.astype(z.dtype)
    if w is not None:
        hit = hit * xp.expand_dims(w[labels], axis)
    q = hit + (smoothing / classes) * (1 if w is None else _along(w, axis, z.ndim))
    if keep is not None:
        q = q * xp.expand_dims(keep, axis)
    return q.astype(z.dtype, copy=False)


def _along(values, axis: int, ndim: int):
    """A 1-D array shaped to broadcast along ``axis`` of an ``ndim`` tensor."""
    shape = [1] * ndim
    shape[axis] = -1
    return values.reshape(shape)


def _picked(w, labels):
    """w[y] per position, or None without class weights."""
    return None if w is None else w[labels]


def _class_loss(per: Tensor, labels, w, keep, reduction: str) -> Tensor:
    """Weight the per-position losses by w[y], zero the ignored ones, reduce."""
    wy = _picked(w, labels)
    if wy is not None:
        per = per * wy
    if keep is not None:
        per = where(keep, per, 0.0)
    return _class_reduce(per, wy, keep, reduction)


def _class_reduce(per: Tensor, wy, keep, reduction: str) -> Tensor:
    """PyTorch's weighted mean sum(w[y] l) / sum(w[y]) over the kept targets.

    When no target counts, the mean is 0 (PyTorch: 0 / 0 = NaN).
    """
    if reduction != "mean" or (wy is None and keep is None):
        return reduce(per, reduction)
    xp = array_module(per)
    denominator = xp.ones(per.shape, per.dtype) if wy is None else wy
    if keep is not None:
        denominator = xp.where(keep, denominator, 0)
    total = denominator.sum()
    return sum(per) / xp.where(total != 0, total, 1).astype(per.dtype)


class _BinaryCrossEntropy(Function):
    """-(t log p + (1 - t) log(1 - p)), each logarithm clamped at -100 (PyTorch)."""

    def forward(self, p, t):
        with self.ops.errstate(divide="ignore"):
            self.log_p = self.xp.maximum(self.xp.log(p), -100)
            self.log_q = self.xp.maximum(self.xp.log1p(-p), -100)
        self.p, self.t = p, t
        return -(t * self.log_p + (1 - t) * self.log_q)

    def backward(self, gy):
        # dL/dp = (p - t) / (p (1 - p)), the denominator floored at 1e-12 as in
        # PyTorch (finite at p = 0 or 1); dL/dt = log(1 - p) - log p
        gp = gt = None
        if self.needs_input_grad[0]:
            p = self.p
            gp = gy * (p - self.t) / self.xp.maximum(p * (1 - p), 1e-12)
        if self.needs_input_grad[1]:
            gt = gy * (self.log_q - self.log_p)
        return gp, gt


def binary_cross_entropy(input, target, weight=None, *, reduction="mean") -> Tensor:
    """Binary cross-entropy of probabilities ``-w (t log p + (1 - t) log(1 - p))``.

    ``torch.nn.functional.binary_cross_entropy``: each log is clamped at -100,
    so p = 0 or 1 gives a finite loss, and the gradient's denominator p (1 - p)
    is floored at 1e-12. Prefer :func:`binary_cross_entropy_with_logits` on the
    logits.

    Args:
        input: probabilities in [0, 1] (any shape).
        target: targets in [0, 1], the input's shape.
        weight: optional weights broadcasting to the input's shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Raises:
        ValueError: for an input outside [0, 1], a shape or reduction mismatch.

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> p, t = np.array([1.0, 0.5]), np.array([0.0, 1.0])
        >>> F.binary_cross_entropy(p, t, reduction="none").tolist()
        [100.0, 0.6931471805599453]
    """
    owner = "binary_cross_entropy"
    check_reduction(owner, reduction)
    p = floating(owner, input)
    t = like(owner, target, p)
    if p.size and (p.data.min() < 0 or p.data.max() > 1):
        raise ValueError(
            f"{owner}: invalid value for argument 'input'. Expected probabilities "
            f"in [0, 1]. Received: values from {p.data.min()} to {p.data.max()}"
        )
    per = _BinaryCrossEntropy()(p, t)
    w = weight_like(owner, weight, p)
    return reduce(per if w is None else per * w, reduction)


def binary_cross_entropy_with_logits(
    input, target, weight=None, *, reduction: str = "mean", pos_weight=None
) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)``, fused and stable.

    ``torch.nn.functional.binary_cross_entropy_with_logits``:
    ``-w (pw t log s(x) + (1 - t) log(1 - s(x)))``, computed as
    ``max(x, 0) - x t + log(1 + e^-|x|)`` plus ``(pw - 1) t softplus(-x)``:
    finite for logits of any size.

    Args:
        input: logits (any shape).
        target: targets in [0, 1], the input's shape.
        weight: optional weights broadcasting to the input's shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        pos_weight: optional weight of the positive term, broadcasting along
            the last (class) axis, e.g. (C,) = negatives / positives per class.

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> z, t = np.array([1e4, -1e4]), np.array([0.0, 0.0])
        >>> F.binary_cross_entropy_with_logits(z, t, reduction="none").tolist()
        [10000.0, 0.0]
    """
    owner = "binary_cross_entropy_with_logits"
    check_reduction(owner, reduction)
    z = floating(owner, input)
    t = like(owner, target, z)
    per = sigmoid_binary_cross_entropy(z, t)
    pw = weight_like(owner, pos_weight, z, argument="pos_weight")
    if pw is not None:  # the positive term t softplus(-z) counted pw times
        per = per + (pw - 1.0) * t * softplus(-z)
    w = weight_like(owner, weight, z)
    return reduce(per if w is None else per * w, reduction)


def kl_div(input, target, *, reduction: str = "mean", log_target: bool = False):
    """Kullback-Leibler divergence ``t (log t - input)`` of log-probabilities.

    ``torch.nn.functional.kl_div``: ``input`` holds log-probabilities; the
    target holds probabilities (a zero target contributes 0) or, with
    ``log_target=True``, log-probabilities (``exp(t) (t - input)``).

    Args:
        input: log-probabilities (any shape).
        target: the input's shape.
        reduction: ``"mean"`` (over all elements, as PyTorch, which warns that
            it is not the divergence), ``"batchmean"`` (the sum divided by the
            batch size: the true KL divergence per sample), ``"sum"`` or
            ``"none"``.
        log_target: whether ``target`` holds log-probabilities.

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> p, q = np.array([[0.5, 0.5]]), np.array([[0.25, 0.75]])
        >>> round(F.kl_div(np.log(q), p, reduction="batchmean").item(), 4)  # KL(p || q)
        0.1438
    """
    owner = "kl_div"
    check_reduction(owner, reduction, ("mean", "batchmean", "sum", "none"))
    x = floating(owner, input)
    t = like(owner, target, x)
    if log_target:
        per = exp(t) * (t - x)
    else:  # 0 log 0 = 0: the log of a zero target is taken at 1
        positive = t.data > 0
        per = t * (log(where(positive, t, 1.0)) - x)
    if reduction == "batchmean":
        return sum(per) / float(x.shape[0]) if x.ndim else sum(per)
    return reduce(per, reduction)
