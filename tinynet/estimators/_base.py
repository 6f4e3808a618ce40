"""What the classifier and the regressor share: validation, the training loops, persistence.

The training semantics follow scikit-learn's ``sklearn/neural_network/_multilayer_perceptron.py``
step by step (initialization, batches, the ``tol`` / ``n_iter_no_change`` rule, learning-rate
schedules, early stopping, the L-BFGS call); the network, its gradients and the stochastic
updates are tinynet's ``nn``, autograd engine and ``optim``.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
import weakref
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from tinynet import nn, optim
from tinynet._grad_mode import no_grad
from tinynet.compiler import compile as _compile
from tinynet.estimators._losses import batch_loss
from tinynet.estimators._network import (
    ACTIVATIONS,
    build_mlp,
    is_built_in,
    layer_activations,
    linear_layers,
    rebuild_hidden,
)
from tinynet.estimators._objective import (
    FlatObjective,
    TrainingTerms,
    check_objective_gradients,
)
from tinynet.estimators._sklearn import (
    Interval,
    Options,
    StrOptions,
    check_optimize_result,
    check_sample_weight,
)
from tinynet.tensor import Tensor

_STOCHASTIC_SOLVERS = ("sgd", "adam")
_OPTIMIZERS = (
    "sgd", "adam", "adamw", "nadam", "radam", "adamax", "rmsprop", "adagrad", "adadelta", "rprop",
    "asgd",
)  # fmt: skip
# Schedulers that PyTorch's documentation steps after every batch; the others, every epoch.
_PER_BATCH_SCHEDULERS = (optim.lr_scheduler.OneCycleLR, optim.lr_scheduler.CyclicLR)
# Rows per forward pass when a custom module gets sparse data, densified a block at a time.
_SPARSE_BLOCK = 1024


class BaseNeuralNet(BaseEstimator, metaclass=ABCMeta):
    """Base class of ``NeuralNetClassifier`` and ``NeuralNetRegressor``; not for direct use."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS)), callable, list],
        "solver": [StrOptions({"lbfgs", "newton-cg", "trust-ncg", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [None, StrOptions(set(_OPTIMIZERS)), callable],
        "lr_scheduler": [None, callable],
        "module": [None, nn.Module, callable],
        "validation_data": [None, tuple],
        "callbacks": [None, list],
        "dtype": [
            None,
            StrOptions({"float32", "float64"}),
            Options(type, {np.float32, np.float64}),
        ],
    }

    @abstractmethod
    def __init__(self):
        """Subclasses store every constructor argument unchanged (scikit-learn's rule)."""

    # -- hooks the subclasses fill in ------------------------------------------------------
    @abstractmethod
    def _validate_input(self, X, y, incremental: bool, reset: bool):
        """Return ``(X, Y, y)``: validated X, the target matrix and the validated targets."""

    def _check_warm_output(self) -> None:
        """Raise if a parameter changed since fit asks for another output activation."""

    def _weighted(self, y, sample_weight):
        """The sample weights with any per-target weighting (class weights) applied."""
        return sample_weight

    @abstractmethod
    def _validate_validation_input(self, X, y):
        """Like ``_validate_input`` for ``validation_data`` (never refits label encoders)."""

    @abstractmethod
    def _output_activation(self, n_module_outputs: int) -> str:
        """The output activation for a network with ``n_module_outputs`` outputs."""

    @abstractmethod
    def _encode_targets(self, Y: np.ndarray) -> np.ndarray:
        """The float target matrix the loss compares with the network's output."""

    @abstractmethod
    def _predict_from_raw(self, raw: np.ndarray):
        """Predictions from the network's raw (pre-activation) output."""

    @abstractmethod
    def _score_predictions(self, y_true, y_pred, sample_weight) -> float:
        """The validation score (accuracy or R^2)."""

    # -- small helpers ---------------------------------------------------------------------
    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if np.any(np.asarray(sizes) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        # scikit-learn's MLP raises TypeError for a float or bool size; an int() here would
        # silently turn True into one unit.
        wrong = [s for s in sizes if isinstance(s, (bool, np.bool_)) or not isinstance(s, Integral)]
        if wrong:
            raise TypeError(
                f"hidden_layer_sizes must hold integers, got {wrong[0]!r} "
                f"({type(wrong[0]).__name__}); write e.g. (64, 32)."
            )
        return [int(size) for size in sizes]

    def _optimizer_name(self):
        if self.optimizer is None:
            return self.solver
        return self.optimizer if isinstance(self.optimizer, str) else None

    def _is_stochastic(self) -> bool:
        return self.optimizer is not None or self.solver in _STOCHASTIC_SOLVERS

    def _check_solver(self) -> bool:
        if not self._is_stochastic():
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    def _input_dtype(self):
        return (np.float64, np.float32) if self.dtype is None else np.dtype(self.dtype)

    def _as_model_input(self, X):
        """X in the network's dtype (CSR when sparse, for fast row batches)."""
        if sp.issparse(X):
            X = X.tocsr() if X.format != "csr" else X
            return X.astype(self._dtype, copy=False)
        return np.asarray(X, dtype=self._dtype)

    def _module_input(self, X):
        # The built-in network multiplies sparse batches directly; a custom module gets dense.
        if sp.issparse(X) and self.module is not None:
            return Tensor(X.toarray())
        return X if sp.issparse(X) else Tensor(X)

    # -- fitting -----------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, incremental=False):
        fit_start = time.perf_counter()
        hidden_sizes = self._hidden_sizes()
        first_pass = not hasattr(self, "module_") or (not self.warm_start and not incremental)
        X, Y, sample_weight = self._training_data(
            X, y, sample_weight, incremental, first_pass, hidden_sizes
        )
        self._progress = _progress_bar(self, 1 if incremental else self.max_iter)
        try:
            if self._is_stochastic():
                self._fit_stochastic(X, Y, sample_weight, incremental, fit_start)
            else:
                if incremental:  # available_if keeps partial_fit away; this is a safety net
                    raise AttributeError("partial_fit needs a stochastic solver")
                self._fit_full_batch(X, Y, sample_weight, fit_start)
        finally:
            if self._progress is not None:
                self._progress.close()
            del self._progress
        return self

    def _training_data(self, X, y, sample_weight, incremental, first_pass, hidden_sizes):
        """Validate ``X, y, sample_weight`` and return them in model form ``(X, Y, weight)``;
        on a first pass, (re)build the network. ``hidden_sizes=None`` skips the check that a
        fitted network still has the configured architecture."""
        X, Y, y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X, ensure_non_negative=True)
        sample_weight = self._weighted(y, sample_weight)
        if Y.ndim == 1:
            Y = Y.reshape((-1, 1))
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._dtype = np.dtype(X.dtype if self.dtype is None else self.dtype)
            self._initialize(Y, X.shape[1], hidden_sizes)
        elif hidden_sizes is not None:
            self._check_warm_architecture(hidden_sizes, Y.shape[1])
            self._check_warm_output()
            self._convert_warm_dtype()
        self.n_outputs_ = Y.shape[1]
        X = self._as_model_input(X)
        Y = np.ascontiguousarray(self._encode_targets(Y), dtype=self._dtype)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=self._dtype)
        return X, Y, sample_weight

    def _initialize(self, Y: np.ndarray, n_features: int, hidden_sizes: list[int]) -> None:
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = Y.shape[1]
        module: nn.Module
        if self.module is None:
            activations = layer_activations(self.activation, len(hidden_sizes))
            units = [n_features, *hidden_sizes, Y.shape[1]]
            module = build_mlp(units, activations, self.dropout, self._dtype, self._random_state)
            n_module_outputs = units[-1]
            self.n_layers_ = len(units)
        else:
            module = self._custom_module()
            n_module_outputs = self._probe_outputs(module, n_features)
            self.n_layers_ = len(linear_layers(module)) + 1
        self.out_activation_ = self._output_activation(n_module_outputs)
        module.train()
        self.module_ = module
        self.__dict__.pop("_optimizer", None)  # a fresh fit starts a fresh optimizer
        self.loss_curve_: list = []
        self.history_: dict = {
            "epoch": [], "loss": [], "val_loss": [], "val_score": [], "time": [], "lr": [],
        }  # fmt: skip
        self._no_improvement_count = 0
        has_validation = self.validation_data is not None or (
            self.early_stopping and self._is_stochastic()
        )
        self.validation_scores_: list | None = [] if has_validation else None
        self.validation_loss_curve_: list | None = [] if has_validation else None
        self.best_validation_score_ = -np.inf if has_validation else None
        self.best_loss_ = None if self.early_stopping and self._is_stochastic() else np.inf
        self._best_params = [p.data.copy() for p in module.parameters()]

    def _custom_module(self) -> nn.Module:
        if isinstance(self.module, nn.Module):
            module = copy.deepcopy(self.module)  # fit never changes its parameters
        else:
            module = self.module()
            if not isinstance(module, nn.Module):
                raise TypeError(
                    "module must be a tinynet.nn.Module or a function with no arguments that "
                    f"returns one; the function returned {type(module).__name__}"
                )
        return module.to(self._dtype)

    def _probe_outputs(self, module: nn.Module, n_features: int) -> int:
        module.eval()
        with no_grad():
            output = module(Tensor(np.zeros((1, n_features), self._dtype)))
        module.train()
        if not isinstance(output, Tensor) or output.ndim != 2:
            shape = getattr(output, "shape", type(output).__name__)
            raise ValueError(
                "module must map a batch of shape (n_samples, n_features) to a 2-D output "
                f"(n_samples, n_outputs); for input (1, {n_features}) it returned {shape}"
            )
        return output.shape[1]

    def _check_warm_architecture(self, hidden_sizes, n_outputs) -> None:
        if n_outputs != self.n_outputs_:
            raise ValueError(
                f"warm_start / partial_fit continue a network fitted for {self.n_outputs_} "
                f"outputs, but y now has {n_outputs}"
            )
        if (self.module is None) != is_built_in(self.module_):
            raise ValueError(
                "warm_start / partial_fit continue the fitted network, but module was "
                f"{'set' if self.module is None else 'None'} when it was fitted and is now "
                f"{'None' if self.module is None else 'set'}; refit with warm_start=False "
                "to train the other network"
            )
        if isinstance(self.module, nn.Module) and repr(self.module) != repr(self.module_):
            raise ValueError(
                "warm_start / partial_fit continue the fitted network, but module is now "
                f"another architecture:\n{self.module!r}\nwhile the fitted one is\n"
                f"{self.module_!r}\nrefit with warm_start=False to train the new module"
            )
        if self.module is not None:
            return
        widths = [layer.out_features for layer in linear_layers(self.module_)][:-1]
        if widths != hidden_sizes:
            raise ValueError(
                f"warm_start / partial_fit continue the fitted network, whose hidden layers "
                f"are {widths}, but hidden_layer_sizes is now {hidden_sizes}; refit with "
                "warm_start=False to change the architecture"
            )
        rebuilt = rebuild_hidden(
            self.module_,
            layer_activations(self.activation, len(hidden_sizes)),
            self.dropout,
            self._random_state,
        )
        if rebuilt is not None:  # activation or dropout changed by set_params
            old_params = list(self.module_.parameters())
            rebuilt.train(self.module_.training)
            self.module_ = rebuilt
            if [id(p) for p in rebuilt.parameters()] != [id(p) for p in old_params]:
                self.__dict__.pop("_optimizer", None)  # it would not see the new parameters

    def _convert_warm_dtype(self) -> None:
        """A warm start after ``set_params(dtype=...)`` continues in the new dtype: the
        network and the optimizer's state are cast (the state exactly as ``load_state_dict``
        casts a snapshot)."""
        if self.dtype is None or np.dtype(self.dtype) == self._dtype:
            return
        self._dtype = np.dtype(self.dtype)
        self.module_.to(self._dtype)
        optimizer = self.__dict__.pop("_optimizer", None)
        if optimizer is not None:
            self._optimizer = self._make_optimizer()
            self._optimizer.load_state_dict(optimizer.state_dict())
        _COMPILED_STEPS.pop(self, None)

    def _penalized(self) -> list:
        """Parameters under the L2 penalty: weight matrices (ndim >= 2), never biases."""
        module = self.module_
        cached = self.__dict__.get("_penalized_cache")
        if cached is None or cached[0] is not module:
            cached = (module, [p for p in module.parameters() if p.ndim >= 2])
            self._penalized_cache = cached
        return cached[1]

    def _apply_l2(self, sw_sum: float) -> float:
        """Add the L2 penalty's gradient to the weights' gradients; return the penalty.

        With ``optimizer='adamw'`` the penalty is decoupled weight decay instead: the loss
        still reports it, the gradients do not get it.
        """
        if self.alpha == 0:
            return 0.0
        coupled = self._optimizer_name() != "adamw"
        scale = self._dtype.type(self.alpha / sw_sum)
        total = 0.0
        for param in self._penalized():
            weights = param.data
            total += float(np.vdot(weights, weights))  # np.dot of the raveled weights
            if coupled:
                grad = param.grad
                if grad is None:
                    param.grad = Tensor(weights * scale)
                else:
                    grad = grad.data
                    grad += weights * scale
        return 0.5 * self.alpha * total / sw_sum

    # -- the loss -----------------------------------------------------------------------------
    def _data_loss(self, raw: Tensor, Y: np.ndarray, weight, sw_sum: float) -> Tensor:
        """The mean (weighted) loss of one batch, as a tinynet scalar with its graph."""
        return batch_loss(self.out_activation_, raw, Y, _loss_scale(weight, sw_sum))

    # -- the stochastic solvers ------------------------------------------------------------------
    def _make_optimizer(self) -> optim.Optimizer:
        params = list(self.module_.parameters())
        name = self._optimizer_name()
        lr = self.learning_rate_init
        betas = (self.beta_1, self.beta_2)
        if name == "sgd":
            nesterov = bool(self.nesterovs_momentum) and self.momentum > 0
            return optim.SGD(params, lr=lr, momentum=self.momentum, nesterov=nesterov)
        if name == "adam":
            return optim.Adam(params, lr=lr, betas=betas, eps=self.epsilon)
        if name in ("nadam", "radam", "adamax"):
            kind = {"nadam": optim.NAdam, "radam": optim.RAdam, "adamax": optim.Adamax}[name]
            return kind(params, lr=lr, betas=betas, eps=self.epsilon)
        if name == "adadelta":
            return optim.Adadelta(params, lr=lr, eps=self.epsilon)
        if name == "rprop":
            return optim.Rprop(params, lr=lr)
        if name == "asgd":  # its alpha (the step size's decay) is not the estimator's penalty
            return optim.ASGD(params, lr=lr)
        if name == "adamw":
            # alpha becomes decoupled weight decay on the weight matrices.
            weights = {id(p) for p in self._penalized()}
            groups = [
                {"params": [p for p in params if id(p) in weights], "weight_decay": self.alpha},
                {"params": [p for p in params if id(p) not in weights], "weight_decay": 0.0},
            ]
            groups = [group for group in groups if group["params"]]
            return optim.AdamW(groups, lr=lr, betas=betas, eps=self.epsilon)
        if name == "rmsprop":
            return optim.RMSprop(params, lr=lr, eps=self.epsilon)
        if name == "adagrad":
            return optim.Adagrad(params, lr=lr, eps=self.epsilon)
        optimizer = self.optimizer(params)
        if not isinstance(optimizer, optim.Optimizer):
            raise TypeError(
                "optimizer must be a name or a function of the parameter list returning a "
                f"tinynet.optim.Optimizer; it returned {type(optimizer).__name__}"
            )
        return optimizer

    def _make_lr_scheduler(self, incremental: bool):
        """``(scheduler, per_batch)`` from ``lr_scheduler``, or ``(None, False)``."""
        if self.lr_scheduler is None:
            return None, False
        if incremental:
            raise ValueError(
                "lr_scheduler schedules the epochs of one fit; partial_fit trains one epoch "
                "per call: set lr_scheduler=None and change the learning rate between calls"
            )
        if self._optimizer_name() == "sgd" and self.learning_rate != "constant":
            raise ValueError(
                f"learning_rate={self.learning_rate!r} is a schedule already; with "
                "lr_scheduler, set learning_rate='constant'"
            )
        scheduler = self.lr_scheduler(self._optimizer)
        if not isinstance(scheduler, optim.lr_scheduler.LRScheduler):
            raise TypeError(
                "lr_scheduler must be a function of the optimizer returning a "
                "tinynet.optim.lr_scheduler.LRScheduler; it returned "
                f"{type(scheduler).__name__}"
            )
        return scheduler, isinstance(scheduler, _PER_BATCH_SCHEDULERS)

    def _set_learning_rate(self, lr: float) -> None:
        optimizer = self._optimizer
        for group in optimizer.param_groups:
            old, group["lr"] = group["lr"], lr
            if isinstance(optimizer, optim.SGD) and old != lr:
                # scikit-learn's SGD keeps the velocity -lr * buffer across a change of the
                # learning rate; rescaling PyTorch's buffer keeps the same trajectory.
                for param in group["params"]:
                    buffer = optimizer.state.get(param, {}).get("momentum_buffer")
                    if buffer is not None:
                        buffer *= old / lr

    def _current_learning_rate(self) -> float:
        return float(self._optimizer.param_groups[0]["lr"])

    def _validation_set(self, X, Y, sample_weight, incremental):
        """``(X_train, Y_train, w_train, validation)``; validation is None or a tuple
        ``(X_val, Y_val, w_val, y_val)``: model form and the decoded targets."""
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if self.validation_data is not None:
            return X, Y, sample_weight, self._user_validation_set()
        if not (self.early_stopping and self._is_stochastic()):
            return X, Y, sample_weight, None
        stratify = Y if is_classifier(self) and not self._multilabel() else None
        arrays = [X, Y] if sample_weight is None else [X, Y, sample_weight]
        # A class with one member cannot be stratified: train_test_split raises, as in
        # scikit-learn's MLP, rather than silently splitting without stratification.
        parts = train_test_split(
            *arrays,
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val, Y_train, Y_val = parts[:4]
        w_train, w_val = (None, None) if sample_weight is None else parts[4:]
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        return X_train, Y_train, w_train, (X_val, Y_val, w_val, self._decode_targets(Y_val))

    def _multilabel(self) -> bool:
        return False

    def _user_validation_set(self):
        data = self.validation_data
        if len(data) not in (2, 3):
            raise ValueError(
                "validation_data must be a tuple (X_val, y_val) or (X_val, y_val, "
                f"sample_weight_val), got a tuple of {len(data)} items"
            )
        X_val, y_val, w_val = (*data, None) if len(data) == 2 else data
        X_val, Y_val, y_val = self._validate_validation_input(X_val, y_val)
        if w_val is not None:
            w_val = check_sample_weight(w_val, X_val, ensure_non_negative=True)
        w_val = self._weighted(y_val, w_val)
        if Y_val.ndim == 1:
            Y_val = Y_val.reshape(-1, 1)
        Y_val = np.asarray(self._encode_targets(Y_val), dtype=self._dtype)
        w_val = None if w_val is None else np.asarray(w_val, dtype=self._dtype)
        return self._as_model_input(X_val), Y_val, w_val, self._decode_targets(Y_val)

    def _evaluate(self, validation) -> tuple[float, float]:
        """``(score, mean loss)`` of the current network on the validation set."""
        X_val, Y_val, w_val, y_true = validation
        raw = self._raw_output(X_val)
        sw_sum = X_val.shape[0] if w_val is None else float(w_val.sum())
        with no_grad():
            loss = float(self._data_loss(Tensor(raw), Y_val, w_val, sw_sum).item())
        if not np.isfinite(raw).all():
            return float("nan"), loss
        score = self._score_predictions(y_true, self._predict_from_raw(raw), w_val)
        return float(score), loss

    def _decode_targets(self, Y: np.ndarray):
        return Y.ravel() if Y.shape[1] == 1 else Y

    def _record_epoch(self, loss: float, validation, fit_start: float, lr: float | None = None):
        """Append the epoch to the curves and the history; return the validation score.
        ``lr``: the learning rate the epoch started with (None for the full-batch solvers)."""
        self.loss_curve_.append(loss)
        score = val_loss = None
        if validation is not None:
            score, val_loss = self._evaluate(validation)
            if self.validation_scores_ is None or self.validation_loss_curve_ is None:
                self.validation_scores_, self.validation_loss_curve_ = [], []
                self.best_validation_score_ = -np.inf
            self.validation_scores_.append(score)
            self.validation_loss_curve_.append(val_loss)
        history = self.history_
        # A model saved before history_ had "lr" gets None for its earlier epochs.
        history.setdefault("lr", [None] * len(history["epoch"])).append(lr)
        history["epoch"].append(len(self.loss_curve_))
        history["loss"].append(loss)
        history["val_loss"].append(val_loss)
        history["val_score"].append(score)
        history["time"].append(time.perf_counter() - fit_start)
        if getattr(self, "_progress", None) is not None:
            self._progress.set_postfix(_epoch_summary(history), refresh=False)
            self._progress.update(1)
        return score

    def _run_callbacks(self) -> bool:
        stop = False
        for callback in self.callbacks or ():
            stop = bool(callback(self, self.history_)) or stop
        return stop

    def _snapshot(self, params) -> list:
        return [p.data.copy() for p in params]

    @staticmethod
    def _restore(params, arrays) -> None:
        for param, array in zip(params, arrays):
            param.data[...] = array

    def _diverged(self, params, snapshot, value, where: str):
        self._restore(params, snapshot)
        self.__dict__.pop("_optimizer", None)  # its state may hold NaN; start afresh next time
        self.module_.eval()
        # scikit-learn's sentence first, so code that matches it keeps working.
        raise ValueError(
            "Solver produced non-finite parameter weights. The input data may contain large "
            f"values and need to be preprocessed. Training diverged: the loss became {value} "
            f"{where}. The network keeps its last finite weights. Scale the input (e.g. "
            "StandardScaler), or lower learning_rate_init."
        )

    def _fit_stochastic(self, X, Y, sample_weight, incremental, fit_start) -> None:
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer()
        scheduler, per_batch = self._make_lr_scheduler(incremental)
        after_step = scheduler.step if per_batch else None
        X_train, Y_train, w_train, validation = self._validation_set(
            X, Y, sample_weight, incremental
        )
        early_stopping = self.early_stopping and validation is not None
        if early_stopping and self.best_validation_score_ is None:
            self.best_validation_score_ = -np.inf
        n_samples = X_train.shape[0]
        batch_size = self._resolved_batch_size(n_samples)
        module = self.module_
        params = list(module.parameters())
        sample_idx = np.arange(n_samples)
        starts = range(0, n_samples, batch_size)
        module.train()
        snapshot = self._snapshot(params)
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                snapshot = self._snapshot(params)
                if self.shuffle:
                    # sklearn.utils.shuffle's draw, so the batches match scikit-learn's.
                    order = np.arange(n_samples)
                    self._random_state.shuffle(order)
                    sample_idx = sample_idx.take(order)
                    batches: list = [sample_idx[start : start + batch_size] for start in starts]
                else:
                    batches = [slice(start, start + batch_size) for start in starts]
                lr = self._current_learning_rate()
                epoch_loss = self._train_epoch(batches, X_train, Y_train, w_train, after_step)
                self.n_iter_ += 1
                self.t_ += n_samples
                stop = self._end_epoch(
                    epoch_loss, validation, fit_start, early_stopping, params, lr
                )
                if scheduler is not None and not per_batch and not stop:
                    self._step_epoch_scheduler(scheduler, epoch_loss)
                if stop or incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=3,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=3)
        except _NonFiniteLoss as error:
            self._stop_diverged(error, early_stopping, params, snapshot)
        finally:
            module.eval()

        if early_stopping:
            self._restore(params, self._best_params)
        if not all(np.isfinite(p.data).all() for p in params):
            self._diverged(params, snapshot, "non-finite", "in the last iteration")

    def _step_epoch_scheduler(self, scheduler, epoch_loss: float) -> None:
        """ReduceLROnPlateau watches the validation loss (the training loss without one)."""
        if isinstance(scheduler, optim.lr_scheduler.ReduceLROnPlateau):
            val_loss = self.history_["val_loss"][-1]
            scheduler.step(epoch_loss if val_loss is None else val_loss)
        else:
            scheduler.step()

    def _resolved_batch_size(self, n_samples: int) -> int:
        """``batch_size`` for ``n_samples`` rows: ``"auto"`` is at most 200; clipped, as
        scikit-learn does, with a warning."""
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                stacklevel=4,
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    def _end_epoch(
        self,
        loss: float,
        validation: tuple | None,
        fit_start: float,
        early_stopping: bool,
        params: list,
        lr: float | None = None,
    ) -> bool:
        """Record an epoch (trained at ``lr``), follow scikit-learn's learning-rate schedule
        for sgd; return whether to stop."""
        schedule = self._optimizer_name() == "sgd"
        self.loss_ = loss
        score = self._record_epoch(loss, validation, fit_start, lr)
        self._say(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
        self._update_no_improvement_count(early_stopping, score, params)
        if schedule and self.learning_rate == "invscaling":
            self._set_learning_rate(float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t)
        stopped_by_callback = self._run_callbacks()
        if self._no_improvement_count > self.n_iter_no_change:
            watched = "Validation score" if early_stopping else "Training loss"
            message = (
                f"{watched} did not improve more than tol={self.tol:f} "
                f"for {self.n_iter_no_change} consecutive epochs."
            )
            if self._trigger_stopping(message, schedule):
                return True
            self._no_improvement_count = 0
        return stopped_by_callback

    def _stop_diverged(
        self, error: _NonFiniteLoss, early_stopping: bool, params: list, snapshot: list
    ) -> None:
        """Without early stopping, raise; with it, warn and keep the best validation weights."""
        if not early_stopping:
            self._diverged(params, snapshot, error.value, error.where)
        # scikit-learn's MLP finishes and keeps the best validation weights: so do we.
        self.__dict__.pop("_optimizer", None)  # its state may hold NaN
        warnings.warn(
            f"Training diverged: the loss became {error.value} {error.where}; training "
            "stopped and the weights of the best validation score were restored. "
            "learning_rate_init may be too large, or the input may need scaling.",
            ConvergenceWarning,
            stacklevel=4,
        )

    def _train_epoch(self, batches, X, Y, weight, after_step=None) -> float:
        """One optimizer step per batch, then ``after_step()`` (a per-batch scheduler) if
        given; returns the epoch's (weighted) mean loss."""
        module, optimizer = self.module_, self._optimizer
        module_input, data_loss, apply_l2 = self._module_input, self._data_loss, self._apply_l2
        accumulated = seen = 0.0
        gradients = _compiled_gradients(self) if not sp.issparse(X) else None
        # ``take`` gathers the same rows as ``X[index]``, two to three times faster.
        dense = not sp.issparse(X)
        for index in batches:
            gather = dense and type(index) is np.ndarray
            Y_batch = Y.take(index, axis=0) if gather else Y[index]
            if weight is None:
                w_batch = None
                sw_sum = Y_batch.shape[0]
            else:
                w_batch = weight.take(index) if gather else weight[index]
                sw_sum = float(w_batch.sum())
                if sw_sum == 0:  # nothing to learn from this batch
                    continue
            X_batch = X.take(index, axis=0) if gather else X[index]
            optimizer.zero_grad()
            if gradients is not None:  # the same work, replayed by tn.compile
                if w_batch is None:
                    loss = gradients(X_batch, Y_batch)
                else:  # the weights as an array argument: a float would be a guard value
                    loss = gradients(X_batch, Y_batch, _loss_scale(w_batch, sw_sum))
            else:
                loss = data_loss(module(module_input(X_batch)), Y_batch, w_batch, sw_sum)
                loss.backward()
            value = loss.item() + apply_l2(sw_sum)
            if not math.isfinite(value):
                raise _NonFiniteLoss(value, f"in iteration {len(self.loss_curve_) + 1}")
            optimizer.step()
            if after_step is not None:
                after_step()
            accumulated += value * sw_sum
            seen += sw_sum
        return accumulated / seen if seen else 0.0

    def _trigger_stopping(self, message: str, schedule: bool) -> bool:
        if not (schedule and self.learning_rate == "adaptive"):
            self._say(message + " Stopping.")
            return True
        lr = self._current_learning_rate()
        if lr <= 1e-6:
            self._say(message + " Learning rate too small. Stopping.")
            return True
        self._set_learning_rate(lr / 5.0)
        self._say(f"{message} Setting learning rate to {lr / 5.0:f}")
        return False

    def _update_no_improvement_count(self, early_stopping: bool, score, params) -> None:
        if early_stopping:
            self._say(f"Validation score: {score:f}")
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = self._snapshot(params)
            return
        if score is not None and score > self.best_validation_score_:
            self.best_validation_score_ = score
        if self.best_loss_ is None:
            self.best_loss_ = np.inf
        if self.loss_curve_[-1] > self.best_loss_ - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if self.loss_curve_[-1] < self.best_loss_:
            self.best_loss_ = self.loss_curve_[-1]

    # -- the full-batch solvers: L-BFGS, Newton-CG, trust-ncg -----------------------------------
    def _fit_full_batch(self, X, Y, sample_weight, fit_start) -> None:
        solver = self.solver
        if self.lr_scheduler is not None:
            raise ValueError(
                f"lr_scheduler schedules a stochastic optimizer's learning rate; solver={solver!r} "
                "has none: use solver='adam' or 'sgd' (or optimizer=...), or lr_scheduler=None"
            )
        if self.dropout > 0 and self.module is None:
            raise ValueError(
                f"dropout makes the loss random, which {solver} cannot minimize; use "
                "solver='adam' or 'sgd' with dropout, or dropout=0 with "
                f"solver={solver!r}"
            )
        _, _, _, validation = self._validation_set(X, Y, sample_weight, False)
        module = self.module_
        params = list(module.parameters())
        module.train()
        objective = FlatObjective(self._training_terms(), X, Y, sample_weight)
        last_finite = [self._snapshot(params)]

        def loss_and_grad(vector: np.ndarray):
            value, grad = objective.value_and_grad(vector)
            if np.isfinite(value) and np.isfinite(grad).all():
                last_finite[0] = self._snapshot(params)
            return value, grad

        def finite_hessp(vector: np.ndarray, direction: np.ndarray) -> np.ndarray:
            product = objective.hessp(vector, direction)
            if not np.isfinite(product).all():
                raise _NonFiniteCurvature  # SciPy would fail on it with a cryptic message
            return product

        stopped_by_callback = [False]

        def after_iteration(intermediate_result):
            self._record_epoch(float(intermediate_result.fun), validation, fit_start)
            self._say(f"Iteration {len(self.loss_curve_)}, loss = {self.loss_curve_[-1]:.8f}")
            if self._run_callbacks():
                stopped_by_callback[0] = True
                raise StopIteration

        method, options = self._scipy_method()
        hessp = None if method == "L-BFGS-B" else finite_hessp
        where = f"during {method}"
        try:
            result = scipy.optimize.minimize(
                loss_and_grad,
                objective.pack(),
                method=method,
                jac=True,
                hessp=hessp,
                callback=after_iteration,
                options=options,
            )
        except _NonFiniteCurvature:
            self._diverged(params, last_finite[0], "non-finite", f"in a Hessian product {where}")
        finally:
            module.eval()
        self._adopt_result(result, objective, stopped_by_callback[0], last_finite[0], where)

    def _scipy_method(self) -> tuple[str, dict]:
        """The ``scipy.optimize.minimize`` method of ``solver`` and its stopping options."""
        if self.solver == "lbfgs":
            return "L-BFGS-B", {"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol}
        if self.solver == "newton-cg":
            # tol bounds the mean absolute step, as scipy's own tol for this method.
            return "Newton-CG", {"maxiter": self.max_iter, "xtol": self.tol}
        return "trust-ncg", {"maxiter": self.max_iter, "gtol": self.tol}  # on the gradient's norm

    def _adopt_result(
        self,
        result: scipy.optimize.OptimizeResult,
        objective: FlatObjective,
        stopped_by_callback: bool,
        last_finite: list,
        where: str,
    ) -> None:
        """Take SciPy's result into the network and the fitted attributes; a non-finite
        result restores ``last_finite`` and raises."""
        params = list(self.module_.parameters())
        if stopped_by_callback:
            self.n_iter_ = min(result.nit, self.max_iter)
        elif self.solver == "lbfgs":
            self.n_iter_ = check_optimize_result("lbfgs", result, self.max_iter)
        else:
            self.n_iter_ = _check_second_order_result(self.solver, result, self.max_iter)
        if not np.isfinite(result.fun) or not np.isfinite(result.x).all():
            self._diverged(params, last_finite, result.fun, where)
        objective.unpack(result.x)
        self.loss_ = float(result.fun)
        if self.loss_curve_:
            self.best_loss_ = min(self.loss_curve_)
        if self.validation_scores_:
            self.best_validation_score_ = max(self.validation_scores_)
        if not all(np.isfinite(p.data).all() for p in params):
            self._diverged(params, last_finite, "non-finite", where)

    def _full_batch_objective(self, X, Y, sample_weight, blocks=None) -> float:
        """The training objective (mean loss + L2 penalty) over all of ``X``; leaves its
        exact gradient in each parameter's ``.grad``."""
        if blocks is None:
            blocks = self._full_batch_blocks(X)
        sw_sum = X.shape[0] if sample_weight is None else float(sample_weight.sum())
        for param in self.module_.parameters():
            param.grad = None
        value = 0.0
        for block in blocks:
            weight = None if sample_weight is None else sample_weight[block]
            raw = self.module_(self._module_input(X[block]))
            loss = self._data_loss(raw, Y[block], weight, sw_sum)
            loss.backward()
            value += loss.item()
        return value + self._apply_l2(sw_sum)

    def _training_terms(self) -> TrainingTerms:
        """The pieces of the training objective, for ``FlatObjective``."""
        return TrainingTerms(
            module=self.module_,
            module_input=self._module_input,
            data_loss=self._data_loss,
            penalized=self._penalized,
            alpha=self.alpha,
            blocks=self._full_batch_blocks,
            objective=self._full_batch_objective,
        )

    def _full_batch_blocks(self, X) -> list:
        if sp.issparse(X) and self.module is not None:
            n = X.shape[0]
            return [slice(start, start + _SPARSE_BLOCK) for start in range(0, n, _SPARSE_BLOCK)]
        return [slice(None)]

    # -- prediction ---------------------------------------------------------------------------------
    def _validated_input(self, X):
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False
        )
        return self._as_model_input(X)

    def _raw_output(self, X) -> np.ndarray:
        """The network's output for validated ``X``, in eval mode, without a graph."""
        module = self.module_
        was_training = module.training
        if was_training:
            module.eval()
        try:
            with no_grad():
                if sp.issparse(X) and self.module is not None:
                    parts = [
                        module(self._module_input(X[start : start + _SPARSE_BLOCK])).data
                        for start in range(0, X.shape[0], _SPARSE_BLOCK)
                    ]
                    return np.concatenate(parts) if parts else np.empty((0, self.n_outputs_))
                return module(self._module_input(X)).data
        finally:
            if was_training:
                module.train()

    def _forward(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._raw_output(self._validated_input(X))

    # -- scikit-learn's fitted attributes as views of the network ------------------------------------
    def _fitted_linears(self) -> list:
        module = self.__dict__.get("module_")
        if module is None:
            raise AttributeError(
                f"This {type(self).__name__} instance is not fitted yet: coefs_ and "
                "intercepts_ exist after fit"
            )
        return linear_layers(module)

    @property
    def coefs_(self) -> list:
        """Weight matrices of the ``nn.Linear`` layers as ``(fan_in, fan_out)`` views."""
        return [layer.weight.data.T for layer in self._fitted_linears()]

    @coefs_.setter
    def coefs_(self, values) -> None:
        layers = self._fitted_linears()
        _assign(layers, values, "weight", transpose=True)

    @property
    def intercepts_(self) -> list:
        """Bias vectors of the ``nn.Linear`` layers (views)."""
        return [layer.bias.data for layer in self._fitted_linears() if layer.bias is not None]

    @intercepts_.setter
    def intercepts_(self, values) -> None:
        layers = [layer for layer in self._fitted_linears() if layer.bias is not None]
        _assign(layers, values, "bias", transpose=False)

    # -- gradient checking ----------------------------------------------------------------------------
    def check_gradients(
        self,
        X,
        y,
        sample_weight=None,
        *,
        eps: float = 1e-6,
        atol: float = 1e-5,
        rtol: float = 1e-3,
        fast_mode: bool | None = None,
        max_elements: int = 1000,
        rng=0,
    ):
        """Check the training gradients against finite differences, parameter by parameter.

        The objective that fit minimizes on ``X, y`` (the mean loss weighted by
        ``sample_weight`` and the class weights, plus the L2 penalty ``alpha``) is
        differentiated by the code training uses (the autograd engine's backward and the
        penalty's gradient) and compared with central differences of its value
        (``tinynet.check_gradients``), one parameter at a time with the others held fixed.
        Everything runs on a float64 copy of the network in eval mode (dropout off; with
        ``optimizer='adamw'`` the penalty is checked coupled, as decoupled weight decay is
        no gradient); the estimator is not changed. An estimator that is not fitted yet is checked at the
        initial weights ``fit`` would start from (same ``random_state``).

        A parameter of at most ``max_elements`` elements gets the full Jacobian: two
        objective evaluations per element, and the worst element is named. A larger one
        gets ``fast_mode``: one random projection ``<grad, v>`` against
        ``(f(w + eps v) - f(w - eps v)) / (2 eps)``, two evaluations in all, which catches
        a wrong gradient unless the error happens to be orthogonal to ``v``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        eps, atol, rtol : float
            Finite-difference step and tolerances, as in ``tinynet.check_gradients``.
        fast_mode : bool or None, default=None
            True or False forces the mode for every parameter; None chooses by size.
        max_elements : int, default=1000
            The largest parameter checked element by element when ``fast_mode`` is None.
        rng : int or numpy.random.Generator, default=0
            Seeds the random projections.

        Returns
        -------
        report : ObjectiveGradcheckReport
            A ``tinynet.GradcheckReport`` with one entry per parameter, named as in
            ``module_.named_parameters()`` (``'0.weight'``, ``'0.bias'``, ...): shape,
            mode, max abs and rel error, pass or fail. ``report.passed``,
            ``report.failures``, ``report[name]``; ``print(report)`` shows a table.

        Examples
        --------
        >>> import numpy as np
        >>> from tinynet.estimators import NeuralNetRegressor
        >>> X, y = np.random.RandomState(0).randn(20, 3), np.arange(20.0)
        >>> reg = NeuralNetRegressor(hidden_layer_sizes=(4,), solver="lbfgs", random_state=0)
        >>> report = reg.check_gradients(X, y)  # before fitting: at the initial weights
        >>> report.passed, report.names
        (True, ['0.weight', '0.bias', '2.weight', '2.bias'])
        """
        objective, names = self._float64_objective(X, y, sample_weight)
        return check_objective_gradients(
            objective,
            names,
            eps=eps,
            atol=atol,
            rtol=rtol,
            fast_mode=fast_mode,
            max_elements=max_elements,
            rng=rng,
        )

    def _float64_objective(self, X, y, sample_weight) -> tuple[FlatObjective, list[str]]:
        """The training objective of a float64 copy in eval mode, and its parameter names."""
        probe = copy.deepcopy(self)
        probe.__dict__.pop("_penalized_cache", None)
        probe.__dict__.pop("_optimizer", None)
        fitted = "module_" in self.__dict__
        if fitted:
            probe._dtype = np.dtype(np.float64)
            probe.module_.to(np.float64)
        else:
            probe.dtype = "float64"
        X, Y, sample_weight = probe._training_data(
            X, y, sample_weight, fitted, not fitted, None if fitted else probe._hidden_sizes()
        )
        if probe._optimizer_name() == "adamw":
            probe.optimizer = None  # decoupled weight decay: check the coupled penalty instead
        probe.module_.eval()
        names = [name for name, _ in probe.module_.named_parameters()]
        return FlatObjective(probe._training_terms(), X, Y, sample_weight), names

    # -- persistence ------------------------------------------------------------------------------------
    def save(self, path, extra: dict | None = None) -> None:
        """Write the fitted estimator to ``path`` with ``tinynet.save`` (no pickle).

        Parameters
        ----------
        path : str or path-like
            Destination file.
        extra : dict, default=None
            Your own metadata (arrays, numbers, strings, nested dicts and lists), returned
            by :func:`tinynet.estimators.load` next to the estimator.
        """
        from tinynet.estimators._persistence import save_estimator

        save_estimator(self, path, extra)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _say(self, message: str) -> None:
        """scikit-learn's verbose lines (verbose=1); above the progress bar for verbose=2."""
        if not self.verbose:
            return
        progress = getattr(self, "_progress", None)
        if progress is None:
            print(message)
        elif int(self.verbose) >= 3:
            progress.write(message)

    # -- pickle and skops: the optimizer as plain data (issue 14) ------------------------------
    def __getstate__(self):
        """The state with a named optimizer as its ``state_dict`` (arrays and numbers), not
        an object keyed by Parameters: ``skops.io`` then needs no optimizer type trusted."""
        state = super().__getstate__()
        optimizer = state.get("_optimizer")
        if optimizer is not None and (self.optimizer is None or isinstance(self.optimizer, str)):
            state = dict(state)
            packed = optimizer.state_dict()
            state["_optimizer"] = None
            state["_optimizer_state"] = {
                "state": [[index, value] for index, value in packed["state"].items()],
                "param_groups": packed["param_groups"],
            }
        return state

    def __setstate__(self, state) -> None:
        packed = state.pop("_optimizer_state", None)
        super().__setstate__(state)
        if state.get("_optimizer", False) is None:
            del self._optimizer
        if packed is not None:
            for param in self.module_.parameters():
                if not param.data.flags.writeable:  # loaded from a read-only memory map
                    param.data = param.data.copy()
            self._optimizer = self._make_optimizer()
            self._optimizer.load_state_dict(
                {"state": dict(packed["state"]), "param_groups": packed["param_groups"]}
            )


def _progress_bar(estimator, total: int):
    """verbose >= 2: a tqdm bar on stderr, one step per epoch (iteration); else None."""
    if not estimator.verbose or int(estimator.verbose) < 2:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError(
            "verbose=2 shows a progress bar, which needs tqdm: pip install tqdm "
            "(verbose=1 prints scikit-learn's lines without it)"
        ) from None
    unit = "epoch" if estimator._is_stochastic() else "iteration"
    return tqdm(total=total, unit=unit, desc=type(estimator).__name__, leave=True)


def _epoch_summary(history: dict) -> dict:
    """The bar's postfix: training loss, validation loss and score, the epoch's seconds."""
    times = history["time"]
    shown = {"loss": f"{history['loss'][-1]:.4g}"}
    if history["val_loss"][-1] is not None:
        shown["val_loss"] = f"{history['val_loss'][-1]:.4g}"
    if history["val_score"][-1] is not None:
        shown["val_score"] = f"{history['val_score'][-1]:.4f}"
    previous = times[-2] if len(times) > 1 and times[-2] <= times[-1] else 0.0
    shown["time"] = f"{times[-1] - previous:.3f}s"
    return shown


class _NonFiniteLoss(ArithmeticError):
    """A batch loss became NaN or infinite: the stochastic fit has diverged."""

    def __init__(self, value: float, where: str):
        super().__init__(value, where)
        self.value, self.where = value, where


class _NonFiniteCurvature(ArithmeticError):
    """A Hessian-vector product overflowed: the fit has diverged."""


def _check_second_order_result(solver: str, result, max_iter: int) -> int:
    """The iteration count of a Newton-CG / trust-ncg run, with a ConvergenceWarning when it
    did not converge: scikit-learn's ``check_optimize_result`` rule, which covers lbfgs only."""
    n_iter = min(result.nit, max_iter)
    if result.status != 0:
        message = (
            f"{solver} failed to converge after {n_iter} iteration(s) "
            f"(status={result.status}):\n{result.message}\n"
        )
        if n_iter == max_iter:
            message += (
                "\nIncrease the number of iterations to improve the convergence "
                f"(max_iter={max_iter})."
            )
        else:  # the line search or the trust region found no better point
            message += (
                "\nThe quadratic model stopped predicting the loss: a non-smooth activation "
                "(relu) or the limits of floating point. A smooth activation (tanh, "
                "logistic, gelu, softplus, silu) or solver='lbfgs' may get further."
            )
        warnings.warn(message, ConvergenceWarning, stacklevel=4)
    return n_iter


def _assign(layers, values, name: str, transpose: bool) -> None:
    values = list(values)
    if len(values) != len(layers):
        raise ValueError(f"expected {len(layers)} arrays, got {len(values)}")
    for layer, value in zip(layers, values):
        param = getattr(layer, name)
        array = np.asarray(value, dtype=param.data.dtype)
        array = array.T if transpose else array
        if array.shape != param.data.shape:
            expected = param.data.T.shape if transpose else param.data.shape
            raise ValueError(f"expected an array of shape {expected}, got {np.shape(value)}")
        param.data[...] = array


# -- compiled training steps (issue 12) -----------------------------------------------------------
#: Estimator -> (module, optimizer, compiled step); weak, so an estimator is never kept alive
#: (nor pickled with) the recorded program.
_COMPILED_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: Tests switch this off to compare against the eager loop.
COMPILE_STEPS = True


def _loss_scale(weight, sw_sum: float):
    """What ``batch_loss`` multiplies the per-sample losses by: ``1 / n`` without sample
    weights, else the column of the weights divided by their sum."""
    return 1.0 / sw_sum if weight is None else (weight * (1.0 / sw_sum)).reshape(-1, 1)


def _compiled_gradients(estimator):
    """The compiled forward, loss and ``backward`` of one dense batch (with its column of
    loss scales when the samples are weighted), called with the gradients cleared.

    Replays are bit-identical to the eager loop (``tn.compile``), so fitted weights do not
    change; what the recorder cannot capture (a custom module, say) runs eagerly, silently.
    """
    if not COMPILE_STEPS:
        return None
    module, optimizer = estimator.module_, estimator._optimizer
    entry = _COMPILED_STEPS.get(estimator)
    if entry is not None and entry[0] is module and entry[1] is optimizer:
        return entry[2]
    owner = weakref.ref(estimator)

    def gradients(X_batch, Y_batch, scale=None):
        # No zero_grad here: the caller clears the gradients just before each call, so
        # every call, the first included, starts without them and the first two calls
        # (the recordings tn.compile compares) run under the same guards.
        fitting = owner()
        raw = module(fitting._module_input(X_batch))
        if scale is None:
            loss = fitting._data_loss(raw, Y_batch, None, Y_batch.shape[0])
        else:
            loss = batch_loss(fitting.out_activation_, raw, Y_batch, scale)
        loss.backward()
        return loss

    entry = (module, optimizer, _compile(gradients, warn=False))
    _COMPILED_STEPS[estimator] = entry
    return entry[2]
