"""Per-label distribution plots, their median ordering, and the tau sweep plot."""

import numpy as np
import pandas as pd
import pytest

from emgcore.report.plots import order_by_median, plot_metric_distributions, plot_tau_sweep
from tests.helpers.plots import record_rows


def table(values):
    return pd.DataFrame({"subject": np.arange(len(values)), "bal_acc": values})


def tables():
    rng = np.random.default_rng(0)
    return {
        "ce": table(rng.uniform(0.3, 0.5, 15)),
        "supcon": table(rng.uniform(0.6, 0.8, 15)),
        "triplet": table(rng.uniform(0.45, 0.65, 15)),
    }


def test_order_by_median_best_first_ignoring_nan_and_breaking_ties():
    assert order_by_median(tables(), "bal_acc") == ["supcon", "triplet", "ce"]
    # median 0.5 for both; the higher mean wins; NaN ignored; exact ties keep the given order
    tied = {"a": table([0.1, 0.5, 0.6]), "b": table([0.4, 0.5, 0.9, np.nan]), "c": table([0.1, 0.5, 0.6])}
    assert order_by_median(tied, "bal_acc") == ["b", "a", "c"]


@pytest.mark.parametrize("kind", ["box", "violin"])
def test_metric_distributions_written(tmp_path, kind):
    out = plot_metric_distributions(tables(), tmp_path / f"{kind}.png", title="losses", kind=kind)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    single = plot_metric_distributions({"only": table([0.7])}, tmp_path / f"single_{kind}.pdf", kind=kind)
    assert single.read_bytes()[:4] == b"%PDF"


@pytest.mark.parametrize("kind", ["box", "violin"])
def test_metric_distributions_order(tmp_path, monkeypatch, kind):
    drawn = record_rows(monkeypatch)
    plot_metric_distributions(tables(), tmp_path / "default.png", kind=kind)
    plot_metric_distributions(tables(), tmp_path / "given.png", kind=kind, order=["ce", "triplet", "supcon"])
    plot_metric_distributions(tables(), tmp_path / "tuple.png", kind=kind, order=("triplet", "ce", "supcon"))
    names = [[label.rsplit(" (n=", 1)[0] for label in figure] for figure in drawn]
    assert names == [["supcon", "triplet", "ce"], ["ce", "triplet", "supcon"], ["triplet", "ce", "supcon"]]


def test_metric_distributions_bad_order(tmp_path):
    for order in (
        ["ce", "supcon"],
        ["ce", "supcon", "triplet", "ce"],
        ["ce", "ce", "supcon"],
        ["ce", "supcon", "other"],
        "ce",
    ):
        with pytest.raises(ValueError, match="every label once"):
            plot_metric_distributions(tables(), tmp_path / "x.png", order=order)
    assert list(tmp_path.iterdir()) == []


def test_metric_distributions_bad_input(tmp_path):
    with pytest.raises(ValueError, match="non-empty mapping"):
        plot_metric_distributions({}, tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"'ce' lacks columns \['f1'\]"):
        plot_metric_distributions(tables(), tmp_path / "x.png", metric="f1")
    with pytest.raises(ValueError, match="kind"):
        plot_metric_distributions(tables(), tmp_path / "x.png", kind="bar")
    with pytest.raises(ValueError, match="no finite"):
        order_by_median({"a": table([np.nan, np.nan])}, "bal_acc")
    assert list(tmp_path.iterdir()) == []


def sweep():
    rows = []
    for run, offset in (("mhcnn-ce", 0.0), ("mhcnn-supcon", 0.1)):
        for tau, mean in ((1.0, 0.5), (10.0, 0.6), (100.0, 0.62), (np.inf, 0.55), (np.nan, 0.4)):
            rows.append({"run": run, "tau": tau, "bal_acc_mean": mean + offset, "bal_acc_std": 0.05})
    return pd.DataFrame(rows)


def test_tau_sweep_written_with_inf_and_baseline(tmp_path):
    out = plot_tau_sweep(sweep(), tmp_path / "tau.png")
    assert out.stat().st_size > 5000
    labelled = sweep().rename(columns={"run": "label"}).assign(tau=lambda t: t["tau"].astype(str))
    assert plot_tau_sweep(labelled, tmp_path / "tau_label.png").stat().st_size > 5000  # "inf"/"nan" strings


def test_tau_sweep_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"lacks columns \['bal_acc_std'\]"):
        plot_tau_sweep(sweep().drop(columns="bal_acc_std"), tmp_path / "x.png")
    with pytest.raises(ValueError, match="'run' or 'label'"):
        plot_tau_sweep(sweep().drop(columns="run"), tmp_path / "x.png")
    with pytest.raises(ValueError, match="tau must be > 0"):
        plot_tau_sweep(sweep().assign(tau=0.0), tmp_path / "x.png")
    with pytest.raises(ValueError, match="more than one row for run 'mhcnn-ce'"):
        plot_tau_sweep(pd.concat([sweep(), sweep().iloc[:1]]), tmp_path / "x.png")
    with pytest.raises(ValueError, match="no rows with a tau"):
        plot_tau_sweep(sweep().assign(tau=np.nan), tmp_path / "x.png")
    with pytest.raises(ValueError, match="has no rows"):
        plot_tau_sweep(sweep().iloc[:0], tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []
