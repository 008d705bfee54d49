"""conv2d, conv2d_transpose, depthwise_conv2d: gradchecks over every option, the
course-notes examples, a composed twin as oracle, dtypes and argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import numnet
import numnet.functional as F
from numnet._kernels.conv_plan import ConvPlan, candidate_plans
from numnet._kernels.im2col import make_geometry
from numnet.autograd import strict_dtypes

PADDINGS = st.one_of(
    st.sampled_from(["valid", "same"]),
    st.integers(0, 2),
    st.tuples(st.integers(0, 2), st.integers(0, 2)),
)
PAIRS = st.one_of(st.integers(1, 2), st.tuples(st.integers(1, 3), st.integers(1, 3)))


@st.composite
def conv_cases(draw):
    """Shapes and options: odd/even/rectangular/1x1 kernels, C_in 1..3, strides,
    dilations and every padding form; configurations without output are skipped."""
    N, H, W = draw(st.integers(1, 2)), draw(st.integers(1, 7)), draw(st.integers(1, 7))
    C, O = draw(st.sampled_from([1, 2, 3])), draw(st.integers(1, 3))
    KH, KW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    options = {
        "stride": draw(PAIRS),
        "padding": draw(PADDINGS),
        "dilation": draw(st.sampled_from([1, 2, (1, 2)])),
    }
    try:
        make_geometry(H, W, (KH, KW), **options)
    except ValueError:
        assume(False)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((N, H, W, C))
    w = rng.standard_normal((KH, KW, C, O))
    return x, w, rng.standard_normal(O), options


@given(conv_cases(), st.booleans())
def test_conv2d_gradcheck(case, with_bias):
    x, w, b, options = case
    if with_bias:
        assert numnet.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **options), [x, w, b])
    else:
        assert numnet.gradcheck(lambda x, w: F.conv2d(x, w, **options), [x, w])


@given(conv_cases(), st.booleans())
def test_conv2d_relu_gradcheck(case, with_bias):
    x, w, b, options = case
    if with_bias:
        fn = lambda x, w, b: F.conv2d_relu(x, w, b, **options)  # noqa: E731
        assert numnet.gradcheck(fn, [x, w, b])
    else:
        assert numnet.gradcheck(lambda x, w: F.conv2d_relu(x, w, **options), [x, w])


@given(conv_cases())
def test_conv2d_relu_matches_its_composed_twin(case):
    # relu(conv2d(...)) as two ops: the same output and the same three gradients
    x, w, b, options = case
    results = []
    for fused in (True, False):
        xt, wt, bt = (numnet.tensor(a, requires_grad=True) for a in (x, w, b))
        if fused:
            y = F.conv2d_relu(xt, wt, bt, **options)
        else:
            y = F.relu(F.conv2d(xt, wt, bt, **options))
        gy = np.random.default_rng(0).standard_normal(y.shape)
        y.backward(gy)
        results.append((y.numpy(), xt.grad, wt.grad, bt.grad))
    for a, c in zip(*results, strict=True):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


@given(conv_cases(), st.booleans(), st.data())
def test_every_plan_gradchecks(case, relu, data):
    # each executor path, selected through the plan= override, in float64
    x, w, b, options = case
    g = make_geometry(x.shape[1], x.shape[2], w.shape[:2], **options)
    plan = data.draw(st.sampled_from(candidate_plans(g, relu=relu)))
    op = F.conv2d_relu if relu else F.conv2d
    fn = lambda x, w, b: op(x, w, b, **options, plan=plan)  # noqa: E731
    assert numnet.gradcheck(fn, [x, w, b])


def test_plan_override_is_checked(rng):
    x, w = rng.standard_normal((1, 5, 5, 2)), rng.standard_normal((3, 3, 2, 2))
    with pytest.raises(TypeError, match="argument 'plan'"):
        F.conv2d(x, w, plan="taps")
    with pytest.raises(ValueError, match="stride 1"):
        y = F.conv2d(numnet.tensor(x, requires_grad=True), w, stride=2,
                     plan=ConvPlan(dx_path="taps"))  # fmt: skip
        y.backward(np.ones(y.shape))


def test_config_plan_override_applies_in_its_scope(rng):
    # numnet.config's kernel_plans["conv2d"]; an explicit plan= wins over it
    config = pytest.importorskip("numnet.config")
    x = numnet.tensor(rng.standard_normal((1, 5, 5, 2)), requires_grad=True)
    w = rng.standard_normal((3, 3, 2, 2))
    with config.using(kernel_plans={"conv2d": ConvPlan(executor="reference")}):
        assert F.conv2d(x, w).creator.state.plan.executor == "reference"
        explicit = F.conv2d(x, w, plan=ConvPlan(dx_path="col2im"))
        assert explicit.creator.state.plan.executor == "cpu"
    assert F.conv2d(x, w).creator.state.plan.executor == "cpu"


# Every option at least once, whatever hypothesis draws: (x shape, kernel, options)
OPTION_TABLE = [
    ((2, 5, 5, 1), (1, 1, 1, 2), {}),  # 1x1, C_in=1
    ((2, 6, 6, 3), (3, 3, 3, 2), {"padding": "same"}),  # odd, C_in=3
    ((2, 6, 6, 3), (2, 2, 3, 2), {"padding": "same"}),  # even: asymmetric padding
    ((1, 7, 6, 2), (2, 3, 2, 2), {"stride": (2, 1), "padding": (1, 2)}),  # rectangular
    ((1, 7, 7, 1), (3, 3, 1, 2), {"stride": 2, "padding": 1}),
    ((1, 8, 7, 3), (3, 2, 3, 1), {"dilation": 2, "padding": "same"}),
    ((1, 9, 9, 2), (4, 4, 2, 2), {"stride": 3, "padding": "valid"}),
    ((1, 6, 6, 2), (3, 3, 2, 2), {"stride": 2, "dilation": (1, 2)}),
]


@pytest.mark.parametrize("shape, kernel, options", OPTION_TABLE)
def test_conv2d_gradcheck_option_table(rng, shape, kernel, options):
    x, w = rng.standard_normal(shape), rng.standard_normal(kernel)
    b = rng.standard_normal(kernel[3])
    assert numnet.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **options), [x, w, b])


@pytest.mark.parametrize("shape, kernel, options", OPTION_TABLE)
def test_depthwise_gradcheck_option_table(rng, shape, kernel, options):
    x, w = rng.standard_normal(shape), rng.standard_normal(kernel[:3] + (2,))
    b = rng.standard_normal(kernel[2] * 2)
    fn = lambda x, w, b: F.depthwise_conv2d(x, w, b, **options)  # noqa: E731
    assert numnet.gradcheck(fn, [x, w, b])


def composed_conv2d(x, w, b, stride, padding):
    """The unfused twin: sum over kernel offsets of (shifted input) @ w[i, j],
    built from pad, getitem, matmul and add, so autograd derives its backward."""
    g = make_geometry(x.shape[1], x.shape[2], w.shape[:2], stride, padding)
    xp = F.pad(x, ((0, 0), (g.pt, g.pb), (g.pl, g.pr), (0, 0)))
    y = b
    for i in range(g.KH):
        for j in range(g.KW):
            rows = slice(i, i + (g.OH - 1) * g.sh + 1, g.sh)
            cols = slice(j, j + (g.OW - 1) * g.sw + 1, g.sw)
            y = y + F.matmul(xp[:, rows, cols, :], w[i, j])
    return y


@pytest.mark.parametrize(
    "shape, kernel, stride, padding",
    [((2, 7, 6, 3), (3, 3, 3, 4), 1, "same"), ((2, 8, 8, 1), (4, 2, 1, 2), 2, "same"),
     ((1, 9, 7, 2), (5, 5, 2, 3), (2, 1), 1), ((2, 5, 5, 3), (1, 1, 3, 2), 2, "valid")],
)  # fmt: skip
def test_fused_matches_composed_twin(rng, shape, kernel, stride, padding):
    x = numnet.tensor(rng.standard_normal(shape), requires_grad=True, dtype=np.float64)
    w = numnet.tensor(rng.standard_normal(kernel), requires_grad=True, dtype=np.float64)
    b = numnet.tensor(
        rng.standard_normal(kernel[3]), requires_grad=True, dtype=np.float64
    )
    fused = F.conv2d(x, w, b, stride=stride, padding=padding)
    gy = rng.standard_normal(fused.shape)
    fused.backward(gy)
    grads = [t.grad for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    twin = composed_conv2d(x, w, b, stride, padding)
    np.testing.assert_allclose(fused.numpy(), twin.numpy(), rtol=1e-12, atol=1e-12)
    twin.backward(gy)
    for got, t in zip(grads, (x, w, b), strict=True):
        np.testing.assert_allclose(got, t.grad, rtol=1e-12, atol=1e-12)


def test_course_notes_vertical_edge():
    # bright (10) left half, dark (0) right half: the edge shows up as a bright
    # band of 30s in the middle columns of the 4x4 output
    image = np.array([[10.0, 10, 10, 0, 0, 0]] * 6).reshape(1, 6, 6, 1)
    vertical = np.array([[1.0, 0, -1]] * 3).reshape(3, 3, 1, 1)
    y = F.conv2d(image, vertical).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(y, [[0, 30, 30, 0]] * 4)
    # dark-to-bright flips the sign of the edge
    flipped = F.conv2d(image[:, :, ::-1], vertical).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(flipped, [[0, -30, -30, 0]] * 4)


def test_course_notes_output_sizes():
    # 39x39x3 -> f=3,s=1 -> 37x37x10 -> f=5,s=2 -> 17x17x20 -> f=5,s=2 -> 7x7x40
    x = np.zeros((1, 39, 39, 3), np.float32)
    for f, s, filters, size in [(3, 1, 10, 37), (5, 2, 20, 17), (5, 2, 40, 7)]:
        w = np.zeros((f, f, x.shape[3], filters), np.float32)
        x = F.conv2d(x, w, stride=s).numpy()
        assert x.shape == (1, size, size, filters)


@pytest.mark.parametrize("kernel", [(3, 3), (4, 4), (2, 5), (1, 1)])
def test_same_padding_keeps_the_size_with_stride_one(kernel):
    x = np.ones((1, 7, 6, 2))
    w = np.ones(kernel + (2, 3))
    assert F.conv2d(x, w, padding="same").shape == (1, 7, 6, 3)
    assert F.conv2d(x, w, stride=2, padding="same").shape == (1, 4, 3, 3)


def test_even_kernel_same_padding_puts_the_extra_row_after():
    # TensorFlow: a 2x2 "same" kernel pads one row/column at the bottom/right
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    y = F.conv2d(x, np.ones((2, 2, 1, 1)), padding="same").numpy()[0, :, :, 0]
    np.testing.assert_array_equal(y, [[8, 12, 7], [20, 24, 13], [13, 15, 8]])


def test_dilation_spreads_the_taps():
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    w = np.zeros((3, 3, 1, 1))
    w[0, 0] = w[2, 2] = 1.0
    y = F.conv2d(x, w, dilation=2).numpy()
    assert y.shape == (1, 1, 1, 1) and y.item() == x[0, 0, 0, 0] + x[0, 4, 4, 0]


TRANSPOSE_SIZES = [
    # (n, k, s, padding, output_padding, expected length) from Keras's formula
    (4, 3, 2, "valid", None, 9), (4, 2, 2, "valid", None, 8),
    (4, 1, 3, "valid", None, 12), (4, 3, 2, "same", None, 8),
    (4, 4, 2, "same", None, 8), (5, 3, 1, "same", None, 5),
    (4, 3, 2, "valid", 1, 10), (4, 3, 2, "same", 1, 8), (4, 4, 2, "same", 1, 7),
]  # fmt: skip


@pytest.mark.parametrize("n, k, s, padding, output_padding, expected", TRANSPOSE_SIZES)
def test_conv2d_transpose_output_size(rng, n, k, s, padding, output_padding, expected):
    x = rng.standard_normal((1, n, n, 2))
    w = rng.standard_normal((k, k, 3, 2))
    y = F.conv2d_transpose(
        x, w, stride=s, padding=padding, output_padding=output_padding
    )
    assert y.shape == (1, expected, expected, 3)


def test_conv2d_transpose_spreads_each_pixel_as_a_kernel_copy():
    x = np.zeros((1, 2, 2, 1))
    x[0, 1, 0, 0] = 2.0
    w = np.arange(9.0).reshape(3, 3, 1, 1)
    y = F.conv2d_transpose(x, w, stride=2).numpy()[0, :, :, 0]  # 5x5
    expected = np.zeros((5, 5))
    expected[2:5, 0:3] = 2 * w[:, :, 0, 0]
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("n, k, s, padding, output_padding, _", TRANSPOSE_SIZES[::2])
def test_conv2d_transpose_gradcheck(rng, n, k, s, padding, output_padding, _):
    x = rng.standard_normal((2, n, n - 1, 2))
    w = rng.standard_normal((k, k, 3, 2))
    b = rng.standard_normal(3)
    options = {"stride": s, "padding": padding, "output_padding": output_padding}
    assert numnet.gradcheck(
        lambda x, w, b: F.conv2d_transpose(x, w, b, **options), [x, w, b]
    )


@given(conv_cases(), st.sampled_from([1, 2]))
def test_depthwise_conv2d_gradcheck(case, multiplier):
    x, w, _, options = case
    w = w[:, :, :, :1].repeat(multiplier, axis=3)
    b = np.linspace(-1, 1, x.shape[3] * multiplier)
    assert numnet.gradcheck(
        lambda x, w, b: F.depthwise_conv2d(x, w, b, **options), [x, w, b]
    )


def test_depthwise_equals_conv2d_per_channel(rng):
    x = rng.standard_normal((2, 6, 5, 3))
    w = rng.standard_normal((3, 3, 3, 2))
    y = F.depthwise_conv2d(x, w, stride=2, padding="same").numpy()
    for c in range(3):
        one = F.conv2d(x[..., c : c + 1], w[:, :, c : c + 1], stride=2, padding="same")
        np.testing.assert_allclose(y[..., 2 * c : 2 * c + 2], one.numpy(), atol=1e-12)


@pytest.mark.parametrize(
    "op, kernel, n_out",
    [(F.conv2d, (3, 3, 3, 4), 4), (F.conv2d_relu, (3, 3, 3, 4), 4),
     (F.conv2d_transpose, (3, 3, 4, 3), 4), (F.depthwise_conv2d, (3, 3, 3, 2), 6)],
)  # fmt: skip
def test_float32_stays_float32(rng, op, kernel, n_out):
    def leaf(shape):
        return numnet.tensor(
            rng.standard_normal(shape).astype(np.float32), requires_grad=True
        )

    x, w, b = leaf((2, 6, 6, 3)), leaf(kernel), leaf(n_out)
    with strict_dtypes():
        y = op(x, w, b, stride=2, padding="same")
        assert y.dtype == np.float32
        y.backward(np.ones(y.shape, np.float32))
    assert all(t.grad.dtype == np.float32 for t in (x, w, b))


def test_inference_keeps_no_columns(rng):
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    w = numnet.tensor(np.ones((3, 3, 3, 2), np.float32), requires_grad=True)
    with numnet.no_grad():
        y = F.conv2d(x, w)
    assert not y.requires_grad and y.creator is None


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x, w: F.conv2d(x, w, padding="full"), "argument 'padding'"),
        (lambda x, w: F.conv2d(x, w, stride=0), "argument 'stride'"),
        (lambda x, w: F.conv2d(x, w[:, :, :2]), r"3 channels .*\(2, 6, 6, 3\).*"
         r"expects 2 \(w.shape=\(3, 3, 2, 4\)"),
        (lambda x, w: F.conv2d(x, np.ones((7, 7, 3, 4))), "larger than the padded"),
        (lambda x, w: F.conv2d(x, w, np.ones(3)), r"bias b of shape \(4,\)"),
        (lambda x, w: F.conv2d(x[0], w), r"\(N, H, W, C\)"),
        (lambda x, w: F.conv2d(x, w[0]), "kernel w of shape"),
        (lambda x, w: F.conv2d_transpose(x, np.ones((3, 3, 2, 3)), padding="full"),
         "'valid' or 'same'"),
        (lambda x, w: F.conv2d_transpose(x, np.ones((3, 3, 2, 3)), stride=2,
                                         output_padding=2), "output_padding"),
        (lambda x, w: F.depthwise_conv2d(x, np.ones((3, 3, 2, 1))), "expects 2"),
    ],
)  # fmt: skip
def test_errors_name_the_argument_and_shapes(call, message):
    x, w = np.ones((2, 6, 6, 3)), np.ones((3, 3, 3, 4))
    with pytest.raises(ValueError, match=message):
        call(x, w)


def test_mixed_dtypes_are_rejected():
    x = np.ones((1, 4, 4, 1), np.float32)
    with pytest.raises(TypeError, match="x.dtype=float32, w.dtype=float64"):
        F.conv2d(x, np.ones((3, 3, 1, 1)))


def test_matches_pytorch_when_available(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 9, 8, 3))
    w = rng.standard_normal((3, 2, 3, 4))
    y = F.conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(1, 2)).numpy()
    ref = torch.nn.functional.conv2d(
        torch.tensor(x.transpose(0, 3, 1, 2)), torch.tensor(w.transpose(3, 2, 0, 1)),
        stride=(2, 1), padding=(1, 2), dilation=(1, 2),
    )  # fmt: skip
    np.testing.assert_allclose(y, ref.numpy().transpose(0, 2, 3, 1), atol=1e-12)
