"""Learning-rate schedulers, PyTorch's ``torch.optim.lr_scheduler`` semantics.

A scheduler writes ``group['lr']`` of its optimizer's parameter groups. On construction it
stores each group's starting rate as ``group['initial_lr']`` (the base rates) and takes its
first step (epoch 0). Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``.

The schedules are chainable as in PyTorch: ``get_lr`` computes the next rate from the
current ``group['lr']``; ``_get_closed_form_lr`` gives the same value from the base rates,
used by the deprecated ``step(epoch)``.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from tinynet.optim.optimizer import Optimizer, recorded_call

__all__ = [
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LambdaLR",
    "ReduceLROnPlateau",
]

_EPOCH_DEPRECATION = (
    "passing an epoch to scheduler.step() is deprecated (as in PyTorch): call step() with no "
    "argument once per epoch; the closed form of the schedule is used for this call"
)


_ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`: call them in the "
    "opposite order, optimizer.step() then scheduler.step(), or the first value of the "
    "learning rate schedule is skipped (as in PyTorch)"
)


class LRScheduler:
    """Base class of schedulers: ``step()``, ``get_last_lr()``, ``state_dict()``.

    Subclasses define ``get_lr()``, the rates of the epoch ``self.last_epoch`` (already
    advanced), usually from the current ``group['lr']``.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for index, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{index}] when "
                        "resuming an optimizer"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rates of epoch ``last_epoch``, one per parameter group."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    @recorded_call
    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and write the new rates into the optimizer's groups."""
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(_ORDER_WARNING, UserWarning, stacklevel=3)
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=2)
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = float(lr)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state (everything but the optimizer) as plain data."""
        return {
            key: list(value) if isinstance(value, list) else value
            for key, value in self.__dict__.items()
            if key != "optimizer"
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` snapshot."""
        self.__dict__.update(
            {
                key: list(value) if isinstance(value, list) else value
                for key, value in state_dict.items()
            }
        )

    def _group_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


# PyTorch's older name, kept so subclasses written against it port unchanged.
_LRScheduler = LRScheduler


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs.

    >>> import tinynet as tn
    >>> from tinynet.optim import SGD
    >>> opt = SGD([tn.ones(1, requires_grad=True)], lr=1.0)
    >>> scheduler = StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(scheduler.get_last_lr()[0]); opt.step(); scheduler.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch=-1):
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"step_size must be a positive integer, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: ``lr = base_lr * gamma**epoch``.

    >>> import tinynet as tn
    >>> from tinynet.optim import SGD
    >>> opt = SGD([tn.ones(1, requires_grad=True)], lr=1.0)
    >>> scheduler = ExponentialLR(opt, gamma=0.5)
    >>> opt.step()  # no gradients yet: nothing moves; the scheduler steps after it
    >>> scheduler.step(); scheduler.step(); scheduler.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the base rate to ``eta_min`` over ``T_max`` epochs.

    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``, computed
    recursively as PyTorch does (so it follows other changes to ``group['lr']``); past
    ``T_max`` the rate rises again along the same cosine.

    >>> import tinynet as tn
    >>> from tinynet.optim import SGD
    >>> opt = SGD([tn.ones(1, requires_grad=True)], lr=1.0)
    >>> scheduler = CosineAnnealingLR(opt, T_max=4)
    >>> for _ in range(2):
    ...     opt.step(); scheduler.step()
    >>> round(scheduler.get_last_lr()[0], 12)
    0.5
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ):
        if isinstance(T_max, bool) or not T_max > 0:
            raise ValueError(f"T_max must be positive, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        epoch, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        if epoch == 0:
            return self._group_lrs()
        if self._step_count == 1 and epoch > 0:  # resuming at last_epoch: no previous rate
            return self._get_closed_form_lr()
        if (epoch - 1 - period) % (2 * period) == 0:
            # The previous epoch sat at the bottom (cos = -1): the ratio below would divide by 0.
            return [
                lr + (base - eta_min) * (1 - math.cos(math.pi / period)) / 2
                for base, lr in zip(self.base_lrs, self._group_lrs())
            ]
        ratio = (1 + math.cos(math.pi * epoch / period)) / (
            1 + math.cos(math.pi * (epoch - 1) / period)
        )
        return [ratio * (lr - eta_min) + eta_min for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)``; one function, or one per parameter group.

    >>> import tinynet as tn
    >>> from tinynet.optim import SGD
    >>> opt = SGD([tn.ones(1, requires_grad=True)], lr=0.1)
    >>> scheduler = LambdaLR(opt, lambda epoch: 1 / (1 + epoch))
    >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
    [0.05]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ):
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(f"Expected {groups} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict[str, Any]:
        """The state without the functions (callable objects keep their ``__dict__``)."""
        state = super().state_dict()
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
            for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state; the functions stay this scheduler's own."""
        state = dict(state_dict)
        saved_lambdas = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict(state)
        for fn, saved in zip(self.lr_lambdas, saved_lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class ReduceLROnPlateau(LRScheduler):
    """Reduce the rate by ``factor`` when a metric stops improving for ``patience`` epochs.

    Call ``scheduler.step(metric)`` once per epoch. In ``'min'`` mode with
    ``threshold_mode='rel'`` a value improves on ``best`` when it is below
    ``best * (1 - threshold)`` (``'abs'``: below ``best - threshold``; ``'max'`` mirrors
    both). After ``patience`` epochs without improvement each group's rate becomes
    ``max(lr * factor, min_lr)`` (unless that changes it by ``eps`` or less), then
    ``cooldown`` epochs pass before bad epochs count again.

    >>> import tinynet as tn
    >>> from tinynet.optim import SGD
    >>> opt = SGD([tn.ones(1, requires_grad=True)], lr=1.0)
    >>> scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> for loss in [3.0, 2.0, 2.0, 2.0]:
    ...     scheduler.step(loss)
    >>> scheduler.get_last_lr()
    [0.5]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0,
        eps: float = 1e-8,
    ):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.optimizer = optimizer
        self.factor = factor
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(
                    f"expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}"
                )
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._group_lrs()
        self._init_is_better()
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    @recorded_call
    def step(self, metrics, epoch: int | None = None) -> None:
        """Record this epoch's metric and reduce the rates if it has plateaued."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._group_lrs()

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the optimizer ({len(groups)}) differs from "
                    f"when ReduceLROnPlateau was initialized ({len(self.min_lrs)}), usually "
                    "because a param group was added; set `min_lrs` to match."
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def is_better(self, current: float, best: float) -> bool:
        """Whether ``current`` improves on ``best`` by more than the threshold."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return current < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return current < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return current > best * (self.threshold + 1.0)
        return current > best + self.threshold

    def _init_is_better(self) -> None:
        if self.mode not in {"min", "max"}:
            raise ValueError("mode " + str(self.mode) + " is unknown!")
        if self.threshold_mode not in {"rel", "abs"}:
            raise ValueError("threshold mode " + str(self.threshold_mode) + " is unknown!")
        self.mode_worse = math.inf if self.mode == "min" else -math.inf

    def get_lr(self) -> list[float]:
        return self._group_lrs()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` snapshot."""
        super().load_state_dict(state_dict)
        self._init_is_better()
