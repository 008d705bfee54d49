"""Shared plumbing of the plots: headless figures, saving, image mosaics."""

from __future__ import annotations

import math
import os

import numpy as np


def new_figure(width: float, height: float):
    """A matplotlib Figure not attached to pyplot.

    Built from ``matplotlib.figure.Figure`` directly, so it works headless without
    choosing a backend, never opens a window and is freed like any Python object
    (pyplot keeps every figure alive until ``plt.close``). Jupyter still displays
    it when it is the value of a cell.
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def finish(fig, path: str | os.PathLike | None):
    """Save ``fig`` to ``path`` (format from the suffix: .png, .svg, .pdf) if given."""
    if path is not None:
        suffix = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
        supported = fig.canvas.get_supported_filetypes()
        if suffix not in supported:
            raise ValueError(
                "invalid value for argument 'path'. Expected a file name ending in "
                f"one of {sorted(supported)}. Received: path={os.fspath(path)!r}"
            )
        fig.savefig(path)
    return fig


def as_labels(y, argument: str, who: str) -> np.ndarray:
    """Integer labels from labels, one-hot rows or class probabilities."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    y = y.reshape(len(y))
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if np.all(y == np.round(y)):
            return y.astype(np.int64)
        raise ValueError(
            f"{who}: invalid value for argument '{argument}'. Expected integer "
            f"labels, one-hot rows or probabilities. Received: dtype={y.dtype}"
        )
    return y.astype(np.int64)


def as_image_batch(x, who: str) -> np.ndarray:
    """Images as (N, H, W) or (N, H, W, 3|4); square flat rows (N, H*W) reshaped."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(
                f"{who}: flat inputs must hold square images. Received: x.shape="
                f"{x.shape}"
            )
        return x.reshape(len(x), side, side)
    if x.ndim == 4 and x.shape[-1] == 1:
        return x[..., 0]
    if x.ndim == 3 or (x.ndim == 4 and x.shape[-1] in (3, 4)):
        return x
    raise ValueError(
        f"{who}: expected images of shape (N, H, W), (N, H, W, 1|3) or square flat "
        f"rows (N, H*W). Received: x.shape={x.shape}"
    )


def normalize_tiles(tiles: np.ndarray) -> np.ndarray:
    """Scale every tile (first axis) to [0, 1] on its own; constant tiles -> 0.5."""
    axes = tuple(range(1, tiles.ndim))
    low = tiles.min(axis=axes, keepdims=True)
    span = tiles.max(axis=axes, keepdims=True) - low
    return np.where(span > 0, (tiles - low) / np.where(span > 0, span, 1), 0.5)


def mosaic(tiles: np.ndarray, cols: int, gap: int = 1, fill: float = np.nan):
    """Arrange (n, h, w[, 3]) tiles in a grid, ``gap`` pixels apart.

    One big image is much faster to draw than one axes per tile; the gaps are NaN
    (drawn as the background) for gray tiles, ``fill`` for RGB ones.
    """
    n, h, w = tiles.shape[:3]
    rows = math.ceil(n / cols)
    extra = tiles.shape[3:]
    # Pad every tile with the gap (and the grid with blank tiles), then interleave
    # the axes: (rows, cols, h', w') -> (rows, h', cols, w').
    padded = np.full((rows * cols, h + gap, w + gap, *extra), fill)
    padded[:n, :h, :w] = tiles
    grid = padded.reshape(rows, cols, h + gap, w + gap, *extra).swapaxes(1, 2)
    grid = grid.reshape(rows * (h + gap), cols * (w + gap), *extra)
    return grid[: rows * (h + gap) - gap, : cols * (w + gap) - gap]


def hide_ticks(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
