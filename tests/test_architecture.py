"""The layer stack (STYLE.md §2.1) and the size budget (§2.7), checked on the source.

Every module under ``src/numnet`` is parsed with ``ast``; every ``numnet`` import in
it (at module level or inside a function) must point to its own level or below:

    L0 backend, _registry    L1 _kernels    L2 autograd    L3 functional
    L4 layers, initializers, regularizers, constraints, losses, metrics, activations
    L5 optimizers
    L6 models, callbacks, data, datasets, saving, viz, tuning, applications, vision,
       the ``numnet`` package itself, and any top-level module not listed in LEVELS

scipy and matplotlib may only be imported inside functions, so that ``import numnet``
stays light (checked statically here and for real in a subprocess).
"""

from __future__ import annotations

import ast
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
    "optimizers": 5,
}
TOP_LEVEL = 6
LAZY_ONLY = ("scipy", "matplotlib")  # third-party imports allowed only in functions
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
        if target.split(".")[0] in LAZY_ONLY and not in_function
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
