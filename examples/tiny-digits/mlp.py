"""A one-hidden-layer perceptron (ReLU, softmax) trained by plain SGD, in pure Python."""

from __future__ import annotations

import json
import math
import operator
import random
from typing import Dict, List, Sequence, Tuple

Matrix = List[List[float]]


class MLP:
    def __init__(self, inputs: int, hidden: int, classes: int, seed: int) -> None:
        rng = random.Random(seed)
        scale1, scale2 = math.sqrt(2.0 / inputs), math.sqrt(2.0 / hidden)
        self.w1: Matrix = [[rng.gauss(0, scale1) for _ in range(inputs)] for _ in range(hidden)]
        self.b1 = [0.0] * hidden
        self.w2: Matrix = [[rng.gauss(0, scale2) for _ in range(hidden)] for _ in range(classes)]
        self.b2 = [0.0] * classes

    def forward(self, x: Sequence[float]) -> Tuple[List[float], List[float]]:
        """(hidden activations, class probabilities)."""
        mul = operator.mul
        h = [max(0.0, b + sum(map(mul, row, x))) for row, b in zip(self.w1, self.b1)]
        logits = [b + sum(map(mul, row, h)) for row, b in zip(self.w2, self.b2)]
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        total = sum(exps)
        return h, [e / total for e in exps]

    def step(self, x: Sequence[float], label: int, lr: float) -> float:
        """One SGD step on one example; returns its cross-entropy loss."""
        h, p = self.forward(x)
        dlogits = list(p)
        dlogits[label] -= 1.0
        dh = [0.0] * len(h)
        for j, (row, g) in enumerate(zip(self.w2, dlogits)):
            for k, hk in enumerate(h):
                dh[k] += row[k] * g
                row[k] -= lr * g * hk
            self.b2[j] -= lr * g
        active = [i for i, xi in enumerate(x) if xi]
        for k, (row, g) in enumerate(zip(self.w1, dh)):
            if h[k] <= 0.0 or g == 0.0:
                continue
            for i in active:
                row[i] -= lr * g * x[i]
            self.b1[k] -= lr * g
        return -math.log(max(p[label], 1e-12))

    def predict(self, x: Sequence[float]) -> int:
        _, p = self.forward(x)
        return max(range(len(p)), key=p.__getitem__)

    def evaluate(self, data: Sequence[Tuple[Sequence[float], int]]) -> Tuple[float, float]:
        """(mean loss, accuracy)."""
        loss, right = 0.0, 0
        for x, y in data:
            _, p = self.forward(x)
            loss -= math.log(max(p[y], 1e-12))
            right += int(max(range(len(p)), key=p.__getitem__) == y)
        return loss / len(data), right / len(data)

    def state(self) -> Dict[str, object]:
        return {"w1": self.w1, "b1": self.b1, "w2": self.w2, "b2": self.b2}

    def load_state(self, state: Dict[str, object]) -> None:
        self.w1, self.b1, self.w2, self.b2 = state["w1"], state["b1"], state["w2"], state["b2"]  # type: ignore[assignment]

    def dumps(self) -> str:
        return json.dumps(self.state())
