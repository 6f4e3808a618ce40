"""``tinynet train --lr-schedule``: the learning rate over training, as a tinynet scheduler.

Each schedule is a ``tinynet.optim.lr_scheduler`` class given to the estimator's
``lr_scheduler``, stepped as PyTorch's documentation says (the estimator does the stepping):

- ``constant``: ``--lr`` throughout (no scheduler);
- ``step``: ``StepLR``, ``--lr`` times ``--gamma`` every ``--step-size`` epochs (per epoch);
- ``cosine``: ``CosineAnnealingLR`` from ``--lr`` to 0 over ``--epochs`` (per epoch);
- ``onecycle``: ``OneCycleLR`` with ``--lr`` as the peak, reached after the ``--warmup``
  fraction of the batches, then annealed (per batch; the learning rate only, as the
  optimizers without momentum have nothing else to cycle);
- ``plateau``: ``ReduceLROnPlateau``, times ``--gamma`` once the validation loss (the training
  loss without validation rows) has not improved for ``--lr-patience`` epochs (per epoch).

>>> settings = schedule_settings(argparse.Namespace(
...     lr_schedule="step", step_size=None, gamma=0.5, warmup=None, lr_patience=None))
>>> settings
{'name': 'step', 'step_size': 10, 'gamma': 0.5}
>>> make_scheduler(settings, lr=0.1, epochs=20, steps_per_epoch=4).func.__name__
'StepLR'
"""

from __future__ import annotations

import argparse
import math
from functools import partial

from tinynet.cli._common import FULL_BATCH, UsageError

SCHEDULES = ("constant", "step", "cosine", "onecycle", "plateau")
# The options of each schedule, and their defaults (PyTorch's, but for --lr-patience: its 10
# would never act before early stopping's patience of 10 ends training).
_OPTIONS = {
    "constant": (),
    "step": ("step_size", "gamma"),
    "cosine": (),
    "onecycle": ("warmup",),
    "plateau": ("gamma", "lr_patience"),
}
_DEFAULTS = {"step_size": 10, "gamma": 0.1, "warmup": 0.3, "lr_patience": 5}


def schedule_settings(args: argparse.Namespace) -> dict:
    """``{"name": schedule, option: value, ...}`` from the options; a schedule's option given
    without it is a usage error."""
    name = args.lr_schedule
    for option in _DEFAULTS:
        if getattr(args, option) is not None and option not in _OPTIONS[name]:
            users = [schedule for schedule, options in _OPTIONS.items() if option in options]
            raise UsageError(
                f"--{option.replace('_', '-')} goes with --lr-schedule {' or '.join(users)} "
                f"(the schedule is {name})"
            )
    settings: dict = {"name": name}
    for option in _OPTIONS[name]:
        value = getattr(args, option)
        settings[option] = _DEFAULTS[option] if value is None else value
    return settings


def check_schedule(args: argparse.Namespace) -> None:
    """Refuse a schedule with a solver that has no learning rate, or with ``--resume``."""
    settings = schedule_settings(args)
    if settings["name"] == "constant":
        return
    if args.optimizer in FULL_BATCH:
        raise UsageError(
            f"--lr-schedule {settings['name']} needs a learning rate, which {args.optimizer} "
            "does not have; choose a stochastic --optimizer such as adam"
        )
    if args.resume is not None:
        raise UsageError(
            f"--lr-schedule {settings['name']} cannot go with --resume: a resumed model goes on "
            "at the learning rate its training ended with"
        )


def steps_per_epoch(rows: int, batch_size: int | str) -> int:
    """Optimizer steps in an epoch of ``rows`` rows (``auto`` batches: min(200, rows))."""
    batch = min(200 if batch_size == "auto" else int(batch_size), rows)
    return math.ceil(rows / max(batch, 1))


def make_scheduler(settings: dict, lr: float, epochs: int, steps_per_epoch: int):
    """The estimator's ``lr_scheduler``: a function of the optimizer, or None (constant)."""
    from tinynet.optim import lr_scheduler

    name = settings["name"]
    if name == "step":
        return partial(
            lr_scheduler.StepLR, step_size=settings["step_size"], gamma=settings["gamma"]
        )
    if name == "cosine":
        return partial(lr_scheduler.CosineAnnealingLR, T_max=epochs)
    if name == "onecycle":
        return partial(
            lr_scheduler.OneCycleLR, max_lr=lr, total_steps=epochs * steps_per_epoch,
            pct_start=settings["warmup"], cycle_momentum=False,
        )  # fmt: skip
    if name == "plateau":
        return partial(
            lr_scheduler.ReduceLROnPlateau, factor=settings["gamma"],
            patience=settings["lr_patience"],
        )  # fmt: skip
    return None
