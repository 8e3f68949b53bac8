"""Within-user models: train one model on one subject's own repetitions and test it on others of theirs.

Per subject the ``trainingSamples`` block is split per gesture (:class:`RepetitionSplit`): the first
N repetitions train, one validates (early stopping), a few test. Models: ``mhcnn`` from scratch
(``noft``) or fine-tuned from a cross-user checkpoint (``ft``: its weights are the starting point),
``cnn_hcf`` and ``mlp`` on hand-crafted features (sub-windowed / windowed), and ``lda``. Training
goes through the cross-user paths (model building, loaders, `train_model`, `fit_lda_run`) in a
temporary folder that is removed afterwards: only the returned metrics are kept.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from emgcore.cross.distributed import resolve_device
from emgcore.cross.runs import FeatureSpec, _build, _train_loader, fit_lda_run, model_view
from emgcore.cross.training import load_model, predict, seed_everything, train_model
from emgcore.data.store import read_user_store, store_filename
from emgcore.preprocess.segmentation import check_variant
from emgcore.preprocess.window_dataset import WindowDataset, make_loader
from emgcore.report.metrics import subject_scores
from emgcore.settings import TrainingSettings, WindowSettings
from emgcore.within.repetitions import DEFAULT_TEST_REPS, DEFAULT_VAL_REP, PARTS, RepetitionSplit, within_indexes

ARCHITECTURES = ("mhcnn", "cnn_hcf", "mlp", "lda")
FT_MODES = ("ft", "noft")
#: columns of the tidy table of `fit_chunk`, in order
RESULT_COLUMNS = (
    "subject",
    "split",
    "in_cross_training",
    "model",
    "ft",
    "n_train_reps",
    "variant",
    "seed",
    "n_train_windows",
    "n_val_windows",
    "n_test_windows",
    "epochs",
    "best_epoch",
    "val_loss",
    "seconds",
    "acc",
    "act_acc",
    "bal_acc",
    "f1",
)


@dataclass(frozen=True)
class WithinModel:
    """One within-user model: an architecture, and for ``mhcnn`` whether it starts from the cross-user
    checkpoint (``ft``) or from scratch (``noft``); ``ft`` is '' for the other architectures."""

    model: str
    ft: str = ""

    def __post_init__(self) -> None:
        if self.model not in ARCHITECTURES:
            raise ValueError(f"unknown within-user model {self.model!r}; expected one of {ARCHITECTURES}")
        if self.model == "mhcnn" and self.ft not in FT_MODES:
            raise ValueError(f"mhcnn needs ft set to one of {FT_MODES}, got {self.ft!r}")
        if self.model != "mhcnn" and self.ft != "":
            raise ValueError(f"only mhcnn is fine-tuned; {self.model} takes ft='' (got {self.ft!r})")

    @property
    def name(self) -> str:
        """``mhcnn-ft``, ``mhcnn-noft``, ``cnn_hcf``, ``mlp`` or ``lda``."""
        return f"{self.model}-{self.ft}" if self.ft else self.model

    @classmethod
    def parse(cls, name: str | WithinModel) -> WithinModel:
        """From a name as :attr:`name` writes it."""
        if isinstance(name, WithinModel):
            return name
        model, _, ft = str(name).partition("-")
        return cls(model, ft)


def within_models(names: Iterable[str | WithinModel]) -> list[WithinModel]:
    """Parse model names (see :meth:`WithinModel.parse`), refusing repeats."""
    models = [WithinModel.parse(n) for n in names]
    repeated = sorted({m.name for m in models if models.count(m) > 1})
    if repeated:
        raise ValueError(f"within-user models listed more than once: {repeated}")
    if not models:
        raise ValueError("no within-user models given")
    return models


def _checked_checkpoint(checkpoint: str | Path | None, window: int) -> Path:
    """The cross-user checkpoint for fine-tuning, checked to be an MHCNN on `window`-sample windows."""
    if checkpoint is None:
        raise ValueError("model mhcnn-ft fine-tunes a cross-user model: give its checkpoint (model.pt)")
    checkpoint = Path(checkpoint)
    model = load_model(checkpoint)  # names a missing or foreign file
    name = getattr(model, "model_name", type(model).__name__)
    if name != "mhcnn":
        raise ValueError(f"{checkpoint}: mhcnn-ft fine-tunes an mhcnn checkpoint, this one holds {name!r}")
    if int(model.init_kwargs["window"]) != int(window):
        raise ValueError(
            f"{checkpoint}: the checkpoint's MHCNN takes {model.init_kwargs['window']}-sample windows, "
            f"the within-user windows have {window}"
        )
    return checkpoint


def _train(
    spec: WithinModel,
    train_ds: WindowDataset,
    val_ds: WindowDataset,
    training: TrainingSettings,
    features: FeatureSpec,
    checkpoint: Path | None,
    seed: int,
    out_dir: Path,
    progress: bool,
):
    """Train `spec` on the datasets into `out_dir`; returns (TrainResult, the model's feature device)."""
    feature_device = training.device if training.num_workers == 0 else "cpu"
    train_view = model_view(train_ds, spec.model, features, feature_device)
    val_view = model_view(val_ds, spec.model, features, feature_device)
    seed_everything(seed)
    if spec.model == "lda":
        return fit_lda_run(train_view, val_view, out_dir, training, seed), feature_device
    window = int(train_ds.index.window)
    if spec.ft == "ft":
        model = load_model(checkpoint)  # a fresh copy of the cross-user weights for every subject
    else:
        model = _build(spec.model, train_view, training, seed, train_ds.index.subjects(), window)
    train_loader = _train_loader(train_view, train_ds.index, "base", training, seed)
    val_loader = make_loader(val_view, training.eval_batch_size, shuffle=False, seed=seed)
    result = train_model(model, train_loader, val_loader, training, out_dir, seed=seed, progress=progress)
    return result, feature_device


def _fit_prepared(
    spec: WithinModel,
    datasets: Mapping[str, WindowDataset],
    training: TrainingSettings,
    features: FeatureSpec,
    checkpoint: Path | None,
    seed: int,
    work_dir: str | Path | None,
    progress: bool,
) -> dict:
    """Train and test `spec` on one subject's train/val/test datasets; the metrics row."""
    subject = int(datasets["test"].index.subject[0])
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"within-s{subject}-{spec.name}-", dir=work_dir) as tmp:
        result, feature_device = _train(
            spec, datasets["train"], datasets["val"], training, features, checkpoint, seed, Path(tmp), progress
        )
    test_view = model_view(datasets["test"], spec.model, features, feature_device)
    y_true, y_pred, _ = predict(result.model, make_loader(test_view, training.eval_batch_size, shuffle=False))
    seconds = time.perf_counter() - start
    return {
        "subject": subject,
        "model": spec.model,
        "ft": spec.ft,
        "seed": int(seed),
        **{f"n_{part}_windows": len(datasets[part]) for part in PARTS},
        "epochs": int(result.epochs_run),
        "best_epoch": int(result.best_epoch),
        "val_loss": float(result.best_val_loss),
        "seconds": seconds,
        **subject_scores(y_true, y_pred),
    }


