"""A libemg `Dataset` over the per-user store, so libemg's own tools (windows, features) apply.

Needs the optional extra: ``pip install ".[libemg]"`` (libemg 2.0.3 holds numpy below 2, so
CPython 3.12 at most); nothing else in emgcore imports libemg.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

try:
    from libemg._datasets.dataset import Dataset
    from libemg.data_handler import OfflineDataHandler
except ImportError as err:  # the optional extra is not installed
    raise ImportError(
        'emgcore.data.libemg_dataset needs libemg: pip install ".[libemg]" (an environment with numpy<2)'
    ) from err

from emgcore.data.ingest import read_manifest
from emgcore.data.labels import FS_HZ, GESTURES, N_CHANNELS, PINCH
from emgcore.data.splits import EPN612_SPLITS, split_subjects
from emgcore.data.store import read_user_store


class EPN612Store(Dataset):
    """EMG-EPN-612 (or any store in its layout) as a libemg Dataset.

    `prepare_data(split=True)` returns OfflineDataHandlers `All`, `Train`, `Test` with per-repetition
    data and the `classes`, `subjects`, `reps` attributes; Train/Test follow the configured splits.
    Pinch repetitions are left out, as everywhere else in the pipeline.
    """

    def __init__(self, store_dir: str | Path, manifest: str | Path | None = None, splits=None):
        self.store_dir = Path(store_dir)
        self.manifest_path = Path(manifest) if manifest else self.store_dir.parent / "manifest.csv"
        self.splits = dict(splits or EPN612_SPLITS)
        subjects = read_manifest(self.manifest_path)["subject"].tolist()
        self.subject_ids = [int(s) for s in subjects]
        super().__init__(
            FS_HZ,
            N_CHANNELS,
            "Myo Armband",
            len(self.subject_ids),
            {i: g for i, g in enumerate(GESTURES) if i != PINCH},
            "train/val/test by fixed user ranges",
            "EMG-EPN-612 in the emgcore store layout",
            "https://doi.org/10.5281/zenodo.4421500",
        )

    def _odh(self, subjects) -> OfflineDataHandler:
        odh = OfflineDataHandler()
        odh.data, odh.classes, odh.subjects, odh.reps = [], [], [], []
        odh.extra_attributes = ["classes", "subjects", "reps"]
        for s in subjects:
            rec = read_user_store(self.store_dir / f"subject{s:04d}.h5")
            for row in range(len(rec.reps)):
                label = int(rec.reps["label"].iat[row])
                if label == PINCH:
                    continue
                x = rec.repetition(row).astype(np.float64)
                n = len(x)
                odh.data.append(x)
                odh.classes.append(np.full((n, 1), label, dtype=np.int64))
                odh.subjects.append(np.full((n, 1), s, dtype=np.int64))
                odh.reps.append(np.full((n, 1), int(rec.reps["rep_index"].iat[row]), dtype=np.int64))
        return odh

    def prepare_data(self, split: bool = True, subjects=None):
        """Load the store into libemg OfflineDataHandlers (dict when `split`, else the `All` handler)."""
        chosen = [s for s in self.subject_ids if subjects is None or s in set(subjects)]
        train = split_subjects(self.splits, "train", chosen)
        test = split_subjects(self.splits, "test", chosen)
        if not split:
            return self._odh(chosen)
        odh_train, odh_test = self._odh(train), self._odh(test)
        return {"All": odh_train + odh_test, "Train": odh_train, "Test": odh_test}
