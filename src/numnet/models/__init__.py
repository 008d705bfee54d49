"""Keras-like models: ``Sequential``, subclassed ``Model``, functional ``Model``.

Example:
    >>> from numnet import layers, models
    >>> model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    >>> model.compile(optimizer="sgd", loss="mse")
"""

from numnet import _registry
from numnet.models.cloning import clone_model, model_from_json
from numnet.models.functional import Functional
from numnet.models.model import Model
from numnet.models.sequential import Sequential

for _cls in (Functional, Model, Sequential):  # configs may name them
    _registry.BUILTIN_LAYER_CLASSES[_cls.__name__] = _cls


def load_model(filepath, custom_objects=None, compile=True, device=None):  # noqa: A002
    """Load a model saved with ``model.save`` (see :func:`numnet.saving.load_model`)."""
    from numnet import saving

    return saving.load_model(
        filepath, custom_objects=custom_objects, compile=compile, device=device
    )


__all__ = [
    "Functional",
    "Model",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_json",
]
