"""Looking inside a network: learned filters, feature maps, the layer diagram."""

from __future__ import annotations

import math

import numpy as np

from numnet import backend
from numnet.viz._common import finish, hide_ticks, mosaic, new_figure, normalize_tiles


def _kernel_of(layer_or_kernel) -> np.ndarray:
    """The (KH, KW, C_in, C_out) kernel of a Conv2D layer, a Tensor or an array."""
    obj = layer_or_kernel
    if hasattr(obj, "get_weights") and not backend.is_array(obj):
        weights = getattr(obj, "_weights", {})
        kernel = getattr(obj, "kernel", None)
        kernel = weights.get("kernel") if kernel is None else kernel
        if kernel is None:  # any 4-D weight, e.g. a custom conv layer
            kernel = next((w for w in obj.get_weights() if np.ndim(w) == 4), None)
        obj = kernel
    array = backend.to_host(obj).astype(np.float64)  # a Tensor or any array
    if array.ndim != 4:
        raise ValueError(
            "plot_filters: expected a Conv2D layer (built) or a kernel of shape "
            f"(KH, KW, C_in, C_out). Received: shape={array.shape}"
        )
    return array


def plot_filters(
    layer_or_kernel, channel=None, max_filters=64, path=None, figsize=None
):
    """Show the learned convolution kernels as a grid of small images.

    A kernel with 3 input channels (the first layer of an RGB network) is drawn
    in colour; otherwise each filter shows the weights it applies to input
    ``channel`` (default 0). Each tile is scaled to its own min/max.

    Args:
        layer_or_kernel: a built Conv2D layer, or its kernel (KH, KW, C_in, C_out).
        channel: the input channel to show (default: RGB if C_in == 3, else 0).
        max_filters: show at most this many output filters.
        path: save the figure there.
        figsize: ``(width, height)`` in inches.

    Returns:
        The matplotlib Figure.

    Example:
        >>> import numpy as np
        >>> fig = plot_filters(np.random.default_rng(0).normal(size=(3, 3, 1, 8)))
        >>> fig.axes[0].get_title()
        'filters 3×3, input channel 0 (8 of 8)'
    """
    kernel = _kernel_of(layer_or_kernel)
    KH, KW, C_in, C_out = kernel.shape
    n = min(C_out, max_filters)
    filters = np.moveaxis(kernel[..., :n], -1, 0)  # (n, KH, KW, C_in)
    rgb = channel is None and C_in == 3
    if rgb:
        tiles, what = normalize_tiles(filters), "RGB"
    else:
        c = 0 if channel is None else channel
        if not 0 <= c < C_in:
            raise ValueError(
                f"plot_filters: invalid value for argument 'channel'. Expected 0 <= "
                f"channel < {C_in}. Received: channel={channel}"
            )
        tiles, what = normalize_tiles(filters[..., c]), f"input channel {c}"
    cols = math.ceil(math.sqrt(n))
    grid = mosaic(tiles, cols, fill=1.0)
    fig = new_figure(
        *(figsize or (0.5 + 0.45 * cols, 0.8 + 0.45 * math.ceil(n / cols)))
    )
    ax = fig.add_subplot()
    ax.imshow(grid, cmap=None if rgb else "gray", interpolation="nearest")
    ax.set_title(f"filters {KH}×{KW}, {what} ({n} of {C_out})", fontsize=9)
    hide_ticks(ax)
    return finish(fig, path)


def layer_activations(model, x) -> list[tuple[str, np.ndarray]]:
    """``[(layer name, activation)]`` for every layer of ``model`` on input ``x``.

    Uses ``model.layer_outputs(x)`` when the model has it; otherwise runs the
    layers of a sequential ``model.layers`` one after the other in eval mode.
    """
    if hasattr(model, "layer_outputs"):
        return [(name, _first_array(a)) for name, a in model.layer_outputs(x)]
    from numnet import no_grad

    outputs, h = [], x
    with no_grad():
        for layer in model.layers:
            h = layer(h, training=False)
            outputs.append((layer.name, _first_array(h)))
    return outputs


def _first_array(out) -> np.ndarray:
    """The (first) output of a layer as an ndarray (multi-output layers: the first)."""
    while isinstance(out, (list, tuple)):
        out = out[0]
    return backend.to_host(out)


