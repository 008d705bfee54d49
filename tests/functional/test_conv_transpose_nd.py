"""conv1d_transpose, conv3d_transpose and depthwise_conv1d against PyTorch
(values and gradients), the conv3d adjoint identity, hypothesis gradchecks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numnet
import numnet.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _torch_padding(k: int, s: int, mode: str, extra):
    """(padding, output_padding) of torch giving Keras's output for one axis,
    for the cases where one exists: "valid" (any k, s), "same" with k - s even
    and >= 0. Keras: valid -> (n-1)s + max(k, s) (+ extra), same -> n*s."""
    if mode == "valid":
        return 0, (max(k, s) - k if extra is None else extra)
    return (k - s) // 2, 0


def _compare(ours_fn, torch_fn, inputs, layout_in, layout_w):
    """Values and all three gradients (random upstream) of ours vs torch's."""
    x, w, b = inputs
    xt = torch.tensor(x.transpose(layout_in), requires_grad=True)
    wt = torch.tensor(w.transpose(layout_w), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    xs, ws, bs = (
        numnet.tensor(a, requires_grad=True, dtype=np.float64) for a in (x, w, b)
    )
    y = ours_fn(xs, ws, bs)
    yt = torch_fn(xt, wt, bt)
    back = np.argsort(layout_in)  # torch's channels-first back to channels-last
    ref = yt.detach().numpy().transpose(back)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-10)
    g = np.random.default_rng(1).standard_normal(ref.shape)
    (y * numnet.tensor(g, dtype=np.float64)).sum().backward()
    (yt * torch.tensor(g.transpose(layout_in))).sum().backward()
    np.testing.assert_allclose(xs.grad, xt.grad.numpy().transpose(back), atol=1e-10)
    w_back = np.argsort(layout_w)
    np.testing.assert_allclose(ws.grad, wt.grad.numpy().transpose(w_back), atol=1e-10)
    np.testing.assert_allclose(bs.grad, bt.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize(
    "k, s, mode, extra",
    [(3, 1, "valid", None), (3, 2, "valid", None), (2, 3, "valid", None),
     (3, 2, "valid", 1), (3, 1, "same", None), (4, 2, "same", None),
     (5, 3, "same", None)],
)  # fmt: skip
def test_conv1d_transpose_matches_torch(rng, k, s, mode, extra):
    inputs = rng.standard_normal((2, 5, 3)), rng.standard_normal((k, 4, 3)), None
    inputs = (*inputs[:2], rng.standard_normal(4))
    p, op = _torch_padding(k, s, mode, extra)
    _compare(
        lambda x, w, b: F.conv1d_transpose(x, w, b, s, mode, extra),
        lambda x, w, b: TF.conv_transpose1d(x, w, b, s, p, op),
        inputs,
        (0, 2, 1),
        (2, 1, 0),  # ours (K, C_out, C_in), torch (C_in, C_out, K)
    )


@pytest.mark.parametrize(
    "k, s, mode, extra",
    [((2, 3, 2), (1, 2, 3), "valid", None), ((3, 3, 3), 1, "same", None),
     ((4, 2, 4), 2, "same", None), ((3, 2, 3), 2, "valid", (1, 1, 0)),
     ((1, 3, 2), (3, 1, 2), "valid", None)],
)  # fmt: skip
def test_conv3d_transpose_matches_torch(rng, k, s, mode, extra):
    ss = (s,) * 3 if isinstance(s, int) else s
    es = (None,) * 3 if extra is None else extra
    pads = [
        _torch_padding(kk, sk, mode, e) for kk, sk, e in zip(k, ss, es, strict=True)
    ]
    x = rng.standard_normal((2, 3, 4, 3, 2))
    inputs = x, rng.standard_normal((*k, 3, 2)), rng.standard_normal(3)
    _compare(
        lambda x, w, b: F.conv3d_transpose(x, w, b, s, mode, extra),
        lambda x, w, b: TF.conv_transpose3d(
            x, w, b, ss, tuple(p for p, _ in pads), tuple(o for _, o in pads)
        ),
        inputs,
        (0, 4, 1, 2, 3),
        (4, 3, 0, 1, 2),  # ours (KD, KH, KW, C_out, C_in), torch (C_in, C_out, k...)
    )


@pytest.mark.parametrize("s, d, mode", [(1, 1, "valid"), (2, 1, "valid"),
                                        (1, 2, "valid"), (1, 1, "same")])  # fmt: skip
def test_depthwise_conv1d_matches_torch_groups(rng, s, d, mode):
    C, M, K = 3, 2, 3
    x, w, b = (rng.standard_normal(sh) for sh in ((2, 7, C), (K, C, M), (C * M,)))

    def ours(x, w, b):
        return F.depthwise_conv1d(x, w, b, s, mode, d)

    def reference(x, w, b):
        # (C, M, K) -> (C*M, 1, K): output channel c*M + m, torch's groups order
        w = w.reshape(C * M, 1, K)
        pad = (d * (K - 1)) // 2 if mode == "same" else 0  # odd total: K odd here
        return TF.conv1d(x, w, b, s, pad, d, groups=C)

    _compare(ours, reference, (x, w, b), (0, 2, 1), (1, 2, 0))


def test_conv3d_transpose_is_the_adjoint_of_conv3d(rng):
    # <conv3d(a, w), c> = <a, conv3d_transpose(c, w')> with w' the kernel seen
    # from the other side: (k..., C_in, C_out) -> (k..., C_in, C_out) read as
    # the transposed layout (k..., filters=C_in, in=C_out)
    a = rng.standard_normal((2, 5, 6, 5, 2))
    w = rng.standard_normal((3, 2, 3, 2, 4))
    forward = F.conv3d(a, w, stride=2).numpy()
    c = rng.standard_normal(forward.shape)
    back = F.conv3d_transpose(c, w, stride=2, output_padding=0).numpy()
    assert back.shape == a.shape
    np.testing.assert_allclose((forward * c).sum(), (a * back).sum(), rtol=1e-10)


@settings(max_examples=12, deadline=None)
@given(
    k=st.tuples(*(st.integers(1, 3),) * 3),
    s=st.tuples(*(st.integers(1, 3),) * 3),
    mode=st.sampled_from(["valid", "same"]),
    seed=st.integers(0, 2**16),
)
def test_conv3d_transpose_gradcheck(k, s, mode, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, 3, 2, 2))
    w, b = rng.standard_normal((*k, 2, 2)), rng.standard_normal(2)
    numnet.gradcheck(lambda x, w, b: F.conv3d_transpose(x, w, b, s, mode), [x, w, b])


