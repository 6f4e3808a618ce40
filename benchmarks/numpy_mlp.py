"""The floor: an MLP with ReLU, softmax cross-entropy and Adam, written by hand in NumPy.

Preallocated buffers and in-place updates throughout; weights are (out, in) as in
``tinynet.nn.Linear`` so both can start from the same arrays.
"""

from __future__ import annotations

import numpy as np


class NumpyMLP:
    def __init__(self, weights, biases, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.W = [np.array(w) for w in weights]
        self.b = [np.array(b) for b in biases]
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        params = self.W + self.b
        self.grads = [np.zeros_like(p) for p in params]
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.tmp = [np.zeros_like(p) for p in params]
        self.step_count = 0
        self._batch = None

    def _buffers(self, batch: int):
        if self._batch != batch:
            dtype = self.W[0].dtype
            self.acts = [None] + [np.empty((batch, w.shape[0]), dtype) for w in self.W]
            self.deltas = [np.empty((batch, w.shape[1]), dtype) for w in self.W]
            self._batch = batch

    def forward(self, X):
        self._buffers(len(X))
        self.acts[0] = X
        h = X
        for i, (w, b) in enumerate(zip(self.W, self.b)):
            out = self.acts[i + 1]
            np.matmul(h, w.T, out=out)
            out += b
            if i < len(self.W) - 1:
                np.maximum(out, 0, out=out)
            h = out
        return h

    def train_step(self, X, y) -> float:
        logits = self.forward(X)
        n = len(X)
        # softmax cross-entropy and its gradient, in place on the logits buffer
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        total = logits.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(-np.mean(np.log(logits[rows, y] / total[:, 0])))
        logits /= total
        logits[rows, y] -= 1
        logits /= n
        delta = logits
        n_layers = len(self.W)
        for i in reversed(range(n_layers)):
            np.matmul(delta.T, self.acts[i], out=self.grads[i])
            np.sum(delta, axis=0, out=self.grads[n_layers + i])
            if i > 0:
                back = self.deltas[i]
                np.matmul(delta, self.W[i], out=back)
                back *= self.acts[i] > 0
                delta = back
        self._adam()
        return loss

    def _adam(self):
        self.step_count += 1
        t = self.step_count
        b1, b2 = self.beta1, self.beta2
        step_size = self.lr / (1 - b1**t)
        root_correction = np.sqrt(1 - b2**t)
        for p, g, m, v, tmp in zip(self.W + self.b, self.grads, self.m, self.v, self.tmp):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp /= root_correction
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            p -= tmp

    def predict(self, X):
        return self.forward(X).argmax(axis=1)
