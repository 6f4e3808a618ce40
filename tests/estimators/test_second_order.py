"""solver='newton-cg' and 'trust-ncg': exact Hessian-vector products by double backward."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import tinynet as tn
from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor, load
from tinynet.estimators._network import _SparseMatmul
from tinynet.estimators._objective import FlatObjective

SECOND_ORDER = ["newton-cg", "trust-ncg"]
IRIS_X, IRIS_Y = load_iris(return_X_y=True)
IRIS_X = (IRIS_X - IRIS_X.mean(axis=0)) / IRIS_X.std(axis=0)
RNG = np.random.RandomState(0)
X = RNG.randn(40, 3)
X_SPARSE = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0))
WEIGHTS = RNG.uniform(0, 2, 40)
TARGETS = {
    "multiclass": RNG.randint(0, 3, 40),
    "binary": RNG.randint(0, 2, 40),
    "squared_error": RNG.randn(40, 2),
    "poisson": RNG.poisson(np.exp(0.5 * X[:, 0])).astype(float),
}


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # OpenBLAS's thread wake-ups cost more than these tiny products.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def fit(Estimator, X, y, **params):
    return Estimator(random_state=0, **params).fit(X, y)


PROBLEMS = {
    "iris classes": (
        NeuralNetClassifier,
        IRIS_X,
        IRIS_Y,
        dict(hidden_layer_sizes=(8,), activation="tanh", alpha=0.1),
    ),
    "petal width": (
        NeuralNetRegressor,
        IRIS_X[:, :3],
        IRIS_X[:, 3],
        dict(hidden_layer_sizes=(8,), activation="logistic", alpha=1.0),
    ),
    "poisson counts": (
        NeuralNetRegressor,
        X,
        TARGETS["poisson"],
        dict(loss="poisson", hidden_layer_sizes=(5,), activation="tanh", alpha=1.0),
    ),
}


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_second_order_solvers_reach_lbfgs_loss_in_far_fewer_iterations(problem):
    Estimator, X, y, params = PROBLEMS[problem]
    params = dict(tol=1e-6, max_iter=2000, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # every run converges
        lbfgs = fit(Estimator, X, y, solver="lbfgs", **params)
        for solver in SECOND_ORDER:
            model = fit(Estimator, X, y, solver=solver, **params)
            assert model.loss_ <= lbfgs.loss_ + 1e-8 * lbfgs.loss_, solver
            assert 3 * model.n_iter_ <= lbfgs.n_iter_, (solver, model.n_iter_, lbfgs.n_iter_)
            assert len(model.loss_curve_) == model.n_iter_
            assert model.loss_ == model.loss_curve_[-1] == model.best_loss_
            # The loss the solver reports is the objective at the final weights.
            objective = model_objective(model, X, y)
            assert objective.value_and_grad(objective.pack())[0] == pytest.approx(model.loss_)


def model_objective(model, X, y, sample_weight=None) -> FlatObjective:
    data = model._training_data(X, y, sample_weight, True, False, None)
    return FlatObjective(model._training_terms(), *data)


@pytest.mark.parametrize("kind", list(TARGETS))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_hessian_vector_products_match_finite_differences_of_the_gradient(kind, sparse):
    Estimator = NeuralNetClassifier if kind in ("multiclass", "binary") else NeuralNetRegressor
    params = dict(hidden_layer_sizes=(4,), activation="tanh", alpha=0.3, max_iter=5)
    if Estimator is NeuralNetRegressor:
        params["loss"] = kind
    data = X_SPARSE if sparse else X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # any point will do
        model = fit(Estimator, data, TARGETS[kind], solver="lbfgs", **params)
    objective = model_objective(model, data, TARGETS[kind], WEIGHTS)
    point = objective.pack()
    rng = np.random.RandomState(1)
    u, v = rng.randn(2, point.size)
    product = objective.hessp(point, v)
    eps = 1e-5
    difference = (
        objective.value_and_grad(point + eps * v)[1] - objective.value_and_grad(point - eps * v)[1]
    ) / (2 * eps)
    np.testing.assert_allclose(product, difference, rtol=1e-6, atol=1e-8)
    assert u @ objective.hessp(point, v) == pytest.approx(v @ objective.hessp(point, u))
    # The graph kept for the point survives the line search's evaluations elsewhere.
    objective.value_and_grad(point + v)
    np.testing.assert_array_equal(objective.hessp(point, v), product)


def test_sparse_first_layer_is_twice_differentiable():
    x = sp.csr_matrix(np.array([[0.0, 2.0, 0.0], [1.5, 0.0, -1.0]]))
    weight = tn.randn(4, 3, dtype="float64", rng=0, requires_grad=True)
    assert tn.gradgradcheck(lambda w: _SparseMatmul.apply(x, w).tanh(), (weight,))


@pytest.mark.parametrize("solver", SECOND_ORDER)
def test_max_iter_warns_and_callbacks_stop(solver, capsys):
    params = dict(hidden_layer_sizes=(8,), activation="tanh", solver=solver, verbose=True)
    with pytest.warns(ConvergenceWarning, match=f"{solver} failed to converge after 2 iter"):
        model = fit(NeuralNetClassifier, IRIS_X, IRIS_Y, max_iter=2, **params)
    assert model.n_iter_ == 2 == len(model.loss_curve_) == len(model.history_["epoch"])
    assert capsys.readouterr().out.count("Iteration ") == 2

    def stop_at_three(estimator, history):
        return len(history["loss"]) == 3

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = fit(NeuralNetClassifier, IRIS_X, IRIS_Y, callbacks=[stop_at_three], **params)
    assert model.n_iter_ == 3 == len(model.loss_curve_)
    assert not model.module_.training


def test_a_stalled_fit_warns_with_the_reason():
    # relu's second derivative is zero almost everywhere and undefined at its kinks: the
    # trust region's quadratic model stops predicting the loss before the gradient is small.
    rng = np.random.RandomState(0)
    model = NeuralNetRegressor(
        hidden_layer_sizes=(3,), alpha=0.01, tol=1e-6, solver="trust-ncg", random_state=0
    )
    with pytest.warns(ConvergenceWarning, match=r"\(status=2\)(.|\n)*smooth activation"):
        model.fit(rng.randn(40, 3), rng.randn(40))
    assert model.n_iter_ < model.max_iter


def test_tol_is_scipys_tolerance_for_each_method():
    # trust-ncg stops once the gradient's norm is below tol; Newton-CG once the mean
    # absolute step is below tol, so a looser tol stops it earlier.
    params = dict(hidden_layer_sizes=(8,), activation="tanh", alpha=0.1)
    model = fit(NeuralNetClassifier, IRIS_X, IRIS_Y, solver="trust-ncg", tol=1e-3, **params)
    objective = model_objective(model, IRIS_X, IRIS_Y)
    gradient_norm = np.linalg.norm(objective.value_and_grad(objective.pack())[1])
    assert 1e-6 < gradient_norm < 1e-3
    loose = fit(NeuralNetClassifier, IRIS_X, IRIS_Y, solver="newton-cg", tol=1e-2, **params)
    tight = fit(NeuralNetClassifier, IRIS_X, IRIS_Y, solver="newton-cg", tol=1e-7, **params)
    assert loose.n_iter_ < tight.n_iter_ and tight.loss_ <= loose.loss_


@pytest.mark.parametrize("solver", SECOND_ORDER)
def test_dropout_and_partial_fit_are_refused(solver):
    with pytest.raises(ValueError, match=f"dropout makes the loss random, which {solver}"):
        NeuralNetClassifier((4,), dropout=0.2, solver=solver).fit(IRIS_X, IRIS_Y)
    model = NeuralNetRegressor(solver=solver)
    assert not hasattr(model, "partial_fit")
    with pytest.raises(AttributeError) as error:
        model.partial_fit(X, TARGETS["poisson"])
    assert f"{solver} is not stochastic" in str(error.value.__cause__)


def test_sparse_float32_weighted_fit_and_persistence(tmp_path):
    params = dict(hidden_layer_sizes=(4,), activation="tanh", alpha=0.3, solver="newton-cg")
    y = TARGETS["multiclass"]
    model = NeuralNetClassifier(random_state=0, **params)
    model.fit(X_SPARSE.astype(np.float32), y, sample_weight=WEIGHTS)
    assert model.coefs_[0].dtype == np.float32
    dense = NeuralNetClassifier(random_state=0, **params).fit(X_SPARSE.toarray(), y, WEIGHTS)
    assert model.loss_ == pytest.approx(dense.loss_, rel=1e-4)
    model.save(tmp_path / "model.tnn")
    restored, _ = load(tmp_path / "model.tnn")
    assert restored.solver == "newton-cg"
    np.testing.assert_array_equal(restored.predict_proba(X_SPARSE), model.predict_proba(X_SPARSE))


def test_a_once_differentiable_network_is_refused_clearly():
    class Square(tn.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            return x * x

        @staticmethod
        @tn.once_differentiable
        def backward(ctx, grad_output):
            return tn.Tensor(2 * ctx.x * grad_output.data)

    model = NeuralNetRegressor(
        hidden_layer_sizes=(3,), activation=Square.apply, solver="trust-ncg", max_iter=3
    )
    with pytest.raises(RuntimeError, match="need second derivatives.*use solver='lbfgs'"):
        model.fit(X, TARGETS["squared_error"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert model.set_params(solver="lbfgs").fit(X, TARGETS["squared_error"]).n_iter_ == 3


@pytest.mark.parametrize("solver", SECOND_ORDER)
def test_overflowing_curvature_is_divergence_and_keeps_finite_weights(solver):
    rng = np.random.RandomState(0)
    model = NeuralNetRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow warnings
        with pytest.raises(ValueError, match="Training diverged.*Hessian product"):
            model.fit(rng.randn(50, 3) * 1e150, rng.randn(50) * 1e150)
    assert all(np.isfinite(w).all() for w in model.coefs_ + model.intercepts_)
    assert not model.module_.training
