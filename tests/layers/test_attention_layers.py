"""Attention layers, RepeatVector, Permute and the Softmax layer's mask."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.layers.helpers import run_layer_test

import numnet
from numnet import backend, layers, models
from numnet.models.functional import Functional


def _softmax(s, mask=None):
    mask = np.ones(s.shape, bool) if mask is None else np.broadcast_to(mask, s.shape)
    e = np.where(mask, np.exp(s - s.max(-1, keepdims=True)), 0)
    total = e.sum(-1, keepdims=True)
    return e / np.where(total > 0, total, 1)


def _data(rng, n=2, tq=3, tv=4, d=5):
    return rng.normal(size=(n, tq, d)), rng.normal(size=(n, tv, d))


def test_attention_is_luong_dot_with_masks(rng):
    q, v = _data(rng)
    q_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    v_mask = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], bool)
    out, w = layers.Attention()(
        [q, v], mask=[q_mask, v_mask], return_attention_scores=True
    )
    expected_w = _softmax(q @ v.transpose(0, 2, 1), v_mask[:, None, :])
    np.testing.assert_allclose(w.data, expected_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        out.data, (expected_w @ v) * q_mask[..., None], rtol=1e-5, atol=1e-6
    )


def test_attention_key_differs_from_value_and_causal(rng):
    q, v = _data(rng, tq=4, tv=4)
    k = rng.normal(size=v.shape)
    out = layers.Attention()([q, v, k], use_causal_mask=True)
    tri = np.tril(np.ones((4, 4), bool))
    expected = _softmax(q @ k.transpose(0, 2, 1), tri) @ v
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)


def test_additive_attention_is_bahdanau(rng):
    q, v = _data(rng, d=3)
    layer = layers.AdditiveAttention()
    out = layer([q, v])
    scale = layer.scale.data
    scores = (scale * np.tanh(q[:, :, None, :] + v[:, None, :, :])).sum(-1)
    np.testing.assert_allclose(out.data, _softmax(scores) @ v, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "factory",
    [
        lambda: layers.Attention(use_scale=True),
        lambda: layers.Attention(),
        lambda: layers.AdditiveAttention(),
    ],
)
@pytest.mark.parametrize("causal", [False, True])
def test_dense_attention_gradcheck_with_masks(rng, factory, causal):
    q, v = _data(rng, tq=4, tv=4, d=3)
    k = rng.normal(size=v.shape)
    masks = [rng.random((2, 4)) > 0.2, np.array([[1, 1, 0, 1], [1, 1, 1, 0]], bool)]
    with backend.floatx_scope("float64"):
        layer = factory()
        layer([q, v, k])

        def fn(a, b, c):
            return layer(
                [a, b, c],
                mask=masks,
                use_causal_mask=causal,
                return_attention_scores=True,
            )

        numnet.gradcheck(fn, [q, v, k], wrt=layer.trainable_weights)


def test_attention_dropout_only_in_training(rng):
    q, v = _data(rng)
    layer = layers.Attention(dropout=0.5)
    a = layer([q, v], training=False).data
    np.testing.assert_allclose(a, layers.Attention()([q, v]).data, rtol=1e-6)
    assert not np.allclose(layer([q, v], training=True).data, a)


def _mha_factory(**kwargs):
    return lambda: layers.MultiHeadAttention(num_heads=2, key_dim=3, **kwargs)


def test_mha_layer_test_self_attention():
    layer = run_layer_test(
        _mha_factory(),
        input_shape=(2, 4, 5),
        expected_output_shape=(2, 4, 5),
        expected_trainable_params=3 * (5 * 6 + 6) + 6 * 5 + 5,
    )
    shapes = {w.name.split("/", 1)[1]: w.shape for w in layer.weights}
    assert shapes == {
        "query/kernel": (5, 2, 3),
        "query/bias": (2, 3),
        "key/kernel": (5, 2, 3),
        "key/bias": (2, 3),
        "value/kernel": (5, 2, 3),
        "value/bias": (2, 3),
        "attention_output/kernel": (2, 3, 5),
        "attention_output/bias": (5,),
    }


def test_mha_dropout_trains_differently():
    run_layer_test(
        _mha_factory(dropout=0.3, value_dim=2, output_shape=4),
        input_shape=(2, 3, 5),
        expected_output_shape=(2, 3, 4),
        train_differs=True,
        loss_decrease=False,
    )


def _mha_numpy(layer, q, v, k, mask):
    w = {
        name.split("/", 1)[1]: x.data
        for name, x in ((t.name, t) for t in layer.weights)
    }
    proj = {
        name: np.einsum("ntd,dhk->nhtk", x, w[f"{name}/kernel"])
        + w[f"{name}/bias"][None, :, None, :]
        for name, x in (("query", q), ("key", k), ("value", v))
    }
    s = proj["query"] @ proj["key"].transpose(0, 1, 3, 2) / np.sqrt(layer.key_dim)
    p = _softmax(s, mask)
    o = p @ proj["value"]
    out = np.einsum("nhtv,hvo->nto", o, w["attention_output/kernel"])
    return out + w["attention_output/bias"], p


def test_mha_matches_numpy_with_all_masks(rng):
    q, v = _data(rng, tq=4, tv=4, d=5)
    k = rng.normal(size=(2, 4, 3))
    attention_mask = rng.random((2, 4, 4)) > 0.3
    value_mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    layer = layers.MultiHeadAttention(2, 3, dtype="float64")
    out, p = layer(
        q,
        v,
        key=k,
        attention_mask=attention_mask,
        value_mask=value_mask,
        use_causal_mask=True,
        return_attention_scores=True,
    )
    mask = attention_mask & value_mask[:, None, :] & np.tril(np.ones((4, 4), bool))
    ref_out, ref_p = _mha_numpy(layer, q, v, k, mask[:, None])
    np.testing.assert_allclose(p.data, ref_p, atol=1e-10)
    np.testing.assert_allclose(out.data, ref_out, atol=1e-10)


@pytest.mark.parametrize("causal", [False, True])
def test_mha_gradcheck_cross_attention_with_masks(rng, causal):
    q, v = _data(rng, tq=3, tv=3, d=4)
    k = rng.normal(size=(2, 3, 2))
    attention_mask = rng.random((2, 3, 3)) > 0.3
    with backend.floatx_scope("float64"):
        layer = layers.MultiHeadAttention(2, 2, value_dim=3)
        layer(q, v, key=k)

        def fn(a, b, c):
            return layer(
                a,
                b,
                key=c,
                attention_mask=attention_mask,
                use_causal_mask=causal,
                return_attention_scores=True,
            )

        numnet.gradcheck(fn, [q, v, k], wrt=layer.trainable_weights)


def test_mha_rejects_bad_inputs(rng):
    layer = layers.MultiHeadAttention(2, 3, name="mha")
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(0, 3)
    q, v = _data(rng)
    layer(q, v)
    with pytest.raises(ValueError, match="'mha'.*feature sizes"):
        layer(q[..., :4], v)
    with pytest.raises(ValueError, match="'mha'.*same number of steps"):
        layer(q, v, key=v[:, :2])


def test_mha_matches_torch(rng):
    torch = pytest.importorskip("torch")
    E, H = 6, 2
    q, v = _data(rng, tq=4, tv=5, d=E)
    layer = layers.MultiHeadAttention(H, E // H, dtype="float64")
    layer(q, v)
    w = {t.name.split("/", 1)[1]: t.data for t in layer.weights}
    ref = torch.nn.MultiheadAttention(E, H, batch_first=True, dtype=torch.float64)
    in_w = [w[f"{n}/kernel"].reshape(E, E).T for n in ("query", "key", "value")]
    in_b = [w[f"{n}/bias"].reshape(E) for n in ("query", "key", "value")]
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.from_numpy(np.concatenate(in_w)))
        ref.in_proj_bias.copy_(torch.from_numpy(np.concatenate(in_b)))
        ref.out_proj.weight.copy_(
            torch.from_numpy(w["attention_output/kernel"].reshape(E, E).T)
        )
        ref.out_proj.bias.copy_(torch.from_numpy(w["attention_output/bias"]))
    mask = rng.random((4, 5)) > 0.3
    mask[:, 0] = True  # torch gives NaN on rows with nothing to attend to
    t_out, t_p = ref(
        *(torch.from_numpy(a) for a in (q, v, v)),
        attn_mask=torch.from_numpy(~mask),
        average_attn_weights=False,
    )
    out, p = layer(q, v, attention_mask=mask[None], return_attention_scores=True)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(p.data, t_p.detach().numpy(), atol=1e-10)


def test_layer_normalization_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(3, 4, 6)) * 3 + 1
    layer = layers.LayerNormalization(epsilon=1e-5, dtype="float64")
    layer(x)
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    layer.set_weights([gamma, beta])
    ref = torch.nn.LayerNorm(6, eps=1e-5, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(gamma))
        ref.bias.copy_(torch.from_numpy(beta))
    xt = torch.from_numpy(x).requires_grad_()
    g = rng.normal(size=x.shape)
    (ref(xt) * torch.from_numpy(g)).sum().backward()
    xn = numnet.tensor(x, requires_grad=True, dtype="float64")
    y = layer(xn)
    (y * g).sum().backward()
    np.testing.assert_allclose(y.data, ref(xt).detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(xn.grad, xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(layer.gamma.grad, ref.weight.grad.numpy(), atol=1e-10)


def test_repeat_vector_and_permute():
    run_layer_test(
        lambda: layers.RepeatVector(3),
        input_shape=(2, 4),
        expected_output_shape=(2, 3, 4),
    )
    run_layer_test(
        lambda: layers.Permute((2, 1)),
        input_shape=(2, 3, 4),
        expected_output_shape=(2, 4, 3),
    )
    with pytest.raises(ValueError, match="Permute.*dims"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match="RepeatVector.*'n'"):
        layers.RepeatVector(0)


def test_softmax_layer_with_mask(rng):
    x = rng.normal(size=(2, 3, 4))
    mask = rng.random((2, 3, 4)) > 0.3
    y = layers.Softmax(axis=1)(x, mask=mask).data
    expected = np.where(mask, np.exp(x), 0)
    expected = expected / np.where(
        expected.sum(1, keepdims=True) > 0, expected.sum(1, keepdims=True), 1
    )
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-7)


def _attention_model():
    tokens = layers.Input((5,), dtype="int32", name="tokens")
    x = layers.Embedding(11, 6, mask_zero=True)(tokens)
    x = layers.MultiHeadAttention(2, 3, name="mha")(x, x, use_causal_mask=True)
    y = layers.Attention(use_scale=True, name="luong")([x, x])
    z = layers.AdditiveAttention(name="bahdanau")([y, x])
    z = layers.Softmax(axis=1)(z)
    out = layers.Dense(3)(
        layers.RepeatVector(2)(layers.Flatten()(layers.Permute((2, 1))(z)))
    )
    return models.Model(tokens, out)


def test_functional_graph_save_load_round_trip(rng, tmp_path):
    model = _attention_model()
    x = rng.integers(0, 11, size=(3, 5))
    x[:, -2:] = 0  # padding: the mask reaches the attention layers
    clone = Functional.from_config(json.loads(json.dumps(model.get_config())))
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x), model.predict(x), rtol=1e-5)
    path = tmp_path / "attention.npz"
    model.save(path)
    np.testing.assert_allclose(
        models.load_model(path).predict(x), model.predict(x), rtol=1e-5
    )
