"""The feature grid's table, heatmap (one cell per group x model) and per-group distributions."""

import math

import numpy as np
import pandas as pd
import pytest

from emgcore.report import feature_grid
from emgcore.report.feature_grid import grid_per_subject, grid_table, plot_grid_heatmap, plot_group_distributions

GROUPS, MODELS = ["HTD", "LS9", "RMS"], ["lda", "mlp"]


def run_table(group, model, seed, offset):
    """One grid run's per-subject table: subjects 5-9, accuracy offset + subject / 100."""
    subjects = np.arange(5, 10)
    return pd.DataFrame(
        dict(
            run=f"{model}-base-standard-s{seed}-{group}",
            model=model,
            loss="base",
            feature_group=group,
            train_variant="standard",
            seed=seed,
            eval_variant="standard",
            norm="nonorm",
            tau=math.nan,
            subject=subjects,
            bal_acc=offset + subjects / 100,
        )
    )


@pytest.fixture
def tables():
    out = []
    for i, group in enumerate(GROUPS):
        for j, model in enumerate(MODELS):
            for seed in (0, 1):
                out.append(run_table(group, model, seed, 0.1 * i + 0.05 * j + 0.02 * seed))
    return out


def test_table_averages_seeds_per_subject_then_describes_subjects(tables):
    per_subject = grid_per_subject(tables)
    assert len(per_subject) == len(GROUPS) * len(MODELS) * 5 and set(per_subject.n_seeds) == {2}
    table = grid_table(per_subject)
    assert len(table) == len(GROUPS) * len(MODELS)
    cell = table[(table.feature_group == "LS9") & (table.model == "mlp")].iloc[0]
    values = 0.1 + 0.05 + 0.01 + np.arange(5, 10) / 100  # seeds 0 and 1 averaged
    assert cell.bal_acc_mean == pytest.approx(values.mean()) and cell.bal_acc_std == pytest.approx(values.std(ddof=1))
    assert cell.bal_acc_worst10 == pytest.approx(values.min()) and cell.n_subjects == 5 and math.isnan(cell.tau)


def test_rows_of_other_runs_are_refused(tables):
    with pytest.raises(ValueError, match="feature_group"):
        grid_per_subject([tables[0].assign(feature_group=np.nan)])
    with pytest.raises(ValueError, match="no per-subject table"):
        grid_per_subject([])


def test_heatmap_has_one_cell_per_group_and_model(tables, tmp_path, monkeypatch):
    drawn = {}
    monkeypatch.setattr(feature_grid, "_save_figure", lambda fig, path: drawn.setdefault("fig", fig) and path)
    table = grid_table(grid_per_subject(tables))
    plot_grid_heatmap(table, GROUPS + ["MSWT"], MODELS, "t", tmp_path / "h.png")
    ax = drawn["fig"].axes[0]
    image = ax.images[0].get_array()
    assert image.shape == (len(GROUPS) + 1, len(MODELS))  # MSWT: a row without runs, left blank
    assert np.isfinite(image[:-1]).all() and not np.isfinite(image[-1]).any()
    cells = [t.get_text() for t in ax.texts]
    assert len(cells) == len(GROUPS) * len(MODELS)
    lda_htd = table[(table.feature_group == "HTD") & (table.model == "lda")].iloc[0]
    assert f"{lda_htd.bal_acc_mean:.2f}\n±{lda_htd.bal_acc_std:.2f}" in cells
    assert [t.get_text() for t in ax.get_yticklabels()] == GROUPS + ["MSWT"]
    with pytest.raises(ValueError, match="repeats"):
        plot_grid_heatmap(pd.concat([table, table]), GROUPS, MODELS, "t", tmp_path / "x.png")


def test_distributions_sort_groups_by_median_in_each_model_panel(tables, tmp_path, monkeypatch):
    drawn = {}
    monkeypatch.setattr(feature_grid, "_save_figure", lambda fig, path: drawn.setdefault("fig", fig) and path)
    plot_group_distributions(grid_per_subject(tables), MODELS, "t", tmp_path / "d.png")
    axes = [ax for ax in drawn["fig"].axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == MODELS
    for ax in axes:  # RMS has the highest accuracies: on top
        assert [t.get_text().split(" ")[0] for t in ax.get_yticklabels()] == ["RMS", "LS9", "HTD"]
