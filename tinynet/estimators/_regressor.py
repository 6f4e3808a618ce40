"""``NeuralNetRegressor``: scikit-learn's ``MLPRegressor`` on tinynet, and more."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from tinynet.estimators._base import BaseNeuralNet
from tinynet.estimators._sklearn import StrOptions, fit_context


class NeuralNetRegressor(RegressorMixin, BaseNeuralNet):
    """Neural-network regressor on tinynet: a drop-in superset of scikit-learn's
    ``MLPRegressor``.

    It minimizes half the squared error (or half the Poisson deviance, with an exponential
    output) plus an L2 penalty, with L-BFGS, Newton-CG, trust-ncg or a stochastic tinynet
    optimizer. Every parameter of scikit-learn 1.9's ``MLPRegressor`` has the same name,
    default and meaning; the parameters after ``max_fun`` are tinynet's own.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        ``'squared_error'`` is ``0.5 * sum over outputs of the mean squared error``;
        ``'poisson'`` is half the Poisson deviance with a log link (``y >= 0`` required).
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : str, callable or list, default='relu'
        Activation of the hidden layers: ``'identity'``, ``'logistic'``, ``'tanh'``,
        ``'relu'`` (scikit-learn's), ``'sigmoid'``, ``'gelu'``, ``'elu'``, ``'leaky_relu'``,
        ``'softplus'``, ``'silu'``, a function of Tensors, an ``nn.Module`` class, or a list
        with one of these per hidden layer.
    solver : {'lbfgs', 'newton-cg', 'trust-ncg', 'sgd', 'adam'}, default='adam'
        The weight optimizer. ``'lbfgs'`` runs ``scipy.optimize.minimize(method='L-BFGS-B')``
        with tinynet's exact gradients; ``'newton-cg'`` and ``'trust-ncg'`` (tinynet's
        additions) run SciPy's second-order methods with exact gradients and exact
        Hessian-vector products (double backward); ``'sgd'`` and ``'adam'`` use
        ``tinynet.optim``.
    alpha : float, default=0.0001
        Strength of the L2 penalty ``0.5 * alpha * sum ||W||^2 / n_samples`` (weights only).
    batch_size : int or 'auto', default='auto'
        Minibatch size of the stochastic solvers; ``'auto'`` is ``min(200, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule of ``solver='sgd'``.
    learning_rate_init : float, default=0.001
        The initial learning rate of the stochastic optimizers.
    power_t : float, default=0.5
        Exponent of the ``'invscaling'`` schedule.
    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (L-BFGS, Newton-CG,
        trust-ncg).
    shuffle : bool, default=True
        Whether to shuffle the samples in each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization, shuffling, the early-stopping split and dropout.
    tol : float, default=1e-4
        Tolerance of the stopping rule; L-BFGS's and trust-ncg's ``gtol``, Newton-CG's
        ``xtol``.
    verbose : bool or int, default=False
        ``True``/``1``: print ``Iteration %d, loss = %.8f`` after each epoch, as scikit-learn.
        ``2``: a tqdm progress bar (stderr) with the training loss, validation loss and score
        and the epoch's time instead; ``3``: the bar and the lines.
    warm_start : bool, default=False
        Reuse the fitted network as the starting point of the next ``fit``.
    momentum : float, default=0.9
        Momentum of ``solver='sgd'``.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum (``solver='sgd'`` with ``momentum > 0``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data and stop when the validation
        R^2 stops improving; the best weights are restored.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
    beta_1 : float, default=0.9
        Adam's first-moment decay rate.
    beta_2 : float, default=0.999
        Adam's second-moment decay rate.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant (also RMSprop's and Adagrad's).
    n_iter_no_change : int, default=10
        Number of epochs without ``tol`` improvement before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of L-BFGS.
    dropout : float, default=0.0
        Dropout probability after every hidden activation (stochastic solvers).
    optimizer : str, callable or None, default=None
        Overrides ``solver``: ``'sgd'``, ``'adam'``, ``'adamw'`` (``alpha`` becomes decoupled
        weight decay), ``'nadam'``, ``'radam'``, ``'adamax'``, ``'rmsprop'``, ``'adagrad'``,
        ``'adadelta'``, ``'rprop'``, ``'asgd'`` (``learning_rate_init`` is their ``lr``;
        ``beta_1``, ``beta_2`` and ``epsilon`` go to those that have them; ASGD's own
        ``alpha``, ``lambd`` and ``t0`` keep PyTorch's defaults, and the fitted weights are
        its last iterate, the average ``ax`` in its state), or a function taking the
        parameter list and returning a ``tinynet.optim.Optimizer``.
    lr_scheduler : callable or None, default=None
        A function of the optimizer returning a ``tinynet.optim.lr_scheduler.LRScheduler``,
        called at the start of each ``fit`` (stochastic optimizers only; not with
        ``partial_fit``). ``OneCycleLR`` and ``CyclicLR`` step after every batch,
        ``ReduceLROnPlateau`` after every epoch on the validation loss (the training loss
        without validation data), any other after every epoch. ``history_['lr']`` records
        the learning rate each epoch starts with.
    module : tinynet.nn.Module, callable or None, default=None
        A network (copied at each fit) or a function of no arguments building one, mapping
        ``(n_samples, n_features)`` to ``(n_samples, n_outputs)`` (before the output
        activation). Replaces ``hidden_layer_sizes``, ``activation`` and ``dropout``.
    validation_data : tuple or None, default=None
        ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)`` evaluated after each
        epoch; with ``early_stopping=True`` it replaces the held-out split.
    callbacks : list of callables or None, default=None
        Each is called as ``callback(estimator, history)`` after every epoch; returning True
        stops training.
    dtype : {'float32', 'float64'}, numpy float type or None, default=None
        The network's dtype; None is float64, or float32 for float32 input.

    Attributes
    ----------
    loss_ : float
        The loss (with the L2 penalty) of the last epoch.
    best_loss_ : float or None
        The minimum loss reached; None with early stopping.
    loss_curve_ : list of float
        The loss after each epoch (full-batch solvers: after each iteration).
    validation_scores_ : list of float or None
        R^2 on the validation set after each epoch; None without one.
    validation_loss_curve_ : list of float or None
        Mean loss (without the penalty) on the validation set after each epoch.
    best_validation_score_ : float or None
        The best validation R^2; None without a validation set.
    history_ : dict of lists
        ``epoch``, ``loss``, ``val_loss``, ``val_score``, ``time`` and ``lr`` per epoch.
    t_ : int
        The number of training samples seen by the stochastic solver.
    coefs_ : list of ndarray
        Weight matrices ``(fan_in, fan_out)`` of the ``nn.Linear`` layers (views).
    intercepts_ : list of ndarray
        Bias vectors of the ``nn.Linear`` layers.
    module_ : tinynet.nn.Module
        The fitted network.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    n_iter_ : int
        Number of epochs (iterations for the full-batch solvers) of the last fit.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        ``'identity'``, or ``'exp'`` for the Poisson loss.

    See Also
    --------
    NeuralNetClassifier : The classifier.
    sklearn.neural_network.MLPRegressor : The estimator this one extends.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from tinynet.estimators import NeuralNetRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=1)
    >>> reg = NeuralNetRegressor(hidden_layer_sizes=(32,), solver="lbfgs", random_state=1)
    >>> round(reg.fit(X, y).score(X, y), 2)
    1.0
    """

    _parameter_constraints: dict = {
        **BaseNeuralNet._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        optimizer=None,
        lr_scheduler=None,
        module=None,
        validation_data=None,
        callbacks=None,
        dtype=None,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.optimizer = optimizer
        self.lr_scheduler = lr_scheduler
        self.module = module
        self.validation_data = validation_data
        self.callbacks = callbacks
        self.dtype = dtype

    # -- validation ----------------------------------------------------------------------------
    def _validate_input(self, X, y, incremental, reset):
        return self._validated_xy(X, y, reset)

    def _validate_validation_input(self, X, y):
        return self._validated_xy(X, y, reset=False)

    def _validated_xy(self, X, y, reset):
        if sp.issparse(y):
            # validate_data lets a sparse y through when multi_output=True; scikit-learn's
            # MLPRegressor then fails deep inside with a linear-algebra error.
            raise TypeError(
                "Sparse data was passed for y, but dense data is required. Use '.toarray()' "
                "to convert to a dense numpy array."
            )
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=self._input_dtype(),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for Poisson regression."
            )
        return X, y, y

    def _check_warm_output(self) -> None:
        # The loss fixes the output activation (exp for poisson): the fitted network keeps
        # its own, so a warm start cannot switch (scikit-learn's MLP then trains on to NaN).
        wanted = "exp" if self.loss == "poisson" else "identity"
        if wanted != self.out_activation_:
            fitted = "poisson" if self.out_activation_ == "exp" else "squared_error"
            raise ValueError(
                f"warm_start / partial_fit continue a network fitted with loss={fitted!r}, "
                f"but loss is now {self.loss!r}; refit with warm_start=False to change the loss"
            )

    # -- outputs --------------------------------------------------------------------------------
    def _output_activation(self, n_module_outputs: int) -> str:
        if n_module_outputs != self.n_outputs_:
            raise ValueError(
                f"the module has {n_module_outputs} outputs, but y has {self.n_outputs_} "
                "columns: it needs one output per target"
            )
        return "exp" if self.loss == "poisson" else "identity"

    def _encode_targets(self, Y: np.ndarray) -> np.ndarray:
        return Y

    def _predict_from_raw(self, raw: np.ndarray):
        if self.out_activation_ == "exp":
            raw = np.exp(raw)
        return raw.ravel() if raw.shape[1] == 1 else raw

    def _score_predictions(self, y_true, y_pred, sample_weight) -> float:
        return r2_score(y_true, y_pred, sample_weight=sample_weight)

    # -- public API -----------------------------------------------------------------------------
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to data matrix X and targets y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : NeuralNetRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(lambda est: est._check_solver())
    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the network with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : NeuralNetRegressor
            The updated estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predict with the fitted network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        check_is_fitted(self)
        return self._predict_from_raw(self._forward(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
