"""PyTorch's top-level tensor functions and Tensor methods on numnet.

``TORCH_FN_CASES`` is a table in the format of ``tests/functional/test_ops.py``:
each differentiable function is run through the forward / float64 gradcheck /
float32 checks, and on the strict second namespace. ``TORCH_PAIRS`` compares
values and gradients with torch; the random functions are checked for shape,
dtype, range, reproducibility and frequencies.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.functional.test_ops import (
    SEEDS,
    SIDE,
    Case,
    _array,
    along_axis,
    check_float32,
    check_forward,
    check_gradcheck,
    nonzero,
    normal,
    permutation_args,
    shapes,
)
from tests.strict_namespace import SLIPS, StrictArray, to_numpy, to_strict
from tests.test_second_namespace import _forward_backward

import numnet


@st.composite
def cat_args(draw):
    x, axis = draw(along_axis())
    other = list(x.shape)
    other[axis] = draw(st.integers(1, SIDE))
    return x, _array(draw, normal, tuple(other)), axis


@st.composite
def chunk_args(draw):
    x, axis = draw(along_axis())
    return x, draw(st.integers(1, SIDE + 1)), axis


@st.composite
def bmm_args(draw):
    b, n, k, m = (draw(st.integers(1, SIDE)) for _ in range(4))
    return _array(draw, normal, (b, n, k)), _array(draw, normal, (b, k, m))


@st.composite
def unsqueeze_args(draw):
    x = _array(draw, normal, draw(shapes()))
    return x, draw(st.integers(-x.ndim - 1, x.ndim))


@st.composite
def flatten_args(draw):
    x = _array(draw, normal, draw(shapes(min_dims=1, max_dims=4)))
    start = draw(st.integers(-x.ndim, x.ndim - 1))
    end = draw(st.integers(start % x.ndim, x.ndim - 1)) - x.ndim * draw(st.booleans())
    return x, start, end


@st.composite
def broadcast_args(draw):
    x = _array(draw, normal, draw(shapes(max_dims=2)))
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return x, lead + tuple(draw(st.sampled_from([1, 3])) if n == 1 else n
                           for n in x.shape)  # fmt: skip


@st.composite
def index_select_args(draw):
    x, axis = draw(along_axis())
    n = x.shape[axis]
    index = np.random.default_rng(draw(SEEDS)).integers(-n, n, draw(st.integers(0, 5)))
    return x, axis, index


@st.composite
def scatter_args(draw, repeats):
    """x, axis, index, src: index no larger than x (outside axis) and src."""
    x, axis = draw(along_axis())
    a = axis % x.ndim
    rng = np.random.default_rng(draw(SEEDS))
    shape = [draw(st.integers(1, n)) for n in x.shape]
    if repeats:  # any positions, repeated ones too (they accumulate)
        shape[a] = draw(st.integers(1, SIDE + 2))
        index = rng.integers(-x.shape[a], x.shape[a], shape)
    else:  # distinct positions along the axis: one write each
        shape[a] = draw(st.integers(1, x.shape[a]))
        order = np.argsort(rng.random(shape[:a] + [x.shape[a]] + shape[a + 1 :]), a)
        index = np.take(order, np.arange(shape[a]), axis=a)
    src_shape = tuple(n + draw(st.integers(0, 1)) for n in shape)
    return x, axis, index, _array(draw, normal, src_shape)


@st.composite
def diag_args(draw):
    x = _array(draw, normal, draw(shapes(min_dims=1, max_dims=2)))
    return x, draw(st.integers(-2, 2))


@st.composite
def kron_args(draw):
    return tuple(_array(draw, normal, draw(shapes(max_dims=3, max_side=3)))
                 for _ in range(2))  # fmt: skip


@st.composite
def meshgrid_args(draw):
    n = draw(st.integers(1, 3))
    return tuple(_array(draw, normal, (draw(st.integers(1, SIDE)),)) for _ in range(n))


def _ref_chunk(x, chunks, axis):
    size = -(-x.shape[axis] // chunks)
    return tuple(np.split(x, list(range(size, x.shape[axis], size)), axis=axis))


def _ref_flatten(x, start, end):
    s, e = start % x.ndim, end % x.ndim
    return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1 :])


def _ref_scatter(add):
    def ref(x, axis, index, src):
        out = x.copy()
        pos = tuple(index if d == axis % x.ndim else
                    np.arange(n).reshape([-1 if i == d else 1 for i in range(x.ndim)])
                    for d, n in enumerate(index.shape))  # fmt: skip
        values = src[tuple(slice(0, n) for n in index.shape)]
        if add:
            np.add.at(out, pos, values)
        else:
            out[pos] = values
        return out

    return ref


def _ref_meshgrid(*xs):
    return tuple(np.meshgrid(*xs))


TORCH_FN_CASES = [
    Case("cat", "cat", cat_args(), lambda a, b, axis: numnet.cat([a, b], axis),
         lambda a, b, axis: np.concatenate([a, b], axis)),
    Case("chunk", "chunk", chunk_args(), numnet.chunk, _ref_chunk),
    Case("x.chunk", "chunk", chunk_args(), lambda x, c, a: x.chunk(c, a), _ref_chunk),
    Case("clamp", "clamp", along_axis(nonzero), lambda x, a: numnet.clamp(x, -0.5, 1),
         lambda x, a: np.clip(x, -0.5, 1)),
    Case("bmm", "bmm", bmm_args(), numnet.bmm, np.matmul),
    Case("x.bmm", "bmm", bmm_args(), lambda a, b: a.bmm(b), np.matmul),
    Case("unsqueeze", "unsqueeze", unsqueeze_args(), numnet.unsqueeze, np.expand_dims),
    Case("permute", "permute", permutation_args(), numnet.permute, np.transpose),
    Case("flatten", "flatten", flatten_args(), numnet.flatten, _ref_flatten),
    Case("x.flatten", "flatten", flatten_args(), lambda x, s, e: x.flatten(s, e),
         _ref_flatten),
    Case("broadcast_to", "broadcast_to", broadcast_args(), numnet.broadcast_to,
         np.broadcast_to),
    Case("index_select", "index_select", index_select_args(), numnet.index_select,
         lambda x, a, i: np.take(x, i, axis=a)),
    Case("x.index_select", "index_select", index_select_args(),
         lambda x, a, i: x.index_select(a, i), lambda x, a, i: np.take(x, i, axis=a)),
    Case("scatter", "scatter", scatter_args(False), numnet.scatter,
         _ref_scatter(False)),
    Case("x.scatter", "scatter", scatter_args(False),
         lambda x, a, i, s: x.scatter(a, i, s), _ref_scatter(False)),
    Case("scatter_add", "scatter_add", scatter_args(True), numnet.scatter_add,
         _ref_scatter(True)),
    Case("x.scatter_add", "scatter_add", scatter_args(True),
         lambda x, a, i, s: x.scatter_add(a, i, s), _ref_scatter(True)),
    Case("diag", "diag", diag_args(), numnet.diag, np.diag),
    Case("kron", "kron", kron_args(), numnet.kron, np.kron),
    Case("meshgrid", "meshgrid", meshgrid_args(), numnet.meshgrid, _ref_meshgrid),
    Case("clone", "clone", along_axis(), lambda x, a: numnet.clone(x) * 1,
         lambda x, a: x),
    Case("x.view", "view", along_axis(), lambda x, a: x.view(-1),
         lambda x, a: x.ravel()),
    Case("x.expand_as", "expand_as", unsqueeze_args(),
         lambda x, a: x.expand_as(numnet.zeros((2,) + x.shape)),
         lambda x, a: np.broadcast_to(x, (2,) + x.shape)),
    Case("topk_smallest", "topk", chunk_args(),
         lambda x, k, a: numnet.topk(x, min(k, x.shape[a]), a, largest=False)[0],
         lambda x, k, a: np.take(np.sort(x, a), np.arange(min(k, x.shape[a])), a)),
]  # fmt: skip
IDS = [case.name for case in TORCH_FN_CASES]


@pytest.mark.parametrize("case", TORCH_FN_CASES, ids=IDS)
@settings(max_examples=30)
@given(data=st.data())
def test_forward_matches_numpy(case, data):
    check_forward(case, data)


@pytest.mark.parametrize("case", TORCH_FN_CASES, ids=IDS)
@settings(max_examples=30)
@given(data=st.data())
def test_gradcheck(case, data):
    check_gradcheck(case, data)


@pytest.mark.parametrize("case", TORCH_FN_CASES, ids=IDS)
@settings(max_examples=10)
@given(data=st.data())
def test_float32_forward_and_backward(case, data):
    check_float32(case, data)


@pytest.mark.parametrize("case", TORCH_FN_CASES, ids=IDS)
@settings(max_examples=3, derandomize=True)
@given(data=st.data())
def test_strict_namespace_agrees_and_gradchecks(case, data):
    SLIPS.clear()
    args = data.draw(case.inputs)
    outs, grads = _forward_backward(case, args, seed=1)
    strict_args = to_strict(args)
    s_outs, s_grads = _forward_backward(case, strict_args, seed=1)
    assert all(isinstance(o, StrictArray) for o in s_outs)
    for a, b in zip(outs + grads, s_outs + s_grads, strict=True):
        np.testing.assert_allclose(to_numpy(b), a, rtol=1e-9, atol=1e-12)
    assert numnet.gradcheck(case.fn, strict_args)
    assert not SLIPS, SLIPS


def _idx(shape, high, seed=3):
    # repeated indices: scatter_add must accumulate them
    return np.random.default_rng(seed).integers(0, high, shape)


#: name -> (numnet call, torch call); values *and* gradients must agree
TORCH_PAIRS = {
    "cat_neg_axis": (lambda x: numnet.cat([x, x[:, :2]], -1),
                     lambda t, torch: torch.cat([t, t[:, :2]], -1)),
    "chunk_5_by_3": (lambda x: numnet.cat(numnet.chunk(x, 3, axis=1)[::-1], 1),
                     lambda t, torch: torch.cat(torch.chunk(t, 3, 1)[::-1], 1)),
    "chunk_3_by_2": (lambda x: x.chunk(2)[1], lambda t, torch: t.chunk(2)[1]),
    "clamp": (lambda x: numnet.clamp(x, -0.3, 0.4),
              lambda t, torch: torch.clamp(t, -0.3, 0.4)),
    "bmm": (lambda x: numnet.bmm(x[None], x.T[None]),
            lambda t, torch: torch.bmm(t[None], t.T[None])),
    "mm": (lambda x: x.mm(x.T), lambda t, torch: t.mm(t.T)),
    "unsqueeze": (lambda x: numnet.unsqueeze(x, -2),
                  lambda t, torch: torch.unsqueeze(t, -2)),
    "permute": (lambda x: numnet.permute(x[None], (2, 0, 1)),
                lambda t, torch: torch.permute(t[None], (2, 0, 1))),
    "flatten": (lambda x: numnet.flatten(x[None, :, None], 1, -2),
                lambda t, torch: torch.flatten(t[None, :, None], 1, -2)),
    "broadcast_to": (lambda x: numnet.broadcast_to(x[:1], (2, 3, 5)),
                     lambda t, torch: torch.broadcast_to(t[:1], (2, 3, 5))),
    "index_select": (lambda x: numnet.index_select(x, -1, np.array([4, 0, 4])),
                     lambda t, torch: torch.index_select(t, -1,
                                                         torch.tensor([4, 0, 4]))),
    "gather": (lambda x: numnet.gather(x, 1, _idx((3, 7), 5)),
               lambda t, torch: torch.gather(t, 1, torch.tensor(_idx((3, 7), 5)))),
    "scatter": (lambda x: numnet.scatter(x, 1, np.array([[4, 0], [1, 3]]), x[1:, 3:]),
                lambda t, torch: t.scatter(1, torch.tensor([[4, 0], [1, 3]]),
                                           t[1:, 3:])),
    "scatter_value": (lambda x: x.scatter(0, np.array([[2, 0, 1]]), 7.0),
                      lambda t, torch: t.scatter(0, torch.tensor([[2, 0, 1]]), 7.0)),
    "scatter_add_repeats": (
        lambda x: numnet.scatter_add(x, 1, _idx((3, 10), 5), numnet.tile(x, (1, 2))),
        lambda t, torch: t.scatter_add(1, torch.tensor(_idx((3, 10), 5)),
                                       t.tile((1, 2)))),
    "scatter_add_axis0": (
        lambda x: x.scatter_add(0, _idx((2, 5), 3, seed=4), x[:2] * 2),
        lambda t, torch: t.scatter_add(0, torch.tensor(_idx((2, 5), 3, seed=4)),
                                       t[:2] * 2)),
    "diag_vector": (lambda x: numnet.diag(x[0], 1),
                    lambda t, torch: torch.diag(t[0], 1)),
    "diag_matrix": (lambda x: numnet.diag(x, -1), lambda t, torch: torch.diag(t, -1)),
    "kron": (lambda x: numnet.kron(x, x[:2, :2]),
             lambda t, torch: torch.kron(t, t[:2, :2])),
    "meshgrid_ij": (lambda x: numnet.cat(numnet.meshgrid(x[0], x[1, :3], indexing="ij"),
                                         0),
                    lambda t, torch: torch.cat(torch.meshgrid(t[0], t[1, :3],
                                                              indexing="ij"), 0)),
    "meshgrid_xy": (lambda x: numnet.meshgrid(x[0], x[1, :3])[1],
                    lambda t, torch: torch.meshgrid(t[0], t[1, :3], indexing="xy")[1]),
    "clone": (lambda x: numnet.clone(x) * x, lambda t, torch: torch.clone(t) * t),
    "topk_smallest": (lambda x: x.topk(2, -1, largest=False)[0],
                      lambda t, torch: t.topk(2, -1, largest=False).values),
    "topk": (lambda x: numnet.topk(x, 3, 0)[0],
             lambda t, torch: torch.topk(t, 3, 0)[0]),
    "view_as": (lambda x: x.view(5, 3).view_as(x),
                lambda t, torch: t.view(5, 3).view_as(t)),
    "reshape_as": (lambda x: x[0].reshape_as(x[1]),
                   lambda t, torch: t[0].reshape_as(t[1])),
    "expand_as": (lambda x: x[:1].expand_as(x), lambda t, torch: t[:1].expand_as(t)),
    "type_as": (lambda x: x.float().type_as(x), lambda t, torch: t.float().type_as(t)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TORCH_PAIRS))
def test_values_and_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = TORCH_PAIRS[name]
    rng = np.random.default_rng(0)
    x = rng.permutation(15).reshape(3, 5) * 0.1 - 0.7  # no ties (topk, clamp)
    t = numnet.tensor(x, requires_grad=True, dtype="float64")
    tt = torch.tensor(x, requires_grad=True)
    y, yt = ours(t), theirs(tt, torch)
    assert y.shape == tuple(yt.shape)
    g = rng.standard_normal(y.shape)
    (y * g).sum().backward()
    (yt * torch.tensor(g, dtype=yt.dtype)).sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize(
    ("n", "chunks"), [(5, 3), (6, 4), (7, 7), (7, 2), (1, 3), (0, 3)]
)
def test_chunk_sizes_match_torch(n, chunks):
    torch = pytest.importorskip("torch")
    ours = [t.shape for t in numnet.chunk(numnet.zeros(2, n), chunks, axis=-1)]
    theirs = [tuple(t.shape) for t in torch.chunk(torch.zeros(2, n), chunks, -1)]
    assert ours == theirs


def test_no_gradient_functions_and_methods_match_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 2.0, np.nan], [0.0, -1.0, 3.0]])
    b = a + np.array([[1e-9, 1e-3, 0.0], [0.0, 0.0, -1e-7]])
    x, y = numnet.tensor(a, dtype="float64"), numnet.tensor(b, dtype="float64")
    tx, ty = torch.tensor(a), torch.tensor(b)
    pairs = [
        (numnet.isclose(x, y), torch.isclose(tx, ty)),
        (x.isclose(y, equal_nan=True), tx.isclose(ty, equal_nan=True)),
        (x.eq(y), tx.eq(ty)), (x.ne(y), tx.ne(ty)), (x.lt(y), tx.lt(ty)),
        (x.le(2.0), tx.le(2.0)), (x.gt(y), tx.gt(ty)), (x.ge(0), tx.ge(0)),
        (x.any(axis=1), tx.any(1)), (x.all(axis=-1, keepdims=True),
                                     tx.all(-1, keepdim=True)),
        (x.bool(), tx.bool()),
    ]  # fmt: skip
    for ours, theirs in pairs:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert not ours.requires_grad
    finite = numnet.tensor(b[:, :2])
    assert finite.long().dtype == np.int64 and finite.int().dtype == np.int32
    assert finite.long().tolist() == tx[:, :2].long().tolist()
    assert x.half().dtype == np.float16
    assert numnet.allclose(x, y, equal_nan=True) is torch.allclose(
        tx, ty, equal_nan=True
    )
    assert x.allclose(y) is torch.allclose(tx, ty) is False
    assert numnet.numel(x) == torch.numel(tx) == 6


def test_topk_largest_false_on_unsigned_and_ties():
    values, indices = numnet.topk(np.array([3, 0, 2, 0], np.uint8), 2, largest=False)
    assert values.tolist() == [0, 0] and indices.tolist() == [1, 3]


def test_from_numpy_shares_memory_and_keeps_the_dtype():
    a = np.arange(3.0)
    t = numnet.from_numpy(a)
    a[1] = 9.0
    assert t.dtype == np.float64 and t.tolist() == [0.0, 9.0, 2.0]
    with pytest.raises(TypeError, match="from_numpy: expected a numpy.ndarray. "
                                        "Received: list"):  # fmt: skip
        numnet.from_numpy([1.0])


def test_set_grad_enabled_and_inference_mode():
    w = numnet.ones(2, requires_grad=True)
    with numnet.set_grad_enabled(False):
        assert not (w * 2).requires_grad
        with numnet.set_grad_enabled(True):
            assert (w * 2).requires_grad
        assert not numnet.is_grad_enabled()
    assert numnet.is_grad_enabled()
    with numnet.no_grad():
        numnet.set_grad_enabled(True)  # a call: on until the scope ends
        assert numnet.is_grad_enabled()
    assert numnet.is_grad_enabled()
    with numnet.inference_mode():
        assert not (w * 2).requires_grad
    with numnet.no_grad(), numnet.inference_mode(False):
        assert numnet.is_grad_enabled()

    @numnet.inference_mode()
    def predict(v):
        return v * 2

    assert not predict(w).requires_grad
    with pytest.raises(TypeError, match="set_grad_enabled: 'mode' must be True"):
        numnet.set_grad_enabled("no")


def test_new_factories_take_dtype_and_device_of_the_tensor():
    x = numnet.tensor([1.0, 2.0], dtype="float64")
    assert x.new_zeros(2, 3).dtype == np.float64 and x.new_zeros((2, 3)).shape == (2, 3)
    assert x.new_ones(2).tolist() == [1.0, 1.0]
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.new_empty(0, 2).shape == (0, 2)
    assert x.new_zeros(1, dtype="int64").dtype == np.int64
    data = np.array([1.0, 2.0])
    copy = x.new_tensor(data, requires_grad=True)
    data[0] = 5.0
    assert copy.tolist() == [1.0, 2.0] and copy.requires_grad
    assert (
        type(numnet.layers.Dense(2).add_weight("w", (2,)).new_zeros(1)) is numnet.Tensor
    )
    with pytest.raises(
        ValueError, match=r"new_zeros: invalid size.*Received: \(2, -1\)"
    ):
        x.new_zeros(2, -1)


def test_clone_contiguous_and_is_contiguous():
    x = numnet.tensor(np.arange(6.0).reshape(2, 3))
    c = x.clone()
    c.data[0, 0] = 9.0
    assert x.data[0, 0] == 0.0
    t = x.T
    assert x.is_contiguous() and not t.is_contiguous() and t.contiguous() is t


def test_in_place_methods_follow_the_no_grad_rule():
    w = numnet.tensor([1.0, 2.0], requires_grad=True)
    for call in (lambda: w.zero_(), lambda: w.fill_(1.0), lambda: w.add_(1.0),
                 lambda: w.mul_(2.0), lambda: w.copy_(numnet.ones(2)),
                 lambda: w.clamp_(0, 1)):  # fmt: skip
        with pytest.raises(RuntimeError, match="only under numnet.no_grad"):
            call()
    with numnet.no_grad():
        assert w.add_(numnet.ones(2), alpha=-0.5) is w
        w.mul_(2).sub_(1.0).div_(2.0)
        assert w.tolist() == [0.0, 1.0]
        w.clamp_(0.5, None).copy_(np.array([3.0]))
        assert w.tolist() == [3.0, 3.0] and w.fill_(4).tolist() == [4.0, 4.0]
        assert w.zero_().tolist() == [0.0, 0.0] and w.requires_grad
    y = w * 2
    with pytest.raises(RuntimeError, match="add_: the tensor is the output of an op"):
        y.add_(1.0)
    plain = numnet.zeros(2)
    with pytest.raises(RuntimeError, match="mul_: the argument requires grad"):
        plain.mul_(w)
    assert plain.add_(1.0).tolist() == [1.0, 1.0]  # no grad anywhere: allowed
    ints = numnet.tensor([1, 2])
    with pytest.raises(TypeError, match="in-place add"):
        ints.add_(0.5)
    with pytest.raises(ValueError, match="copy_: a source of shape"):
        plain.copy_(np.ones(3))


def test_pytorch_keyword_names_numnets_spelling():
    x = numnet.ones(2, 3)
    for call in (lambda: numnet.cat([x, x], dim=1), lambda: numnet.chunk(x, 2, dim=1),
                 lambda: numnet.gather(x, dim=1, index=np.zeros((2, 1), int)),
                 lambda: numnet.index_select(x, dim=0, index=[0])):  # fmt: skip
        with pytest.raises(TypeError, match="'dim'; numnet spells it 'axis'"):
            call()


BAD_CALLS = [
    (lambda x: numnet.chunk(x, 0), ValueError,
     "chunk: invalid value for argument 'chunks'. Expected a positive int. "
     "Received: chunks=0"),
    (lambda x: numnet.chunk(x, 2, axis=2), ValueError,
     "chunk: axis 2 is out of bounds for a tensor of 2"),
    (lambda x: numnet.bmm(x, x), ValueError,
     r"bmm: expected tensors of shapes \(B, n, k\) and \(B, k, m\). "
     r"Received: \(2, 3\) and \(2, 3\)"),
    (lambda x: numnet.mm(x, x), ValueError, r"mm: .*Received: \(2, 3\) and \(2, 3\)"),
    (lambda x: numnet.permute(x, (0, 0)), ValueError,
     "permute: axes must be a permutation of the 2 axes"),
    (lambda x: numnet.flatten(x, 1, 0), ValueError,
     r"flatten: start_axis \(1\) must not come after end_axis \(0\)"),
    (lambda x: numnet.flatten(x, 0, 3), ValueError, "flatten: axis 3 is out of bounds"),
    (lambda x: numnet.index_select(x, 1, [3]), IndexError,
     r"index_select: index 3 is out of range for an axis of size 3 \(valid: -3 to 2\)"),
    (lambda x: numnet.index_select(x, 1, [[0]]), ValueError,
     r"index_select: index must be 0-D or 1-D. Received: index of shape \(1, 1\)"),
    (lambda x: numnet.index_select(x, 0, [0.5]), TypeError,
     "index_select: indices must be integers. Received: an array of dtype float64"),
    (lambda x: numnet.scatter(x, 1, [[3]], x), IndexError,
     "scatter: index 3 is out of range for an axis of size 3"),
    (lambda x: numnet.scatter(x, 2, [[0]], x), ValueError,
     "scatter: axis 2 is out of bounds"),
    (lambda x: numnet.scatter(x, 1, [0], x), ValueError,
     r"scatter: index and src must have as many dimensions as the input \(2\)"),
    (lambda x: numnet.scatter_add(x, 1, np.zeros((3, 1), int), x), ValueError,
     r"scatter_add: index of shape \(3, 1\) is larger than src \(2, 3\)"),
    (lambda x: numnet.scatter_add(x, 1, [[0]], x.double()), TypeError,
     "scatter_add: 'src' must have the dtype of the input \\(float32\\). "
     "Received: src of dtype float64"),
    (lambda x: numnet.diag(numnet.zeros(2, 2, 2)), ValueError,
     r"diag: expected a 1-D or 2-D tensor. Received: shape \(2, 2, 2\)"),
    (lambda x: numnet.diag(x, 0.5), TypeError, "diag: 'k' must be an int"),
    (lambda x: numnet.meshgrid(x, x), ValueError,
     r"meshgrid: expected 0-D or 1-D tensors. Received: tensor 0 of shape \(2, 3\)"),
    (lambda x: numnet.meshgrid(x[0], indexing="yx"), ValueError,
     "meshgrid: invalid value for argument 'indexing'"),
    (lambda x: numnet.isclose(x, numnet.ones(2)), ValueError,
     r"isclose: shapes \(2, 3\) and \(2,\) do not broadcast"),
    (lambda x: numnet.topk(x, 4, largest=False), ValueError,
     r"topk: invalid value for argument 'k'. Expected an int in \[0, 3\]"),
    (lambda x: x.view(4, -1), ValueError, "reshape"),
    (lambda x: numnet.randn(2, -1), ValueError, "randn: invalid shape"),
    (lambda x: numnet.rand((2,), generator=0, seed=0), TypeError,
     "rand: give 'generator' or 'seed', not both"),
    (lambda x: numnet.randint(5), TypeError,
     r"randint: expected randint\(high, size\) or randint\(low, high, size\)"),
    (lambda x: numnet.randint(3, 3, (2,)), ValueError,
     "randint: expected low < high. Received: low=3, high=3"),
    (lambda x: numnet.randperm(-1), ValueError, "randperm: invalid shape"),
    (lambda x: numnet.normal(x, -1.0), ValueError,
     "normal: 'std' must be non-negative"),
    (lambda x: numnet.bernoulli(x + 1), ValueError,
     r"bernoulli: probabilities must lie in \[0, 1\]. Received values from 1"),
    (lambda x: numnet.multinomial(numnet.zeros(2, 2, 2), 1), ValueError,
     r"multinomial: expected 1-D or 2-D weights.*Received: shape \(2, 2, 2\)"),
    (lambda x: numnet.multinomial(numnet.tensor([1.0, -1.0]), 1), ValueError,
     "multinomial: weights must be finite and non-negative"),
    (lambda x: numnet.multinomial(numnet.tensor([1.0, 0.0, 2.0]), 3), ValueError,
     r"'num_samples'. Expected 1 to 2 without replacement.*Received: num_samples=3"),
    (lambda x: numnet.multinomial(numnet.tensor([1.0]), 1.5), TypeError,
     "multinomial: 'num_samples' must be an int"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "error", "message"), BAD_CALLS)
def test_bad_arguments_name_the_function_and_what_was_received(call, error, message):
    x = numnet.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(error, match=message):
        call(x)


@pytest.mark.parametrize(
    ("make", "dtype"),
    [(lambda **kw: numnet.randn(3, 4, **kw), np.float32),
     (lambda **kw: numnet.rand((3, 4), **kw), np.float32),
     (lambda **kw: numnet.rand(3, 4, dtype="float64", **kw), np.float64),
     (lambda **kw: numnet.randint(-2, 3, (3, 4), **kw), np.int64),
     (lambda **kw: numnet.randint(3, size=(3, 4), **kw), np.int64),
     (lambda **kw: numnet.randperm(12, **kw).reshape(3, 4), np.int64),
     (lambda **kw: numnet.normal(numnet.zeros(3, 1), numnet.ones(4), **kw), np.float32),
     (lambda **kw: numnet.normal(1.0, 2.0, (3, 4), **kw), np.float32),
     (lambda **kw: numnet.bernoulli(numnet.full((3, 4), 0.5), **kw), np.float32),
     (lambda **kw: numnet.multinomial(numnet.ones(3, 5), 4, **kw), np.int64)],
)  # fmt: skip
def test_random_shape_dtype_and_reproducibility(make, dtype):
    numnet.manual_seed(7)
    a = make()
    numnet.manual_seed(7)
    b = make()
    c = make()
    assert a.shape == (3, 4) and a.dtype == dtype and not a.requires_grad
    assert np.array_equal(a.numpy(), b.numpy()) and not np.array_equal(a, c)
    generator = np.random.default_rng(1)
    assert np.array_equal(make(generator=1).numpy(), make(generator=generator).numpy())
    assert np.array_equal(make(seed=5).numpy(), make(generator=5).numpy())


def test_random_ranges_and_moments():
    rng = np.random.default_rng(0)
    u = numnet.rand(20_000, generator=rng).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    z = numnet.randn(20_000, generator=rng, dtype="float64").numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    i = numnet.randint(-2, 3, (20_000,), generator=rng).numpy()
    assert set(np.unique(i)) == {-2, -1, 0, 1, 2}
    assert sorted(numnet.randperm(50, generator=rng).tolist()) == list(range(50))
    n = numnet.normal(numnet.tensor([0.0, 10.0]), numnet.tensor([1.0, 0.1]),
                      size=(5000, 2), generator=rng).numpy()  # fmt: skip
    np.testing.assert_allclose(n.mean(0), [0.0, 10.0], atol=0.05)
    np.testing.assert_allclose(n.std(0), [1.0, 0.1], rtol=0.05)
    p = numnet.tensor([0.0, 0.25, 1.0], dtype="float64")
    draws = numnet.bernoulli(p.expand(10_000, 3), generator=rng)
    assert draws.dtype == np.float64
    np.testing.assert_allclose(draws.numpy().mean(0), [0.0, 0.25, 1.0], atol=0.015)


def test_multinomial_frequencies_with_and_without_replacement():
    rng = np.random.default_rng(0)
    weights = numnet.tensor([[1.0, 0.0, 3.0, 6.0], [5.0, 5.0, 0.0, 0.0]])
    probs = weights.numpy() / weights.numpy().sum(1, keepdims=True)
    picks = numnet.multinomial(weights, 20_000, replacement=True, generator=rng)
    freq = np.stack([np.bincount(r, minlength=4) for r in picks.numpy()]) / 20_000
    np.testing.assert_allclose(freq, probs, atol=0.01)
    # without replacement: distinct categories; the first draw follows the
    # probabilities, the second the probabilities renormalised over the rest
    w = numnet.tensor([1.0, 2.0, 7.0]).expand(20_000, 3)
    pairs = numnet.multinomial(w, 2, generator=rng).numpy()
    assert (pairs[:, 0] != pairs[:, 1]).all()
    np.testing.assert_allclose(np.bincount(pairs[:, 0]) / 20_000, [0.1, 0.2, 0.7],
                               atol=0.01)  # fmt: skip
    after_2 = pairs[pairs[:, 0] == 2, 1]
    second = np.bincount(after_2, minlength=3) / after_2.size
    np.testing.assert_allclose(second, [1 / 3, 2 / 3, 0],
                               atol=0.02)  # fmt: skip
    full = numnet.multinomial(numnet.tensor([1.0, 0.0, 2.0]), 2, generator=rng)
    assert sorted(full.tolist()) == [0, 2]  # never the zero-weight category


def test_random_functions_keep_the_input_namespace():
    SLIPS.clear()
    p = numnet.tensor(to_strict(np.full((2, 3), 0.5)))
    outs = [numnet.bernoulli(p, generator=0), numnet.multinomial(p, 2, generator=0),
            numnet.normal(p, p, generator=0)]  # fmt: skip
    assert all(isinstance(o.data, StrictArray) for o in outs)
    assert outs[1].dtype == np.int64 and outs[1].shape == (2, 2)
    x = numnet.tensor(to_strict(np.arange(6.0).reshape(2, 3)))
    others = [numnet.isclose(x, x), x.eq(x), x.new_zeros(2), x.new_tensor([1.0]),
              x.clone(), x.long(), x.any(axis=0)]  # fmt: skip
    assert all(isinstance(o.data, StrictArray) for o in others)
    assert numnet.allclose(x, x) and x.is_contiguous() is True
    with numnet.no_grad():
        x.add_(1.0).zero_()
    assert to_numpy(x.data).tolist() == [[0.0] * 3] * 2
    assert not SLIPS, SLIPS


def test_the_names_are_at_top_level_and_the_shared_ones_in_ops():
    for name in ("cat", "chunk", "clamp", "bmm", "randn", "rand", "randint",
                 "from_numpy", "unsqueeze", "permute", "flatten", "gather", "scatter",
                 "scatter_add", "index_select", "topk", "allclose", "isclose",
                 "randperm", "multinomial", "normal", "bernoulli", "diag", "kron",
                 "meshgrid", "broadcast_to", "numel", "set_grad_enabled",
                 "inference_mode"):  # fmt: skip
        assert getattr(numnet, name).__doc__, name
        assert name in numnet.__all__, name
    for name in ("diag", "kron", "meshgrid", "isclose", "allclose", "broadcast_to"):
        assert getattr(numnet.ops, name) is getattr(numnet, name), name
    assert not hasattr(numnet.ops, "scatter")  # keras.ops.scatter means another thing
