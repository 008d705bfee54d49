"""Neural style transfer (Gatys et al., 2015), as taught in the deep learning course.

A generated image G is optimised, pixel by pixel, so that the activations of a
fixed conv net on G match those of a content image C at one layer, and the
correlations between channels (Gram matrices) match those of a style image S at
several layers. All activations are NHWC, (N, n_H, n_W, n_C).

* content cost  J_content = 1 / (4 n_H n_W n_C) * sum((a_C - a_G)^2)
* Gram matrix   G = A^T A, with A the activation unrolled to (n_H n_W, n_C)
* style cost of one layer  J = 1 / (2 n_H n_W n_C)^2 * sum((G_S - G_G)^2)
* style cost    J_style = sum_l lambda_l J_style^[l]
* total cost    J = alpha J_content + beta J_style

The gradient of J with respect to the *input pixels* comes from autograd: the
image is a Tensor with ``requires_grad=True`` (a Parameter), the network's
weights are frozen, and Adam updates the pixels.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import numpy as np

import numnet.functional as F
from numnet import backend
from numnet.autograd.function import no_grad
from numnet.autograd.tensor import Parameter, Tensor, as_tensor
from numnet.backend.device import device_of


def _nhwc(a, name: str) -> Tensor:
    a = as_tensor(a)
    if a.ndim != 4:
        raise ValueError(
            f"{name}: expected NHWC activations (N, n_H, n_W, n_C). "
            f"Received: shape {a.shape}"
        )
    return a


def gram_matrix(a) -> Tensor:
    """Gram matrix of the channels, G[c, c'] = sum over positions of a_c a_c'.

    Args:
        a: activations (N, n_H, n_W, n_C) (or one image (n_H, n_W, n_C)).

    Returns:
        (N, n_C, n_C) Gram matrices (or (n_C, n_C)), unnormalised: the style cost
        divides by (2 n_H n_W n_C)^2.

    Shape:
        a: (N, H, W, C) -> (N, C, C)

    Example:
        >>> import numpy as np
        >>> a = np.arange(8.0).reshape(1, 2, 2, 2)  # positions (0,1) (2,3) (4,5) (6,7)
        >>> gram_matrix(a).data[0]
        array([[56., 68.],
               [68., 84.]])
    """
    a = as_tensor(a)
    if a.ndim == 3:
        return gram_matrix(F.reshape(a, (1,) + a.shape))[0]
    a = _nhwc(a, "gram_matrix")
    n, h, w, c = a.shape
    unrolled = F.reshape(a, (n, h * w, c))  # A: one row per position
    return F.matmul(F.transpose(unrolled, (0, 2, 1)), unrolled)  # A^T A


def _same_shape(name: str, a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name}: the two activations must have the same shape. "
            f"Received: {a.shape} and {b.shape}"
        )


def content_cost(a_C, a_G) -> Tensor:
    """J_content = 1 / (4 n_H n_W n_C) * sum((a_C - a_G)^2), averaged over N.

    Shape:
        a_C, a_G: (N, H, W, C) -> ()
    """
    a_C, a_G = _nhwc(a_C, "content_cost"), _nhwc(a_G, "content_cost")
    _same_shape("content_cost", a_C, a_G)
    n, h, w, c = a_G.shape
    diff = a_C - a_G
    return F.sum(diff * diff) * (1.0 / (4.0 * h * w * c * n))


def style_layer_cost(a_S, a_G) -> Tensor:
    """One layer's style cost 1 / (2 n_H n_W n_C)^2 * sum((G_S - G_G)^2), mean over N.

    Shape:
        a_S, a_G: (N, H, W, C) -> ()
    """
    a_S, a_G = _nhwc(a_S, "style_layer_cost"), _nhwc(a_G, "style_layer_cost")
    _same_shape("style_layer_cost", a_S, a_G)
    n, h, w, c = a_G.shape
    diff = gram_matrix(a_S) - gram_matrix(a_G)
    return F.sum(diff * diff) * (1.0 / ((2.0 * h * w * c) ** 2 * n))


def style_cost(style_activations, generated_activations, weights=None) -> Tensor:
    """J_style = sum_l weights[l] * style_layer_cost(a_S[l], a_G[l]).

    Args:
        style_activations: list of the style image's activations, one per layer.
        generated_activations: the generated image's activations, same layers.
        weights: lambda_l per layer (default: equal weights summing to 1).
    """
    if len(style_activations) != len(generated_activations) or not style_activations:
        raise ValueError(
            f"style_cost: expected one style and one generated activation per layer. "
            f"Received: {len(style_activations)} and {len(generated_activations)}"
        )
    weights = _layer_weights(weights, len(style_activations))
    total = None
    for a_S, a_G, lam in zip(
        style_activations, generated_activations, weights, strict=True
    ):
        term = style_layer_cost(a_S, a_G) * lam
        total = term if total is None else total + term
    return total


def _layer_weights(weights, count: int) -> list[float]:
    if weights is None:
        return [1.0 / count] * count
    weights = [float(w) for w in weights]
    if len(weights) != count or any(w < 0 for w in weights):
        raise ValueError(
            f"invalid value for argument 'style_weights'. Expected {count} "
            f"non-negative floats (one per style layer). Received: {weights}"
        )
    return weights


def total_cost(J_content, J_style, alpha: float = 10.0, beta: float = 40.0) -> Tensor:
    """J = alpha * J_content + beta * J_style (the course's alpha=10, beta=40)."""
    return J_content * alpha + J_style * beta


def extract_features(feature_model, x, layer_names: Sequence[str]) -> list[Tensor]:
    """Activations of ``feature_model`` at ``layer_names`` for the input ``x``.

    Args:
        feature_model: a ``Sequential`` model (its layers are run in order and the
            outputs of the named ones collected, stopping after the last needed),
            or any callable returning a dict ``{name: activation}`` or a list of
            activations aligned with ``layer_names`` (e.g. a functional
            ``Model(inputs, [layer outputs])``).
        x: the input batch (N, H, W, C).
        layer_names: the layers wanted.

    Returns:
        One Tensor per name, in the order of ``layer_names``.
    """
    from numnet import models  # lazy: applications sit above models

    names = list(layer_names)
    sequential = getattr(models, "Sequential", None)
    if sequential is not None and isinstance(feature_model, sequential):
        return _walk_sequential(feature_model.layers, x, names)
    out = feature_model(x)
    if isinstance(out, dict):
        missing = [n for n in names if n not in out]
        if missing:
            raise ValueError(
                f"extract_features: the model's outputs have no layer {missing}. "
                f"Available: {sorted(out)}"
            )
        return [out[n] for n in names]
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    if len(outs) != len(names):
        raise ValueError(
            f"extract_features: the model returned {len(outs)} outputs for "
            f"{len(names)} layer names {names}"
        )
    return outs


def _walk_sequential(layers, x, names: list[str]) -> list[Tensor]:
    wanted = set(names)
    found: dict[str, Tensor] = {}
    known = [layer.name for layer in layers]
    missing = wanted.difference(known)
    if missing:
        raise ValueError(
            f"extract_features: the model has no layer named {sorted(missing)}. "
            f"Its layers are {known}"
        )
    for layer in layers:
        x = layer(x)
        if layer.name in wanted:
            found[layer.name] = x
            if len(found) == len(wanted):
                break
    return [found[n] for n in names]


@contextlib.contextmanager
def _frozen(model):
    """Inference mode and no weight gradients, restored afterwards."""
    weights = list(getattr(model, "weights", []))
    flags = [w.requires_grad for w in weights]
    training = getattr(model, "training", None)
    for w in weights:
        w.requires_grad = False
    if hasattr(model, "eval"):
        model.eval()
    try:
        yield
    finally:
        for w, flag in zip(weights, flags, strict=True):
            w.requires_grad = flag
        if training is not None and hasattr(model, "train"):
            model.train(training)


def _image(x, name: str, dtype) -> np.ndarray:
    array = backend.to_host(x)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[0] != 1 or array.dtype.kind not in "fiu":
        raise ValueError(
            f"StyleTransfer: invalid value for argument '{name}'. Expected one image "
            f"(H, W, C) or (1, H, W, C). Received: shape {array.shape}"
        )
    return array.astype(dtype)


class StyleTransfer:
    """Optimise the pixels of an image to mix the content of one image and the
    style of another, through a frozen feature network.

    Args:
        feature_model: a ``Sequential`` model or a callable (see
            :func:`extract_features`); its weights are frozen while it is used.
        style_layers: names of the layers whose Gram matrices define the style.
        content_layer: the layer whose activations define the content (default:
            the last style layer).
        style_weights: lambda_l per style layer (default: equal, summing to 1).
        alpha, beta: weights of the content and style costs.

    Example (see ``examples/style_transfer.py`` for a full run)::

        st = StyleTransfer(net, ["conv_1", "conv_2"], content_layer="conv_2")
        image, history = st.run(content, style, steps=300)
    """

    def __init__(
        self,
        feature_model,
        style_layers: Sequence[str],
        content_layer: str | None = None,
        style_weights=None,
        alpha: float = 10.0,
        beta: float = 40.0,
    ):
        if isinstance(style_layers, str) or not style_layers:
            raise ValueError(
                f"StyleTransfer: invalid value for argument 'style_layers'. Expected "
                f"a non-empty list of layer names. Received: {style_layers!r}"
            )
        self.feature_model = feature_model
        self.style_layers = list(style_layers)
        self.content_layer = content_layer or self.style_layers[-1]
        self.style_weights = _layer_weights(style_weights, len(self.style_layers))
        self.alpha, self.beta = float(alpha), float(beta)
        self._names = list(dict.fromkeys(self.style_layers + [self.content_layer]))
        # images take the model's dtype (a float64 model in gradient checks)
        weights = list(getattr(feature_model, "weights", []))
        self.dtype = weights[0].dtype if weights else backend.floatx()
        # the generated image lives where the network does (a GPU, say)
        self.device = getattr(feature_model, "device", None) or device_of(None)
        self._content_target = self._style_targets = None

    def _features(self, x) -> dict[str, Tensor]:
        outs = extract_features(self.feature_model, x, self._names)
        return dict(zip(self._names, outs, strict=True))

    def set_targets(self, content, style) -> None:
        """Compute the content activations of C and the style activations of S."""
        content = _image(content, "content", self.dtype)
        style = _image(style, "style", self.dtype)
        if content.shape != style.shape:
            raise ValueError(
                f"StyleTransfer: content and style images must have the same shape. "
                f"Received: {content.shape} and {style.shape}"
            )
        with no_grad(), _frozen(self.feature_model):
            c = self._features(content)
            s = self._features(style)
        self._content_target = c[self.content_layer].data
        self._style_targets = [s[n].data for n in self.style_layers]
        self._shape = content.shape

    def cost(self, generated) -> tuple[Tensor, Tensor, Tensor]:
        """(J, J_content, J_style) of ``generated``, differentiable w.r.t. it."""
        if self._content_target is None:
            raise RuntimeError(
                "StyleTransfer.cost: call set_targets(content, style) first"
            )
        g = self._features(generated)
        j_content = content_cost(self._content_target, g[self.content_layer])
        j_style = style_cost(
            self._style_targets, [g[n] for n in self.style_layers], self.style_weights
        )
        return total_cost(j_content, j_style, self.alpha, self.beta), j_content, j_style

    def run(
        self,
        content,
        style,
        steps: int = 200,
        learning_rate: float = 0.02,
        noise_ratio: float = 0.2,
        clip_range=(0.0, 1.0),
        seed=None,
        callback: Callable | None = None,
    ):
        """Optimise the generated image with Adam, starting from a noisy content image.

        Args:
            content, style: images (H, W, C) or (1, H, W, C), same shape.
            steps: Adam steps on the pixels.
            learning_rate: Adam's learning rate (pixels live in ``clip_range``).
            noise_ratio: the start is (1 - r) * content + r * uniform noise.
            clip_range: pixels are clipped into it after each step (None: never).
            seed: seeds the initial noise (default: numnet's global generator).
            callback: called as ``callback(step, J, J_content, J_style)`` (floats).

        Returns:
            (image (1, H, W, C) ndarray, history dict with lists "J", "J_content",
            "J_style"; entry i is the cost before step i, the last after the end).
        """
        from numnet.optimizers import Adam  # lazy: applications sit above optimizers

        self.set_targets(content, style)
        low, high = clip_range if clip_range is not None else (0.0, 1.0)
        noise = backend.get_rng(seed).uniform(low, high, size=self._shape)
        start = (1 - noise_ratio) * _image(content, "content", self.dtype)
        image = Parameter(
            self.device.put((start + noise_ratio * noise).astype(self.dtype)),
            dtype=self.dtype,
            name="generated_image",
        )
        optimizer = Adam(learning_rate=learning_rate)
        history: dict[str, list[float]] = {"J": [], "J_content": [], "J_style": []}
        with _frozen(self.feature_model):
            for step in range(steps + 1):
                j, j_c, j_s = self.cost(image)
                values = (float(j.data), float(j_c.data), float(j_s.data))
                for key, value in zip(history, values, strict=True):
                    history[key].append(value)
                if callback is not None:
                    callback(step, *values)
                if step == steps:
                    break
                image.grad = None
                j.backward()  # dJ/dpixels: the weights are frozen
                optimizer.apply([image])
                if clip_range is not None:
                    xp = backend.get_array_module(image.data)
                    xp.clip(image.data, low, high, out=image.data)
        return np.array(backend.to_host(image.data)), history


def run_style_transfer(
    feature_model,
    layer_names: Sequence[str],
    content,
    style,
    content_layer: str | None = None,
    style_weights=None,
    alpha: float = 10.0,
    beta: float = 40.0,
    **run_kwargs,
):
    """Build a :class:`StyleTransfer` and run it (the functional form).

    Args:
        feature_model: a ``Sequential`` model or a callable (see
            :func:`extract_features`).
        layer_names: the style layers.
        content, style: the two images (H, W, C) or (1, H, W, C).
        content_layer, style_weights, alpha, beta: see :class:`StyleTransfer`.
        **run_kwargs: steps, learning_rate, noise_ratio, clip_range, seed, callback.

    Returns:
        (generated image (1, H, W, C), history of the costs).
    """
    transfer = StyleTransfer(
        feature_model, layer_names, content_layer, style_weights, alpha, beta
    )
    return transfer.run(content, style, **run_kwargs)
