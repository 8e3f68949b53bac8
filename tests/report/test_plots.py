"""Figures are produced, non-empty, atomic, and bad input fails clearly."""

import numpy as np
import pandas as pd
import pytest

from emgcore.report import plots
from emgcore.report.plots import plot_run_evaluations, plot_training_curves


def per_subject_table(n=12, evaluations=("raw/nonorm",)):
    rng = np.random.default_rng(0)
    frames = [
        pd.DataFrame(
            {
                "evaluation": label,
                "subject": np.arange(n),
                "n_windows": 50,
                "acc": rng.random(n),
                "act_acc": rng.random(n),
                "bal_acc": rng.random(n),
                "f1": rng.random(n),
            }
        )
        for label in evaluations
    ]
    return pd.concat(frames, ignore_index=True)


def test_run_evaluations_draw_one_panel_per_evaluation(tmp_path, monkeypatch):
    drawn, save = [], plots._save_figure

    def recording_save(fig, out_path):
        drawn.append([ax.get_title() for ax in fig.axes if ax.get_visible()])
        return save(fig, out_path)

    monkeypatch.setattr(plots, "_save_figure", recording_save)
    labels = ("raw/nonorm", "raw/norm/2000", "standard/nonorm", "standard/norm/2000", "segmented/nonorm")
    out = plot_run_evaluations(per_subject_table(evaluations=labels), "mhcnn-base-s0", tmp_path / "f" / "r.png")
    assert drawn == [list(labels)]  # in the table's order, 5 panels of a 2 x 4 grid (3 hidden)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 1000
    assert sorted(p.name for p in out.parent.iterdir()) == ["r.png"]  # no temp file left


def test_run_evaluations_many_subjects_and_pdf(tmp_path):
    table = per_subject_table(120)
    table.loc[3, "act_acc"] = np.nan
    out = plot_run_evaluations(table, "many", tmp_path / "many.pdf")
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


def test_bad_input_raises(tmp_path):
    with pytest.raises(ValueError, match=r"lacks columns \['act_acc'\]"):
        plot_run_evaluations(per_subject_table().drop(columns="act_acc"), "t", tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"lacks columns \['evaluation'\]"):
        plot_run_evaluations(per_subject_table().drop(columns="evaluation"), "t", tmp_path / "x.png")
    with pytest.raises(ValueError, match="extension"):
        plot_run_evaluations(per_subject_table(), "t", tmp_path / "noext")
    pd.DataFrame({"epoch": [1], "train_loss": [1.0]}).to_csv(tmp_path / "log.csv", index=False)
    with pytest.raises(ValueError, match="lacks columns"):
        plot_training_curves(tmp_path / "log.csv", tmp_path / "c.png")
    with pytest.raises(FileNotFoundError):
        plot_training_curves(tmp_path / "absent.csv", tmp_path / "c.png")
    assert not list(tmp_path.glob("*.png"))
