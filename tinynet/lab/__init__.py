"""The gradient lab: tools for gradient experiments.

- ``diagnose(fn, inputs)``: replay the graph and check every node's backward locally.
- ``check_gradients_at_kinks(fn, inputs)``: a gradient check that names the kinks its
  finite differences straddle (and can nudge inputs away from them).
- ``detect_anomaly()``: NaN/inf in any forward result or backward gradient raises, naming
  the op and the line that created it.
- ``gradcheck_sweep(fn, inputs)``: finite-difference error against eps, per dtype.
- ``TrainingDoctor``: an estimator callback recording gradient norms, update ratios,
  dead ReLUs and activation statistics per epoch.
- ``track_creation()`` / ``creation_site(tensor)``: the user's line that made a node.

See docs/gradient-lab.md.
"""

from tinynet.lab.anomaly import detect_anomaly
from tinynet.lab.doctor import DiagnosisReport, NodeCheck, diagnose
from tinynet.lab.history import Site, creation_site, track_creation
from tinynet.lab.kinks import KinkCrossing, KinkReport, check_gradients_at_kinks, register_kink
from tinynet.lab.sweep import SweepResult, gradcheck_sweep
from tinynet.lab.training import TrainingDoctor

__all__ = [
    "DiagnosisReport",
    "KinkCrossing",
    "KinkReport",
    "NodeCheck",
    "Site",
    "SweepResult",
    "TrainingDoctor",
    "check_gradients_at_kinks",
    "creation_site",
    "detect_anomaly",
    "diagnose",
    "gradcheck_sweep",
    "register_kink",
    "track_creation",
]
