"""Classify disentangled latent codes: do pattern codes carry gestures and subject codes identity?

A disentangling model gives every analysis window a pattern code p (meant to describe the gesture,
shared across people) and a subject code s (meant to describe the person). The codes are judged by
what simple classifiers can read from them, in a 2 x 2 design per classifier:

* task ``gesture`` (cross-user gesture recognition): train on the training subjects' codes with
  their gesture labels, predict the held-out subjects' codes, score per held-out subject with
  `emgcore.report.metrics.per_subject_metrics`. p should score high, s near chance.
* task ``subject`` (subject identity across gestures): the held-out subjects never appear in
  training, so identification is measured *within the test codes*, leaving one gesture out: for
  every gesture a classifier trained on the held-out subjects' windows of the *other* gestures
  predicts the subject id of that gesture's windows. A code scores high only if it holds an
  identity that persists from gesture to gesture, which is what the subject triplet loss asks of s
  (same subject, different gestures) and what p should not hold. s should score high, p near
  chance (1 / number of held-out subjects). Needs at least two gestures in the test codes.
* task ``subject_within`` (a diagnostic: subject identity within a gesture): two-fold
  cross-validation inside every (subject, gesture) stratum, the stratum's *trials* shuffled with
  the seed and dealt alternately to fold 0 and fold 1 (`identification_folds`), so a classifier that
  has seen a person's fist in one trial names the person of a fist in another trial. Splitting by
  trial, not by window, keeps the half-overlapping windows of one trial out of both folds at once.
  A stratum with a single trial (or latents without ``trial_test``) has its windows dealt instead.
  Pattern codes are expected to score high here too: a gesture-discriminative code moves with
  where a person's muscles sit, and two people are easy to tell apart on one gesture at a time.

Per true subject the identification scores are: ``acc`` the fraction of the subject's windows
assigned to them (recall), ``bal_acc`` the same averaged over the subject's gestures (so frequent
gestures do not dominate), ``act_acc`` the recall over windows whose gesture is not code 0
(`emgcore.data.labels.REST`), ``f1`` the one-vs-rest F1 of that subject id. For the gesture task
``act_acc`` also excludes gesture code 0, which is meaningful where code 0 is rest. ``chance`` is
1 / number of classes (gestures seen in training, or held-out subjects).

Classifiers (`CLASSIFIERS`): scikit-learn k-NN and RBF SVM (both on standardised codes) and a
seeded random forest; small torch models trained briefly with Adam on standardised codes: an MLP
(``ann``), a 1-D CNN over the code read as a length-D, one-channel sequence (``cnn``) and an LSTM
over the code cut into chunks of ``chunk`` values (``lstm``). Everything is seeded, so the same
seed gives the same predictions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from emgcore.data.labels import REST
from emgcore.disentangle.train import LATENT_KEYS
from emgcore.report.aggregate import KEY_COLUMNS
from emgcore.report.metrics import METRICS, PER_SUBJECT_COLUMNS, per_subject_metrics, summarise
from emgcore.report.tables import require_columns

CLASSIFIERS = ("knn", "svm", "rf", "ann", "cnn", "lstm")
CODES = ("p", "s")
TASKS = ("gesture", "subject", "subject_within")
TABLE_COLUMNS = ("classifier", "code", "task", "seed") + PER_SUBJECT_COLUMNS + ("n_classes", "chance")

_TORCH_PARAMS = ("epochs", "batch_size", "lr", "weight_decay")
#: the hyper-parameters of each classifier; their values come from config (disentangle.classifier_params)
PARAM_NAMES: dict[str, tuple[str, ...]] = {
    "knn": ("n_neighbors",),
    "svm": ("C", "gamma"),
    "rf": ("n_estimators", "max_depth", "n_jobs"),
    "ann": ("hidden", *_TORCH_PARAMS),
    "cnn": ("channels", "kernel_size", *_TORCH_PARAMS),
    "lstm": ("chunk", "hidden", *_TORCH_PARAMS),
}


# --------------------------------------------------------------------------- input checks
def _as_codes(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (windows, code dims), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return arr


def _as_labels(y, name: str, n: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"{name} must be one-dimensional with {n} entries, got shape {arr.shape}")
    is_integral = np.issubdtype(arr.dtype, np.integer) or (
        np.issubdtype(arr.dtype, np.number) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
    )
    if not is_integral:
        raise ValueError(f"{name} must hold integer codes, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _resolve_params(name: str, params: Mapping) -> dict:
    if name not in CLASSIFIERS:
        raise ValueError(f"unknown classifier {name!r}; choose from {CLASSIFIERS}")
    unknown = sorted(set(params) - set(PARAM_NAMES[name]))
    if unknown:
        raise ValueError(f"classifier {name!r} has no parameters {unknown}; it accepts {sorted(PARAM_NAMES[name])}")
    missing = [k for k in PARAM_NAMES[name] if k not in params]
    if missing:
        raise ValueError(f"classifier {name!r} needs the parameters {missing} (config disentangle.classifier_params)")
    resolved = dict(params)
    for key in ("epochs", "batch_size", "hidden", "channels", "kernel_size", "chunk", "n_neighbors", "n_estimators"):
        if key in resolved and (not isinstance(resolved[key], (int, np.integer)) or resolved[key] < 1):
            raise ValueError(f"classifier {name!r}: {key} must be a positive integer, got {resolved[key]!r}")
    return resolved


# --------------------------------------------------------------------------- scikit-learn classifiers
def _sklearn_model(name: str, params: dict, seed: int):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if name == "knn":
        return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=params["n_neighbors"]))
    if name == "svm":
        return make_pipeline(
            StandardScaler(), SVC(kernel="rbf", C=params["C"], gamma=params["gamma"], random_state=seed)
        )
    return RandomForestClassifier(
        n_estimators=params["n_estimators"], max_depth=params["max_depth"], n_jobs=params["n_jobs"], random_state=seed
    )


# --------------------------------------------------------------------------- torch classifiers
def _torch_network(name: str, dim: int, n_classes: int, params: dict):
    """The small network for `name`, taking standardised codes (B, dim) and returning logits."""
    from torch import nn

    if name == "ann":
        h = params["hidden"]
        return nn.Sequential(nn.Linear(dim, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, n_classes))
    if name == "cnn":
        c, k = params["channels"], params["kernel_size"]
        length = dim + 2 * (2 * (k // 2) - k + 1)  # after two 'same'-padded convolutions (even k adds 1 each)
        if length < 1:
            raise ValueError(f"cnn: kernel_size={k} is too large for a code of {dim} dims")
        # flatten instead of pooling: the meaning of a code dimension depends on where it sits
        return nn.Sequential(
            nn.Unflatten(1, (1, dim)),
            nn.Conv1d(1, c, k, padding=k // 2),
            nn.ReLU(),
            nn.Conv1d(c, c, k, padding=k // 2),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(c * length, n_classes),
        )
    return _chunk_lstm(dim, params["chunk"], params["hidden"], n_classes)


def _chunk_lstm(dim: int, chunk: int, hidden: int, n_classes: int):
    """LSTM over the code cut into ceil(D / chunk) steps of `chunk` values (zero-padded at the end).

    Defined inside a function so torch is imported only when a torch classifier is used.
    """
    from torch import nn

    class ChunkLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.steps = -(-dim // chunk)
            self.pad = self.steps * chunk - dim
            self.lstm = nn.LSTM(chunk, hidden, batch_first=True)
            self.head = nn.Linear(hidden, n_classes)

        def forward(self, x):
            x = nn.functional.pad(x, (0, self.pad)).reshape(x.shape[0], self.steps, chunk)
            _, (h, _) = self.lstm(x)
            return self.head(h[-1])

    return ChunkLSTM()


def _fit_predict_torch(
    name: str, X_train: np.ndarray, y_idx: np.ndarray, X_test: np.ndarray, n_classes: int, params: dict, seed: int
) -> np.ndarray:
    """Train the network with Adam + cross-entropy on mini-batches (seeded shuffles); argmax on test."""
    import torch

    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std[std < 1e-12] = 1.0
    xt = torch.as_tensor((X_train - mean) / std, dtype=torch.float32)
    yt = torch.as_tensor(y_idx, dtype=torch.long)
    xs = torch.as_tensor((X_test - mean) / std, dtype=torch.float32)

    with torch.random.fork_rng(devices=[]):  # seed the initial weights without touching the caller's RNG
        torch.manual_seed(seed)
        net = _torch_network(name, X_train.shape[1], n_classes, params)
    optimiser = torch.optim.Adam(net.parameters(), lr=params["lr"], weight_decay=params["weight_decay"])
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    batch = params["batch_size"]
    net.train()
    for _ in range(params["epochs"]):
        order = torch.randperm(len(xt), generator=generator)
        for start in range(0, len(xt), batch):
            idx = order[start : start + batch]
            optimiser.zero_grad()
            loss_fn(net(xt[idx]), yt[idx]).backward()
            optimiser.step()
    net.eval()
    with torch.no_grad():
        logits = torch.cat([net(xs[i : i + 4096]) for i in range(0, len(xs), 4096)])
    return logits.argmax(dim=1).numpy()


def fit_predict(name: str, X_train, y_train, X_test, seed: int = 0, **params) -> np.ndarray:
    """Train classifier `name` on (X_train, y_train) and return its labels for X_test.

    `params` are every hyper-parameter in `PARAM_NAMES[name]` (missing or unknown names raise).
    Labels may be any integers; the prediction uses the same codes. The same seed gives the same
    predictions.
    """
    resolved = _resolve_params(name, params)
    X_train = _as_codes(X_train, "X_train")
    X_test = _as_codes(X_test, "X_test")
    y_train = _as_labels(y_train, "y_train", X_train.shape[0])
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_test has {X_test.shape[1]} code dims, X_train {X_train.shape[1]}")
    classes, y_idx = np.unique(y_train, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"classifier {name!r} needs at least 2 classes in y_train, got {classes.tolist()}")
    if name in ("knn", "svm", "rf"):
        model = _sklearn_model(name, resolved, seed)
        if name == "knn" and resolved["n_neighbors"] > X_train.shape[0]:
            raise ValueError(f"knn: n_neighbors={resolved['n_neighbors']} exceeds {X_train.shape[0]} training codes")
        pred_idx = model.fit(X_train, y_idx).predict(X_test)
    else:
        pred_idx = _fit_predict_torch(name, X_train, y_idx, X_test, classes.size, resolved, seed)
    return classes[np.asarray(pred_idx, dtype=np.int64)]


# --------------------------------------------------------------------------- latent evaluation
def load_latents(latents) -> dict[str, np.ndarray]:
    """The eight latent arrays (plus ``trial_*`` when present) from a dict or an .npz path, checked
    for shapes and matching lengths."""
    if isinstance(latents, (str, Path)):
        path = Path(latents)
        if not path.is_file():
            raise FileNotFoundError(f"latent file {path} does not exist")
        with np.load(path, allow_pickle=False) as data:
            latents = {key: data[key] for key in data.files}
    if not isinstance(latents, Mapping):
        raise TypeError(f"latents must be a dict or an .npz path, got {type(latents).__name__}")
    missing = [k for k in LATENT_KEYS if k not in latents]
    if missing:
        raise ValueError(f"latents lack arrays {missing}; have {sorted(latents)}")
    out: dict[str, np.ndarray] = {}
    for split in ("train", "test"):
        p = _as_codes(latents[f"p_{split}"], f"p_{split}")
        s = _as_codes(latents[f"s_{split}"], f"s_{split}")
        n = p.shape[0]
        if s.shape[0] != n:
            raise ValueError(f"p_{split} has {n} windows but s_{split} has {s.shape[0]}")
        out[f"p_{split}"], out[f"s_{split}"] = p, s
        out[f"gesture_{split}"] = _as_labels(latents[f"gesture_{split}"], f"gesture_{split}", n)
        out[f"subject_{split}"] = _as_labels(latents[f"subject_{split}"], f"subject_{split}", n)
        if f"trial_{split}" in latents:  # optional: lets subject_within split by trial
            out[f"trial_{split}"] = _as_labels(latents[f"trial_{split}"], f"trial_{split}", n)
    for code in CODES:
        if out[f"{code}_train"].shape[1] != out[f"{code}_test"].shape[1]:
            raise ValueError(
                f"{code}_train and {code}_test differ in code size: "
                f"{out[f'{code}_train'].shape[1]} vs {out[f'{code}_test'].shape[1]}"
            )
    return out


def identification_folds(subject, gesture, seed: int, trial=None) -> np.ndarray:
    """Fold (0 or 1) of every window for ``subject_within``: per (subject, gesture) stratum, its
    trials (or, with one trial or ``trial=None``, its windows) shuffled and dealt alternately.

    Each stratum of n units puts ceil(n/2) in one fold and floor(n/2) in the other; which fold gets
    the extra unit alternates across strata so the folds stay balanced.
    """
    subject = np.asarray(subject, dtype=np.int64)
    gesture = np.asarray(gesture, dtype=np.int64)
    trial = None if trial is None else np.asarray(trial, dtype=np.int64)
    rng = np.random.default_rng(seed)
    folds = np.empty(subject.size, dtype=np.int64)
    strata = np.unique(np.stack([subject, gesture], axis=1), axis=0)
    for i, (sid, gid) in enumerate(strata):
        idx = np.flatnonzero((subject == sid) & (gesture == gid))
        units = np.arange(idx.size) if trial is None else np.unique(trial[idx], return_inverse=True)[1]
        if units.max() == 0:  # a single trial: deal its windows
            units = np.arange(idx.size)
        order = rng.permutation(units.max() + 1)  # shuffled position of every unit
        folds[idx] = (order[units] + i) % 2
    return folds


def _identification_scores(subject, gesture, pred) -> pd.DataFrame:
    """Per true subject: recall (acc), gesture-balanced recall, non-rest recall, one-vs-rest F1."""
    rows = []
    for sid in np.unique(subject):
        mine = subject == sid
        hit = pred[mine] == sid
        per_gesture = [np.mean(hit[gesture[mine] == g]) for g in np.unique(gesture[mine])]
        active = gesture[mine] != REST
        tp = hit.sum()
        predicted = np.sum(pred == sid)
        rows.append(
            {
                "subject": int(sid),
                "n_windows": int(mine.sum()),
                "acc": float(hit.mean()),
                "act_acc": float(hit[active].mean()) if active.any() else float("nan"),
                "bal_acc": float(np.mean(per_gesture)),
                "f1": float(2 * tp / (mine.sum() + predicted)),
            }
        )
    return pd.DataFrame(rows, columns=list(PER_SUBJECT_COLUMNS))


def _gesture_task(name, X_train, X_test, lat, seed, params) -> tuple[pd.DataFrame, int]:
    pred = fit_predict(name, X_train, lat["gesture_train"], X_test, seed, **params)
    table = per_subject_metrics(lat["gesture_test"], pred, lat["subject_test"])
    return table, np.unique(lat["gesture_train"]).size


def _subject_task(name, X_test, lat, seed, params, task) -> tuple[pd.DataFrame, int]:
    """Out-of-fold subject ids of every test window; folds = gestures (``subject``) or
    `identification_folds` (``subject_within``)."""
    subject, gesture = lat["subject_test"], lat["gesture_test"]
    if task == "subject":
        folds = gesture
        if np.unique(folds).size < 2:
            raise ValueError(
                "subject identification across gestures needs at least 2 gestures in the held-out subjects' test codes"
            )
    else:
        folds = identification_folds(subject, gesture, seed, lat.get("trial_test"))
    pred = np.empty_like(subject)
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        if np.unique(subject[train]).size < 2:
            raise ValueError(
                f"{task}: identification needs at least 2 held-out subjects with windows outside fold {fold}"
            )
        pred[test] = fit_predict(name, X_test[train], subject[train], X_test[test], seed, **params)
    return _identification_scores(subject, gesture, pred), np.unique(subject).size


def evaluate_latents(
    latents,
    classifiers: Sequence[str],
    params: Mapping[str, Mapping],
    seed: int,
    codes: Sequence[str] = CODES,
    tasks: Sequence[str] = TASKS,
) -> pd.DataFrame:
    """Per-subject scores of every classifier on every code (p, s) for both tasks (gesture, subject).

    `latents` is a dict or .npz path with `LATENT_KEYS`; `params[classifier]` holds that
    classifier's hyper-parameters (config ``disentangle.classifier_params``; more classifiers than
    evaluated may be given). Returns one row per (classifier, code, task, held-out subject) with
    columns `TABLE_COLUMNS`; see the module docstring for the two protocols and the scores.
    """
    lat = load_latents(latents)
    params = dict(params)
    for label, chosen, allowed in (
        ("classifier", classifiers, CLASSIFIERS),
        ("code", codes, CODES),
        ("task", tasks, TASKS),
    ):
        if isinstance(chosen, str) or not chosen:
            raise ValueError(f"{label}s must be a non-empty sequence, got {chosen!r}")
        bad = [c for c in chosen if c not in allowed]
        if bad:
            raise ValueError(f"unknown {label}s {bad}; choose from {allowed}")
    stray = [k for k in params if k not in CLASSIFIERS]
    if stray:
        raise ValueError(f"params given for unknown classifiers {stray}; choose from {CLASSIFIERS}")
    if any(t != "gesture" for t in tasks) and np.unique(lat["subject_test"]).size < 2:
        raise ValueError("subject identification needs at least 2 held-out subjects")
    frames = []
    for name in classifiers:
        for code in codes:
            for task in tasks:
                if task == "gesture":
                    table, n_classes = _gesture_task(
                        name, lat[f"{code}_train"], lat[f"{code}_test"], lat, seed, params.get(name, {})
                    )
                else:
                    table, n_classes = _subject_task(name, lat[f"{code}_test"], lat, seed, params.get(name, {}), task)
                table.insert(0, "seed", int(seed))
                table.insert(0, "task", task)
                table.insert(0, "code", code)
                table.insert(0, "classifier", name)
                table["n_classes"] = n_classes
                table["chance"] = 1.0 / n_classes
                frames.append(table)
    return pd.concat(frames, ignore_index=True)[list(TABLE_COLUMNS)]


def _check_table(table: pd.DataFrame) -> None:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"expected the DataFrame from evaluate_latents, got {type(table).__name__}")
    require_columns(table, TABLE_COLUMNS, "latent table")


def summarise_latents(table: pd.DataFrame) -> pd.DataFrame:
    """Across-subject summary per (classifier, code, task, seed), via `emgcore.report.metrics.summarise`.

    Columns: classifier, code, task, seed, n_subjects, n_windows, {metric}_{mean,std,min,median,
    worst10}, chance. Groups keep the table's order.
    """
    _check_table(table)
    keys = ["classifier", "code", "task", "seed"]
    rows = []
    for values, group in table.groupby(keys, sort=False):
        row = summarise(group[list(PER_SUBJECT_COLUMNS)])
        for i, key in enumerate(keys):
            row.insert(i, key, values[i])
        row["chance"] = float(group["chance"].mean())
        rows.append(row)
    return pd.concat(rows, ignore_index=True)


RUN_KEYS = ("dataset", "measure", "held_out")


def with_run_keys(table: pd.DataFrame, dataset: str, measure: str, held_out: str) -> pd.DataFrame:
    """`table` with the run's identity (dataset, measure, held-out tag) as its first columns."""
    out = table.copy()
    for i, (key, value) in enumerate(zip(RUN_KEYS, (dataset, measure, held_out))):
        out.insert(i, key, value)
    return out