def _feature_images(activations: list[np.ndarray], max_channels: int) -> list:
    """One image per layer, all on a common pixel scale (one sample each).

    Maps (H, W, C) become a row of channel tiles; vectors (D,) become strips of
    b×b blocks per unit wrapped to the width of the widest row, with b up to a
    quarter of the largest map's height and shrunk so that a long vector (a
    Flatten output) is no taller than that map; sequences (T, D) are shown as is.
    """
    acts = [np.asarray(a, dtype=np.float64) for a in activations]
    maps = {
        i: np.moveaxis(a[..., :max_channels], -1, 0)
        for i, a in enumerate(acts)
        if a.ndim == 3
    }
    tallest = max((m.shape[1] for m in maps.values()), default=16)
    images = {i: mosaic(normalize_tiles(m), cols=len(m)) for i, m in maps.items()}
    width = max((im.shape[1] for im in images.values()), default=64 * tallest // 4)
    for i, a in enumerate(acts):
        if a.ndim == 1:
            # Largest b with ceil(D·b / width)·b <= tallest (about), at most tallest/4.
            block = int(max(1, min(tallest // 4, np.sqrt(width * tallest / len(a)))))
            per_row = max(1, min(len(a), width // block))
            flat = np.pad(
                normalize_tiles(a[None])[0],
                (0, -len(a) % per_row),
                constant_values=np.nan,
            )
            strip = flat.reshape(-1, per_row)
            images[i] = np.kron(strip, np.ones((block, block)))
        elif i not in images:  # (T, D) sequences and anything else, flattened
            images[i] = normalize_tiles(a.reshape(1, a.shape[0], -1))[0]
    return [images[i] for i in range(len(acts))], width


def plot_feature_maps(model, x, max_channels=16, path=None, figsize=None):
    """Show what every layer outputs for one input: one row per layer.

    Convolutional outputs show their first ``max_channels`` channels as images;
    dense outputs a strip of units. Each map is scaled to its own min/max, and
    all rows share one pixel scale.

    Args:
        model: a model with ``layer_outputs(x)`` or a sequential ``layers`` list.
        x: a batch; only the first sample is used (pass ``x[i : i + 1]``).
        max_channels: channels shown per layer.
        path: save the figure there.
        figsize: ``(width, height)`` in inches.

    Returns:
        The matplotlib Figure.
    """
    x = backend.to_host(x)[:1]
    rows = [("input", x)] + layer_activations(model, x)
    images, width = _feature_images([a[0] for _, a in rows], max_channels)
    heights = [im.shape[0] for im in images]
    inch_per_pixel = 7.5 / width  # the images use 7.5 of the 9 inches
    default_height = round(
        min(0.3 + sum(h * inch_per_pixel + 0.12 for h in heights), 24), 2
    )
    fig = new_figure(*(figsize or (9.0, default_height)))
    axes = fig.subplots(len(rows), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, (name, act), image in zip(axes, rows, images, strict=True):
        ax.imshow(image, cmap="viridis", interpolation="nearest")
        ax.set_xlim(-0.5, width - 0.5)  # common scale: narrow rows stay narrow
        ax.axis("off")
        shape = "×".join(str(d) for d in act.shape[1:])
        ax.text(
            -0.01 * width,
            image.shape[0] / 2,
            f"{name}\n{shape}",
            ha="right",
            va="center",
            fontsize=7,
        )
    return finish(fig, path)


def _sample_shape(model, input_shape):
    """The shape of one input sample, from the argument or the model, or None."""
    if input_shape is not None:
        return tuple(input_shape)
    shape = getattr(model, "input_shape", None)
    if shape is not None and not isinstance(shape[0], (tuple, list)):
        return tuple(shape)[1:]  # Keras convention: includes the batch axis
    first = model.layers[0] if getattr(model, "layers", None) else None
    return getattr(first, "_input_shape", None)


def _inbound(model) -> dict[str, list[str]]:
    """Layer name -> names of the layers feeding it (functional models only)."""
    links: dict[str, list[str]] = {}
    for node in getattr(model, "_nodes", []):
        names = [t.layer.name for t in getattr(node, "inputs", [])]
        links.setdefault(node.layer.name, []).extend(names)
    return links


def _shape_text(shape) -> str:
    shape = tuple(shape)
    return "(" + ", ".join(str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def _graph_shapes(model) -> dict[str, str]:
    """Layer name -> output shape, read from a functional graph's symbolic tensors.

    No dry run: unknown axes stay None and any number of inputs works.
    """
    shapes: dict[str, str] = {}
    for node in [t.node for t in model.inputs] + list(model._nodes):
        outs = [_shape_text(t.shape) for t in node.outputs]
        text = outs[0] if len(outs) == 1 else "[" + ", ".join(outs) + "]"
        shapes.setdefault(node.layer.name, text)
    return shapes


def _dry_run_shapes(model, sample) -> dict[str, str]:
    """Layer name -> output shape from two dry runs on zeros.

    Unknown axes in ``sample`` (None) are run at lengths 1 and 2: an output axis
    that differs between the runs is shown as None.
    """
    runs = []
    for fill in (1, 2):
        zeros = np.zeros((1, *(fill if d is None else d for d in sample)), np.float32)
        runs.append(dict(layer_activations(model, zeros)))
    shapes = {"__input__": _shape_text((None, *sample))}
    for name, a in runs[0].items():
        pairs = zip(a.shape[1:], runs[1][name].shape[1:], strict=True)
        dims = [d if d == e else None for d, e in pairs]
        shapes[name] = _shape_text((None, *dims))
    return shapes


def model_rows(model, input_shape=None) -> list[tuple[str, str, str, int, list]]:
    """``(name, class, output shape, parameter count, inbound layers)`` per layer.

    The inbound list is empty for a plain chain (each layer feeds the next).
    Functional models (any number of inputs) take their shapes from the graph;
    other models from a dry run on zeros of ``input_shape`` (one sample).
    """
    shapes: dict[str, str] = {}
    if (
        input_shape is None
        and getattr(model, "_nodes", None) is not None
        and getattr(model, "inputs", None)
    ):
        shapes = _graph_shapes(model)
    else:
        sample = _sample_shape(model, input_shape)
        if sample is not None:
            shapes = _dry_run_shapes(model, sample)
    links, rows, previous = _inbound(model), [], None
    for layer in model.layers:
        kind = type(layer).__name__
        shape = shapes.get(
            layer.name, shapes.get("__input__", "?") if kind == "InputLayer" else "?"
        )
        inbound = links.get(layer.name, [])
        inbound = [] if inbound in ([], [previous]) else inbound
        params = int(layer.count_params()) if layer.built else 0
        rows.append((layer.name, kind, shape, params, inbound))
        previous = layer.name
    return rows


def plot_model(
    model,
    path=None,
    input_shape=None,
    figsize=None,
    show_shapes: bool = True,
    show_layer_names: bool = True,
):
    """Draw the network as a column of boxes: layer, type, output shape, params.

    Args:
        model: a model with a ``layers`` list (Sequential or functional, any
            number of inputs).
        path: save the figure there.
        input_shape: the shape of one sample, if the model does not know it.
        figsize: ``(width, height)`` in inches.
        show_shapes: write each layer's output shape in its box.
        show_layer_names: write each layer's name (else only its class).

    Returns:
        The matplotlib Figure.
    """
    rows = model_rows(model, input_shape)
    n = len(rows)
    fig = new_figure(*(figsize or (4.6, 0.3 + 0.75 * n)))
    ax = fig.add_subplot()
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.15, n - 0.3)
    ax.invert_yaxis()
    ax.axis("off")
    for i, (name, kind, shape, params, inbound) in enumerate(rows):
        _draw_layer_box(
            ax, i, name if show_layer_names else "", kind,
            shape if show_shapes else "", params, inbound,
        )  # fmt: skip
        if i + 1 < n:
            arrow = {"arrowstyle": "->", "color": "0.3"}
            ax.annotate("", (0.5, i + 0.97), (0.5, i + 0.58), arrowprops=arrow)
    total = sum(row[3] for row in rows)
    ax.set_title(
        f"{getattr(model, 'name', type(model).__name__)}: {total:,} params", fontsize=9
    )
    return finish(fig, path)


def _draw_layer_box(ax, i, name, kind, shape, params, inbound) -> None:
    """Box ``i`` (top = 0): name and type, then output shape, params, inputs."""
    from matplotlib.patches import FancyBboxPatch

    box = FancyBboxPatch(
        (0.05, i),
        0.9,
        0.55,
        boxstyle="round,pad=0.02",
        facecolor=_box_color(kind),
        edgecolor="0.3",
    )
    ax.add_patch(box)
    title = f"{name} ({kind})" if name else kind
    ax.text(0.5, i + 0.17, title, ha="center", va="center", fontsize=8.5, weight="bold")
    detail = f"{shape}   {params:,} params" if shape else f"{params:,} params"
    if inbound:  # a functional graph: say where the inputs come from
        detail += "   ← " + ", ".join(inbound)
    ax.text(0.5, i + 0.4, detail, ha="center", va="center", fontsize=7.5)


def _box_color(kind: str) -> str:
    for key, color in (
        ("Conv", "#cfe2f3"),
        ("Pool", "#d9ead3"),
        ("Dense", "#fce5cd"),
        ("Norm", "#ead1dc"),
        ("Dropout", "#eeeeee"),
    ):
        if key in kind:
            return color
    return "#fff2cc"
