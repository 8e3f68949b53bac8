"""`snakemake --report` over a small finished DAG: one self-contained HTML naming every category, which
headless Chromium renders (its JavaScript app lists the categories and shows the embedded figures)."""

import base64
import html as htmllib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.system_packages import IN_CI, IS_ROOT, AptFailed, apt_install
from tests.helpers.workflow import REPO, snakemake

#: categories flagged in the rules before this test was written: they must always be there
ALWAYS = {"Training curves", "Per-subject accuracy", "PCA of embeddings", "Disentangling"}
#: outputs of the trimmed DAG that are flagged with report() in the rules
FIGURES = [
    "results/figures/cross/mhcnn-base-raw-s0_training.png",
    "results/figures/cross/mhcnn-base-raw-s0_per_subject.png",
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


@pytest.fixture(scope="module")
def report(trimmed_dag):
    """results/report.html of the trimmed DAG (tests/conftest.py), built once for this module."""
    rep = snakemake(trimmed_dag, "--report", "results/report.html", timeout=300)
    assert rep.returncode == 0, rep.stdout[-3000:] + rep.stderr[-3000:]
    return trimmed_dag / "results/report.html"


@pytest.mark.slow
def test_report_embeds_every_flagged_output(report):
    """The report embeds every output flagged with report(), under every flagged category, with a caption."""
    work = report.parents[1]
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


# ---------------------------------------------------------------- rendered in headless Chromium
#: the report app keeps its view (category, shown result) in React state only: its links are href="#" with
#: click handlers, and it reads neither location.hash nor a query string, so no URL opens a category. The
#: figure test therefore clicks, from a script added to a copy of the report, as a user would.
CLICK_TO_FIGURE = """<script>
setTimeout(function () {  // the menu entry of the category, then the eye button in the row of the figure
  Array.from(document.querySelectorAll("nav a")).find(a => a.textContent.trim() === %(category)s).click();
  setTimeout(function () {
    Array.from(document.querySelectorAll("nav tr")).find(r => r.textContent.trim() === %(path)s)
      .querySelector("a[type=button]").click();
  }, 500);
}, 500);
</script>"""
SHOWN_FIGURE = ("Training curves", "results/figures/cross/mhcnn-base-raw-s0_training.png")


def find_chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def chromium():
    """Path of a Chromium: on PATH, or installed with apt-get under CI as root; skipped elsewhere."""
    if find_chromium():
        return find_chromium()
    if not (IN_CI and IS_ROOT):
        pytest.skip(
            "no chromium, chromium-browser or google-chrome on PATH; CI=true as root installs Debian's "
            "chromium with apt-get"
        )
    try:
        apt_install(["chromium"])
    except AptFailed as e:
        pytest.fail(f"could not install chromium: {e}", pytrace=False)
    return find_chromium() or pytest.fail("apt-get installed chromium, yet none is on PATH", pytrace=False)


def headless(chromium, tmp_path, url, *args):
    """Run headless Chromium on `url` with a fresh profile, letting its scripts and CSS transitions run for 5 s
    of virtual time (the compositor in step, else a screenshot catches the side bar mid-transition); its
    stdout (the DOM, with --dump-dom)."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path)
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--run-all-compositor-stages-before-draw",
        "--virtual-time-budget=5000",
        *args,
        url,
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"{' '.join(cmd)} exited {res.returncode}:\n{res.stderr[-3000:]}"
    return res.stdout


def screenshot(chromium, tmp_path, url, name):
    """A 1400x1000 screenshot of `url` as RGB pixels; copied to $EMG_REPORT_SCREENSHOT (with `name` in the
    file name unless it is "report") when that is set, for a person to look at."""
    png = tmp_path / f"{name}.png"
    headless(chromium, tmp_path, url, f"--screenshot={png}", "--window-size=1400,1000")
    if os.environ.get("EMG_REPORT_SCREENSHOT"):
        dest = Path(os.environ["EMG_REPORT_SCREENSHOT"])
        shutil.copyfile(png, dest if name == "report" else dest.with_name(f"{dest.stem}_{name}.png"))
    return np.asarray(Image.open(png).convert("RGB"))


def assert_not_blank(pixels):
    """Many colours and a fair share of non-white pixels: text, icons and figures, not an empty page."""
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    inked = (pixels < 245).any(axis=2).mean()
    assert pixels.shape[:2] == (1000, 1400) and colours > 100 and inked > 0.05, (pixels.shape, colours, inked)


@pytest.mark.slow
def test_report_renders_in_headless_chromium(report, chromium, tmp_path):
    """Chromium draws the report (a screenshot far from blank) and its JavaScript app lists every category."""
    assert_not_blank(screenshot(chromium, tmp_path, report.as_uri(), "report"))
    dom = headless(chromium, tmp_path, report.as_uri(), "--dump-dom")
    raw = report.read_text()
    assert 'id="loading-screen" style="display: none;"' in dom  # the page's scripts ran to the end
    for category in embedded_json(raw, "categories"):
        item = f"<span>{htmllib.escape(category)}</span>"
        assert item in dom and item not in raw, category  # a menu entry made by the app from the JSON


@pytest.mark.slow
def test_report_shows_a_figure_after_clicking_its_category(report, chromium, tmp_path):
    """Clicking a category and a result in the rendered report shows that figure, embedded as a data: URL."""
    category, path = SHOWN_FIGURE
    raw = report.read_text()
    end = raw.rindex("</body>")
    clicked = tmp_path / "report_clicked.html"
    clicked.write_text(
        raw[:end] + CLICK_TO_FIGURE % {"category": json.dumps(category), "path": json.dumps(path)} + raw[end:]
    )
    dom = headless(chromium, tmp_path, clicked.as_uri(), "--dump-dom")
    app = dom[dom.index('<div id="app">') :]
    app = app[: app.index("<script")]  # what the app rendered, not the scripts after it
    rows = re.findall(r"<td[^>]*>(results/[^<]+)</td>", app)
    listed = [p for paths in embedded_json(raw, "categories")[category].values() for p in paths]
    assert rows == sorted(listed), rows  # the category's results, in the side bar
    shown = [base64.b64decode(src.partition(",")[2]) for src in re.findall(r'<img src="(data:image/png[^"]+)"', app)]
    assert shown == [(report.parents[1] / path).read_bytes()]  # exactly that figure, and only it
    assert_not_blank(screenshot(chromium, tmp_path, clicked.as_uri(), "figure"))
