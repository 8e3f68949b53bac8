"""Pattern/subject encoders, shared decoder and GAN discriminator on electrode-grid images.

Inputs are standardised measure images ``x`` float32 (B, M, H, W) (`measures.MeasureScaler`).

* The pattern encoder ``Ep`` and the subject encoder ``Es`` have the same architecture (separate
  weights): ``n_blocks`` convolution blocks ``conv -> InstanceNorm2d -> LeakyReLU(0.2) ->
  Dropout``, channels ``base, 2 base, 4 base, ...``, then a linear layer to the code
  (``pattern_dim`` / ``subject_dim``). Each block strides by 2 only along axes longer than 2 (see
  `conv_plan`) and uses 3-wide kernels only along axes longer than 1, so a 16 x 16 grid goes
  8x8 -> 4x4 -> 2x2 and a 1 x 8 armband 1x4 -> 1x2 -> 1x2. Padding is "same"-style: circular
  along W when the grid is a ring (the armband's first and last electrodes are neighbours), zeros otherwise.
  InstanceNorm is skipped on maps of fewer than ``NORM_MIN_CELLS`` cells: per-sample statistics
  over 1-3 cells would erase the map (a 1 x 1 map normalises to exactly 0).
* The decoder maps ``concat(p, s)`` through a linear layer to the encoders' last map and mirrors
  their blocks back up to (M, H, W): ``decoder_type='upsample'`` uses nearest ``nn.Upsample`` then
  a stride-1 convolution, ``'transposed'`` a ``ConvTranspose2d`` (kernel 4, stride 2, padding 1
  along strided axes). After each block the map is cropped/zero-padded to the encoder's size at
  that depth, so odd sizes come back exactly. The decoder has no normalisation (instance norm
  would fix every sample's per-map scale, which the reconstruction must reproduce) and ends in a
  linear 3 x 3 convolution; empty grid cells are zeroed by the ``cell_mask`` buffer.
* The discriminator is a plain strided convolution stack (no norm, no dropout) to one logit.
"""

from __future__ import annotations

import os
from dataclasses import asdict, is_dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from emgcore.io import write_atomic

from .measures import MeasureScaler

DECODER_TYPES = ("upsample", "transposed")
NORMS = ("instance", "none")
NORM_MIN_CELLS = 4
CHECKPOINT_FORMAT = "emgcore.disentangle.checkpoint/1"


