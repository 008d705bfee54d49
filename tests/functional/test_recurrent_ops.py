"""Fused recurrent ops: composed-oracle twins, gradchecks, masks, long sequences.

The oracle runs the same cell step by step with small functional ops (matmul,
sigmoid, tanh, where, stack): autograd differentiates it, so comparing values
*and* gradients with the fused op checks the fused forward and the hand-written
backward-through-time independently of each other.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numnet
import numnet.functional as F
from numnet.autograd import strict_dtypes

GATES = {"simple_rnn": 1, "gru": 3, "gru_v1": 3, "lstm": 4}
ACT = {"tanh": F.tanh, "sigmoid": F.sigmoid, "relu": F.relu, "linear": lambda z: z}


def _cell(kind, x_t, h, c, K, R, b, act, rec_act, rec_mask):
    """One step of the composed oracle; returns (h_new, c_new)."""
    U = R.shape[0]
    hd = h if rec_mask is None else h * rec_mask
    if kind == "simple_rnn":
        z = x_t @ K + hd @ R + (0 if b is None else b)
        return ACT[act](z), None
    if kind == "lstm":
        z = x_t @ K + hd @ R + (0 if b is None else b)
        i, f = ACT[rec_act](z[:, :U]), ACT[rec_act](z[:, U : 2 * U])
        g, o = ACT[act](z[:, 2 * U : 3 * U]), ACT[rec_act](z[:, 3 * U :])
        c_new = f * c + i * g
        return o * ACT[act](c_new), c_new
    xw = x_t @ K
    if kind == "gru":  # reset_after=True, bias (2, 3U)
        xw = xw + (0 if b is None else b[0])
        rec = hd @ R + (0 if b is None else b[1])
        z = ACT[rec_act](xw[:, :U] + rec[:, :U])
        r = ACT[rec_act](xw[:, U : 2 * U] + rec[:, U : 2 * U])
        hh = ACT[act](xw[:, 2 * U :] + r * rec[:, 2 * U :])
    else:  # reset_after=False, bias (3U,)
        xw = xw + (0 if b is None else b)
        rec = hd @ R[:, : 2 * U]
        z = ACT[rec_act](xw[:, :U] + rec[:, :U])
        r = ACT[rec_act](xw[:, U : 2 * U] + rec[:, U:])
        hh = ACT[act](xw[:, 2 * U :] + (r * hd) @ R[:, 2 * U :])
    return z * h + (1 - z) * hh, None


def composed(kind, x, K, R, b, states, *, mask=None, go_backwards=False,
             return_sequences=False, act="tanh", rec_act="sigmoid",
             rec_mask=None):  # fmt: skip
    """The step-by-step oracle with Keras masking semantics."""
    N, T, _ = x.shape
    U = R.shape[0]
    zeros = numnet.tensor(np.zeros((N, U)), dtype=x.dtype)
    h = states[0] if states else zeros
    c = (states[1] if states else zeros) if kind == "lstm" else None
    outputs = []
    order = range(T - 1, -1, -1) if go_backwards else range(T)
    for t in order:
        h_new, c_new = _cell(kind, x[:, t], h, c, K, R, b, act, rec_act, rec_mask)
        if mask is not None:
            keep = mask[:, t : t + 1]
            outputs.append(h_new * keep.astype(x.dtype))
            h = F.where(keep, h_new, h)
            c = F.where(keep, c_new, c) if c is not None else None
        else:
            outputs.append(h_new)
            h, c = h_new, c_new
    out = F.stack(outputs, axis=1) if return_sequences else h
    return (out, h) if c is None else (out, h, c)


def fused(kind, x, K, R, b, states, **options):
    if kind == "simple_rnn":
        options.pop("recurrent_activation", None)
        return F.simple_rnn(x, K, R, b, states or None, **options)
    if kind == "lstm":
        return F.lstm(x, K, R, b, states or None, **options)
    return F.gru(x, K, R, b, states or None, reset_after=kind == "gru", **options)


def make_case(rng, kind, N=3, T=4, D=2, U=3, bias=True, state=True):
    G = GATES[kind] * U
    x = rng.normal(size=(N, T, D))
    K = rng.normal(size=(D, G)) * 0.6
    R = rng.normal(size=(U, G)) * 0.6
    b = None
    if bias:
        b = rng.normal(size=(2, G) if kind == "gru" else (G,)) * 0.3
    n_states = 2 if kind == "lstm" else 1
    states = [rng.normal(size=(N, U)) for _ in range(n_states)] if state else []
    return x, K, R, b, states


def ragged_mask(N, T):
    """Sample 0 full, sample 1 post-padded, sample 2 pre-padded with a gap."""
    mask = np.ones((N, T), bool)
    mask[1, T // 2 :] = False
    mask[2, 0] = False
    mask[2, T - 2] = False
    return mask


def _options(mask, go_backwards, return_sequences, rec_mask=None, act="tanh",
             rec_act="sigmoid"):  # fmt: skip
    return {
        "mask": mask, "go_backwards": go_backwards,
        "return_sequences": return_sequences, "activation": act,
        "recurrent_activation": rec_act, "recurrent_dropout_mask": rec_mask,
    }  # fmt: skip


def _compare_twins(kind, case, options, rng):
    """Values and all gradients of fused vs composed agree (float64)."""
    x, K, R, b, states = case
    arrays = [x, K, R] + ([b] if b is not None else []) + states

    def run(fn):
        ts = [numnet.tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
        bias = ts[3] if b is not None else None
        sts = ts[3 + (b is not None) :]
        opts = dict(options)
        if fn is composed:
            opts = {
                "mask": opts["mask"], "go_backwards": opts["go_backwards"],
                "return_sequences": opts["return_sequences"], "act": opts["activation"],
                "rec_act": opts["recurrent_activation"],
                "rec_mask": opts["recurrent_dropout_mask"],
            }  # fmt: skip
        outs = fn(kind, ts[0], ts[1], ts[2], bias, sts, **opts)
        upstream = np.random.default_rng(7)
        total = sum((o * upstream.normal(size=o.shape)).sum() for o in outs)
        total.backward()
        return [o.data for o in outs], [t.grad for t in ts]

    (out_f, grads_f), (out_c, grads_c) = run(fused), run(composed)
    for a, e in zip(out_f, out_c, strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)
    for a, e in zip(grads_f, grads_c, strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_fused_matches_composed_oracle(rng, kind, return_sequences, masked,
                                       go_backwards):  # fmt: skip
    case = make_case(rng, kind)
    mask = ragged_mask(3, 4) if masked else None
    _compare_twins(kind, case, _options(mask, go_backwards, return_sequences), rng)


@pytest.mark.parametrize("kind", list(GATES))
def test_fused_matches_oracle_with_recurrent_dropout_no_bias_no_state(rng, kind):
    case = make_case(rng, kind, bias=False, state=False)
    rec_mask = (rng.random((3, 3)) > 0.3) / 0.7
    opts = _options(ragged_mask(3, 4), False, True, rec_mask=rec_mask)
    _compare_twins(kind, case, opts, rng)


@pytest.mark.parametrize("bias, dropout", [(True, True), (False, False)])
def test_lstm_both_forward_paths_match_oracle(rng, bias, dropout):
    # the fused LSTM stacks [x_t; h_{t-1}; 1] into one GEMM only with a bias and
    # no recurrent dropout; each condition alone selects the projected path
    case = make_case(rng, "lstm", bias=bias)
    rec_mask = (rng.random((3, 3)) > 0.3) / 0.7 if dropout else None
    for go_backwards in (False, True):
        opts = _options(ragged_mask(3, 4), go_backwards, True, rec_mask=rec_mask)
        _compare_twins("lstm", case, opts, rng)


@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("act, rec_act", [("relu", "sigmoid"), ("linear", "tanh"),
                                          ("sigmoid", "relu")])  # fmt: skip
def test_other_activations_match_oracle(rng, kind, act, rec_act):
    case = make_case(rng, kind)
    _compare_twins(kind, case, _options(None, False, True, act=act, rec_act=rec_act),
                   rng)  # fmt: skip


@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("masked, go_backwards", [(False, False), (True, True)])
def test_gradcheck_inputs_states_and_weights(rng, kind, return_sequences, masked,
                                             go_backwards):  # fmt: skip
    x, K, R, b, states = make_case(rng, kind)
    opts = _options(ragged_mask(3, 4) if masked else None, go_backwards,
                    return_sequences)  # fmt: skip

    def fn(x, K, R, b, *states):
        return fused(kind, x, K, R, b, list(states), **opts)

    assert numnet.gradcheck(fn, [x, K, R, b, *states])


@given(
    N=st.integers(1, 3), T=st.integers(1, 5), D=st.integers(1, 3),
    U=st.integers(1, 3), kind=st.sampled_from(list(GATES)),
    seed=st.integers(0, 2**16),
)  # fmt: skip
def test_gradcheck_hypothesis_shapes(N, T, D, U, kind, seed):
    rng = np.random.default_rng(seed)
    x, K, R, b, states = make_case(rng, kind, N, T, D, U)
    mask = rng.random((N, T)) > 0.3
    opts = _options(mask, bool(seed % 2), bool(seed % 3))

    def fn(x, K, R, b, *states):
        return fused(kind, x, K, R, b, list(states), **opts)

    assert numnet.gradcheck(fn, [x, K, R, b, *states])


@pytest.mark.parametrize("kind", list(GATES))
def test_float32_stays_float32(rng, kind):
    x, K, R, b, states = make_case(rng, kind)
    ts = [numnet.tensor(a.astype(np.float32), requires_grad=True)
          for a in [x, K, R, b, *states]]  # fmt: skip
    with strict_dtypes():
        outs = fused(kind, ts[0], ts[1], ts[2], ts[3], ts[4:],
                     **_options(ragged_mask(3, 4), True, True))  # fmt: skip
        assert all(o.dtype == np.float32 for o in outs)
        sum((o * o).sum() for o in outs).backward()
    assert all(t.grad.dtype == np.float32 for t in ts)


@pytest.mark.parametrize("kind", list(GATES))
def test_long_sequence_has_finite_gradients(rng, kind):
    T = 1000
    x, K, R, b, states = make_case(rng, kind, N=2, T=T, D=2, U=4)
    ts = [numnet.tensor(a, requires_grad=True) for a in [x, K, R, b, *states]]
    outs = fused(kind, ts[0], ts[1], ts[2], ts[3], ts[4:],
                 **_options(None, False, True))  # fmt: skip
    assert outs[0].shape == (2, T, 4)
    (outs[0] * outs[0]).sum().backward()
    for t in ts:
        assert t.grad is not None and np.all(np.isfinite(t.grad))
    assert np.abs(ts[0].grad[:, 0]).sum() > 0  # BPTT reached the very first step


@pytest.mark.parametrize("kind", list(GATES))
def test_fully_masked_sample_keeps_initial_state_and_outputs_zeros(rng, kind):
    x, K, R, b, states = make_case(rng, kind)
    mask = np.ones((3, 4), bool)
    mask[1] = False
    out, h = fused(kind, x, K, R, b, states,
                   **_options(mask, False, True))[:2]  # fmt: skip
    np.testing.assert_array_equal(out.data[1], 0)
    np.testing.assert_array_equal(h.data[1], states[0][1])


@pytest.mark.parametrize("kind", list(GATES))
def test_masked_padding_equals_running_the_unpadded_sequence(rng, kind):
    x, K, R, b, states = make_case(rng, kind, N=1, T=6)
    mask = np.array([[True, True, True, True, False, False]])
    padded = fused(kind, x, K, R, b, states, **_options(mask, False, True))
    short = fused(kind, x[:, :4], K, R, b, states, **_options(None, False, True))
    np.testing.assert_allclose(padded[0].data[:, :4], short[0].data, rtol=1e-12)
    np.testing.assert_array_equal(padded[0].data[:, 4:], 0)
    for a, e in zip(padded[1:], short[1:], strict=True):
        np.testing.assert_allclose(a.data, e.data, rtol=1e-12)


def test_go_backwards_equals_reversed_input(rng):
    x, K, R, b, states = make_case(rng, "lstm")
    back = F.lstm(x, K, R, b, states, go_backwards=True, return_sequences=True)
    rev = F.lstm(x[:, ::-1], K, R, b, states, return_sequences=True)
    for a, e in zip(back, rev, strict=True):
        np.testing.assert_allclose(a.data, e.data, rtol=1e-12)


def test_return_sequences_false_returns_last_state(rng):
    x, K, R, b, states = make_case(rng, "gru")
    out, h = F.gru(x, K, R, b, states)
    seq, _ = F.gru(x, K, R, b, states, return_sequences=True)
    np.testing.assert_array_equal(out.data, h.data)
    np.testing.assert_array_equal(seq.data[:, -1], h.data)


def test_lstm_matches_hand_computed_single_step():
    # one sample, one unit, one feature: every gate written out with NumPy
    x = np.array([[[0.5]]])
    K = np.array([[0.1, 0.2, 0.3, 0.4]])
    R = np.array([[-0.1, 0.5, 0.2, -0.3]])
    b = np.array([0.0, 1.0, 0.0, 0.0])
    h0, c0 = np.array([[0.2]]), np.array([[-0.4]])
    z = 0.5 * K[0] + 0.2 * R[0] + b
    sig = 1 / (1 + np.exp(-z))
    c = sig[1] * -0.4 + sig[0] * np.tanh(z[2])
    h = sig[3] * np.tanh(c)
    out, h1, c1 = F.lstm(x, K, R, b, [h0, c0])
    np.testing.assert_allclose(c1.data, [[c]], rtol=1e-12)
    np.testing.assert_allclose(h1.data, [[h]], rtol=1e-12)


def test_sigmoid_gates_do_not_overflow():
    x = np.full((1, 3, 1), 1e4, np.float32)
    K = np.full((1, 4), -1.0, np.float32)
    R = np.zeros((1, 4), np.float32)
    out = F.lstm(x, K, R)[0]  # RuntimeWarnings are errors in the test run
    assert np.all(np.isfinite(out.data))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: {**a, "x": a["x"][0]}, "expected inputs of shape"),
        (lambda a: {**a, "kernel": a["kernel"][:, :5]}, "argument 'kernel'"),
        (lambda a: {**a, "recurrent_kernel": a["recurrent_kernel"][:, :5]},
         "argument 'recurrent_kernel'"),
        (lambda a: {**a, "bias": a["bias"][:3]}, "argument 'bias'"),
        (lambda a: {**a, "kernel": a["kernel"].astype(np.float32)}, "dtype"),
        (lambda a: {**a, "initial_state": [a["initial_state"][0]]}, "initial_state"),
        (lambda a: {**a, "mask": np.ones((2, 2), bool)}, "argument 'mask'"),
        (lambda a: {**a, "activation": "elu"}, "argument 'activation'"),
        (lambda a: {**a, "x": a["x"][:, :0]}, "empty"),
    ],
)  # fmt: skip
def test_errors_name_the_argument(rng, change, message):
    x, K, R, b, states = make_case(rng, "lstm")
    args = {"x": x, "kernel": K, "recurrent_kernel": R, "bias": b,
            "initial_state": states}  # fmt: skip
    with pytest.raises((ValueError, TypeError), match=message):
        F.lstm(**change(args))


def test_backward_never_writes_into_the_upstream_gradient(rng):
    """State gradients may arrive as views (here F-ordered); they must stay intact."""
    x, K, R, b, states = make_case(rng, "lstm")
    x = numnet.tensor(x, requires_grad=True, dtype=np.float64)
    outs = F.lstm(x, K, R, b, states, return_sequences=True)
    grads = [np.asfortranarray(rng.normal(size=o.shape)) for o in outs]
    kept = [g.copy() for g in grads]
    op = outs[0].creator
    op.backward(*grads)
    for g, k in zip(grads, kept, strict=True):
        np.testing.assert_array_equal(g, k)


@pytest.fixture
def fused_cells_on_numpy(monkeypatch):
    """Run the per-step cell methods of ``Ops`` (what CuPy runs as one kernel
    each) on NumPy: the reference forms of ``lstm_cell_``, ``gru_cell_`` and
    their ``_backward_``, wired exactly as on CuPy."""
    from numnet.backend.ops import Ops
    from numnet.functional import recurrent_cells

    monkeypatch.setattr(recurrent_cells, "FUSED_CELL_BACKENDS", ("cupy", "numpy"))
    calls = []
    names = ("lstm_cell_", "gru_cell_", "lstm_cell_backward_", "gru_cell_backward_")
    for name in names:
        method = getattr(Ops, name)

        def spy(self, *args, _method=method, _name=name):
            calls.append(_name)
            return _method(self, *args)

        monkeypatch.setattr(Ops, name, spy)
    return calls


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize(
    "masked, go_backwards, return_sequences, dropout, bias, state",
    [(False, False, False, False, True, True), (True, True, True, False, True, True),
     (True, False, True, True, False, False), (False, True, False, True, True, False)],
)  # fmt: skip
def test_cell_kernels_reference_matches_composed_oracle(
    rng, fused_cells_on_numpy, kind, masked, go_backwards, return_sequences,
    dropout, bias, state,
):  # fmt: skip
    case = make_case(rng, kind, bias=bias, state=state)
    rec_mask = (rng.random((3, 3)) > 0.3) / 0.7 if dropout else None
    opts = _options(ragged_mask(3, 4) if masked else None, go_backwards,
                    return_sequences, rec_mask=rec_mask)  # fmt: skip
    _compare_twins(kind, case, opts, rng)
    # the fused op ran the per-step cell methods, forward and backward
    assert {f"{kind}_cell_", f"{kind}_cell_backward_"} <= set(fused_cells_on_numpy)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_cell_kernels_reference_gradcheck(rng, fused_cells_on_numpy, kind):
    x, K, R, b, states = make_case(rng, kind)
    opts = _options(ragged_mask(3, 4), True, True)

    def fn(x, K, R, b, *states):
        return fused(kind, x, K, R, b, list(states), **opts)

    assert numnet.gradcheck(fn, [x, K, R, b, *states])
    assert f"{kind}_cell_backward_" in fused_cells_on_numpy


def test_cell_kernels_not_used_off_default_activations(rng, fused_cells_on_numpy):
    case = make_case(rng, "lstm")
    _compare_twins("lstm", case, _options(None, False, True, act="relu"), rng)
    case = make_case(rng, "gru_v1")
    _compare_twins("gru_v1", case, _options(None, False, True), rng)
    assert fused_cells_on_numpy == []
