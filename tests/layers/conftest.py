"""Make ``from tests.layers.helpers import run_layer_test`` work however pytest is run.

``python -m pytest`` puts the repository root on sys.path, plain ``pytest`` does
not; the shared layer-test helper must import the same way in both.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
