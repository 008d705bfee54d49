"""Packaging facts a user relies on: one version, the MIT license, type information."""

from __future__ import annotations

from pathlib import Path

import pytest

import numnet

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(numnet.__file__).resolve().parent


def test_the_version_has_one_source():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]  # no second copy to drift
    assert "version" in project["project"]["dynamic"]
    path = project["tool"]["hatch"]["version"]["path"]
    assert (ROOT / path).resolve() == PACKAGE / "_version.py"
    from numnet._version import __version__

    assert numnet.__version__ == __version__
    assert __version__.count(".") == 2


def test_license_and_py_typed_ship():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text
    assert (PACKAGE / "py.typed").exists()


def _readme() -> str:
    return (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command():
    readme_commands = [
        line for line in _readme().splitlines() if line.endswith("python -m pytest")
    ]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands and readme_commands[0] in ci
    assert "python3 -m venv" in readme_commands[0]  # pip refuses Debian's Python
    assert "apt-get update" in _readme()


def test_readme_speaks_to_users():
    import re

    text = _readme()
    assert not re.search(r"\b(session|round) \d|issue \d", text, flags=re.I)
    assert "../" not in text  # no link outside the repository
    assert "✓" not in text and "✗" not in text  # targets say "met" / "not met"
    assert re.search(r"took \d+ min \d+ s", text)  # a measured test-suite time
