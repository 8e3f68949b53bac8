"""Rotation-equivariant MHCNN: the multi-head dilated CNN of ``emgcore.models.mhcnn`` run over the electrode ring.

MHCNN mixes all 8 channels in its first layer, so it learns which electrode sees which muscle and a
rotated armband moves every feature. Here the electrodes are a circular spatial axis instead: the
window becomes a one-channel image ``(1, C, W)`` and every convolution is 2-D with a small kernel
over neighbouring electrodes (``ring_kernel``, circular padding around the ring) and the MHCNN
kernels over time (heads: kernel 8, dilations 1, 2, 4, 'same' zero padding; fusion: kernel 4, no
padding), at narrower widths (``head_channels``, ``fusion_channels``: every layer runs at all 8 ring
positions, so MHCNN's widths would cost ~14x its compute). The same weights apply at every ring
position, so rotating the input by k whole electrodes rolls every feature map by k along the ring
(equivariance). After global average pooling over time, a pool over the ring positions
(``ring_pool``: mean or max; the ring positions are the rotations of the cyclic group C_8) removes
the roll, so the embedding and the logits are identical for every whole-electrode rotation of the
input, by construction (up to float rounding of the mean's summation order). Fractional rotations
are not covered exactly; combine with ``augment.RandomRingShift(fractional=True)`` if they matter.
The price is that the model cannot use absolute electrode position at all.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from emgcore.models.mhcnn import (
    ADC_FULL_SCALE,
    FUSION_KERNEL,
    HEAD_DILATIONS,
    HEAD_KERNEL,
    same_padding,
)

RING_POOLS = ("mean", "max")
#: default widths: every layer runs at all 8 ring positions, so MHCNN's widths (32 per head, 128 fused) would
#: cost ~14x its compute (measured: 146 against 2,100 windows/s training on one thread); these keep it near MHCNN's
RING_HEAD_CHANNELS = 8
RING_FUSION_CHANNELS = 32


class RingConv(nn.Module):
    """Conv2d over (ring, time): circular padding around the electrode ring, zero padding ``time_padding`` in time."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        ring_kernel: int,
        time_kernel: int,
        time_dilation: int = 1,
        time_padding: tuple[int, int] = (0, 0),
    ) -> None:
        super().__init__()
        self.ring_padding = ring_kernel // 2
        self.time_padding = tuple(time_padding)
        self.conv = nn.Conv2d(in_channels, out_channels, (ring_kernel, time_kernel), dilation=(1, time_dilation))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (B, in, C, W) -> (B, out, C, W')``: same ring length C, time length per ``time_padding``."""
        p = self.ring_padding
        if p:
            x = torch.cat([x[:, :, -p:], x, x[:, :, :p]], dim=2)
        if any(self.time_padding):
            x = F.pad(x, self.time_padding)
        return self.conv(x)


class EquivariantMHCNN(nn.Module):
    """MHCNN over the electrode ring: `forward(x) -> (logits, embedding)` for x float32 (B, C, W) raw ADC units.

    Logits and embedding do not change when the input's channels are rolled by whole electrodes.
    """

    def __init__(
        self,
        n_channels: int = 8,
        n_classes: int = 5,
        window: int = 40,
        dropout: float = 0.2,
        embedding_dim: int = 128,
        ring_kernel: int = 3,
        ring_pool: str = "mean",
        head_channels: int = RING_HEAD_CHANNELS,
        fusion_channels: int = RING_FUSION_CHANNELS,
    ) -> None:
        super().__init__()
        if n_channels < 1 or n_classes < 2 or embedding_dim < 1:
            raise ValueError(
                f"EquivariantMHCNN needs n_channels >= 1, n_classes >= 2, embedding_dim >= 1; got "
                f"n_channels={n_channels}, n_classes={n_classes}, embedding_dim={embedding_dim}"
            )
        if window < FUSION_KERNEL:
            raise ValueError(f"EquivariantMHCNN needs window >= {FUSION_KERNEL} samples, got {window}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if ring_kernel < 1 or ring_kernel % 2 == 0 or ring_kernel > n_channels:
            raise ValueError(
                f"ring_kernel must be odd and between 1 and n_channels={n_channels} electrodes, got {ring_kernel}"
            )
        if head_channels < 1 or fusion_channels < 1:
            raise ValueError(f"head_channels and fusion_channels must be >= 1, got {head_channels}, {fusion_channels}")
        if ring_pool not in RING_POOLS:
            raise ValueError(f"ring_pool={ring_pool!r}: expected one of {list(RING_POOLS)}")
        self.init_kwargs = dict(
            n_channels=n_channels,
            n_classes=n_classes,
            window=window,
            dropout=dropout,
            embedding_dim=embedding_dim,
            ring_kernel=ring_kernel,
            ring_pool=ring_pool,
            head_channels=head_channels,
            fusion_channels=fusion_channels,
        )
        self.n_channels = n_channels
        self.window = window
        self.ring_pool = ring_pool
        self.heads = nn.ModuleList(
            nn.Sequential(
                RingConv(1, head_channels, ring_kernel, HEAD_KERNEL, d, same_padding(HEAD_KERNEL, d)),
                nn.ReLU(),
                nn.Dropout(dropout),
            )
            for d in HEAD_DILATIONS
        )
        self.fusion = nn.Sequential(
            RingConv(head_channels * len(HEAD_DILATIONS), fusion_channels, ring_kernel, FUSION_KERNEL),
            nn.ReLU(),
        )
        self.embed = nn.Sequential(nn.Linear(fusion_channels, embedding_dim), nn.GELU())
        self.classifier = nn.Linear(embedding_dim, n_classes)

    def ring_features(self, x: torch.Tensor) -> torch.Tensor:
        """Fused features per ring position ``(B, fusion_channels, C)``, averaged over time (they roll with x)."""
        x = (x / ADC_FULL_SCALE).unsqueeze(1)
        heads = torch.cat([head(x) for head in self.heads], dim=1)
        return self.fusion(heads).mean(dim=3)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (logits (B, n_classes), embedding (B, embedding_dim)) for raw-unit windows."""
        if x.ndim != 3 or x.shape[1] != self.n_channels:
            raise ValueError(f"EquivariantMHCNN expects x of shape (B, {self.n_channels}, W), got {tuple(x.shape)}")
        if x.shape[2] < FUSION_KERNEL:
            raise ValueError(f"window length {x.shape[2]} is shorter than {FUSION_KERNEL}")
        features = self.ring_features(x)
        pooled = features.mean(dim=2) if self.ring_pool == "mean" else features.amax(dim=2)
        embedding = self.embed(pooled)
        return self.classifier(embedding), embedding
