"""The layer stack (STYLE.md §2.1) and the size budget (§2.7), checked on the source.

Every module under ``src/numnet`` is parsed with ``ast``; every ``numnet`` import in
it (at module level or inside a function) must point to its own level or below:

    L0 backend, _registry    L1 _kernels    L2 autograd    L3 functional
    L4 layers, initializers, regularizers, constraints, losses, metrics, activations,
       data
    L5 optimizers
    L6 models, callbacks, datasets, saving, viz, tuning, applications, vision,
       the ``numnet`` package itself, and any top-level module not listed in LEVELS

scipy and matplotlib may only be imported inside functions, so that ``import numnet``
stays light (checked statically here and for real in a subprocess).

The array seam: modules of ``autograd/`` and ``functional/`` do array math only
through ``xp = backend.get_array_module(...)`` (or ``Function.xp``) and the kernels
of ``backend.get_ops(...)``. The rule, checked on the syntax tree: every attribute
``np.<name>`` / ``numpy.<name>`` (and every ``from numpy import <name>``) outside
type annotations must name something in ``NUMPY_ALLOWED``: dtypes and dtype
helpers (``np.float32``, ``np.dtype``, ``np.number``, ``np.finfo``...), constants
(``np.inf``, ``np.nan``, ``np.pi``, ``np.newaxis``), the host RNG
(``np.random.default_rng``/``Generator``: random draws are made on the host, then
moved with ``xp.asarray``), ``np.ndindex`` (a pure index iterator) and
``np.array2string`` (printing a host copy). Any function that computes on arrays
or creates one (``np.exp``, ``np.zeros``, ``np.asarray``, ``np.add.at``...) is
refused. ``import numpy.<sub>`` is refused too.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import numnet

SRC = Path(numnet.__file__).resolve().parent
MODULES = sorted(SRC.rglob("*.py"))

#: level of each top-level entry of the package; a new one defaults to L6 (add it
#: here when it belongs lower)
LEVELS = {
    "backend": 0,
    "config": 0,
    "_registry": 0,
    "_comm": 0,
    "_kernels": 1,
    "autograd": 2,
    "functional": 3,
    "layers": 4,
    "initializers": 4,
    "regularizers": 4,
    "constraints": 4,
    "losses": 4,
    "metrics": 4,
    "activations": 4,
    # numnet.data imports only the backend; at L4 the preprocessing layers
    # (layers/augmentation.py) reuse its image transforms
    "data": 4,
    "optimizers": 5,
}
TOP_LEVEL = 6
LAZY_ONLY = ("scipy", "matplotlib", "h5py", "onnx", "cupy", "cupyx")
#: modules that are themselves imported only lazily (inside a function, once
#: CuPy is known to be present): they may import CuPy at their top
LAZY_MODULES = (
    "backend/cupy_ops.py",
    "backend/cupy_conv.py",
    "backend/cupy_pool.py",
    "backend/cupy_reduce.py",
    "backend/cupy_norm.py",
    "backend/cupy_rnn.py",
    "backend/cupy_loss.py",
    "backend/cupy_depthwise.py",
)
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    parts = ("numnet",) + path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def level_of(dotted: str) -> int:
    """Level of ``numnet.<top>...``; the bare ``numnet`` package is the top."""
    parts = dotted.split(".")
    return LEVELS.get(parts[1], TOP_LEVEL) if len(parts) > 1 else TOP_LEVEL


def _is_subpackage_or_module(dotted: str) -> bool:
    parts = dotted.split(".")
    if len(parts) == 2 and parts[1] in LEVELS:  # known even before it exists
        return True
    relative = Path(*parts[1:])
    return (SRC / relative).with_suffix(".py").exists() or (SRC / relative).is_dir()


def _resolve(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_modules(tree: ast.AST, importer: str, is_package: bool):
    """Yield (line, dotted name, inside a function) for every import in the tree."""
    for node, in_function in _walk(tree, False):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, in_function
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node, importer, is_package)
            for alias in node.names:
                child = f"{target}.{alias.name}"
                # ``from numnet import backend`` imports the submodule numnet.backend
                if target.split(".")[0] == "numnet" and _is_subpackage_or_module(child):
                    yield node.lineno, child, in_function
                else:
                    yield node.lineno, target, in_function


def _walk(node: ast.AST, in_function: bool):
    for child in ast.iter_child_nodes(node):
        nested = in_function or isinstance(
            child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
        )
        yield child, nested
        yield from _walk(child, nested)


def _parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


IDS = [str(p.relative_to(SRC)) for p in MODULES]


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_no_upward_import(path):
    importer = module_name(path)
    own = level_of(importer)
    upward = []
    for line, target, _ in imported_modules(
        _parse(path), importer, path.name == "__init__.py"
    ):
        if target.split(".")[0] == "numnet" and level_of(target) > own:
            upward.append(f"line {line}: {target} (L{level_of(target)})")
    assert not upward, (
        f"{importer} is at level L{own} (tests/test_architecture.py LEVELS) and may "
        f"only import its own level or below; upward imports: {upward}"
    )


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_scipy_and_matplotlib_are_imported_lazily(path):
    eager = [
        f"line {line}: {target}"
        for line, target, in_function in imported_modules(
            _parse(path), module_name(path), path.name == "__init__.py"
        )
        if target.split(".")[0] in LAZY_ONLY
        and not in_function
        and str(path.relative_to(SRC)) not in LAZY_MODULES
    ]
    assert not eager, (
        f"{module_name(path)} imports {eager} at module level; import them inside "
        f"the function that needs them so that `import numnet` stays light"
    )


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_size_budget(path):
    source = path.read_text(encoding="utf-8")
    lines = source.count("\n") + 1
    assert lines <= MAX_MODULE_LINES, (
        f"{module_name(path)} has {lines} lines (budget {MAX_MODULE_LINES}); split it"
    )
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines, line {node.lineno})"
        for node in ast.walk(_parse(path))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, (
        f"{module_name(path)}: functions over {MAX_FUNCTION_LINES} lines: {long}"
    )


#: what ``np.<name>`` may name in autograd/ and functional/ (see the docstring)
NUMPY_ALLOWED = frozenset(
    "float16 float32 float64 int8 int16 int32 int64 uint8 intp bool_ dtype generic "
    "number integer floating signedinteger unsignedinteger inexact "
    "inf nan pi e newaxis finfo iinfo issubdtype result_type promote_types can_cast "
    "random ndindex array2string".split()
)
SEAM_PACKAGES = ("autograd", "functional")
SEAM_MODULES = [p for p in MODULES if p.relative_to(SRC).parts[0] in SEAM_PACKAGES]


def _annotation_nodes(tree: ast.AST) -> set[int]:
    """ids of every node inside a type annotation (where ``np.ndarray`` may stay)."""
    roots = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            roots.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            roots.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    return {id(n) for root in roots for n in ast.walk(root)}


def numpy_array_math(tree: ast.AST) -> list[str]:
    """``line: np.<name>`` for every use of NumPy that the seam rule refuses."""
    aliases = {"numpy"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "numpy":
                    aliases.add(alias.asname or "numpy")
                elif alias.name.startswith("numpy."):
                    found.append(f"line {node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "numpy"
        ):
            for alias in node.names:
                if node.module != "numpy" or alias.name not in NUMPY_ALLOWED:
                    found.append(f"line {node.lineno}: from {node.module} import ...")
    skip = _annotation_nodes(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and id(node) not in skip
            and node.attr not in NUMPY_ALLOWED
        ):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize(
    "path", SEAM_MODULES, ids=[str(p.relative_to(SRC)) for p in SEAM_MODULES]
)
def test_autograd_and_functional_do_array_math_through_the_seam(path):
    found = numpy_array_math(_parse(path))
    assert not found, (
        f"{module_name(path)} does array math with NumPy directly: {found}. Use "
        f"xp = backend.get_array_module(x) (self.xp in a Function) and xp.<name>, "
        f"or a kernel of backend.get_ops(x); see tests/test_architecture.py"
    )


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import numpy as np\ny = np.exp(x)", ["line 2: np.exp"]),
        ("import numpy as np\nnp.add.at(g, i, y)", ["line 2: np.add"]),
        ("import numpy\ny = numpy.zeros(3)", ["line 2: numpy.zeros"]),
        ("from numpy import asarray", ["line 1: from numpy import ..."]),
        ("import numpy.linalg", ["line 1: import numpy.linalg"]),
        ("import numpy as np\nd = np.float32\nz = np.inf", []),
        ("import numpy as np\ndef f(x: np.ndarray) -> np.ndarray: ...", []),
        ("import numpy as np\ny = xp.exp(x) + np.finfo(np.float32).eps", []),
    ],
)  # fmt: skip
def test_the_seam_checker_catches_planted_numpy_calls(source, expected):
    assert numpy_array_math(ast.parse(source)) == expected


def test_import_numnet_is_light_and_changes_no_process_state():
    # the allocator is tuned only by an explicit call: record any mallopt call
    code = (
        "import ctypes, sys\n"
        "calls = []\n"
        "real = ctypes.CDLL\n"
        "class Spy:\n"
        "    def __init__(self, *a, **k): self.lib = real(*a, **k)\n"
        "    def __getattr__(self, n):\n"
        "        calls.append(n)\n"
        "        return getattr(self.lib, n)\n"
        "ctypes.CDLL = Spy\n"
        "import numnet\n"
        "lazy = ('applications', 'datasets', 'tuning', 'vision', 'viz')\n"
        "loaded = [m for m in lazy if 'numnet.' + m in sys.modules]\n"
        "print(calls, loaded, numnet.viz.__name__)"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMNET_KEEP_FREED_MEMORY"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "[]", "numnet.viz"]


def test_import_numnet_does_not_import_scipy_or_matplotlib():
    code = (
        "import sys, numnet\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{LAZY_ONLY!r})\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"import numnet imported: {result.stdout}"


# The checker itself must be able to fail.


def _violations(source: str, importer: str) -> list[str]:
    tree = ast.parse(source)
    own = level_of(importer)
    return [
        target
        for _, target, _ in imported_modules(tree, importer, False)
        if target.split(".")[0] == "numnet" and level_of(target) > own
    ]


@pytest.mark.parametrize(
    "source, importer, expected",
    [
        ("from numnet.layers import Dense", "numnet.functional.nn", ["numnet.layers"]),
        ("import numnet.models", "numnet.autograd.tensor", ["numnet.models"]),
        ("def f():\n    from numnet import optimizers", "numnet.layers.base",
         ["numnet.optimizers"]),
        ("from ..functional import relu", "numnet.autograd.tensor",
         ["numnet.functional"]),
        ("import numnet", "numnet.backend", ["numnet"]),
        ("from numnet import backend", "numnet.autograd.tensor", []),
        ("from numnet.autograd import Tensor", "numnet.layers.dense", []),
        ("from numnet.anything_new import x", "numnet.optimizers.sgd",
         ["numnet.anything_new"]),
        ("from numnet.functional import relu", "numnet.anything_new", []),
    ],
)  # fmt: skip
def test_the_import_checker_catches_planted_upward_imports(source, importer, expected):
    assert _violations(source, importer) == expected


def test_the_lazy_import_checker_sees_module_level_imports():
    tree = ast.parse("import scipy.special\ndef f():\n    import matplotlib\n")
    found = list(imported_modules(tree, "numnet.x", False))
    assert [(t, inside) for _, t, inside in found] == [
        ("scipy.special", False),
        ("matplotlib", True),
    ]
