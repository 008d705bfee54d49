"""Build numnet models from a Keras 3 ``config.json`` (Sequential and functional).

Every class name in the file is looked up in numnet's own allowlist of layer
classes (``numnet.models.registry.layer_class``, plus ``custom_objects``);
nothing named in a file is imported or executed. Keras arguments numnet does not
have are dropped when they hold Keras's neutral value (``dilation_rate=1``,
``groups=1``, ``lora_rank=None``, ...) and refused by name otherwise.
"""

from __future__ import annotations

import inspect

from numnet import layers as nn_layers
from numnet.models.functional import Functional
from numnet.models.registry import layer_class
from numnet.models.sequential import Sequential
from numnet.saving import SaveFormatError

#: Keras-only arguments and the values numnet behaves identically for
_NEUTRAL = {
    "data_format": ("channels_last", None),
    "groups": (1,),
    "activity_regularizer": (None,),
    "lora_rank": (None,),
    "lora_alpha": None,
    "quantization_config": (None,),
    "synchronized": (False,),
    "sparse": (False,),
    "ragged": (False,),
    "optional": (False,),
    "build_config": None,
    "unroll": (False,),
    "stateful": (False,),
    "time_major": (False,),
    "zero_output_for_mask": None,
    "keepdims": (False,),
    "dilation_rate": ((1,), (1, 1), (1, 1, 1), 1),
    "renorm": (False,),
    "renorm_clipping": (None,),
    "renorm_momentum": None,
    "rms_scaling": (False,),
}
_MODELS = ("Sequential", "Functional", "Model")
#: how deep nested model configs may go (a crafted file cannot recurse forever)
MAX_DEPTH = 32


def _accepted_arguments(cls) -> set[str]:
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self":
                names.add(p.name)
    return names


def _is_neutral(key: str, value) -> bool:
    allowed = _NEUTRAL[key]
    if allowed is None:
        return True
    value = tuple(value) if isinstance(value, list) else value
    return value in allowed


def _object_spec(value):
    """A Keras initializer/regularizer/constraint as ``{class_name, config}``."""
    if isinstance(value, dict) and "class_name" in value:
        config = {k: v for k, v in (value.get("config") or {}).items() if v is not None}
        return {"class_name": value["class_name"], "config": config}
    return value


def translate_layer_config(class_name: str, config: dict, custom_objects=None):
    """Turn one Keras layer config into ``(numnet class, numnet config)``.

    Raises:
        SaveFormatError: for a class numnet does not have, or a Keras argument
            with a value numnet cannot honour (named in the message).
    """
    try:
        cls = layer_class(class_name, custom_objects)
    except ValueError as error:
        raise SaveFormatError(f"Keras config: {error}") from error
    accepted = _accepted_arguments(cls)
    result = {}
    for key, value in config.items():
        if key in ("layer", "backward_layer") and isinstance(value, dict):
            value = _nested_spec(value, custom_objects)
        elif key.endswith(("_initializer", "_regularizer", "_constraint")):
            value = _object_spec(value)
        if key == "dtype":
            continue  # Keras's dtype policy; numnet layers compute in floatx
        if key in accepted:
            result[key] = value
        elif not (key in _NEUTRAL and _is_neutral(key, value)):
            raise SaveFormatError(
                f"Keras config: numnet's {class_name} does not support the Keras "
                f"argument {key}={value!r}"
            )
    return cls, result


def _nested_spec(spec: dict, custom_objects) -> dict:
    cls, config = translate_layer_config(
        spec["class_name"], spec["config"], custom_objects
    )
    return {"class_name": cls.__name__, "config": config}


def _make_layer(spec: dict, custom_objects, depth: int):
    class_name = spec.get("class_name")
    if not isinstance(class_name, str) or not isinstance(spec.get("config"), dict):
        raise SaveFormatError(f"Keras config: malformed layer entry {str(spec)[:80]}")
    if class_name in _MODELS:
        return model_from_keras_config(spec, custom_objects, depth + 1)
    cls, config = translate_layer_config(class_name, spec["config"], custom_objects)
    return cls.from_config(config)


def _input_from(spec: dict):
    config = spec["config"]
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    if not isinstance(shape, list) or not shape:
        raise SaveFormatError("Keras config: an InputLayer without a batch_shape")
    return nn_layers.Input(tuple(shape[1:]), name=config.get("name"))


def _sequential(config: dict, custom_objects, depth: int) -> Sequential:
    specs = config.get("layers")
    if not isinstance(specs, list):
        raise SaveFormatError("Keras config: a Sequential without a 'layers' list")
    model_layers = []
    for spec in specs:
        if spec.get("class_name") == "InputLayer":
            model_layers.append(_input_from(spec))
        else:
            model_layers.append(_make_layer(spec, custom_objects, depth))
    return Sequential(model_layers, name=config.get("name"))


def _history(arg, tensors: dict):
    """Resolve a Keras ``__keras_tensor__`` argument (or a list of them)."""
    if isinstance(arg, list):
        return [_history(a, tensors) for a in arg]
    if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__":
        name, node, index = arg["config"]["keras_history"]
        try:
            return tensors[(name, node, index)]
        except KeyError:
            raise SaveFormatError(
                f"Keras config: a layer input names {name!r} (node {node}, tensor "
                f"{index}), which no earlier layer produced"
            ) from None
    raise SaveFormatError(f"Keras config: unsupported layer argument {str(arg)[:80]}")


def _call_node(layer, node: dict, tensors: dict):
    args = node.get("args") or []
    if len(args) != 1:
        raise SaveFormatError(
            f"Keras config: layer {layer.name!r} is called with {len(args)} "
            f"positional arguments; numnet layers take one"
        )
    return layer(_history(args[0], tensors))


def _functional(config: dict, custom_objects, depth: int) -> Functional:
    tensors: dict = {}
    for spec in config.get("layers") or []:
        name = spec.get("name") or spec["config"].get("name")
        if spec.get("class_name") == "InputLayer":
            tensors[(name, 0, 0)] = _input_from(spec)
            continue
        layer = _make_layer(spec, custom_objects, depth)
        for node_index, node in enumerate(spec.get("inbound_nodes") or []):
            outputs = _call_node(layer, node, tensors)
            outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            for tensor_index, tensor in enumerate(outputs):
                tensors[(name, node_index, tensor_index)] = tensor

    def endpoints(key):
        value = config.get(key)
        if value and not isinstance(value[0], list):
            value = [value]  # one endpoint written as [name, node, index]
        try:
            return [tensors[tuple(v)] for v in value]
        except (KeyError, TypeError):
            raise SaveFormatError(f"Keras config: bad '{key}' {value!r}") from None

    inputs, outputs = endpoints("input_layers"), endpoints("output_layers")
    return Functional(
        inputs if len(inputs) > 1 else inputs[0],
        outputs if len(outputs) > 1 else outputs[0],
        name=config.get("name"),
    )


def model_from_keras_config(spec: dict, custom_objects=None, depth: int = 0):
    """Build a numnet model from a Keras 3 model config (``config.json``'s content).

    Args:
        spec: ``{"class_name": "Sequential" | "Functional", "config": {...}}``.
        custom_objects: extra layer classes by name, as for ``load_model``.

    Raises:
        SaveFormatError: for an unknown class, an unsupported argument, a
            malformed graph, or nesting deeper than ``MAX_DEPTH``.
    """
    if depth > MAX_DEPTH:
        raise SaveFormatError(f"Keras config: models nested deeper than {MAX_DEPTH}")
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise SaveFormatError("Keras config: expected {'class_name', 'config'}")
    class_name = spec.get("class_name")
    if class_name == "Sequential":
        return _sequential(spec["config"], custom_objects, depth)
    if class_name in ("Functional", "Model"):
        return _functional(spec["config"], custom_objects, depth)
    raise SaveFormatError(
        f"Keras config: expected a Sequential or Functional model. Received: "
        f"class_name={class_name!r}"
    )