def _datasets(recording, split: RepetitionSplit, variant, windows, threshold, parts=PARTS) -> dict[str, WindowDataset]:
    """Window datasets of `parts` of one user's split (cut from the recording's own signal)."""
    indexes = within_indexes(recording, split, variant, windows, threshold, parts)
    signals = {int(recording.subject): recording.signal}
    return {part: WindowDataset(index, signals) for part, index in indexes.items()}


def _prepare(training: TrainingSettings, specs: Sequence[WithinModel], checkpoint, window: int):
    """Settings on the resolved device, the feature spec and the checked checkpoint (when ft is asked)."""
    if not isinstance(training, TrainingSettings):
        raise TypeError(f"training must be a TrainingSettings, got {type(training).__name__}")
    training = training.replace(device=resolve_device(training.device, 0))
    needs_checkpoint = any(s.ft == "ft" for s in specs)
    checkpoint = _checked_checkpoint(checkpoint, window) if needs_checkpoint else None
    return training, FeatureSpec.of(training), checkpoint


def fit_within(
    recording,
    model: str | WithinModel,
    split: RepetitionSplit,
    variant: str,
    windows: WindowSettings,
    training: TrainingSettings,
    *,
    threshold: float | None = None,
    checkpoint: str | Path | None = None,
    seed: int = 0,
    work_dir: str | Path | None = None,
    progress: bool = False,
) -> dict:
    """Train and test one within-user model on one subject (a UserRecording); returns its metrics:
    subject, model, ft, seed, n_{train,val,test}_windows, epochs, best_epoch, val_loss, seconds
    (training and testing) and acc, act_acc, bal_acc, f1 on the test repetitions.

    `threshold` is the rest threshold of the 'standard' variant; `checkpoint` the cross-user
    model.pt that ``mhcnn-ft`` starts from. Nothing is kept on disk.
    """
    spec = WithinModel.parse(model)
    training, features, checkpoint = _prepare(training, [spec], checkpoint, windows.size)
    datasets = _datasets(recording, split, variant, windows, threshold)
    row = _fit_prepared(spec, datasets, training, features, checkpoint, seed, work_dir, progress)
    return {**row, "n_train_reps": split.n_train, "variant": variant}


