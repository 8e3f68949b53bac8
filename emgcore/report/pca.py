"""How a run's embedding space evolves over training: per-epoch embeddings and one PCA sheet per run.

`epoch_embeddings` embeds one fixed set of test windows with every per-epoch checkpoint
(`{run}/epochs/epoch_NNN.pt`); `pca_sheet` fits a 2-D PCA on the final epoch's embeddings and
projects every epoch with that same PCA, so all panels share one coordinate frame and one can
watch the gesture clusters form (or users stay apart) epoch by epoch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA

from emgcore.cross.training import _split_batch, load_model
from emgcore.data.labels import GESTURES
from emgcore.layout import EPOCHS
from emgcore.report.plots import _save_figure, plt

EPOCH_FILE = re.compile(r"^epoch_(\d+)\.pt$")
AXIS_MARGIN = 0.05  # fraction of the data range added on each side of the shared limits
POINT_SIZE = 4


def epoch_checkpoints(run_dir: str | Path) -> list[Path]:
    """Per-epoch checkpoints `run_dir/epochs/epoch_NNN.pt`, sorted by epoch number."""
    epoch_dir = Path(run_dir) / EPOCHS
    if not epoch_dir.is_dir():
        raise FileNotFoundError(f"no per-epoch checkpoint folder at {epoch_dir}")
    paths = [p for p in epoch_dir.iterdir() if EPOCH_FILE.match(p.name)]
    if not paths:
        raise FileNotFoundError(f"no epoch_NNN.pt checkpoints in {epoch_dir}")
    return sorted(paths, key=epoch_number)


def epoch_number(path: str | Path) -> int:
    """Epoch number N of a checkpoint file named epoch_NNN.pt."""
    match = EPOCH_FILE.match(Path(path).name)
    if match is None:
        raise ValueError(f"{path} is not named epoch_NNN.pt")
    return int(match.group(1))


def _fixed_windows(loader: Iterable, max_windows: int) -> tuple[list[torch.Tensor], np.ndarray]:
    """The loader's first `max_windows` windows as a list of x batches, and their labels."""
    xs, ys, taken = [], [], 0
    for batch in loader:
        x, y, _ = _split_batch(batch, torch.device("cpu"))
        keep = min(x.shape[0], max_windows - taken)
        xs.append(x[:keep])
        ys.append(y[:keep].numpy())
        taken += keep
        if taken >= max_windows:
            break
    if taken == 0:
        raise ValueError("the loader yielded no windows to embed")
    return xs, np.concatenate(ys).astype(np.int64)


@torch.no_grad()
def epoch_embeddings(
    checkpoint_paths: Sequence[str | Path],
    loader: Iterable,
    max_windows: int,
    device: str | torch.device = "cpu",
) -> tuple[list[np.ndarray], np.ndarray]:
    """Embed the same windows with every checkpoint: ([(N, D) float32 per checkpoint], labels (N,)).

    The windows are the first `max_windows` the loader yields (pass a non-shuffled loader, or one
    with a fixed seed, for a reproducible subset); they are read once and reused for every
    checkpoint, so all epochs see exactly the same windows in the same order. Models run in eval
    mode (no dropout).
    """
    paths = [Path(p) for p in checkpoint_paths]
    if not paths:
        raise ValueError("epoch_embeddings needs at least one checkpoint path; got an empty list")
    if isinstance(max_windows, bool) or not isinstance(max_windows, (int, np.integer)) or max_windows < 1:
        raise ValueError(f"max_windows must be a positive integer, got {max_windows!r}")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"checkpoints not found: {missing[:5]}")
    xs, labels = _fixed_windows(loader, int(max_windows))
    device = torch.device(device)
    embeddings = []
    for path in paths:
        model = load_model(path, device=device)
        parts = []
        for x in xs:
            output = model(x.to(device))
            if not isinstance(output, (tuple, list)) or len(output) != 2:
                raise ValueError(f"model from {path} must return (logits, embedding)")
            embedding = output[1]
            if embedding.ndim != 2 or embedding.shape[0] != x.shape[0]:
                raise ValueError(
                    f"model from {path} returned embeddings of shape "
                    f"{tuple(embedding.shape)} for a batch of {x.shape[0]}; expected (B, D)"
                )
            parts.append(embedding.float().cpu().numpy())
        embeddings.append(np.concatenate(parts))
    return embeddings, labels


def _check_embeddings(embeddings_per_epoch) -> list[np.ndarray]:
    """Validated float arrays, all of one shape (N, D) with N >= 2, D >= 2 and finite values."""
    if embeddings_per_epoch is None or len(embeddings_per_epoch) == 0:
        raise ValueError("need embeddings of at least one epoch")
    arrays = [np.asarray(e, dtype=float) for e in embeddings_per_epoch]
    for i, e in enumerate(arrays):
        if e.ndim != 2:
            raise ValueError(f"embeddings of epoch entry {i} must be (N, D), got shape {e.shape}")
        if not np.all(np.isfinite(e)):
            raise ValueError(f"embeddings of epoch entry {i} contain NaN or inf")
    shapes = {e.shape for e in arrays}
    if len(shapes) != 1:
        raise ValueError(
            "embeddings differ in shape across epochs "
            f"({[e.shape for e in arrays]}); every epoch must embed the same windows"
        )
    n, d = arrays[0].shape
    if n < 2 or d < 2:
        raise ValueError(f"a 2-D PCA needs at least 2 windows and 2 embedding dimensions, got ({n}, {d})")
    return arrays


def _check_labels(labels, n: int) -> np.ndarray:
    """Labels as int64 gesture codes of shape (n,); raises on other shapes or unknown codes."""
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) like the embeddings, got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer gesture codes, got dtype {labels.dtype}")
    bad = np.setdiff1d(labels, np.arange(len(GESTURES)))
    if bad.size:
        raise ValueError(f"unknown gesture codes {bad.tolist()}; known: 0..{len(GESTURES) - 1} {GESTURES}")
    return labels.astype(np.int64)


def project_epochs(embeddings_per_epoch) -> tuple[list[np.ndarray], PCA]:
    """Fit PCA(2) on the final epoch's embeddings and project every epoch with it: ([(N, 2)], pca).

    One shared projection (rather than a PCA per epoch) keeps every panel in the same coordinates;
    the full SVD solver makes it deterministic.
    """
    arrays = _check_embeddings(embeddings_per_epoch)
    pca = PCA(n_components=2, svd_solver="full").fit(arrays[-1])
    return [pca.transform(e) for e in arrays], pca


def pca_sheet(
    embeddings_per_epoch,
    labels,
    out_path: str | Path,
    title: str = "",
    epoch_numbers: Sequence[int] | None = None,
) -> Path:
    """One figure with a 2-D PCA scatter per epoch (final epoch's PCA), coloured by gesture.

    Panels share axis limits so distances are comparable across epochs; the legend (gesture names
    from `emgcore.data.labels.GESTURES`) is drawn once for the sheet. `epoch_numbers` labels the
    panels (default 1..E).
    """
    projections, pca = project_epochs(embeddings_per_epoch)
    labels = _check_labels(labels, projections[0].shape[0])
    if epoch_numbers is None:
        epoch_numbers = list(range(1, len(projections) + 1))
    epoch_numbers = [int(e) for e in epoch_numbers]
    if len(epoch_numbers) != len(projections):
        raise ValueError(f"got {len(epoch_numbers)} epoch numbers for {len(projections)} epochs of embeddings")

    stacked = np.concatenate(projections)
    low, high = stacked.min(axis=0), stacked.max(axis=0)
    pad = np.maximum((high - low) * AXIS_MARGIN, 1e-9)
    low, high = low - pad, high + pad

    n = len(projections)
    ncols = math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 3.0 * nrows), squeeze=False)
    codes = np.unique(labels)
    colours = plt.get_cmap("tab10")
    handles = []
    for panel, (ax, projection, epoch) in enumerate(zip(axes.flat, projections, epoch_numbers)):
        for code in codes:
            points = projection[labels == code]
            handle = ax.scatter(
                points[:, 0],
                points[:, 1],
                s=POINT_SIZE,
                alpha=0.6,
                linewidths=0,
                color=colours(int(code)),
                label=GESTURES[code],
                rasterized=True,
            )
            if panel == 0:
                handles.append(handle)
        ax.set_title(f"epoch {epoch}", fontsize=9)
        ax.set_xlim(low[0], high[0])
        ax.set_ylim(low[1], high[1])
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    ratio = pca.explained_variance_ratio_
    for col in range(min(ncols, n)):
        last_in_column = col + ncols * ((n - 1 - col) // ncols)  # lowest visible panel of the column
        axes.flat[last_in_column].set_xlabel(f"PC1 ({100 * ratio[0]:.0f}% of final-epoch variance)", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"PC2 ({100 * ratio[1]:.0f}%)", fontsize=8)
    fig.legend(
        handles,
        [GESTURES[c] for c in codes],
        loc="lower center",
        ncol=len(codes),
        markerscale=3,
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )
    fig.suptitle(title or f"embedding PCA over {n} epochs (fitted on epoch {epoch_numbers[-1]})")
    fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, 1))  # leave ~0.35 in for the legend
    return _save_figure(fig, out_path)