def _size_after(size: tuple[int, int], stride: tuple[int, int]) -> tuple[int, int]:
    """Output size of a "same"-padded convolution (kernel 3 or 1) with this stride."""
    return tuple((n - 1) // s + 1 for n, s in zip(size, stride))


def conv_plan(grid_shape: tuple[int, int], n_blocks: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(input size, stride) of each encoder block: stride 2 along axes still longer than 2.

    Axes stop shrinking at 2 cells, never 1: the decoder starts from the encoders' last map
    size, and on a ring a 1-cell map would be rotation-invariant; circular convolutions and
    nearest upsampling keep it so, and every reconstruction would be constant around the ring.
    """
    plan, size = [], tuple(int(n) for n in grid_shape)
    for _ in range(n_blocks):
        stride = tuple(2 if n > 2 else 1 for n in size)
        plan.append((size, stride))
        size = _size_after(size, stride)
    return plan


def fit_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Crop (trailing rows/columns) or zero-pad (bottom/right) x (B, C, h, w) to ``size``."""
    h, w = size
    x = x[:, :, :h, :w]
    dh, dw = h - x.shape[2], w - x.shape[3]
    return F.pad(x, (0, dw, 0, dh)) if dh or dw else x


class GridConv2d(nn.Module):
    """Conv2d with "same"-style padding; circular along W for ring grids, zeros elsewhere.

    Kernels are 3 wide along axes longer than 1 and 1 wide otherwise, so a 1 x W armband is
    convolved along its ring only.
    """

    def __init__(self, cin: int, cout: int, size: tuple[int, int], stride=(1, 1), ring: bool = False):
        super().__init__()
        kh, kw = (3 if n > 1 else 1 for n in size)
        self.ph, self.pw, self.ring = kh // 2, kw // 2, bool(ring)
        self.conv = nn.Conv2d(cin, cout, (kh, kw), stride=tuple(stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pw:
            x = F.pad(x, (self.pw, self.pw, 0, 0), mode="circular" if self.ring else "constant")
        if self.ph:
            x = F.pad(x, (0, 0, self.ph, self.ph))
        return self.conv(x)


def _channels(base: int, n_blocks: int) -> list[int]:
    return [base * 2**i for i in range(n_blocks)]


class GridEncoder(nn.Module):
    """Strided convolution stack on (B, M, H, W) images, then a linear map to ``out_dim``."""

    def __init__(
        self,
        in_planes: int,
        grid_shape,
        ring: bool,
        out_dim: int,
        base_channels: int = 32,
        n_blocks: int = 3,
        dropout: float = 0.1,
        norm: str = "instance",
    ):
        super().__init__()
        layers, cin = [], in_planes
        for (size, stride), cout in zip(conv_plan(grid_shape, n_blocks), _channels(base_channels, n_blocks)):
            out_size = _size_after(size, stride)
            layers.append(GridConv2d(cin, cout, size, stride, ring))
            if norm == "instance" and out_size[0] * out_size[1] >= NORM_MIN_CELLS:
                layers.append(nn.InstanceNorm2d(cout, affine=True))
            layers.append(nn.LeakyReLU(0.2))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            cin, last = cout, out_size
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin * last[0] * last[1], out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


class GridDecoder(nn.Module):
    """Codes (B, in_dim) -> images (B, M, H, W), mirroring `GridEncoder`'s blocks."""

    def __init__(
        self,
        in_dim: int,
        out_planes: int,
        grid_shape,
        ring: bool,
        base_channels: int = 32,
        n_blocks: int = 3,
        decoder_type: str = "upsample",
    ):
        super().__init__()
        plan = conv_plan(grid_shape, n_blocks)
        channels = _channels(base_channels, n_blocks)
        self.start_channels = channels[-1]
        self.start_size = _size_after(*plan[-1])
        self.fc = nn.Linear(in_dim, channels[-1] * self.start_size[0] * self.start_size[1])
        self.blocks = nn.ModuleList()
        self.sizes = []
        cin = channels[-1]
        for i in reversed(range(n_blocks)):
            size, stride = plan[i]
            small = _size_after(size, stride)
            cout = channels[i - 1] if i > 0 else base_channels
            if decoder_type == "upsample":
                up = nn.Upsample(scale_factor=tuple(float(s) for s in stride), mode="nearest")
                conv = GridConv2d(cin, cout, size, (1, 1), ring)
                self.blocks.append(nn.ModuleDict({"up": up, "conv": conv}))
            else:
                kernel = tuple(4 if s == 2 else (3 if n > 1 else 1) for s, n in zip(stride, small))
                padding = tuple(1 if s == 2 else k // 2 for s, k in zip(stride, kernel))
                up = nn.ConvTranspose2d(cin, cout, kernel, stride, padding)
                self.blocks.append(nn.ModuleDict({"up": up}))
            self.sizes.append(size)
            cin = cout
        self.out = GridConv2d(cin, out_planes, tuple(int(n) for n in grid_shape), (1, 1), ring)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h, w = self.start_size
        x = F.leaky_relu(self.fc(z), 0.2).view(z.shape[0], self.start_channels, h, w)
        for block, size in zip(self.blocks, self.sizes):
            x = fit_to(block["up"](x), size)
            if "conv" in block:
                x = block["conv"](x)
            x = F.leaky_relu(x, 0.2)
        return self.out(x)


def _check_grid_args(in_planes, grid_shape, n_blocks, base_channels) -> tuple[int, int]:
    shape = tuple(int(n) for n in grid_shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"grid_shape must be two positive sizes (H, W), got {grid_shape}")
    for name, value in (("in_planes", in_planes), ("n_blocks", n_blocks), ("base_channels", base_channels)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value}")
    return shape


class DisentangleModel(nn.Module):
    """Pattern encoder Ep, subject encoder Es and a shared decoder D: ``x_hat = D([Ep(x), Es(x)])``.

    ``self.config`` holds the constructor arguments (plain Python values) for checkpoints.
    """

    def __init__(
        self,
        in_planes: int,
        grid_shape,
        ring: bool = False,
        pattern_dim: int = 64,
        subject_dim: int = 64,
        decoder_type: str = "upsample",
        dropout: float = 0.1,
        base_channels: int = 32,
        n_blocks: int = 3,
        norm: str = "instance",
        cell_mask=None,
    ):
        super().__init__()
        shape = _check_grid_args(in_planes, grid_shape, n_blocks, base_channels)
        if decoder_type not in DECODER_TYPES:
            raise ValueError(f"decoder_type must be one of {DECODER_TYPES}, got {decoder_type!r}")
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        for name, value in (("pattern_dim", pattern_dim), ("subject_dim", subject_dim)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        mask = np.ones(shape, bool) if cell_mask is None else np.asarray(cell_mask, dtype=bool)
        if mask.shape != shape:
            raise ValueError(f"cell_mask shape {mask.shape} does not match grid_shape {shape}")
        self.config = {
            "in_planes": int(in_planes),
            "grid_shape": shape,
            "ring": bool(ring),
            "pattern_dim": int(pattern_dim),
            "subject_dim": int(subject_dim),
            "decoder_type": decoder_type,
            "dropout": float(dropout),
            "base_channels": int(base_channels),
            "n_blocks": int(n_blocks),
            "norm": norm,
            "cell_mask": mask.tolist(),
        }
        enc = {"base_channels": base_channels, "n_blocks": n_blocks, "dropout": dropout, "norm": norm}
        self.pattern_encoder = GridEncoder(in_planes, shape, ring, pattern_dim, **enc)
        self.subject_encoder = GridEncoder(in_planes, shape, ring, subject_dim, **enc)
        self.decoder = GridDecoder(
            pattern_dim + subject_dim, in_planes, shape, ring, base_channels, n_blocks, decoder_type
        )
        self.register_buffer("cell_mask", torch.from_numpy(mask.astype(np.float32)))

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(M, H, W) of one input image."""
        return (self.config["in_planes"],) + self.config["grid_shape"]

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"expected input (B, {', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}")

    def encode_pattern(self, x: torch.Tensor) -> torch.Tensor:
        """Pattern (gesture) code (B, pattern_dim)."""
        self._check(x)
        return self.pattern_encoder(x)

    def encode_subject(self, x: torch.Tensor) -> torch.Tensor:
        """Subject code (B, subject_dim)."""
        self._check(x)
        return self.subject_encoder(x)

    def decode(self, p: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Image (B, M, H, W) from a pattern code and a subject code (rows paired)."""
        if (
            p.ndim != 2
            or s.ndim != 2
            or p.shape[0] != s.shape[0]
            or p.shape[1] != self.config["pattern_dim"]
            or s.shape[1] != self.config["subject_dim"]
        ):
            raise ValueError(
                f"decode needs p (B, {self.config['pattern_dim']}) and s (B, "
                f"{self.config['subject_dim']}), got {tuple(p.shape)} and {tuple(s.shape)}"
            )
        return self.decoder(torch.cat([p, s], dim=1)) * self.cell_mask

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(p, s, x_hat): both codes and the reconstruction of x."""
        p, s = self.encode_pattern(x), self.encode_subject(x)
        return p, s, self.decode(p, s)


class Discriminator(nn.Module):
    """Real-vs-reconstructed critic: strided convolutions (LeakyReLU, no norm) -> one logit per image."""

    def __init__(self, in_planes: int, grid_shape, ring: bool = False, base_channels: int = 32, n_blocks: int = 3):
        super().__init__()
        shape = _check_grid_args(in_planes, grid_shape, n_blocks, base_channels)
        self.config = {
            "in_planes": int(in_planes),
            "grid_shape": shape,
            "ring": bool(ring),
            "base_channels": int(base_channels),
            "n_blocks": int(n_blocks),
        }
        self.net = GridEncoder(in_planes, shape, ring, 1, base_channels, n_blocks, dropout=0.0, norm="none")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B,): high for real inputs, low for reconstructions."""
        expected = (self.config["in_planes"],) + self.config["grid_shape"]
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"expected input (B, {', '.join(map(str, expected))}), got {tuple(x.shape)}")
        return self.net(x).squeeze(1)


# ---------------------------------------------------------------------------------------------
# checkpoints


def _config_dict(config) -> dict:
    if config is None:
        return {}
    if is_dataclass(config):
        config = asdict(config)
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dataclass or a dict, got {type(config).__name__}")
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.items()}


def save_checkpoint(
    path: str | os.PathLike, model: DisentangleModel, disc: Discriminator | None, scaler: MeasureScaler, config=None
) -> Path:
    """Write model (+ discriminator), the fitted scaler and the run config atomically with torch.save.

    Only plain values and tensors are stored, so the file loads with ``weights_only=True``.
    """
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "model_kwargs": model.config,
        "model_state": model.state_dict(),
        "disc_kwargs": None if disc is None else disc.config,
        "disc_state": None if disc is None else disc.state_dict(),
        "scaler": scaler.state_dict(),
        "config": _config_dict(config),
    }
    return write_atomic(path, lambda tmp: torch.save(checkpoint, tmp))


def _read(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a disentangle checkpoint ({CHECKPOINT_FORMAT})")
    return checkpoint


def load_checkpoint(path: str | os.PathLike) -> tuple[DisentangleModel, MeasureScaler, dict]:
    """(model in eval mode on CPU, fitted scaler, config dict) from a `save_checkpoint` file."""
    checkpoint = _read(path)
    model = DisentangleModel(**checkpoint["model_kwargs"])
    model.load_state_dict(checkpoint["model_state"])
    return model.eval(), MeasureScaler.from_state(checkpoint["scaler"]), dict(checkpoint["config"])
