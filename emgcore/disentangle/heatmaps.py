"""Pattern-component heat maps: what the decoder draws from the gesture code alone.

A disentangling model reconstructs a window as decode(p, s). Decoding the pattern code p with the
subject code neutralised shows the subject-independent part of the activation on the electrode
grid. Two neutral subject codes are offered (`MODES`): ``zero`` (s = 0) and ``mean`` (s = the mean
subject code over the training data, `mean_subject_code`), which keeps the decoder inside the
region of code space it was trained on.

`pattern_heatmaps` averages one plane of these reconstructions per (gesture, subject);
`plot_heatmaps` draws them as a gesture x subject grid of electrode-grid images on one colour scale,
so maps of the same gesture should look alike across subjects if the pattern code is shared.
`reconstruction_correlation` compares gestures by the Pearson correlation of their mean maps and
`plot_correlation_matrix` draws it annotated. Inputs must already be preprocessed the way the model
expects (e.g. the checkpoint's scaler applied by the caller). Figures are written atomically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless rendering; chosen before pyplot is imported
import matplotlib.pyplot as plt
import numpy as np

from emgcore.report.plots import _save_figure

MODES = ("zero", "mean")
BATCH_SIZE = 256


def _model_device(model):
    """Device of the model's first parameter (CPU for parameter-free stand-ins)."""
    import torch

    params = getattr(model, "parameters", None)
    if callable(params):
        for param in params():
            return param.device
    return torch.device("cpu")


def _as_input(x, model):
    import torch

    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, dtype=np.float32))
    if t.ndim != 4:
        raise ValueError(f"windows must have shape (B, M, H, W), got {tuple(t.shape)}")
    return t.to(device=_model_device(model), dtype=torch.float32)


class _EvalMode:
    """Put a torch module in eval mode for the block and restore its previous mode afterwards."""

    def __init__(self, model):
        self.model = model
        self.was_training = bool(getattr(model, "training", False))

    def __enter__(self):
        if hasattr(self.model, "eval"):
            self.model.eval()
        return self.model

    def __exit__(self, *exc):
        if self.was_training and hasattr(self.model, "train"):
            self.model.train()
        return False


def mean_subject_code(model, X, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """Mean subject code (Ds,) of `model` over windows X (N, M, H, W), e.g. the training data."""
    import torch

    n = len(X)
    if n == 0:
        raise ValueError("mean_subject_code needs at least one window")
    total = None
    with _EvalMode(model), torch.no_grad():
        for start in range(0, n, batch_size):
            s = model.encode_subject(_as_input(X[start : start + batch_size], model)).double().sum(dim=0)
            total = s if total is None else total + s
    return (total / n).float().cpu().numpy()


def pattern_component(model, x, mode: str = "zero", s_mean=None):
    """decode(encode_pattern(x), s0): the pattern component alone, with s0 neutral (see `MODES`).

    `x` is (B, M, H, W) as a numpy array or torch tensor; the result has the decoder's shape
    (B, M, H, W) and the input's type (numpy in -> numpy out). ``mode='mean'`` needs `s_mean` (Ds,),
    e.g. from `mean_subject_code` on the training windows.
    """
    import torch

    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose from {MODES}")
    if mode == "mean" and s_mean is None:
        raise ValueError("mode='mean' needs s_mean, the mean subject code over the training data")
    if mode == "zero" and s_mean is not None:
        raise ValueError("s_mean is only used with mode='mean'")
    t = _as_input(x, model)
    with _EvalMode(model), torch.no_grad():
        p = model.encode_pattern(t)
        ds = model.encode_subject(t[:1]).shape[1]
        if mode == "zero":
            s = torch.zeros((t.shape[0], ds), dtype=p.dtype, device=p.device)
        else:
            code = torch.as_tensor(np.asarray(s_mean, dtype=np.float32), device=p.device).to(p.dtype)
            if code.shape != (ds,):
                raise ValueError(f"s_mean must have shape ({ds},), got {tuple(code.shape)}")
            s = code.expand(t.shape[0], ds)
        x_hat = model.decode(p, s)
    if x_hat.ndim != 4 or x_hat.shape[0] != t.shape[0]:
        raise ValueError(f"decode returned shape {tuple(x_hat.shape)}; expected (B, M, H, W) with B={t.shape[0]}")
    return x_hat if isinstance(x, torch.Tensor) else x_hat.cpu().numpy()


def pattern_heatmaps(
    model,
    dataset_X,
    gesture,
    subject,
    plane: int | None = 0,
    mode: str = "zero",
    s_mean=None,
    batch_size: int = BATCH_SIZE,
) -> dict[tuple[int, int], np.ndarray]:
    """Mean pattern-component map (H, W) per (gesture, subject) present in the data.

    `dataset_X` is indexable by slices into (B, M, H, W) batches (array, tensor or memmap);
    `plane` picks one of the M planes of the reconstruction (None averages them all). Windows are
    processed in batches of `batch_size`, so the data need not fit in memory twice.
    """
    gesture = np.asarray(gesture, dtype=np.int64)
    subject = np.asarray(subject, dtype=np.int64)
    n = len(dataset_X)
    if gesture.shape != (n,) or subject.shape != (n,):
        raise ValueError(
            f"gesture and subject need one label per window ({n}), got shapes {gesture.shape} and {subject.shape}"
        )
    if n == 0:
        raise ValueError("pattern_heatmaps needs at least one window")
    keys, inverse = np.unique(np.stack([gesture, subject], axis=1), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    sums = None
    for start in range(0, n, batch_size):
        x_hat = pattern_component(model, dataset_X[start : start + batch_size], mode, s_mean)
        x_hat = np.asarray(x_hat.detach().cpu().numpy() if hasattr(x_hat, "detach") else x_hat, dtype=np.float64)
        if plane is None:
            maps = x_hat.mean(axis=1)
        else:
            if not -x_hat.shape[1] <= plane < x_hat.shape[1]:
                raise ValueError(f"plane {plane} out of range for {x_hat.shape[1]} reconstructed planes")
            maps = x_hat[:, plane]
        if sums is None:
            sums = np.zeros((len(keys),) + maps.shape[1:])
        np.add.at(sums, inverse[start : start + batch_size], maps)
    counts = np.bincount(inverse, minlength=len(keys)).astype(float)
    return {(int(g), int(s)): sums[i] / counts[i] for i, (g, s) in enumerate(keys)}


def gesture_means(maps: Mapping[tuple[int, int], np.ndarray]) -> dict[int, np.ndarray]:
    """Mean map per gesture over subjects (each subject weighs the same), ordered by gesture code."""
    if not maps:
        raise ValueError("no maps to average")
    by_gesture: dict[int, list[np.ndarray]] = {}
    for (g, _), m in sorted(maps.items()):
        by_gesture.setdefault(int(g), []).append(np.asarray(m, dtype=np.float64))
    return {g: np.mean(np.stack(ms), axis=0) for g, ms in by_gesture.items()}


def _names(codes, gesture_names) -> list[str]:
    if gesture_names is None:
        return [str(c) for c in codes]
    if isinstance(gesture_names, Mapping):
        return [str(gesture_names.get(c, c)) for c in codes]
    names = list(gesture_names)
    bad = [c for c in codes if not 0 <= c < len(names)]
    if bad:
        raise ValueError(f"gesture codes {bad} have no entry in gesture_names ({len(names)} names)")
    return [str(names[c]) for c in codes]


def _as_grid(m, grid_shape, key) -> np.ndarray:
    arr = np.asarray(m, dtype=np.float64)
    if grid_shape is not None:
        if arr.size != int(np.prod(grid_shape)):
            raise ValueError(
                f"map {key} has {arr.size} values, grid_shape {tuple(grid_shape)} needs {int(np.prod(grid_shape))}"
            )
        arr = arr.reshape(grid_shape)
    elif arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise ValueError(f"map {key} must be 2-D (H, W) or come with grid_shape, got shape {arr.shape}")
    return arr


def plot_heatmaps(
    maps: Mapping[tuple[int, int], np.ndarray],
    out_path: str | Path,
    gesture_names: Sequence[str] | Mapping[int, str] | None = None,
    grid_shape: tuple[int, int] | None = None,
    title: str | None = None,
    cmap: str = "viridis",
) -> Path:
    """Grid of electrode-grid images, gestures as rows and subjects as columns, one colour scale.

    Maps are reshaped to `grid_shape` (H, W) when given (so flat maps or a 1 x 8 armband work);
    missing (gesture, subject) pairs leave an empty panel. `gesture_names` is a sequence indexed
    by gesture code or a mapping code -> name.
    """
    if not maps:
        raise ValueError("no maps to plot")
    grids = {key: _as_grid(m, grid_shape, key) for key, m in maps.items()}
    shapes = {g.shape for g in grids.values()}
    if len(shapes) != 1:
        raise ValueError(f"maps differ in shape: {sorted(shapes)}")
    h, w = shapes.pop()
    gestures = sorted({int(g) for g, _ in grids})
    subjects = sorted({int(s) for _, s in grids})
    names = _names(gestures, gesture_names)
    values = np.concatenate([g.ravel() for g in grids.values()])
    if not np.all(np.isfinite(values)):
        raise ValueError("maps hold NaN or infinite values")
    vmin, vmax = float(values.min()), float(values.max())
    if vmin == vmax:
        vmin, vmax = vmin - 0.5, vmax + 0.5

    panel_w = 1.6
    panel_h = max(0.35, panel_w * h / w)
    fig, axes = plt.subplots(
        len(gestures),
        len(subjects),
        squeeze=False,
        figsize=(1.2 + panel_w * len(subjects), 0.8 + (panel_h + 0.25) * len(gestures)),
    )
    image = None
    for r, (g, name) in enumerate(zip(gestures, names)):
        for c, s in enumerate(subjects):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if (g, s) in grids:
                image = ax.imshow(
                    grids[(g, s)], cmap=cmap, vmin=vmin, vmax=vmax, aspect="equal", interpolation="nearest"
                )
            else:
                ax.set_frame_on(False)
            if r == 0:
                ax.set_title(f"subject {s}", fontsize=8)
            if c == 0:
                ax.set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="pattern component")
    fig.suptitle(title or f"Pattern-component maps ({h} x {w} electrodes)")
    return _save_figure(fig, out_path)


def reconstruction_correlation(maps_by_gesture) -> np.ndarray:
    """Pearson correlation (G, G) between the flattened mean maps of G gestures.

    Accepts a mapping gesture -> map (in its order, e.g. from `gesture_means`) or a sequence or
    array of maps. A constant map has no defined correlation and raises.
    """
    items = list(maps_by_gesture.values()) if isinstance(maps_by_gesture, Mapping) else list(maps_by_gesture)
    if len(items) < 2:
        raise ValueError(f"need at least 2 gesture maps to correlate, got {len(items)}")
    flat = [np.asarray(m, dtype=np.float64).ravel() for m in items]
    if len({f.size for f in flat}) != 1:
        raise ValueError(f"gesture maps differ in size: {sorted({f.size for f in flat})}")
    data = np.stack(flat)
    if not np.all(np.isfinite(data)):
        raise ValueError("gesture maps hold NaN or infinite values")
    constant = np.flatnonzero(data.std(axis=1) == 0)
    if constant.size:
        raise ValueError(
            f"gesture maps at positions {constant.tolist()} are constant; Pearson correlation is undefined"
        )
    corr = np.corrcoef(data)
    corr = (corr + corr.T) / 2  # exact symmetry despite rounding
    np.fill_diagonal(corr, 1.0)
    return np.clip(corr, -1.0, 1.0)


def plot_correlation_matrix(
    C, names: Sequence[str], out_path: str | Path, title: str = "Correlation of pattern reconstructions"
) -> Path:
    """Annotated heat map of a (G, G) correlation matrix on the fixed scale [-1, 1]."""
    C = np.asarray(C, dtype=np.float64)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ValueError(f"correlation matrix must be square, got shape {C.shape}")
    names = [str(n) for n in names]
    if len(names) != C.shape[0]:
        raise ValueError(f"{len(names)} names for a {C.shape[0]} x {C.shape[0]} matrix")
    g = C.shape[0]
    size = max(4.0, 0.45 * g + 2.0)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    image = ax.imshow(C, cmap="coolwarm", vmin=-1.0, vmax=1.0, interpolation="nearest")
    fontsize = max(3.0, min(9.0, 180.0 / g))
    for i in range(g):
        for j in range(g):
            value = C[i, j]
            ax.text(
                j,
                i,
                "nan" if not np.isfinite(value) else f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=fontsize,
                color="white" if np.isfinite(value) and abs(value) > 0.6 else "black",
            )
    ax.set_xticks(range(g))
    ax.set_yticks(range(g))
    ax.set_xticklabels(names, rotation=90, fontsize=fontsize + 1)
    ax.set_yticklabels(names, fontsize=fontsize + 1)
    fig.colorbar(image, ax=ax, shrink=0.8, label="Pearson r")
    ax.set_title(title)
    return _save_figure(fig, out_path)
