"""Training the disentangling model, exporting its latent codes, and the cross-subject split.

Per batch (x standardised, B windows; Ω = occupied cells x planes, |Ω| their count) the
generator (encoders + decoder) minimises

    L_G = L_rec + λ1 (L_trip(p) + L_trip(s)) + λ2 L_cross + λ_adv L_adv

* reconstruction  ``L_rec = 1/(B|Ω|) Σ_b Σ_Ω (D(Ep(x_b), Es(x_b)) - x_b)^2``;
* triplet, on L2-normalised codes ``z̄ = z / ||z||`` (so the margin m has a fixed meaning and the
  loss cannot be met by scaling the codes up):
  ``L_trip = mean_t max(0, ||z̄_a - z̄_p|| - ||z̄_a - z̄_n|| + m)``, with the pattern triplets
  (same gesture, other subject / other gesture) on p and the subject triplets (same subject, other
  gesture / other subject) on s (`triplets.pattern_triplets`, `triplets.subject_triplets`);
* cross-reconstruction ``L_cross = mean_(i,j,k) 1/|Ω| Σ_Ω (D(p_i, s_j) - x_k)^2`` where k has i's
  gesture and j's subject (`triplets.cross_reconstruction_pairs`): swapping subject codes must
  move a gesture to another person;
* adversarial (non-saturating) ``L_adv = BCE(C(x_fake), 1)`` over the reconstructions and the
  cross-reconstructions, C the discriminator.

The discriminator then takes one step on ``L_C = ½ [BCE(C(x), 1) + BCE(C(x_fake.detach()), 0)]``
(skipped entirely when λ_adv = 0). A term whose triplets or pairs do not exist in a batch is left
out of that batch's loss (counted in the returned ``skipped``). Adam for both networks, StepLR
(``step_size`` epochs, factor ``gamma``) for both. The scaler is fitted on the training windows
only and saved in the checkpoint. Everything is drawn from ``seed`` (model init, dropout, batches,
triplets), so a run on CPU repeats exactly.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from emgcore.cross.training import seed_everything
from emgcore.io import write_atomic, write_csv_atomic
from emgcore.layout import MODEL_FILE, TRAIN_LOG
from emgcore.settings import fit_to_data, from_mapping

from .measures import MeasureDataset, MeasureScaler
from .model import DECODER_TYPES, NORMS, Discriminator, DisentangleModel, load_checkpoint, save_checkpoint
from .triplets import (
    GestureSubjectBatchSampler,
    NoCrossPairs,
    NoValidTriplets,
    cross_reconstruction_pairs,
    pattern_triplets,
    subject_triplets,
)

LOG_COLUMNS = ("epoch", "recon", "trip_p", "trip_s", "cross", "adv_g", "adv_d", "lr", "seconds")
LATENT_KEYS = (
    "p_train",
    "s_train",
    "gesture_train",
    "subject_train",
    "p_test",
    "s_test",
    "gesture_test",
    "subject_test",
)


@dataclass(frozen=True)
class DisentangleConfig:
    """Settings of `train_disentangle` (config ``disentangle.model``, plus the run's seed). A batch is
    gestures x subjects x windows_per_cell windows; ``batches_per_epoch=None`` gives about one pass
    over the training windows per epoch."""

    epochs: int
    gestures_per_batch: int
    subjects_per_batch: int
    windows_per_cell: int
    batches_per_epoch: int | None
    eval_batch_size: int
    lr: float
    betas: tuple[float, float]
    step_size: int
    gamma: float
    lambda1: float
    lambda2: float
    lambda_adv: float
    margin: float
    hard_negatives: bool
    seed: int
    decoder_type: str
    pattern_dim: int
    subject_dim: int
    dropout: float
    base_channels: int
    n_blocks: int
    norm: str
    device: str

    @classmethod
    def from_config(cls, model: Mapping, seed: int) -> DisentangleConfig:
        """From config ``disentangle.model`` (every field but `seed`) and the run's seed."""
        return from_mapping(cls, {**model, "seed": seed}, "disentangle.model")

    def replace(self, **changes) -> DisentangleConfig:
        return dataclasses.replace(self, **changes)

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        problems = []
        for name in (
            "epochs",
            "gestures_per_batch",
            "subjects_per_batch",
            "windows_per_cell",
            "eval_batch_size",
            "step_size",
            "pattern_dim",
            "subject_dim",
            "base_channels",
            "n_blocks",
        ):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                problems.append(f"{name} must be an integer >= 1 (got {value})")
        for name in ("gestures_per_batch", "subjects_per_batch"):
            if getattr(self, name) < 2:
                problems.append(f"{name} must be >= 2 so triplets exist (got {getattr(self, name)})")
        if self.batches_per_epoch is not None and (
            int(self.batches_per_epoch) != self.batches_per_epoch or self.batches_per_epoch < 1
        ):
            problems.append(f"batches_per_epoch must be None or >= 1 (got {self.batches_per_epoch})")
        if not self.lr > 0:
            problems.append(f"lr must be > 0 (got {self.lr})")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            problems.append(f"betas must be two numbers in [0, 1) (got {self.betas})")
        if not 0 < self.gamma <= 1:
            problems.append(f"gamma must be in (0, 1] (got {self.gamma})")
        for name in ("lambda1", "lambda2", "lambda_adv", "margin"):
            if not getattr(self, name) >= 0:
                problems.append(f"{name} must be >= 0 (got {getattr(self, name)})")
        if self.decoder_type not in DECODER_TYPES:
            problems.append(f"decoder_type must be one of {DECODER_TYPES} (got {self.decoder_type!r})")
        if self.norm not in NORMS:
            problems.append(f"norm must be one of {NORMS} (got {self.norm!r})")
        if not 0 <= self.dropout < 1:
            problems.append(f"dropout must be in [0, 1) (got {self.dropout})")
        if int(self.seed) != self.seed or self.seed < 0:
            problems.append(f"seed must be a non-negative integer (got {self.seed})")
        if problems:
            raise ValueError("invalid DisentangleConfig: " + "; ".join(problems))

    @property
    def batch_size(self) -> int:
        return self.gestures_per_batch * self.subjects_per_batch * self.windows_per_cell


# ---------------------------------------------------------------------------------------------
# losses


def masked_mse(x_hat: torch.Tensor, x: torch.Tensor, cell_mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over planes and occupied cells (empty cells are 0 in both anyway)."""
    cells = cell_mask.sum() * x.shape[0] * x.shape[1]
    return ((x_hat - x) ** 2 * cell_mask).sum() / cells


def triplet_loss(codes: torch.Tensor, anchor, positive, negative, margin: float) -> torch.Tensor:
    """``mean max(0, ||z̄_a - z̄_p|| - ||z̄_a - z̄_n|| + margin)`` on L2-normalised codes.

    Distances are taken row by row for the sampled triplets only (O(T D) memory).
    """
    z = F.normalize(codes, dim=1)
    a = torch.as_tensor(anchor, device=z.device)
    d_ap = (z[a] - z[torch.as_tensor(positive, device=z.device)]).norm(dim=1)
    d_an = (z[a] - z[torch.as_tensor(negative, device=z.device)]).norm(dim=1)
    return F.relu(d_ap - d_an + margin).mean()


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


# ---------------------------------------------------------------------------------------------
# training


def fit_config_to_data(config: DisentangleConfig, train: MeasureDataset) -> tuple[DisentangleConfig, dict]:
    """`config` with gestures_per_batch and subjects_per_batch clipped to what the training windows hold
    (warning given), and a record {setting: {configured, used, why}} saved in the checkpoint."""
    adapted, changes = {}, {}
    for name, values, what in (
        ("gestures_per_batch", train.gesture, "gestures"),
        ("subjects_per_batch", train.subject, "training subjects"),
    ):
        key = f"disentangle.model.{name}"
        used, record = fit_to_data(key, getattr(config, name), len(np.unique(values)), 2, what)
        if record:
            adapted[key], changes[name] = record, used
    return (config.replace(**changes) if changes else config), adapted


def _sampler(train: MeasureDataset, config: DisentangleConfig) -> GestureSubjectBatchSampler:
    n_batches = config.batches_per_epoch or max(1, len(train) // config.batch_size)
    try:
        return GestureSubjectBatchSampler(
            train.gesture,
            train.subject,
            config.gestures_per_batch,
            config.subjects_per_batch,
            config.windows_per_cell,
            n_batches,
            config.seed,
        )
    except ValueError as err:
        raise ValueError(
            f"cannot draw gestures_per_batch={config.gestures_per_batch} x "
            f"subjects_per_batch={config.subjects_per_batch} batches from the training "
            f"windows: {err}"
        ) from err


def _step(model, disc, opt_g, opt_d, x, g, s, rng, mask, config) -> tuple[dict, set]:
    """One generator step then one discriminator step; returns the terms and the skipped ones."""
    terms, skipped = {}, set()
    p, z_s, x_hat = model(x)
    recon = masked_mse(x_hat, x, mask)
    loss = recon
    terms["recon"] = recon.item()
    for name, sample, codes in (("trip_p", pattern_triplets, p), ("trip_s", subject_triplets, z_s)):
        try:
            idx = sample(g, s, rng, config.hard_negatives)
        except NoValidTriplets:
            skipped.add(name)
            continue
        term = triplet_loss(codes, *idx, config.margin)
        loss = loss + config.lambda1 * term
        terms[name] = term.item()
    fakes = [x_hat]
    try:
        i, j, k = (torch.as_tensor(a, device=x.device) for a in cross_reconstruction_pairs(g, s, rng))
        x_cross = model.decode(p[i], z_s[j])
        cross = masked_mse(x_cross, x[k], mask)
        loss = loss + config.lambda2 * cross
        terms["cross"] = cross.item()
        fakes.append(x_cross)
    except NoCrossPairs:
        skipped.add("cross")
    fake = torch.cat(fakes)
    if config.lambda_adv > 0:
        for q in disc.parameters():
            q.requires_grad_(False)
        adv_g = _bce(disc(fake), 1.0)
        for q in disc.parameters():
            q.requires_grad_(True)
        loss = loss + config.lambda_adv * adv_g
        terms["adv_g"] = adv_g.item()
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()
    if config.lambda_adv > 0:
        adv_d = 0.5 * (_bce(disc(x), 1.0) + _bce(disc(fake.detach()), 0.0))
        opt_d.zero_grad(set_to_none=True)
        adv_d.backward()
        opt_d.step()
        terms["adv_d"] = adv_d.item()
    return terms, skipped


def train_disentangle(
    train: MeasureDataset, config: DisentangleConfig, out_dir: str | os.PathLike, progress: bool = True
) -> dict:
    """Train on ``train``; write ``out_dir/model.pt`` and ``out_dir/train_log.csv`` atomically.

    Returns ``{'checkpoint', 'log', 'history' (list of log rows), 'seconds_per_epoch',
    'skipped' (batches without each term), 'n_train'}``.
    """
    if not isinstance(config, DisentangleConfig):
        raise TypeError(f"config must be a DisentangleConfig, got {type(config).__name__}")
    if len(train) == 0:
        raise ValueError("the training set is empty")
    out_dir = Path(out_dir)
    config, adapted = fit_config_to_data(config, train)
    seed_everything(config.seed)
    device = torch.device(config.device)
    scaler = MeasureScaler().fit(train.X, train.cell_mask)
    model = DisentangleModel(
        train.n_planes,
        train.grid_shape,
        train.ring,
        config.pattern_dim,
        config.subject_dim,
        config.decoder_type,
        config.dropout,
        config.base_channels,
        config.n_blocks,
        config.norm,
        cell_mask=train.cell_mask,
    ).to(device)
    disc = Discriminator(train.n_planes, train.grid_shape, train.ring, config.base_channels, config.n_blocks).to(device)
    opt_g = torch.optim.Adam(model.parameters(), lr=config.lr, betas=config.betas)
    opt_d = torch.optim.Adam(disc.parameters(), lr=config.lr, betas=config.betas)
    schedules = [torch.optim.lr_scheduler.StepLR(o, config.step_size, config.gamma) for o in (opt_g, opt_d)]
    sampler = _sampler(train, config)
    mask = model.cell_mask
    run_config = {
        **asdict(config),
        "adapted": adapted,
        "measure": train.measure,
        "grid_shape": list(train.grid_shape),
        "ring": train.ring,
        "in_planes": train.n_planes,
        "planes": list(train.planes),
        "n_train": len(train),
    }

    history, skipped = [], {"trip_p": 0, "trip_s": 0, "cross": 0}
    bar = tqdm(range(1, config.epochs + 1), desc=f"disentangle ({train.measure})", unit="epoch", disable=not progress)
    for epoch in bar:
        start = time.perf_counter()
        model.train()
        disc.train()
        sampler.set_epoch(epoch)
        rng = np.random.default_rng([config.seed, epoch])
        sums: dict[str, list[float]] = {k: [] for k in LOG_COLUMNS[1:7]}
        lr = opt_g.param_groups[0]["lr"]
        for batch in sampler:
            idx = np.asarray(batch, dtype=np.int64)
            x = torch.from_numpy(scaler.transform(train.X[idx])).to(device)
            terms, missing = _step(
                model, disc, opt_g, opt_d, x, train.gesture[idx], train.subject[idx], rng, mask, config
            )
            for key, value in terms.items():
                sums[key].append(value)
            for key in missing:
                skipped[key] += 1
        for schedule in schedules if config.lambda_adv > 0 else schedules[:1]:
            schedule.step()  # the discriminator's only when it trained (else torch warns)
        row = {
            "epoch": epoch,
            **{k: float(np.mean(v)) if v else math.nan for k, v in sums.items()},
            "lr": lr,
            "seconds": time.perf_counter() - start,
        }
        history.append(row)
        write_csv_atomic(pd.DataFrame(history, columns=list(LOG_COLUMNS)), out_dir / TRAIN_LOG)
        bar.set_postfix(recon=f"{row['recon']:.3f}", trip_p=f"{row['trip_p']:.3f}", cross=f"{row['cross']:.3f}")
    model.eval()
    checkpoint = save_checkpoint(out_dir / MODEL_FILE, model.cpu(), disc.cpu(), scaler, run_config)
    return {
        "checkpoint": str(checkpoint),
        "log": str(out_dir / TRAIN_LOG),
        "history": history,
        "seconds_per_epoch": float(np.mean([r["seconds"] for r in history])),
        "skipped": skipped,
        "n_train": len(train),
    }


# ---------------------------------------------------------------------------------------------
# latent export


@torch.no_grad()
def encode(
    model: DisentangleModel, scaler: MeasureScaler, data: MeasureDataset, batch_size: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Pattern and subject codes (float32 (N, dim) each) of every window, in eval mode."""
    model.eval()
    if tuple(data.X.shape[1:]) != model.input_shape:
        raise ValueError(
            f"{data.measure} windows of shape {data.X.shape[1:]} do not match the model's input {model.input_shape}"
        )
    ps, ss = [], []
    for lo in range(0, len(data), batch_size):
        x = torch.from_numpy(scaler.transform(data.X[lo : lo + batch_size]))
        ps.append(model.encode_pattern(x).numpy())
        ss.append(model.encode_subject(x).numpy())
    if not ps:
        return (
            np.empty((0, model.config["pattern_dim"]), np.float32),
            np.empty((0, model.config["subject_dim"]), np.float32),
        )
    return np.concatenate(ps).astype(np.float32), np.concatenate(ss).astype(np.float32)


def export_latents(
    checkpoint: str | os.PathLike,
    train: MeasureDataset,
    test: MeasureDataset,
    path: str | os.PathLike,
    batch_size: int = 1024,
) -> Path:
    """Write the codes of ``train`` and ``test`` windows to ``path`` (.npz, atomic).

    Keys: ``p_*``/``s_*`` float32 (N, dim) (raw codes, as fed to the decoder; the triplet losses
    acted on their L2-normalised versions), ``gesture_*``, ``subject_*``, ``session_*``,
    ``trial_*`` int64, for ``*`` in train/test, plus ``measure``. ``LATENT_KEYS`` are the ones
    `emgcore.disentangle.latent.load_latents` requires.
    """
    model, scaler, config = load_checkpoint(checkpoint)
    arrays = {}
    for name, data in (("train", train), ("test", test)):
        if config.get("measure") not in (None, data.measure):
            raise ValueError(
                f"{name} windows use measure {data.measure!r}, the checkpoint was trained on {config['measure']!r}"
            )
        p, s = encode(model, scaler, data, batch_size)
        arrays.update(
            {
                f"p_{name}": p,
                f"s_{name}": s,
                f"gesture_{name}": data.gesture,
                f"subject_{name}": data.subject,
                f"session_{name}": data.session,
                f"trial_{name}": data.trial,
            }
        )

    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez(fh, measure=np.array(train.measure), **arrays)

    return write_atomic(path, write)


# ---------------------------------------------------------------------------------------------
# cross-subject protocol


TRAIN_SESSION, TEST_SESSION = 1, 2  # the study's protocol: train on session 1, test held-out people on 2


def protocol_split(dataset: MeasureDataset, held_users) -> tuple[MeasureDataset, MeasureDataset]:
    """The pipeline's split of a measure dataset for one held-out group of 1-based users: the
    other users' session 1 trains, the held-out users' session 2 tests (`split_by_protocol`)."""
    return split_by_protocol(dataset, [int(u) - 1 for u in held_users], TRAIN_SESSION, TEST_SESSION)


def split_by_protocol(
    dataset: MeasureDataset, test_subjects, train_session: int, test_session: int
) -> tuple[MeasureDataset, MeasureDataset]:
    """Calibration-free cross-subject split: (train, test).

    train = windows of the subjects *not* in ``test_subjects`` recorded in ``train_session``;
    test = windows of the held-out subjects recorded in ``test_session``. The held-out people are
    never seen in training, and their test windows come from another session than the one the
    model was trained on. Unknown test subjects or an empty side raise ValueError.
    """
    held = np.unique(np.asarray(list(np.atleast_1d(test_subjects)), dtype=np.int64))
    if held.size == 0:
        raise ValueError("test_subjects is empty")
    unknown = np.setdiff1d(held, dataset.subject)
    if unknown.size:
        raise ValueError(
            f"test subjects {unknown.tolist()} have no windows (subjects: {np.unique(dataset.subject).tolist()})"
        )
    is_held = np.isin(dataset.subject, held)
    train_mask = ~is_held & (dataset.session == train_session)
    test_mask = is_held & (dataset.session == test_session)
    sessions = np.unique(dataset.session).tolist()
    if not train_mask.any():
        raise ValueError(f"no training windows: no other subject has session {train_session} (sessions: {sessions})")
    if not test_mask.any():
        raise ValueError(
            f"no test windows: subjects {held.tolist()} have no session {test_session} (sessions: {sessions})"
        )
    return dataset.subset(train_mask), dataset.subset(test_mask)
