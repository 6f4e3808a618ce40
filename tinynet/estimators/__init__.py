"""scikit-learn estimators built on tinynet's ``nn`` and ``optim``.

``NeuralNetClassifier`` and ``NeuralNetRegressor`` take every parameter of scikit-learn's
``MLPClassifier`` / ``MLPRegressor`` with the same meaning, and add dropout, class weights,
more activations and optimizers, custom ``nn.Module`` networks, validation data, callbacks
and saving without pickle (``estimator.save(path)``, ``load(path)``).

>>> import numpy as np
>>> from tinynet.estimators import NeuralNetClassifier
>>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
>>> clf = NeuralNetClassifier((8,), activation="tanh", solver="lbfgs", random_state=0)
>>> clf.fit(X, [0, 1, 1, 0]).predict(X)
array([0, 1, 1, 0])
"""

from tinynet.estimators._classifier import NeuralNetClassifier
from tinynet.estimators._objective import ObjectiveGradcheckReport, ParameterCheck
from tinynet.estimators._persistence import load
from tinynet.estimators._regressor import NeuralNetRegressor
from tinynet.estimators._skops import SKOPS_TRUSTED_TYPES, skops_load

__all__ = [
    "NeuralNetClassifier",
    "NeuralNetRegressor",
    "ObjectiveGradcheckReport",
    "ParameterCheck",
    "SKOPS_TRUSTED_TYPES",
    "load",
    "skops_load",
]
