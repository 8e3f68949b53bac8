"""Raw-window baselines of the study: single-scale CNN, bidirectional LSTM and a small Transformer.

All take x float32 (B, C, W) in raw int8 ADC units, divide by 128 inside, and end in the same
head as MHCNN (a Linear+GELU embedding, then a linear classifier), so every loss that uses the
embedding works with every model: ``forward(x) -> (logits, embedding)``.
"""

from __future__ import annotations

import torch
from torch import nn

from .mhcnn import ADC_FULL_SCALE

CNN_KERNELS = (4, 3, 3)
CNN_CHANNELS = (32, 64, 128)


def check_common_args(
    model: str, n_classes: int, dropout: float, embedding_dim: int, n_inputs: int, inputs_name: str
) -> None:
    """Raise ValueError naming `model` if the arguments every model shares are out of range."""
    if n_inputs < 1 or n_classes < 2 or embedding_dim < 1:
        raise ValueError(
            f"{model} needs {inputs_name} >= 1, n_classes >= 2, embedding_dim >= 1; got "
            f"{inputs_name}={n_inputs}, n_classes={n_classes}, embedding_dim={embedding_dim}"
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")


class EmbeddingHead(nn.Module):
    """Linear+GELU embedding then a linear classifier: ``forward(z) -> (logits, embedding)``."""

    def __init__(self, in_features: int, embedding_dim: int, n_classes: int) -> None:
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(in_features, embedding_dim), nn.GELU())
        self.classifier = nn.Linear(embedding_dim, n_classes)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedding = self.embed(z)
        return self.classifier(embedding), embedding


def _check_raw_input(model: str, x: torch.Tensor, n_channels: int, min_window: int) -> None:
    if x.ndim != 3 or x.shape[1] != n_channels:
        raise ValueError(f"{model} expects x of shape (B, {n_channels}, W), got {tuple(x.shape)}")
    if x.shape[2] < min_window:
        raise ValueError(f"{model} needs windows of at least {min_window} samples, got {x.shape[2]}")


class CNN(nn.Module):
    """Single-scale ablation of MHCNN: three valid Conv1d layers (kernels 4, 3, 3), one receptive field.

    The stack sees 8 samples per output step (MHCNN's shortest head) and has no parallel dilated
    heads; pooling, embedding and classifier are MHCNN's.
    """

    def __init__(
        self, n_channels: int = 8, n_classes: int = 5, window: int = 40, dropout: float = 0.2, embedding_dim: int = 128
    ) -> None:
        super().__init__()
        check_common_args("CNN", n_classes, dropout, embedding_dim, n_channels, "n_channels")
        self.min_window = sum(CNN_KERNELS) - len(CNN_KERNELS) + 1
        if window < self.min_window:
            raise ValueError(f"CNN needs window >= {self.min_window} samples, got {window}")
        self.init_kwargs = dict(
            n_channels=n_channels, n_classes=n_classes, window=window, dropout=dropout, embedding_dim=embedding_dim
        )
        self.n_channels = n_channels
        layers: list[nn.Module] = []
        in_ch = n_channels
        for i, (kernel, out_ch) in enumerate(zip(CNN_KERNELS, CNN_CHANNELS)):
            layers += [nn.Conv1d(in_ch, out_ch, kernel), nn.ReLU()]
            if i < len(CNN_KERNELS) - 1:  # like MHCNN: dropout after the early convs, not the last
                layers.append(nn.Dropout(dropout))
            in_ch = out_ch
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool1d(1), nn.Flatten())
        self.head = EmbeddingHead(in_ch, embedding_dim, n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (logits (B, n_classes), embedding (B, embedding_dim)) for raw-unit windows."""
        _check_raw_input("CNN", x, self.n_channels, self.min_window)
        return self.head(self.features(x / ADC_FULL_SCALE))


class LSTM(nn.Module):
    """3-layer bidirectional LSTM over the W time steps; the embedding comes from the mean output.

    Mean pooling over time uses both directions at every step (the last step alone would give
    the backward direction only one sample of context).
    """

    def __init__(
        self,
        n_channels: int = 8,
        n_classes: int = 5,
        window: int = 40,
        dropout: float = 0.2,
        embedding_dim: int = 128,
        hidden_size: int = 64,
        num_layers: int = 3,
    ) -> None:
        super().__init__()
        check_common_args("LSTM", n_classes, dropout, embedding_dim, n_channels, "n_channels")
        if hidden_size < 1 or num_layers < 1 or window < 1:
            raise ValueError(
                f"LSTM needs hidden_size, num_layers, window >= 1; got {hidden_size}, {num_layers}, {window}"
            )
        self.init_kwargs = dict(
            n_channels=n_channels,
            n_classes=n_classes,
            window=window,
            dropout=dropout,
            embedding_dim=embedding_dim,
            hidden_size=hidden_size,
            num_layers=num_layers,
        )
        self.n_channels = n_channels
        self.lstm = nn.LSTM(
            n_channels,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = EmbeddingHead(2 * hidden_size, embedding_dim, n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (logits (B, n_classes), embedding (B, embedding_dim)) for raw-unit windows."""
        _check_raw_input("LSTM", x, self.n_channels, 1)
        out, _ = self.lstm((x / ADC_FULL_SCALE).transpose(1, 2))  # (B, W, 2 * hidden)
        return self.head(self.dropout(out.mean(dim=1)))


class Transformer(nn.Module):
    """Small Transformer encoder over the W time steps (tokens = one sample of all channels).

    Channels are projected to d_model, a learned positional embedding is added (so the window
    length is fixed at `window`), two pre-norm encoder layers follow, then mean pooling and the
    shared head.
    """

    def __init__(
        self,
        n_channels: int = 8,
        n_classes: int = 5,
        window: int = 40,
        dropout: float = 0.2,
        embedding_dim: int = 128,
        d_model: int = 64,
        n_heads: int = 4,
        num_layers: int = 2,
        dim_feedforward: int = 128,
    ) -> None:
        super().__init__()
        check_common_args("Transformer", n_classes, dropout, embedding_dim, n_channels, "n_channels")
        if window < 1 or num_layers < 1 or d_model < 1 or n_heads < 1 or d_model % n_heads:
            raise ValueError(
                f"Transformer needs window, num_layers >= 1 and d_model divisible by "
                f"n_heads; got window={window}, num_layers={num_layers}, "
                f"d_model={d_model}, n_heads={n_heads}"
            )
        self.init_kwargs = dict(
            n_channels=n_channels,
            n_classes=n_classes,
            window=window,
            dropout=dropout,
            embedding_dim=embedding_dim,
            d_model=d_model,
            n_heads=n_heads,
            num_layers=num_layers,
            dim_feedforward=dim_feedforward,
        )
        self.n_channels, self.window = n_channels, window
        self.project = nn.Linear(n_channels, d_model)
        self.position = nn.Parameter(torch.zeros(1, window, d_model))
        nn.init.normal_(self.position, std=0.02)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, dim_feedforward, dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.head = EmbeddingHead(d_model, embedding_dim, n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (logits (B, n_classes), embedding (B, embedding_dim)) for raw-unit windows."""
        _check_raw_input("Transformer", x, self.n_channels, 1)
        if x.shape[2] != self.window:
            raise ValueError(
                f"Transformer was built for windows of {self.window} samples (learned positions), got {x.shape[2]}"
            )
        tokens = self.project((x / ADC_FULL_SCALE).transpose(1, 2)) + self.position
        encoded = self.encoder(self.dropout(tokens))  # (B, W, d_model)
        return self.head(encoded.mean(dim=1))
