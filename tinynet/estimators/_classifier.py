"""``NeuralNetClassifier``: scikit-learn's ``MLPClassifier`` on tinynet, and more."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from tinynet.estimators._base import BaseNeuralNet
from tinynet.estimators._sklearn import StrOptions, fit_context


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0, -z)


def _softmax(z: np.ndarray, log: bool = False) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    if log:
        return shifted - log_norm
    return np.exp(shifted - log_norm)


def _one_hot(y: np.ndarray, binarizer: LabelBinarizer) -> np.ndarray | None:
    """``binarizer.transform(y)`` for the labels it was just fitted on, when they are
    binary or multiclass (else None): the same 0/1 matrix in a fraction of the time (the
    transform validates ``y`` again, about 0.4 ms, a few percent of a small fit)."""
    classes = binarizer.classes_
    if binarizer.y_type_ not in ("binary", "multiclass") or len(classes) < 2 or y.ndim != 1:
        return None
    try:
        found, codes = np.unique(y, return_inverse=True)
    except TypeError:  # objects NumPy cannot sort
        return None
    if len(found) != len(classes) or not np.array_equal(found, classes):
        return None  # labels NumPy sorts differently from scikit-learn: the slow way
    if len(classes) == 2:
        return (codes == 1).astype(int).reshape(-1, 1)
    indicator = np.zeros((len(y), len(classes)), dtype=int)
    indicator[np.arange(len(y)), codes] = 1
    return indicator


class NeuralNetClassifier(ClassifierMixin, BaseNeuralNet):
    """Neural-network classifier on tinynet: a drop-in superset of scikit-learn's
    ``MLPClassifier``.

    It minimizes the log-loss (softmax cross-entropy for several classes, logistic
    cross-entropy for two classes and for multilabel targets) plus an L2 penalty, with
    L-BFGS, Newton-CG, trust-ncg or a stochastic tinynet optimizer. Every parameter of
    scikit-learn 1.9's ``MLPClassifier`` has the same name, default and meaning; the
    parameters after ``max_fun`` are tinynet's own.

    Parameters
    ----------
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
        Learning-rate schedule of ``solver='sgd'``: constant, ``learning_rate_init /
        (t + 1) ** power_t`` after each epoch, or divided by 5 whenever ``tol`` is not met
        for ``n_iter_no_change`` epochs.
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
        Seeds weight initialization, shuffling, the early-stopping split and dropout. An
        int gives bit-identical fits; weights start exactly as scikit-learn's for the
        same seed.
    tol : float, default=1e-4
        Tolerance: training stops when the loss (or the validation score) does not improve
        by ``tol`` for ``n_iter_no_change`` consecutive epochs; L-BFGS's and trust-ncg's
        ``gtol``, Newton-CG's ``xtol``.
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
        Hold out ``validation_fraction`` of the training data (stratified) and stop when the
        validation accuracy stops improving; the best weights are restored.
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
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes: multiply the sample weights, as in scikit-learn's linear
        models. ``'balanced'`` uses ``n_samples / (n_classes * bincount(y))``.
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
        ``(n_samples, n_features)`` to raw scores ``(n_samples, n_outputs)``: one column
        per class (one or two for binary problems, one per label for multilabel ones).
        Replaces the network that ``hidden_layer_sizes``, ``activation`` and ``dropout``
        describe.
    validation_data : tuple or None, default=None
        ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)`` evaluated after each
        epoch (``validation_scores_``, ``validation_loss_curve_``); with
        ``early_stopping=True`` it replaces the held-out split.
    callbacks : list of callables or None, default=None
        Each is called as ``callback(estimator, history)`` after every epoch; returning True
        stops training (without a ``ConvergenceWarning``).
    dtype : {'float32', 'float64'}, numpy float type or None, default=None
        The network's dtype; None is float64, or float32 for float32 input.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels for each output.
    loss_ : float
        The loss (with the L2 penalty) of the last epoch.
    best_loss_ : float or None
        The minimum loss reached; None with early stopping.
    loss_curve_ : list of float
        The loss after each epoch (full-batch solvers: after each iteration).
    validation_scores_ : list of float or None
        Accuracy on the validation set after each epoch; None without one.
    validation_loss_curve_ : list of float or None
        Mean log-loss (without the penalty) on the validation set after each epoch.
    best_validation_score_ : float or None
        The best validation accuracy; None without a validation set.
    history_ : dict of lists
        ``epoch``, ``loss``, ``val_loss``, ``val_score``, ``time`` and ``lr`` per epoch, as
        passed to the callbacks.
    t_ : int
        The number of training samples seen by the stochastic solver.
    coefs_ : list of ndarray
        Weight matrices ``(fan_in, fan_out)`` of the ``nn.Linear`` layers (views of
        ``Linear.weight.T``).
    intercepts_ : list of ndarray
        Bias vectors of the ``nn.Linear`` layers.
    module_ : tinynet.nn.Module
        The fitted network (``nn.Sequential`` unless ``module`` is given).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    n_iter_ : int
        Number of epochs (iterations for the full-batch solvers) of the last fit.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs (target columns after label binarization).
    out_activation_ : str
        ``'softmax'`` or ``'logistic'``.

    See Also
    --------
    NeuralNetRegressor : The regressor.
    sklearn.neural_network.MLPClassifier : The estimator this one extends.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from tinynet.estimators import NeuralNetClassifier
    >>> X, y = make_classification(n_samples=100, random_state=1)
    >>> clf = NeuralNetClassifier(hidden_layer_sizes=(16,), solver="lbfgs", random_state=1)
    >>> clf.fit(X, y).score(X, y)
    1.0
    >>> clf.predict_proba(X[:1]).shape
    (1, 2)
    """

    _parameter_constraints: dict = {
        **BaseNeuralNet._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
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
        class_weight=None,
        optimizer=None,
        lr_scheduler=None,
        module=None,
        validation_data=None,
        callbacks=None,
        dtype=None,
    ):
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
        self.class_weight = class_weight
        self.optimizer = optimizer
        self.lr_scheduler = lr_scheduler
        self.module = module
        self.validation_data = validation_data
        self.callbacks = callbacks
        self.dtype = dtype

    # -- validation ----------------------------------------------------------------------------
    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=self._input_dtype(),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        # scikit-learn's table: a fresh fit (re)defines classes_; warm_start must see the same
        # classes; partial_fit may see a subset of them.
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
            indicator = _one_hot(y, self._label_binarizer)
            if indicator is not None:
                return X, indicator, y
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        return X, self._label_binarizer.transform(y), y

    def _validate_validation_input(self, X, y):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=self._input_dtype(),
            reset=False,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        unknown = np.setdiff1d(unique_labels(y), self.classes_)
        if len(unknown):
            raise ValueError(
                f"validation_data has classes {unknown} that the training data does not have "
                f"({self.classes_})"
            )
        return X, self._label_binarizer.transform(y), y

    def _weighted(self, y, sample_weight):
        """Sample weights times the class weights (None when there are neither)."""
        if self.class_weight is None:
            return sample_weight
        if self.class_weight == "balanced" and not self._multilabel():
            # Balanced by the weighted class counts, so weights and repetitions agree. With
            # partial_fit, each batch is balanced by its own counts.
            # Classes without weight get none (they cannot matter), so the class-weighted
            # samples still sum to the total weight and the L2 strength is unchanged.
            classes, encoded = np.unique(y, return_inverse=True)
            weight = np.ones(len(encoded)) if sample_weight is None else sample_weight
            counts = np.bincount(encoded, weights=weight, minlength=len(classes))
            present = counts > 0
            per_class = np.zeros(len(classes))
            per_class[present] = weight.sum() / (present.sum() * counts[present])
            class_weight = per_class[encoded]
        else:
            class_weight = compute_sample_weight(self.class_weight, y)
        return class_weight if sample_weight is None else sample_weight * class_weight

    def _multilabel(self) -> bool:
        return self._label_binarizer.y_type_.startswith("multilabel")

    # -- outputs --------------------------------------------------------------------------------
    def _output_activation(self, n_module_outputs: int) -> str:
        y_type = self._label_binarizer.y_type_
        n_columns = len(self._label_binarizer.classes_)
        if y_type == "multiclass":
            if n_module_outputs != n_columns:
                raise ValueError(
                    f"the module has {n_module_outputs} outputs, but there are {n_columns} "
                    "classes: a multiclass module needs one output (logit) per class"
                )
            return "softmax"
        if y_type.startswith("multilabel"):
            if n_module_outputs != n_columns:
                raise ValueError(
                    f"the module has {n_module_outputs} outputs, but the multilabel target has "
                    f"{n_columns} labels: it needs one output (logit) per label"
                )
            return "logistic"
        if n_module_outputs == 1:
            return "logistic"
        if n_module_outputs == 2 and n_columns == 2:
            return "softmax"
        raise ValueError(
            f"the module has {n_module_outputs} outputs; a binary problem needs 1 (a logit for "
            "the second class) or 2 (one logit per class)"
        )

    def _encode_targets(self, Y: np.ndarray) -> np.ndarray:
        if self.out_activation_ == "softmax" and Y.shape[1] == 1:
            return np.hstack([1 - Y, Y])
        return Y

    def _decode_targets(self, Y: np.ndarray):
        if self.out_activation_ == "softmax" and len(self.classes_) == 2:
            Y = Y[:, 1]
        elif Y.shape[1] == 1:
            Y = Y.ravel()
        return self._label_binarizer.inverse_transform(Y)

    def _probabilities(self, raw: np.ndarray, log: bool = False) -> np.ndarray:
        if self.out_activation_ == "softmax":
            return _softmax(raw, log)
        if self.n_outputs_ == 1:
            positive = raw.ravel()
            if log:
                return np.stack([_log_sigmoid(-positive), _log_sigmoid(positive)], axis=1)
            probability = np.exp(_log_sigmoid(positive))
            return np.stack([1 - probability, probability], axis=1)
        return _log_sigmoid(raw) if log else np.exp(_log_sigmoid(raw))

    def _predict_from_raw(self, raw: np.ndarray):
        # For one label per sample, LabelBinarizer.inverse_transform's own rule (the first
        # largest probability; a probability above 0.5) without its checks.
        classes = self.classes_
        if self.out_activation_ == "softmax":
            if len(classes) == 2:  # a two-logit binary module
                return classes[np.argmax(raw, axis=1)]
            return classes[np.argmax(_softmax(raw), axis=1)]
        probability = np.exp(_log_sigmoid(raw))
        if self.n_outputs_ == 1:
            probability = probability.ravel()
            if len(classes) == 2:
                return classes[(probability > 0.5).astype(np.intp)]
        return self._label_binarizer.inverse_transform(probability)

    def _score_predictions(self, y_true, y_pred, sample_weight) -> float:
        if y_true.ndim == 1:  # accuracy_score's arithmetic, without validating every epoch
            return float(np.average(y_true == y_pred, weights=sample_weight))
        return accuracy_score(y_true, y_pred, sample_weight=sample_weight)

    # -- public API -----------------------------------------------------------------------------
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to data matrix X and targets y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (any hashable labels), or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : NeuralNetClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(lambda est: est._check_solver())
    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the network with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            All the classes across the calls; required on the first call.

        Returns
        -------
        self : NeuralNetClassifier
            The updated estimator.
        """
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predict the class labels of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes (an indicator matrix for multilabel targets).
        """
        check_is_fitted(self)
        return self._predict_from_raw(self._forward(X))

    def predict_proba(self, X):
        """Probability estimates, columns ordered as ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The predicted probabilities.
        """
        check_is_fitted(self)
        return self._probabilities(self._forward(X))

    def predict_log_proba(self, X):
        """Log of the probability estimates, computed stably from the network's logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            The predicted log-probabilities, equal to ``log(predict_proba(X))`` where that
            does not underflow.
        """
        check_is_fitted(self)
        return self._probabilities(self._forward(X), log=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
