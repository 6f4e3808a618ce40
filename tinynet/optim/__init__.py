"""Optimizers and learning-rate schedulers, PyTorch's ``torch.optim`` algorithms.

>>> import tinynet as tn
>>> from tinynet import optim
>>> w = tn.tensor([3.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.25)
>>> for _ in range(3):
...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
>>> w
Tensor([0.375], dtype=float32, requires_grad=True)
"""

import typing as _typing

from tinynet._lazy import lazy_attributes as _lazy_attributes
from tinynet.optim.adam import Adam, AdamW
from tinynet.optim.optimizer import Optimizer
from tinynet.optim.sgd import SGD

# What a training loop rarely needs loads on first use (tinynet._lazy), under the same names.
_LAZY = {
    "tinynet.optim.adadelta": "adadelta Adadelta",
    "tinynet.optim.adagrad": "adagrad Adagrad",
    "tinynet.optim.adamax": "adamax Adamax",
    "tinynet.optim.asgd": "asgd ASGD",
    "tinynet.optim.lbfgs": "lbfgs LBFGS",
    "tinynet.optim.lr_scheduler": "lr_scheduler",
    "tinynet.optim.nadam": "nadam NAdam",
    "tinynet.optim.radam": "radam RAdam",
    "tinynet.optim.rmsprop": "rmsprop RMSprop",
    "tinynet.optim.rprop": "rprop Rprop",
}
if _typing.TYPE_CHECKING:  # the same names for the type checker, and no __getattr__
    from tinynet.optim import (  # noqa: F401  (the submodules, as attributes)
        adadelta,
        adagrad,
        adamax,
        asgd,
        lbfgs,
        lr_scheduler,
        nadam,
        radam,
        rmsprop,
        rprop,
    )
    from tinynet.optim.adadelta import Adadelta
    from tinynet.optim.adagrad import Adagrad
    from tinynet.optim.adamax import Adamax
    from tinynet.optim.asgd import ASGD
    from tinynet.optim.lbfgs import LBFGS
    from tinynet.optim.nadam import NAdam
    from tinynet.optim.radam import RAdam
    from tinynet.optim.rmsprop import RMSprop
    from tinynet.optim.rprop import Rprop
else:
    __getattr__, __dir__ = _lazy_attributes(__name__, _LAZY)

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "NAdam",
    "RAdam",
    "Adamax",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Rprop",
    "LBFGS",
    "ASGD",
    "lr_scheduler",
]
