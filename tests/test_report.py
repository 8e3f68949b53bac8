"""`snakemake --report` over a small finished DAG: one self-contained HTML naming every category."""

import base64
import json
import re

import pytest

from tests.test_workflow import REPO, TINY, snakemake, workdir_with

#: TINY trimmed to a few jobs per rule, keeping at least one output of every report category
REPORT = dict(TINY)
REPORT["cross_mhcnn"] = dict(TINY["cross_mhcnn"], losses=["base"], eval_variants=["raw"], norms=["nonorm", "norm"],
                             base_train_variants=[])
REPORT["cross_models"] = dict(TINY["cross_models"], models=["mhcnn", "lda"])
REPORT["running_norm"] = dict(TINY["running_norm"], tau_sweep=[100])
REPORT["disentangle"] = dict(TINY["disentangle"], datasets=["epn"])

#: categories flagged in the rules before this test was written: they must always be there
ALWAYS = {"Training curves", "Per-subject accuracy", "PCA of embeddings", "Disentangling"}
#: outputs of the trimmed DAG that are flagged with report() in the rules
FIGURES = [
    "results/figures/cross/mhcnn-base-raw-s0_training.png",
    "results/figures/cross/mhcnn-base-raw-s0_raw_norm.png",
    "results/figures/pca/mhcnn-base-raw-s0.png",
    "results/figures/disentangle/epn-rms-h3_4_heatmaps.png",
    "results/figures/disentangle/epn-wl-h3_4_correlation.png",
]


def flagged_categories():
    """Every literal category="..." given to report() in the rules."""
    text = "\n".join(p.read_text() for p in sorted((REPO / "rules").glob("*.smk")))
    return {c for c in re.findall(r'category\s*=\s*"([^"]+)"', text) if "{" not in c}


def embedded_json(html, name):
    """The object assigned to `var <name> = ...;` in the report's <script id="<name>"> block."""
    block = re.search(rf'<script id="{name}">\s*var {name} = (.*?);\s*</script>', html, re.DOTALL)
    assert block, f"no {name} block in the report"
    return json.loads(block.group(1))


@pytest.mark.slow
def test_report_embeds_every_flagged_output(tmp_path):
    work = workdir_with(tmp_path, REPORT)
    res = snakemake(work, "--cores", "2")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    rep = snakemake(work, "--report", "results/report.html", timeout=300)
    assert rep.returncode == 0, rep.stdout[-3000:] + rep.stderr[-3000:]

    report = work / "results/report.html"
    html = report.read_text()
    assert report.stat().st_size > 500_000  # self-contained: scripts, styles and every result embedded
    assert "<html" in html and "Snakemake Report" in html

    categories = embedded_json(html, "categories")
    expected = flagged_categories()
    assert ALWAYS <= expected
    assert expected <= set(categories), f"missing categories: {expected - set(categories)}"
    listed = {path for subcats in categories.values() for paths in subcats.values() for path in paths}

    results = embedded_json(html, "results")
    assert set(results) == listed
    for fig in FIGURES:
        assert fig in results, fig
    for path, entry in results.items():
        assert (work / path).is_file(), path
        assert entry["caption"].strip(), f"{path} has no caption"
        if path.endswith(".png"):
            assert entry["mime_type"] == "image/png"
            head, _, data = entry["data_uri"].partition(",")
            assert head.startswith("data:image/png") and head.endswith(";base64"), head
            assert base64.b64decode(data) == (work / path).read_bytes(), path
    # the per-run figures come from the runs of the trimmed DAG only
    runs = {m.group(1) for p in results for m in [re.search(r"figures/cross/(.+-s\d+)_", p)] if m}
    assert runs == {"mhcnn-base-raw-s0", "lda-base-raw-s0"}
