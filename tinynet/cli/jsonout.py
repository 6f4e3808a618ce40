"""``--json``: one JSON document on stdout and nothing else, for scripts.

NumPy numbers become JSON numbers and a NaN or infinity becomes ``null`` (JSON has no NaN).

>>> import numpy as np
>>> print(json_text({"r2": np.float64(0.5), "loss": float("nan"), "sizes": (2, 3)}))
{"r2": 0.5, "loss": null, "sizes": [2, 3]}
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys

import numpy as np


def _plain(value):
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def json_text(document: dict) -> str:
    """``document`` as strict JSON text (NaN -> null)."""
    return json.dumps(_plain(document), allow_nan=False)


@contextlib.contextmanager
def quiet_stdout(enabled: bool):
    """While enabled, what the command would print as text goes nowhere."""
    if not enabled:
        yield
        return
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def print_json(document: dict) -> None:
    print(json_text(document), file=sys.stdout)
    sys.stdout.flush()