@settings(max_examples=15, deadline=None)
@given(
    k=st.integers(1, 3),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    mode=st.sampled_from(["valid", "same"]),
    extra=st.sampled_from([None, 0, 1, 2]),
    seed=st.integers(0, 2**16),
)
def test_1d_ops_gradcheck(k, s, d, mode, extra, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 6, 2))
    w, b = rng.standard_normal((k, 3, 2)), rng.standard_normal(3)
    if extra is None or extra < s:
        numnet.gradcheck(
            lambda x, w, b: F.conv1d_transpose(x, w, b, s, mode, extra), [x, w, b]
        )
    w, b = rng.standard_normal((k, 2, 2)), rng.standard_normal(4)
    numnet.gradcheck(lambda x, w, b: F.depthwise_conv1d(x, w, b, s, mode, d), [x, w, b])


def test_errors_name_the_op_and_argument(rng):
    x = rng.standard_normal((2, 5, 3))
    with pytest.raises(ValueError, match=r"conv1d_transpose: expected an input x"):
        F.conv1d_transpose(x[0], rng.standard_normal((3, 2, 3)))
    with pytest.raises(ValueError, match=r"conv1d_transpose: expected a kernel"):
        F.conv1d_transpose(x, rng.standard_normal((3, 2)))
    with pytest.raises(ValueError, match=r"'output_padding'.*output_padding=2"):
        F.conv1d_transpose(x, rng.standard_normal((3, 2, 3)), stride=2,
                           output_padding=2)  # fmt: skip
    with pytest.raises(ValueError, match=r"depthwise_conv1d: .*'padding'"):
        F.depthwise_conv1d(x, rng.standard_normal((3, 3, 1)), padding="full")
    v = rng.standard_normal((1, 2, 3, 3, 2))
    with pytest.raises(ValueError, match=r"conv3d_transpose: .*'output_padding'"):
        F.conv3d_transpose(v, rng.standard_normal((2, 2, 2, 2, 2)), 1,
                           output_padding=(1, 0, 0))  # fmt: skip
    with pytest.raises(ValueError, match=r"conv3d_transpose: .*'stride'"):
        F.conv3d_transpose(v, rng.standard_normal((2, 2, 2, 2, 2)), stride=(1, 0, 1))
    with pytest.raises(ValueError, match=r"conv3d_transpose: expected a bias"):
        F.conv3d_transpose(v, rng.standard_normal((2, 2, 2, 2, 2)), np.ones(3))
    with pytest.raises(ValueError, match=r"conv3d_transpose: the input has 2"):
        F.conv3d_transpose(v, rng.standard_normal((2, 2, 2, 2, 3)))