def collect_latent_summaries(paths) -> pd.DataFrame:
    """One table from the ``latent_summary.csv`` of many runs (each keyed by `with_run_keys`)."""
    frames = []
    for path in map(Path, paths):
        table = pd.read_csv(path)
        missing = [c for c in (*RUN_KEYS, "classifier", "code", "task", "chance") if c not in table.columns]
        if missing:
            raise ValueError(f"{path}: lacks columns {missing}; has {list(table.columns)}")
        frames.append(table)
    if not frames:
        raise ValueError("no latent summaries given")
    return pd.concat(frames, ignore_index=True)


def _label(value, what: str) -> str:
    """A run-name part: strings as given, integers and sequences of integers joined by '+'."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, (int, np.integer)):
        text = str(int(value))
    elif isinstance(value, (Sequence, np.ndarray)):
        text = "+".join(str(int(v)) for v in value)
    else:
        raise TypeError(f"{what} must be a string, an integer or a sequence of integers, got {value!r}")
    if not text or any(ch in text for ch in "/\\ ,\n"):
        raise ValueError(f"{what} {text!r} must be non-empty without '/', '\\', ',' or spaces")
    return text


def results_rows(table: pd.DataFrame, dataset: str, measure: str, held_out) -> pd.DataFrame:
    """Rows for results/results.csv from the gesture task: one per (classifier, code, seed).

    Model ``disentangle_<classifier>``, loss ``disentangle``, norm ``nonorm``; train_variant and
    eval_variant stay empty (no windowing variant applies); the input measure the model was
    trained on and the latent code classified (``p`` or ``s``) have columns of their own,
    `measure` and `code`. The run name ``{model}-disentangle-{measure}-{dataset}-{held_out}-s{seed}``
    keeps rows of different datasets and held-out folds distinct (results.csv is keyed by run,
    eval_variant, norm and code). After the metric columns come dataset, measure, code, held_out
    and chance.
    """
    _check_table(table)
    dataset = _label(dataset, "dataset")
    measure = _label(measure, "measure")
    held_out = _label(held_out, "held_out")
    gesture = table[table["task"] == "gesture"]
    if gesture.empty:
        raise ValueError("latent table has no gesture-task rows to report")
    rows = []
    for (classifier, code, seed), group in gesture.groupby(["classifier", "code", "seed"], sort=False):
        model = f"disentangle_{classifier}"
        row = summarise(group[list(PER_SUBJECT_COLUMNS)])
        keys = {
            "run": f"{model}-disentangle-{measure}-{dataset}-{held_out}-s{int(seed)}",
            "model": model,
            "loss": "disentangle",
            "feature_group": np.nan,
            "train_variant": np.nan,
            "seed": int(seed),
            "eval_variant": np.nan,
            "norm": "nonorm",
            "tau": np.nan,
        }
        for i, (key, value) in enumerate(keys.items()):
            row.insert(i, key, value)
        row["dataset"], row["measure"], row["code"], row["held_out"] = dataset, measure, code, held_out
        row["chance"] = float(group["chance"].mean())
        rows.append(row)
    out = pd.concat(rows, ignore_index=True)
    metric_columns = [f"{m}_{s}" for m in METRICS for s in ("mean", "std", "min", "median", "worst10")]
    return out[
        KEY_COLUMNS[:-1]
        + ["tau", "n_subjects", "n_windows"]
        + metric_columns
        + ["dataset", "measure", "code", "held_out", "chance"]
    ]
