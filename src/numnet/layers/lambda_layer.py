"""Lambda: wrap a small function of tensors as a layer.

numnet never serialises Python code: a saved architecture is data only (JSON)
and is resolved through the registry of numnet's own layer classes, because
loading code from a file runs whatever the file says (Keras needs a
``safe_mode`` switch and still had CVE-2025-1550 for it). So a model containing
a ``Lambda`` can be saved with its *weights* only; asking for its architecture
(``get_config``, hence ``model.save``) raises :class:`LambdaNotSerializableError`
with the remedy: save the weights, rebuild the model in code, load the weights
(or write a small ``Layer`` subclass, see docs/custom-layers.md).
"""

from __future__ import annotations

from collections.abc import Callable

from numnet.layers.base import Layer


class LambdaNotSerializableError(TypeError):
    """Raised when the architecture of a model containing a Lambda is requested."""


class Lambda(Layer):
    """Apply ``function(inputs, **arguments)`` as a layer (no weights).

    Args:
        function: a callable of Tensors built from ``numnet.functional`` ops (or
            Tensor methods), so that autograd differentiates it.
        output_shape: optional shape of one output sample (without the batch
            axis), or a callable ``input_shape -> output_shape`` (with the batch
            axis); only used by :meth:`compute_output_shape`.
        arguments: optional dict of extra keyword arguments for ``function``.
        **kwargs: the :class:`Layer` arguments (name, trainable, ...).

    Tensors created inside ``function`` are constants: a Lambda has no trainable
    weights. Write a ``Layer`` subclass for anything with weights.

    Shape:
        whatever ``function`` does; a list input is passed through as a list.

    Example:
        >>> import numpy as np
        >>> from numnet.layers.lambda_layer import Lambda
        >>> double = Lambda(lambda x: x * 2.0)
        >>> double(np.array([[1.0, 2.0]], np.float32)).data
        array([[2., 4.]], dtype=float32)
    """

    def __init__(
        self,
        function: Callable,
        output_shape=None,
        arguments: dict | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(
                f"Lambda: invalid value for argument 'function'. Expected a callable. "
                f"Received: function={function!r}"
            )
        if not (output_shape is None or callable(output_shape)):
            if not isinstance(output_shape, (list, tuple)) or not all(
                d is None or (isinstance(d, int) and d > 0) for d in output_shape
            ):
                raise ValueError(
                    f"Lambda: invalid value for argument 'output_shape'. Expected a "
                    f"tuple of positive ints (None for unknown), or a callable. "
                    f"Received: output_shape={output_shape!r}"
                )
            output_shape = tuple(output_shape)
        if arguments is not None and not isinstance(arguments, dict):
            raise ValueError(
                f"Lambda: invalid value for argument 'arguments'. Expected a dict. "
                f"Received: arguments={arguments!r}"
            )
        self.function = function
        self.output_shape = output_shape
        self.arguments = dict(arguments or {})

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        """The output shape (batch axis included) if ``output_shape`` was given.

        Returns:
            The shape, or None when the Lambda was created without ``output_shape``
            (the shape is then only known by running the function).
        """
        if self.output_shape is None:
            return None
        if callable(self.output_shape):
            return tuple(self.output_shape(input_shape))
        batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
        return (batch,) + self.output_shape

    def get_config(self) -> dict:
        """Refuse: a Lambda holds Python code, which numnet never serialises.

        Raises:
            LambdaNotSerializableError: always, with the remedy.
        """
        name = getattr(self.function, "__name__", repr(self.function))
        raise LambdaNotSerializableError(
            f"Lambda: layer {self.name!r} wraps the Python function {name!r}; numnet "
            f"never serialises Python code, so a model containing a Lambda cannot be "
            f"saved with its architecture. Save its weights (model.save_weights), "
            f"rebuild the model in code and load the weights, or replace the Lambda "
            f"by a Layer subclass (see docs/custom-layers.md)"
        )
