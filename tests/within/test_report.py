"""The within-user sweep's report: results.csv rows, accuracy against N, within against cross per test user."""

import numpy as np
import pandas as pd
import pytest

from emgcore.io import write_csv_atomic
from emgcore.report.aggregate import KEY_COLUMNS, REQUIRED_METRICS, aggregate_summaries
from emgcore.within import report
from emgcore.within.report import (
    cross_reference,
    plot_accuracy_vs_n,
    plot_within_vs_cross,
    read_within_tables,
    within_results_rows,
)

SPLITS = {0: "train", 1: "train", 2: "val", 3: "test", 4: "test", 5: "test"}


def chunk(subjects):
    rows = []
    for s in subjects:
        for model, ft in (("mhcnn", "ft"), ("mhcnn", "noft"), ("lda", "")):
            for n in (1, 3):
                acc = 0.3 + 0.1 * n + 0.01 * s + (0.05 if ft == "ft" else 0.0)
                rows.append(
                    dict(
                        subject=s,
                        split=SPLITS[s],
                        in_cross_training=SPLITS[s] == "train",
                        model=model,
                        ft=ft,
                        n_train_reps=n,
                        variant="standard",
                        acc=acc,
                        act_acc=acc,
                        bal_acc=acc,
                        f1=acc,
                    )
                )
    return pd.DataFrame(rows)


@pytest.fixture
def table(tmp_path):
    paths = []
    for i, subjects in enumerate(([0, 1, 2], [3, 4, 5])):
        paths.append(
            write_csv_atomic(chunk(subjects), tmp_path / f"chunk{i:03d}.csv") or tmp_path / f"chunk{i:03d}.csv"
        )
    return read_within_tables(paths)


@pytest.fixture
def cross():
    subjects = [3, 4, 5]
    frame = pd.DataFrame(dict(subject=subjects, eval_variant="standard", norm="nonorm", bal_acc=[0.5, 0.6, 0.7]))
    return cross_reference(pd.concat([frame, frame.assign(eval_variant="raw", bal_acc=0.1)]), "standard")


def test_chunks_read_back_with_ft_and_overlaps_refused(table, tmp_path):
    assert set(table.ft) == {"ft", "noft", ""} and len(table) == 6 * 3 * 2
    write_csv_atomic(chunk([5]), tmp_path / "again.csv")
    with pytest.raises(ValueError, match="twice"):
        read_within_tables([tmp_path / "chunk001.csv", tmp_path / "again.csv"])


def test_rows_one_per_model_n_and_split_in_the_results_layout(table, tmp_path):
    rows = within_results_rows(table, seed=0)
    assert len(rows) == 3 * 2 * 3  # models x N x splits
    assert set(KEY_COLUMNS + REQUIRED_METRICS + ["ft", "n_train_reps", "split", "in_cross_training"]) <= set(
        rows.columns
    )
    cell = rows[(rows.model == "mhcnn") & (rows.ft == "ft") & (rows.n_train_reps == 3) & (rows.split == "test")].iloc[0]
    values = 0.3 + 0.3 + 0.01 * np.array([3, 4, 5]) + 0.05
    assert cell.bal_acc_mean == pytest.approx(values.mean()) and cell.n_subjects == 3
    assert cell.run == "within-mhcnn-ft-n3-standard-test-s0" and not cell.in_cross_training
    assert rows[rows.split == "train"].in_cross_training.all()
    # results.csv keeps every within row whatever the cross-user runs' evaluation filter
    write_csv_atomic(rows, tmp_path / "rows.csv")
    merged = aggregate_summaries([tmp_path / "rows.csv"], keep={("mhcnn-base-standard-s0", "standard/nonorm")})
    assert len(merged) == len(rows)


