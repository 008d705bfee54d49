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
