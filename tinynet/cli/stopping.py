"""Early stopping for ``tinynet train``: watch the validation loss, keep the best weights.

As Keras's ``EarlyStopping(monitor="val_loss", restore_best_weights=True)``: training stops
once the validation loss has not improved for ``patience`` epochs (iterations of a full-batch
solver), and the weights of the epoch with the lowest validation loss are put back.

>>> import numpy as np
>>> from tinynet.estimators import NeuralNetClassifier
>>> X = np.random.default_rng(0).normal(size=(60, 2)); y = (X[:, 0] > 0).astype(int)
>>> stop = EarlyStopping(patience=3)
>>> net = NeuralNetClassifier((8,), max_iter=30, random_state=0, callbacks=[stop],
...                           validation_data=(X[:20], y[:20])).fit(X[20:], y[20:])
>>> stop.restore(net)
>>> 1 <= stop.best_epoch <= net.n_iter_
True
"""

from __future__ import annotations

import math

import numpy as np


class EarlyStopping:
    """An estimator callback: stop after ``patience`` epochs without a lower validation loss."""

    def __init__(self, patience: int = 10):
        self.patience = patience
        self.best_loss = math.inf
        self.best_epoch = 0  # 1-based; 0 until an epoch had a finite validation loss
        self.stopped = False
        self._best_arrays: list[np.ndarray] | None = None
        self._wait = 0

    def __call__(self, estimator, history) -> bool:
        loss = history["val_loss"][-1]
        if loss is None:  # no validation data: nothing to watch
            return False
        if math.isfinite(loss) and loss < self.best_loss:
            self.best_loss = loss
            self.best_epoch = len(history["loss"])
            self._best_arrays = [p.data.copy() for p in estimator.module_.parameters()]
            self._wait = 0
            return False
        self._wait += 1
        if self._wait >= self.patience:
            self.stopped = True
        return self.stopped

    def restore(self, estimator) -> None:
        """Put the best epoch's weights back into ``estimator`` (no-op if none was seen)."""
        if self._best_arrays is None:
            return
        for param, array in zip(estimator.module_.parameters(), self._best_arrays):
            param.data[...] = array
