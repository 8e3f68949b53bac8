"""Models on hand-crafted features (emgcore.features): MLP per window, LSTM and CNN per sub-window.

Inputs are feature tensors, not raw windows: (B, F) for MLP ('window' feature tables) and
(B, n_subwindows, F) for LSTM_HCF and CNN_HCF ('subwindow' tables). Each model standardises its
input with `feature_mean`/`feature_std` buffers (fitted on training features with
`emgcore.features.FeatureScaler`), so a checkpoint's state_dict carries the scaling and a model
rebuilt with `build_model(**model_spec(m)['kwargs'])` gets it back from `load_state_dict`.
The statistics are therefore not part of `init_kwargs` (which stay small and JSON-friendly).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from emgcore.features.datasets import FeatureScaler

from .baselines import EmbeddingHead, check_common_args


class _StandardisedInput(nn.Module):
    """Base class holding the feature_mean/feature_std buffers and applying them in `standardise`."""

    feature_mode = "window"  # which emgcore.features table mode the model consumes

    def _init_scaling(self, n_features: int, feature_mean, feature_std) -> None:
        mean = torch.zeros(n_features) if feature_mean is None else _as_vector(feature_mean, "feature_mean")
        std = torch.ones(n_features) if feature_std is None else _as_vector(feature_std, "feature_std")
        if mean.shape != (n_features,) or std.shape != (n_features,):
            raise ValueError(
                f"feature_mean/feature_std must have {n_features} values, "
                f"got {tuple(mean.shape)} and {tuple(std.shape)}"
            )
        if not (std > 0).all():
            raise ValueError("feature_std must be positive")
        self.register_buffer("feature_mean", mean)
        self.register_buffer("feature_std", std)
        self.n_features = n_features

    def standardise(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.feature_mean) / self.feature_std


def _as_vector(values, name: str) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(values, dtype=np.float32))
    if tensor.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(tensor.shape)}")
    return tensor


def _check_feature_input(model: str, x: torch.Tensor, shape: tuple[int, ...]) -> None:
    """Raise unless x is (B, *shape); `shape` names the expected trailing dimensions."""
    if x.ndim != 1 + len(shape) or tuple(x.shape[1:]) != shape:
        expected = ", ".join(["B", *map(str, shape)])
        raise ValueError(f"{model} expects features of shape ({expected}), got {tuple(x.shape)}")


class MLP(_StandardisedInput):
    """Three fully connected layers (hidden, hidden, embedding) on one window's feature vector."""

    feature_mode = "window"

    def __init__(
        self,
        n_features: int,
        n_classes: int = 5,
        dropout: float = 0.2,
        embedding_dim: int = 128,
        hidden: int = 256,
        feature_mean=None,
        feature_std=None,
    ) -> None:
        super().__init__()
        check_common_args("MLP", n_classes, dropout, embedding_dim, n_features, "n_features")
        if hidden < 1:
            raise ValueError(f"MLP needs hidden >= 1, got {hidden}")
        self.init_kwargs = dict(
            n_features=n_features, n_classes=n_classes, dropout=dropout, embedding_dim=embedding_dim, hidden=hidden
        )
        self._init_scaling(n_features, feature_mean, feature_std)
        self.body = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
        )
        self.head = EmbeddingHead(hidden, embedding_dim, n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (logits (B, n_classes), embedding (B, embedding_dim)) for features (B, F)."""
        _check_feature_input("MLP", x, (self.n_features,))
        return self.head(self.body(self.standardise(x)))


class LSTM_HCF(_StandardisedInput):
    """3-layer LSTM over the sequence of sub-window feature vectors; embedding from the last step."""

    feature_mode = "subwindow"

    def __init__(
        self,
        n_features: int,
        n_classes: int = 5,
        dropout: float = 0.2,
        embedding_dim: int = 128,
        n_subwindows: int = 4,
        hidden_size: int = 64,
        num_layers: int = 3,
        feature_mean=None,
        feature_std=None,
    ) -> None:
        super().__init__()
        check_common_args("LSTM_HCF", n_classes, dropout, embedding_dim, n_features, "n_features")
        if n_subwindows < 1 or hidden_size < 1 or num_layers < 1:
            raise ValueError(
                f"LSTM_HCF needs n_subwindows, hidden_size, num_layers >= 1; got "
                f"{n_subwindows}, {hidden_size}, {num_layers}"
            )
        self.init_kwargs = dict(
            n_features=n_features,
            n_classes=n_classes,
            dropout=dropout,
            embedding_dim=embedding_dim,
            n_subwindows=n_subwindows,
            hidden_size=hidden_size,
            num_layers=num_layers,
        )
        self._init_scaling(n_features, feature_mean, feature_std)
        self.n_subwindows = n_subwindows
        self.lstm = nn.LSTM(
            n_features, hidden_size, num_layers=num_layers, batch_first=True, dropout=dropout if num_layers > 1 else 0.0
        )
        self.dropout = nn.Dropout(dropout)
        self.head = EmbeddingHead(hidden_size, embedding_dim, n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (logits, embedding) for sub-window features (B, n_subwindows, F)."""
        _check_feature_input("LSTM_HCF", x, (self.n_subwindows, self.n_features))
        out, _ = self.lstm(self.standardise(x))
        return self.head(self.dropout(out[:, -1]))


class CNN_HCF(_StandardisedInput):
    """1-D CNN over sub-window features with the features as channels: (B, F, n_subwindows).

    Takes the same (B, n_subwindows, F) tensor as LSTM_HCF and transposes it; two 'same'-padded
    kernel-3 convolutions, global average pooling and the shared head follow.
    """

    feature_mode = "subwindow"

    def __init__(
        self,
        n_features: int,
        n_classes: int = 5,
        dropout: float = 0.2,
        embedding_dim: int = 128,
        n_subwindows: int = 4,
        channels: int = 128,
        feature_mean=None,
        feature_std=None,
    ) -> None:
        super().__init__()
        check_common_args("CNN_HCF", n_classes, dropout, embedding_dim, n_features, "n_features")
        if n_subwindows < 1 or channels < 1:
            raise ValueError(f"CNN_HCF needs n_subwindows, channels >= 1; got {n_subwindows}, {channels}")
        self.init_kwargs = dict(
            n_features=n_features,
            n_classes=n_classes,
            dropout=dropout,
            embedding_dim=embedding_dim,
            n_subwindows=n_subwindows,
            channels=channels,
        )
        self._init_scaling(n_features, feature_mean, feature_std)
        self.n_subwindows = n_subwindows
        hidden = max(1, channels // 2)
        self.features = nn.Sequential(
            nn.Conv1d(n_features, hidden, 3, padding=1),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Conv1d(hidden, channels, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
        )
        self.head = EmbeddingHead(channels, embedding_dim, n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (logits, embedding) for sub-window features (B, n_subwindows, F)."""
        _check_feature_input("CNN_HCF", x, (self.n_subwindows, self.n_features))
        return self.head(self.features(self.standardise(x).transpose(1, 2)))


HCF_MODELS: dict[str, type[_StandardisedInput]] = {"mlp": MLP, "lstm_hcf": LSTM_HCF, "cnn_hcf": CNN_HCF}


def feature_mode(name: str) -> str:
    """Feature-table mode ('window' or 'subwindow') the HCF model `name` consumes."""
    if name not in HCF_MODELS:
        raise ValueError(f"{name!r} is not a hand-crafted-feature model; known: {sorted(HCF_MODELS)}")
    return HCF_MODELS[name].feature_mode


def hcf_kwargs(train_X: np.ndarray, **kwargs) -> dict:
    """Constructor kwargs for an HCF model from its training features: n_features plus scaling.

    `train_X` is (N, F) or (N, S, F); mean/std come from `emgcore.features.FeatureScaler`, and
    n_subwindows is set from S for sequence tables. Extra `kwargs` pass through.
    """
    train_X = np.asarray(train_X)
    scaler = FeatureScaler().fit(train_X)
    out = dict(n_features=int(train_X.shape[-1]), feature_mean=scaler.mean, feature_std=scaler.std)
    if train_X.ndim == 3:
        out["n_subwindows"] = int(train_X.shape[1])
    out.update(kwargs)
    return out
