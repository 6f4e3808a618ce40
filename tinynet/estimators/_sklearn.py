"""scikit-learn's private helpers that the estimators use, imported in this one place.

scikit-learn does not promise these names across versions. Keeping them here means a
scikit-learn release that moves one breaks one import line, and ``SUPPORTED_VERSIONS`` (the
range the suite is run with, checked by ``tests/estimators/test_sklearn_compat.py``) says
when to look again.
"""

from __future__ import annotations

import sklearn
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "SUPPORTED_VERSIONS",
    "Interval",
    "Options",
    "StrOptions",
    "check_optimize_result",
    "check_sample_weight",
    "fit_context",
    "sklearn_version",
]

#: (major, minor) of the first supported scikit-learn release and of the first one not yet
#: tried: the lower bound is pyproject.toml's, the upper one past the newest release tested.
SUPPORTED_VERSIONS = ((1, 6), (1, 10))

#: ``@fit_context(prefer_skip_nested_validation=True)`` on ``fit``: validates the parameters
#: against ``_parameter_constraints`` once per call, as scikit-learn's own estimators do.
fit_context = _fit_context
#: ``check_optimize_result(solver, result, max_iter)``: the iteration count of a SciPy
#: optimizer's result, warning ``ConvergenceWarning`` when it did not converge.
check_optimize_result = _check_optimize_result
#: ``check_sample_weight(sample_weight, X, dtype=...)``: the weights as a float array of one
#: weight per sample (ones for None), validated.
check_sample_weight = _check_sample_weight


def sklearn_version() -> tuple[int, int]:
    """The installed scikit-learn's (major, minor)."""
    major, minor = sklearn.__version__.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)
