"""LDA on hand-crafted window features: a scikit-learn fit stored as a torch module.

The classical baseline is fitted by scikit-learn (`emgcore.cross`) and copied into `LDALinear`,
so it is saved, evaluated and embedded like the neural models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:  # scikit-learn is imported only when an LDA is built (it costs a second)
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis


class LDALinear(nn.Module):
    """A fitted scikit-learn LDA as a torch module, so LDA runs are saved, evaluated and embedded
    exactly like the neural models: logits = LDA decision function, embedding = LDA projection.
    """

    def __init__(self, n_features: int, n_classes: int = 5, n_components: int = 4):
        super().__init__()
        self.init_kwargs = dict(n_features=n_features, n_classes=n_classes, n_components=n_components)
        self.decision = nn.Linear(n_features, n_classes)
        self.register_buffer("xbar", torch.zeros(n_features))
        self.register_buffer("scalings", torch.zeros(n_features, n_components))

    @classmethod
    def from_sklearn(cls, lda: LinearDiscriminantAnalysis, n_classes: int = 5) -> LDALinear:
        """Copy a fitted LDA; classes absent from training get a logit of -inf so they are never predicted."""
        coef, intercept = np.atleast_2d(lda.coef_), np.atleast_1d(lda.intercept_)
        if len(lda.classes_) == 2:  # sklearn keeps one row for binary problems
            coef, intercept = np.vstack([-coef, coef]) / 2, np.hstack([-intercept, intercept]) / 2
        n_features = coef.shape[1]
        scalings = np.asarray(lda.scalings_)[:, : min(n_classes - 1, lda.scalings_.shape[1])]
        module = cls(n_features, n_classes, scalings.shape[1])
        weight = torch.zeros(n_classes, n_features, dtype=torch.float64)
        bias = torch.full((n_classes,), -torch.inf, dtype=torch.float64)
        for row, label in enumerate(lda.classes_):
            weight[int(label)] = torch.from_numpy(coef[row])
            bias[int(label)] = float(intercept[row])
        with torch.no_grad():
            module.decision.weight.copy_(weight.float())
            module.decision.bias.copy_(bias.float())
            module.xbar.copy_(torch.from_numpy(np.asarray(lda.xbar_, dtype=np.float32)))
            module.scalings.copy_(torch.from_numpy(scalings.astype(np.float32)))
        return module.eval()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decision(x), (x - self.xbar) @ self.scalings
