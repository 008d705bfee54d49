"""Every example's command line: --epochs, --limit, defaults in --help, no history."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HELPERS = {"fashion_common.py", "example_cli.py"}
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if p.name not in HELPERS)


def _help(script: str, monkeypatch, capsys) -> str:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setattr(sys, "argv", [script, "--help"])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert info.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_shows_epochs_limit_and_defaults(script, monkeypatch, capsys):
    text = _help(script, monkeypatch, capsys)
    assert "--epochs" in text and "--limit" in text
    options = text.split("options:")[1]
    flags = re.findall(r"^  (--[a-z-]+)", options, flags=re.M)
    described = options.count("(default:")
    assert described >= len(flags), text  # every flag (not -h) shows its default
    assert not re.search(r"\b(session \d|issue \d|round \d)", text, flags=re.I)


def test_quickstart_help_describes_the_quickstart(monkeypatch, capsys):
    text = _help("quickstart.py", monkeypatch, capsys)
    assert "Quickstart" in text.split("options:")[0]
    assert "(default: 3)" in text  # three epochs, not the MLP's twenty
