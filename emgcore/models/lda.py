"""LDA on hand-crafted window features (scikit-learn): the classical baseline, not a torch model.

`LDAClassifier` keeps the libemg feature list and parameters it was trained with, so a saved
classifier can featurise new raw windows itself (`predict_windows`) without extra config.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from emgcore.features import resolve_features, resolve_params, window_features
from emgcore.io import write_atomic

if TYPE_CHECKING:  # scikit-learn is imported only when an LDA is built (it costs a second)
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

FORMAT = "emgcore-lda-v1"


def _check_X(X, n_features: int | None = None) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"LDA expects a non-empty (N, D) feature array, got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"LDA was fitted on {n_features} features, got {X.shape[1]}")
    if not np.isfinite(X).all():
        raise ValueError("LDA features hold non-finite values")
    return X


class LDAClassifier:
    """Linear discriminant analysis on (N, D) window features; `lda_kwargs` go to scikit-learn."""

    def __init__(self, features=None, params=None, **lda_kwargs) -> None:
        self.features = resolve_features(features)
        self.params = resolve_params(params)
        self.lda_kwargs = dict(lda_kwargs)
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        self.lda = LinearDiscriminantAnalysis(**self.lda_kwargs)
        self.n_features: int | None = None

    @property
    def fitted(self) -> bool:
        return self.n_features is not None

    def fit(self, X, y) -> "LDAClassifier":
        """Fit on features X (N, D) and integer labels y (N,); needs at least two classes."""
        X = _check_X(X)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
        if np.unique(y).size < 2:
            raise ValueError("LDA needs at least two classes in y")
        self.lda.fit(X, y.astype(np.int64))
        self.n_features = int(X.shape[1])
        return self

    def _require_fitted(self) -> None:
        if not self.fitted:
            raise ValueError("LDAClassifier is not fitted; call fit first")

    def predict(self, X) -> np.ndarray:
        """Predicted labels (N,) int64 for features X (N, D)."""
        self._require_fitted()
        return self.lda.predict(_check_X(X, self.n_features)).astype(np.int64)

    def predict_proba(self, X) -> np.ndarray:
        """Class posteriors (N, n_classes) in the order of `classes_`."""
        self._require_fitted()
        return self.lda.predict_proba(_check_X(X, self.n_features))

    @property
    def classes_(self) -> np.ndarray:
        self._require_fitted()
        return self.lda.classes_

    def predict_windows(self, windows) -> np.ndarray:
        """Predicted labels for raw windows (N, C, W), featurised with the stored feature list."""
        return self.predict(window_features(windows, self.features, self.params))

    def save(self, path: str | os.PathLike) -> Path:
        """Pickle the fitted classifier with its feature list atomically."""
        self._require_fitted()
        payload = {"format": FORMAT, "features": self.features, "params": self.params,
                   "lda_kwargs": self.lda_kwargs, "n_features": self.n_features, "lda": self.lda}

        def write(tmp):
            with open(tmp, "wb") as fh:
                pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)

        return write_atomic(path, write)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "LDAClassifier":
        """Load a classifier written by `save` (pickle: only load files this project wrote)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no LDA model at {path}")
        with open(path, "rb") as fh:
            payload = pickle.load(fh)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"{path} is not an LDAClassifier file ({FORMAT})")
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        if not isinstance(payload["lda"], LinearDiscriminantAnalysis):
            raise ValueError(f"{path} does not hold a LinearDiscriminantAnalysis")
        model = cls(payload["features"], payload["params"], **payload["lda_kwargs"])
        model.lda, model.n_features = payload["lda"], int(payload["n_features"])
        return model


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
    def from_sklearn(cls, lda: "LinearDiscriminantAnalysis", n_classes: int = 5) -> "LDALinear":
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