def fit_chunk(
    store_dir: str | Path,
    subjects: Iterable[int],
    n_train_reps: Iterable[int],
    models: Iterable[str | WithinModel],
    variant: str,
    windows: WindowSettings,
    training: TrainingSettings,
    *,
    split_of: Mapping[int, str],
    cross_train_subjects: Iterable[int],
    checkpoint: str | Path | None = None,
    threshold: float | None = None,
    val_rep: int = DEFAULT_VAL_REP,
    test_reps: Sequence[int] = DEFAULT_TEST_REPS,
    seed: int = 0,
    work_dir: str | Path | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Within-user results of a chunk of subjects: one row per (subject, N, model), columns RESULT_COLUMNS.

    Each subject's store is read once; for every N in `n_train_reps` the first N repetitions per
    gesture train every model in `models` (val/test repetitions fixed by `val_rep`/`test_reps`).
    `split_of` maps each subject to its user split (train/val/test); ``in_cross_training`` is
    whether the subject is among `cross_train_subjects` (the cross-user model's training users,
    whose data the ``ft`` starting point has seen). Every setting is checked before training
    starts. The caller writes the table (e.g. `emgcore.io.write_csv_atomic`); note that the
    empty ``ft`` of non-MHCNN rows reads back as NaN unless read with ``keep_default_na=False``.
    """
    subjects = [int(s) for s in subjects]
    if not subjects or len(set(subjects)) != len(subjects):
        raise ValueError(f"subjects must list at least one subject, each once; got {subjects}")
    unsplit = [s for s in subjects if s not in split_of]
    if unsplit:
        raise ValueError(f"split_of names no split for subjects {unsplit[:10]}")
    specs = within_models(models)
    splits = [RepetitionSplit(n, val_rep, tuple(test_reps)) for n in n_train_reps]  # overlap errors here
    n_values = [split.n_train for split in splits]
    if not n_values or len(set(n_values)) != len(n_values):
        raise ValueError(f"n_train_reps must list at least one N, each once; got {n_values}")
    cross_train = {int(s) for s in cross_train_subjects}
    check_variant(variant, threshold)
    training, features, checkpoint = _prepare(training, specs, checkpoint, windows.size)
    torch.set_num_threads(training.threads)
    rows = []
    for subject in subjects:
        recording = read_user_store(Path(store_dir) / store_filename(subject))
        if int(recording.subject) != subject:
            raise ValueError(f"{store_filename(subject)} in {store_dir} holds subject {recording.subject}")
        held_out = None
        for split in splits:
            if held_out is None:  # val and test repetitions are the same for every N
                held_out = _datasets(recording, split, variant, windows, threshold, ("val", "test"))
            datasets = {**held_out, **_datasets(recording, split, variant, windows, threshold, ("train",))}
            for spec in specs:
                row = _fit_prepared(spec, datasets, training, features, checkpoint, seed, work_dir, progress)
                rows.append(
                    {
                        **row,
                        "split": str(split_of[subject]),
                        "in_cross_training": subject in cross_train,
                        "n_train_reps": split.n_train,
                        "variant": variant,
                    }
                )
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