def test_the_curve_has_a_line_per_model_and_the_cross_user_reference(table, cross, tmp_path, monkeypatch):
    drawn = {}
    monkeypatch.setattr(report, "_save_figure", lambda fig, path: drawn.setdefault("fig", fig) and path)
    plot_accuracy_vs_n(table, cross, "t", tmp_path / "c.png")
    ax = drawn["fig"].axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert {"lda", "mhcnn-ft", "mhcnn-noft"} <= set(labels) and "cross-user MHCNN (3 users)" in labels
    reference = ax.get_lines()[labels.index("cross-user MHCNN (3 users)")]
    assert reference.get_ydata()[0] == pytest.approx(0.6)
    ft = ax.get_lines()[labels.index("mhcnn-ft")]
    assert list(ft.get_xdata()) == [1, 3]  # test users only: mean over subjects 3-5
    assert ft.get_ydata()[1] == pytest.approx(0.3 + 0.3 + 0.04 + 0.05)


def test_the_scatter_pairs_each_test_user_at_the_largest_n(table, cross, tmp_path, monkeypatch):
    drawn = {}
    monkeypatch.setattr(report, "_save_figure", lambda fig, path: drawn.setdefault("fig", fig) and path)
    plot_within_vs_cross(table, cross, "t", tmp_path / "s.png")
    axes = [ax for ax in drawn["fig"].axes if ax.collections]
    assert len(axes) == 3
    points = axes[0].collections[0].get_offsets()
    assert len(points) == 3 and "N=3" in axes[0].get_title()
    np.testing.assert_allclose(points[:, 0], [0.5, 0.6, 0.7])
    with pytest.raises(ValueError, match="no standard/nonorm"):
        cross_reference(pd.DataFrame(dict(subject=[1], eval_variant="raw", norm="nonorm", bal_acc=[0.5])), "standard")


def incremental_table():
    rows = []
    for ordering, seed, shift in (("worst", None, 0.0), ("best", None, 0.1), ("random", 0, 0.05)):
        for k in (4, 16):
            for r in (3, 12):
                for s in (40, 41, 42):
                    acc = 0.2 + 0.01 * k + 0.01 * r + shift + 0.001 * s
                    rows.append(dict(ordering=ordering, order_seed=seed, n_users=k, n_reps=r, subject=s, bal_acc=acc))
    return pd.DataFrame(rows)


def test_incremental_cells_and_figures(tmp_path, monkeypatch):
    cells = report.incremental_cells(incremental_table())
    assert len(cells) == 3 * 2 * 2 and set(cells.order) == {"worst", "best", "random0"}
    cell = cells[(cells.order == "best") & (cells.n_users == 16) & (cells.n_reps == 12)].iloc[0]
    assert cell.bal_acc_mean == pytest.approx(0.2 + 0.16 + 0.12 + 0.1 + 0.041) and cell.n_subjects == 3
    drawn = []
    monkeypatch.setattr(report, "_save_figure", lambda fig, path: drawn.append(fig) or path)
    report.plot_incremental_heatmap(cells, "random0", tmp_path / "h.png")
    mean_ax = drawn[0].axes[0]
    assert mean_ax.images[0].get_array().shape == (2, 2)  # users x repetitions
    assert len(mean_ax.texts) == 4 and [t.get_text() for t in mean_ax.get_yticklabels()] == ["4", "16"]
    report.plot_incremental_curve(cells, tmp_path / "c.png")
    lines = {line.get_label(): line for line in drawn[1].axes[0].get_lines()}
    assert {"worst", "best", "random0"} <= set(lines) and list(lines["best"].get_xdata()) == [4, 16]
    with pytest.raises(ValueError, match="ordering 'random1'"):
        report.plot_incremental_heatmap(cells, "random1", tmp_path / "x.png")


def test_within_ranking_reads_the_configured_model_and_n_of_the_training_users(table):
    from emgcore.within.incremental import within_ranking

    ranking = within_ranking(table, "mhcnn-ft", 3)
    assert list(ranking.index) == [0, 1]  # the training users only
    assert ranking.loc[1] == pytest.approx(0.3 + 0.3 + 0.01 + 0.05)
    with pytest.raises(ValueError, match="no train user for cnn_hcf at N=3"):
        within_ranking(table, "cnn_hcf", 3)
