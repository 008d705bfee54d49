"""Every public layer agrees on the CPU and on a device, and gradchecks there.

For each case of ``tests/gpu/layer_cases.py`` (one or more per public layer
class; ``test_every_public_layer_has_a_case`` keeps the table complete):

* **agreement, float32**: the same layer, weights and random draws run on the
  CPU and then, moved with ``layer.to(device)``, on the device; the outputs, the
  gradients of the inputs and of every trainable weight (under a random
  upstream gradient) and the non-trainable weights (batch norm's moving
  statistics) after the call agree within float32 tolerances, in inference and
  in training mode;
* **gradcheck, float64, on the device**: ``numnet.gradcheck`` with respect to
  the float inputs and every trainable weight, in inference mode and, for
  layers whose training mode differs, in training mode with the random draws
  pinned.

The devices (the ``device`` fixture of ``tests/conftest.py``) are "strict"
(the strict namespace of ``tests/strict_namespace.py`` registered as a device,
where numnet runs its portable reference kernels and any call past the array
seam fails: on every machine) and "cuda" (CuPy and its CUDA kernels; only where
CuPy finds a GPU, marked ``gpu``).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from tests.gpu.layer_cases import CASES, Scale
from tests.gpu.strict_device import strict_device
from tests.strict_namespace import SLIPS

import numnet
from numnet import backend, layers
from numnet.backend.device import device_of

#: float32 on two devices: other kernels, other summation orders
F32 = {"rtol": 2e-4, "atol": 2e-5}
GRADCHECK = {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}


def _host(array):
    return backend.get_ops(array).to_numpy(array)


def _run(layer, case, arrays, training, put):
    """Outputs, input and weight gradients, and the non-trainable weights."""
    numnet.manual_seed(5)  # the same dropout masks and augmentations everywhere
    xs = [numnet.tensor(put(a)) for a in arrays]
    for x in xs:
        if case.differentiable and x.dtype.kind == "f":
            x.requires_grad_()
    y = case.call(layer, xs, training)
    layer.zero_grad()
    if case.differentiable:
        g = put(np.random.default_rng(1).standard_normal(y.shape).astype(y.dtype))
        (y * g).sum().backward()
    grads = [x.grad for x in xs if x.requires_grad]
    grads += [w.grad for w in layer.trainable_weights] if case.differentiable else []
    state = [w.data for w in layer.non_trainable_weights]
    return [y.data, *grads, *state]


def _inputs(case, dtype, smooth=False):
    rng = np.random.default_rng(0)
    draws = case.smooth_inputs if smooth and case.smooth_inputs else case.inputs
    arrays = [draw(rng) for draw in draws]
    return [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]


@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_agrees_with_the_cpu(name, training, device):
    case = CASES[name]
    if case.interpolates and device == "strict":
        pytest.skip("interpolation runs on SciPy or CuPy: see the test below")
    if case.host_only:
        pytest.skip(f"{name} runs on the host only: {case.host_only}")
    arrays = _inputs(case, np.float32)
    numnet.manual_seed(3)
    layer = case.factory()
    case.call(layer, [numnet.tensor(a) for a in arrays], False)  # build on the CPU
    initial = [w.data.copy() for w in layer.non_trainable_weights]
    on_cpu = _run(layer, case, arrays, training, lambda a: a)
    for w, value in zip(layer.non_trainable_weights, initial, strict=True):
        w.data = value.copy()
    target = numnet.device(device)
    on_device = _run(layer.to(device), case, arrays, training, target.put)
    assert len(on_device) == len(on_cpu)
    for i, (a, b) in enumerate(zip(on_cpu, on_device, strict=True)):
        assert device_of(b) == target, f"{name}: result {i} left {device}"
        np.testing.assert_allclose(_host(b), a, **F32, err_msg=f"{name}: result {i}")


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.interpolates))
def test_interpolating_layers_name_what_another_namespace_lacks(name):
    case = CASES[name]
    with strict_device():
        x = numnet.tensor(numnet.device("strict").put(_inputs(case, np.float32)[0]))
        numnet.manual_seed(3)
        with pytest.raises(TypeError, match="scipy.ndimage .* cupyx.scipy.ndimage"):
            case.factory()(x, training=name != "RandomCrop")
        SLIPS.clear()  # what the message replaced: no array crossed the seam


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.startswith("Random")))
def test_random_layers_refuse_an_input_that_needs_a_gradient(name):
    case = CASES[name]
    x = numnet.tensor(_inputs(case, np.float32)[0], requires_grad=True)
    with pytest.raises(ValueError, match=f"{name} .*pass no gradient.*requires grad"):
        case.factory()(x, training=True)
    with numnet.no_grad():
        assert case.factory()(x, training=True).shape[0] == x.shape[0]


def _trains_differently(case) -> bool:
    """Dropout (and its spatial and Gaussian forms), batch norm and the random
    layers: training mode is its own check."""
    layer = case.factory()
    kinds = (
        layers.Dropout,
        layers.GaussianDropout,
        layers.GaussianNoise,
        layers.BatchNormalization,
    )
    return isinstance(layer, kinds) or getattr(layer, "dropout", 0) > 0


@pytest.mark.parametrize(
    "name", sorted(n for n, c in CASES.items() if c.differentiable)
)
def test_layer_gradchecks_on_the_device(name, device):
    case = CASES[name]
    target = numnet.device(device)
    with backend.floatx_scope("float64"):
        arrays = _inputs(case, np.float64, smooth=True)
        numnet.manual_seed(3)
        layer = case.factory()
        case.call(layer, [numnet.tensor(a) for a in arrays], False)
        layer.to(device)
        floats = [target.put(a) for a in arrays if a.dtype.kind == "f"]
        ints = [numnet.tensor(target.put(a)) for a in arrays if a.dtype.kind != "f"]
        modes = [False, True] if _trains_differently(case) else [False]
        for training in modes:

            def fn(*ts, _training=training):
                numnet.manual_seed(9)  # pinned masks across finite differences
                return case.call(layer, [*ts, *ints], _training)

            assert numnet.gradcheck(
                fn, floats, wrt=layer.trainable_weights, **GRADCHECK
            ), f"{name} ({'training' if training else 'inference'})"


def test_every_public_layer_has_a_case():
    public = {
        cls
        for _, cls in inspect.getmembers(layers, inspect.isclass)
        if issubclass(cls, layers.Layer)
    }
    covered = {type(case.factory()) for case in CASES.values()}
    if Scale in covered:  # the base class, as users subclass it
        covered.add(layers.Layer)
    missing = sorted(cls.__name__ for cls in public - covered)
    assert not missing, f"public layers without a device case: {missing}"
