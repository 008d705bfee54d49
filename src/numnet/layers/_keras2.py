"""Keras 2 / PyTorch argument spellings layers accept, and errors for the rest.

Keras 3's ``Layer`` still takes ``input_dim`` (``Dense(32, input_dim=784)``),
``batch_input_shape`` and ``batch_shape``; they become ``input_shape`` here.
An unknown keyword raises a TypeError that names numnet's spelling when the
keyword is another library's name for an argument numnet has.
"""

from __future__ import annotations

#: other libraries' argument names -> numnet's (Keras's) spelling
SPELLINGS = {
    "dim": "axis (or units for Dense)",
    "lr": "learning_rate (an optimizer argument)",
    "in_features": "input_shape=(n,) or input_dim=n",
    "out_features": "units",
    "in_channels": "input_shape=(H, W, C) (channels last)",
    "out_channels": "filters",
    "stride": "strides",
    "bias": "use_bias",
    "hidden_size": "units",
    "num_embeddings": "input_dim",
    "embedding_dim": "output_dim",
    "p": "rate",
    "eps": "epsilon",
    "keep_dims": "keepdims",
    "data_format": "nothing: numnet is channels-last (N, H, W, C) only",
}


def input_shape_from(owner: str, input_shape, kwargs: dict):
    """Fold Keras 2's shape keywords into ``input_shape``; reject anything else."""
    if "input_dim" in kwargs:
        dim = kwargs.pop("input_dim")
        input_shape = input_shape if input_shape is not None else (dim,)
    for key in ("batch_input_shape", "batch_shape"):
        if key in kwargs:
            batch = kwargs.pop(key)
            input_shape = input_shape if input_shape is not None else tuple(batch)[1:]
    kwargs.pop("batch_size", None)  # numnet's batch axis is always dynamic
    if kwargs:
        raise TypeError(unexpected(owner, kwargs))
    return input_shape


def unexpected(owner: str, kwargs: dict) -> str:
    """The message for unknown keyword arguments, with numnet's spelling if known."""
    hints = [f"{k!r} -> {SPELLINGS[k]}" for k in sorted(kwargs) if k in SPELLINGS]
    message = f"{owner}: unexpected keyword argument(s) {sorted(kwargs)}"
    return message + (f"; numnet spells: {', '.join(hints)}" if hints else "")
