"""Multi-head dilated 1-D CNN (MHCNN) for 8-channel Myo EMG windows.

Three parallel Conv1d heads (kernel 8, dilation 1, 2 and 4) look at the same window with
receptive fields of 8, 15 and 29 samples. Each head uses 'same' zero padding, so all three
outputs keep the window length and are aligned sample by sample before they are concatenated
on channels. (Without padding they would be 33, 26 and 12 samples long for a 40-sample window;
cropping to the shortest would throw away most of the short-range head.) A fusion Conv1d,
global average pooling and a GELU projection give the embedding; a linear layer the logits.
"""

from __future__ import annotations

import torch
from torch import nn

#: int8 ADC full scale: inputs arrive in raw units and are divided by this (bit-depth scaling)
ADC_FULL_SCALE = 128.0
HEAD_KERNEL = 8
HEAD_DILATIONS = (1, 2, 4)
HEAD_CHANNELS = 32
FUSION_CHANNELS = 128
FUSION_KERNEL = 4


def same_padding(kernel: int, dilation: int) -> tuple[int, int]:
    """(left, right) zero padding that keeps the length of a stride-1 conv; extra sample on the right.

    Same split as PyTorch's padding='same', written out so even kernels need no warning or copy.
    """
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


class MHCNN(nn.Module):
    """Multi-head dilated CNN: `forward(x) -> (logits, embedding)` for x float32 (B, C, W) raw ADC units."""

    def __init__(
        self,
        n_channels: int = 8,
        n_classes: int = 5,
        window: int = 40,
        dropout: float = 0.2,
        embedding_dim: int = 128,
    ) -> None:
        super().__init__()
        if n_channels < 1 or n_classes < 2 or embedding_dim < 1:
            raise ValueError(
                f"MHCNN needs n_channels >= 1, n_classes >= 2, embedding_dim >= 1; got "
                f"n_channels={n_channels}, n_classes={n_classes}, embedding_dim={embedding_dim}"
            )
        if window < FUSION_KERNEL:
            raise ValueError(f"MHCNN needs window >= {FUSION_KERNEL} samples, got {window}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.init_kwargs = dict(
            n_channels=n_channels,
            n_classes=n_classes,
            window=window,
            dropout=dropout,
            embedding_dim=embedding_dim,
        )
        self.n_channels = n_channels
        self.window = window
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.ConstantPad1d(same_padding(HEAD_KERNEL, d), 0.0),
                nn.Conv1d(n_channels, HEAD_CHANNELS, HEAD_KERNEL, dilation=d),
                nn.ReLU(),
                nn.Dropout(dropout),
            )
            for d in HEAD_DILATIONS
        )
        self.fusion = nn.Sequential(
            nn.Conv1d(HEAD_CHANNELS * len(HEAD_DILATIONS), FUSION_CHANNELS, FUSION_KERNEL),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
        )
        self.embed = nn.Sequential(nn.Linear(FUSION_CHANNELS, embedding_dim), nn.GELU())
        self.classifier = nn.Linear(embedding_dim, n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (logits (B, n_classes), embedding (B, embedding_dim)) for raw-unit windows."""
        if x.ndim != 3 or x.shape[1] != self.n_channels:
            raise ValueError(f"MHCNN expects x of shape (B, {self.n_channels}, W), got {tuple(x.shape)}")
        if x.shape[2] < FUSION_KERNEL:
            raise ValueError(f"window length {x.shape[2]} is shorter than {FUSION_KERNEL}")
        x = x / ADC_FULL_SCALE
        heads = torch.cat([head(x) for head in self.heads], dim=1)
        embedding = self.embed(self.fusion(heads))
        return self.classifier(embedding), embedding
