"""The at-a-glance outputs: the heatmap of every run and evaluation, and the printed table."""

import numpy as np
import pandas as pd
import pytest

from emgcore.report import summary
from emgcore.report.summary import CHANCE, format_table, plot_summary_heatmap, summary_grid, summary_table


def results():
    rows = []
    for model, loss, variant, base in (
        ("mhcnn", "base", "raw", 0.6),
        ("mhcnn", "cvar", "raw", 0.5),
        ("lda", "base", "raw", 0.4),
        ("mhcnn", "base", "standard", 0.7),
    ):
        for eval_variant, norm, shift in (("raw", "nonorm", 0.0), ("raw", "norm", -0.05), ("standard", "nonorm", 0.1)):
            rows.append(
                dict(
                    run=f"{model}-{loss}-{variant}-s0",
                    model=model,
                    loss=loss,
                    train_variant=variant,
                    seed=0,
                    eval_variant=eval_variant,
                    norm=norm,
                    n_subjects=18,
                    bal_acc_mean=base + shift,
                    bal_acc_std=0.1,
                    bal_acc_worst10=base - 0.2,
                )
            )
    rows.append(
        dict(
            run="disentangle_knn-disentangle-rms-epn-7+8-s0",
            model="disentangle_knn",
            loss="disentangle",
            train_variant=np.nan,
            seed=0,
            eval_variant=np.nan,
            norm="nonorm",
            n_subjects=2,
            bal_acc_mean=0.9,
            bal_acc_std=0.0,
            bal_acc_worst10=0.9,
            code="p",
        )
    )
    return pd.DataFrame(rows)


def test_grid_has_one_row_per_run_and_one_column_per_evaluation_best_first():
    grid = summary_grid(results())
    assert list(grid.index) == [
        "mhcnn / base on standard",
        "mhcnn / base on raw",
        "mhcnn / cvar on raw",
        "lda / base on raw",
    ]
    assert list(grid.columns) == ["raw / nonorm", "raw / norm", "standard / nonorm"]  # variant order, nonorm first
    assert grid.loc["lda / base on raw", "standard / nonorm"] == pytest.approx(0.5)


def test_heatmap_draws_each_cell_with_its_std(tmp_path, monkeypatch):
    texts = []
    save = summary._save_figure

    def recording_save(fig, out_path):
        texts.extend(t.get_text() for t in fig.axes[0].texts)
        return save(fig, out_path)

    monkeypatch.setattr(summary, "_save_figure", recording_save)
    out = plot_summary_heatmap(results(), tmp_path / "summary.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(texts) == 4 * 3 and "0.70\n±0.10" in texts and "0.80\n±0.10" in texts


def test_table_ranks_runs_on_the_raw_evaluation_and_states_chance():
    table = summary_table(results())
    assert table["run"].tolist() == [
        "mhcnn / base on standard",
        "mhcnn / base on raw",
        "mhcnn / cvar on raw",
        "lda / base on raw",
    ]
    assert table["raw mean"].tolist() == pytest.approx([0.7, 0.6, 0.5, 0.4])
    assert table["raw worst10%"].tolist() == pytest.approx([0.5, 0.4, 0.3, 0.2])
    assert table["standard mean"].tolist() == pytest.approx([0.8, 0.7, 0.6, 0.5])
    assert table["subjects"].tolist() == [18] * 4
    text = format_table(table)
    assert f"chance {CHANCE:.2f}" in text and "mhcnn / cvar on raw" in text and "0.500" in text


def test_cli_prints_the_table_and_names_a_missing_file(tmp_path, capsys):
    results().to_csv(tmp_path / "results.csv", index=False)
    assert summary.main([str(tmp_path / "results.csv")]) == 0
    assert "lda / base on raw" in capsys.readouterr().out
    assert summary.main([str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv" in capsys.readouterr().err
