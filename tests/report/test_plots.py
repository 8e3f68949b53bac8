"""Figures are produced, non-empty, atomic, and bad input fails clearly."""

import numpy as np
import pandas as pd
import pytest

from emgcore.report.plots import plot_per_subject, plot_run_distributions, plot_training_curves
from tests.helpers.plots import record_rows


def per_subject_table(n=12):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "subject": np.arange(n),
            "n_windows": 50,
            "acc": rng.random(n),
            "act_acc": rng.random(n),
            "bal_acc": rng.random(n),
            "f1": rng.random(n),
        }
    )


def test_per_subject_plot_written(tmp_path):
    out = plot_per_subject(per_subject_table(), "mhcnn-ce-standard-s0", tmp_path / "fig" / "run.png")
    assert out.stat().st_size > 1000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["run.png"]  # no temp file left


def test_per_subject_plot_many_subjects_and_pdf(tmp_path):
    table = per_subject_table(120)
    table.loc[3, "act_acc"] = np.nan
    out = plot_per_subject(table, "many", tmp_path / "many.pdf")
    assert out.read_bytes()[:4] == b"%PDF"


def test_training_curves_written(tmp_path):
    log = pd.DataFrame(
        {
            "epoch": [1, 2, 3],
            "train_loss": [1.5, 1.0, 0.8],
            "train_acc": [0.3, 0.5, 0.6],
            "val_loss": [1.4, 1.1, 1.2],
            "val_acc": [0.3, 0.45, 0.44],
            "lr": 1e-4,
        }
    )
    log.to_csv(tmp_path / "train_log.csv", index=False)
    out = plot_training_curves(tmp_path / "train_log.csv", tmp_path / "curves.png")
    assert out.stat().st_size > 1000


def test_run_distributions_written(tmp_path):
    paths = []
    for run in ("mhcnn-base-standard-s0", "mhcnn-base-segmented-s0"):
        path = tmp_path / "cross" / run / "per_subject_standard_none.csv"
        path.parent.mkdir(parents=True)
        per_subject_table(30).to_csv(path, index=False)
        paths.append(path)
    out = plot_run_distributions(paths, tmp_path / "summary.png")
    assert out.stat().st_size > 1000
    with pytest.raises(ValueError, match="at least one"):
        plot_run_distributions([], tmp_path / "empty.png")
    pd.DataFrame({"subject": [1]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=r"lacks columns \['bal_acc'\]"):
        plot_run_distributions([tmp_path / "bad.csv"], tmp_path / "bad.png")


def write_run(root, run, evaluation, values):
    path = root / run / f"per_subject_{evaluation}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"subject": np.arange(len(values)), "bal_acc": values}).to_csv(path, index=False)
    return path


def test_run_distributions_keep_the_csv_order(tmp_path, monkeypatch):
    drawn = record_rows(monkeypatch)
    # worst median first: sorting by median would reverse these
    paths = [
        write_run(tmp_path, "mhcnn-base-raw-s0", "raw_none", [0.2, 0.3, 0.25]),
        write_run(tmp_path, "mhcnn-base-raw-s0", "raw_zscore", [0.5, 0.4, np.nan]),
        write_run(tmp_path, "mhcnn-supcon-raw-s0", "raw_none", [0.9, 0.8, 0.85, 0.7]),
    ]
    plot_run_distributions(paths, tmp_path / "summary.png")
    assert drawn == [
        [
            "mhcnn-base-raw-s0 | raw_none (n=3)",
            "mhcnn-base-raw-s0 | raw_zscore (n=2)",
            "mhcnn-supcon-raw-s0 | raw_none (n=4)",
        ]
    ]
    plot_run_distributions(paths[::-1], tmp_path / "reversed.png")
    assert drawn[1] == drawn[0][::-1]
    plot_run_distributions(str(paths[1]), tmp_path / "single.png")  # one path, not a list
    assert drawn[2] == ["mhcnn-base-raw-s0 | raw_zscore (n=2)"]


def test_run_distributions_refuse_duplicate_labels(tmp_path):
    first = write_run(tmp_path / "a", "mhcnn-base-raw-s0", "raw_none", [0.2, 0.3])
    second = write_run(tmp_path / "b", "mhcnn-base-raw-s0", "raw_none", [0.6, 0.7])
    other = write_run(tmp_path / "a", "mhcnn-base-raw-s0", "raw_zscore", [0.4, 0.5])
    with pytest.raises(ValueError, match="both get the label") as err:
        plot_run_distributions([first, other, second], tmp_path / "dup.png")
    assert str(first) in str(err.value) and str(second) in str(err.value)
    with pytest.raises(ValueError, match="both get the label"):
        plot_run_distributions([first, first], tmp_path / "dup.png")
    with pytest.raises(FileNotFoundError, match="no per-subject table"):
        plot_run_distributions([first, tmp_path / "absent" / "per_subject_raw_none.csv"], tmp_path / "x.png")
    assert not list(tmp_path.glob("*.png"))


def test_bad_input_raises(tmp_path):
    with pytest.raises(ValueError, match=r"lacks columns \['act_acc'\]"):
        plot_per_subject(per_subject_table().drop(columns="act_acc"), "t", tmp_path / "x.png")
    with pytest.raises(ValueError, match="extension"):
        plot_per_subject(per_subject_table(), "t", tmp_path / "noext")
    pd.DataFrame({"epoch": [1], "train_loss": [1.0]}).to_csv(tmp_path / "log.csv", index=False)
    with pytest.raises(ValueError, match="lacks columns"):
        plot_training_curves(tmp_path / "log.csv", tmp_path / "c.png")
    with pytest.raises(FileNotFoundError):
        plot_training_curves(tmp_path / "absent.csv", tmp_path / "c.png")
    assert not list(tmp_path.glob("*.png"))
