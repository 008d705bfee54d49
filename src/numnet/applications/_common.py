"""Argument checks and the classifier head shared by the architectures."""

from __future__ import annotations

from numnet import layers


def check_positive(value, argument: str, who: str) -> int:
    """Return ``value`` if it is a positive int, else raise a Keras-style error."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"{who}: invalid value for argument '{argument}'. Expected a positive "
            f"int. Received: {argument}={value!r}"
        )
    return value


def check_input_shape(shape, who: str, rank: int = 3) -> tuple:
    """Validate a per-sample shape such as (28, 28, 1)."""
    ok = isinstance(shape, (tuple, list)) and len(shape) == rank
    ok = ok and all(isinstance(d, int) and d > 0 for d in shape)
    if not ok:
        raise ValueError(
            f"{who}: invalid value for argument 'input_shape'. Expected {rank} "
            f"positive ints (height, width, channels). Received: input_shape={shape!r}"
        )
    return tuple(shape)


def prefixed(name: str | None, suffix: str) -> str | None:
    """``name_suffix``, or None (automatic layer names) when ``name`` is None."""
    return None if name is None else f"{name}_{suffix}"


def classifier(x, num_classes: int, activation: str | None, name: str = "predictions"):
    """The final Dense layer (softmax probabilities, or logits for None)."""
    return layers.Dense(num_classes, activation=activation, name=name)(x)
