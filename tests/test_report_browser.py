"""The quick report, built once: every claim finds the numbers it reads; and its page in a real
browser (headless Chromium, no WebDriver): every image decodes, the console stays free of errors,
every figure appears; a screenshot is saved for a person to look at.

``--dump-dom`` prints the DOM after the page's load event, when the page's own check has written
each image's ``naturalWidth`` and any script or resource error into ``#page-check``. The browser
tests are skipped only where no Chromium is installed (Debian: ``apt-get install chromium``; ``.ci/run`` installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

from modlab.figures import FIGURES
from modlab.report import build_report
from modlab.report.build import FIGURE_DIR

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser") if shutil.which(b)), None)
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium on this machine (Debian: apt-get install chromium); .ci/run installs it"
)
SCREENSHOTS = Path(__file__).resolve().parents[1] / "results" / "browser-test"


def open_page(index: Path, profile: Path, screenshot: Path | None = None) -> tuple[str, str]:
    """(DOM after load, browser log) of ``index`` opened from disk; with ``screenshot``, also
    writes a full-width PNG of the page's top."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    url = index.resolve().as_uri()
    dom = subprocess.run([BROWSER, *flags, "--dump-dom", url], check=False, capture_output=True, text=True, timeout=120)
    if screenshot is not None:
        shot = ["--hide-scrollbars", "--window-size=1280,2400", f"--screenshot={screenshot}"]
        subprocess.run([BROWSER, *flags, *shot, url], capture_output=True, timeout=120, check=True)
    return dom.stdout, dom.stderr


def page_check(dom: str) -> tuple[dict[str, int], str]:
    """The page's own check: image src → naturalWidth, and the errors it caught."""
    match = re.search(r'<p id="page-check"[^>]*data-images="([^"]*)"[^>]*data-errors="([^"]*)"', dom)
    assert match, "the page's check did not run (no data-images on #page-check)"
    widths = {}
    for item in filter(None, unescape(match.group(1)).split(";")):
        src, _, width = item.rpartition("=")
        widths[src] = int(width)
    return widths, unescape(match.group(2))


def console_messages(log: str) -> list[str]:
    """Console lines the browser logged for the page (the page itself logs nothing)."""
    return [line for line in log.splitlines() if ":CONSOLE" in line]


def assert_page_is_clean(index: Path, profile: Path, names, screenshot: Path | None = None) -> str:
    dom, log = open_page(index, profile, screenshot)
    widths, errors = page_check(dom)
    assert errors == ""
    assert console_messages(log) == []
    assert {f"{FIGURE_DIR}/{name}.png" for name in names} == set(widths)
    assert all(width > 0 for width in widths.values()), widths
    for name in names:
        assert f'id="fig-{name}"' in dom
    return dom


@pytest.fixture(scope="module")
def built_small_report(tmp_path_factory):
    """A report of the one figure that needs no training runs (seconds)."""
    out = tmp_path_factory.mktemp("small") / "report"
    build_report(out, "quick", names=["b-fullrank"], progress=False)
    return out


@pytest.fixture
def small_report(built_small_report, tmp_path):
    """A copy of the small report that a test may break."""
    return Path(shutil.copytree(built_small_report, tmp_path / "report"))


@needs_browser
def test_browser_sees_every_image_and_no_error(small_report, tmp_path):
    assert_page_is_clean(small_report / "index.html", tmp_path / "profile", ["b-fullrank"])


@needs_browser
def test_browser_check_catches_a_missing_image(small_report, tmp_path):
    (small_report / FIGURE_DIR / "b-fullrank.png").unlink()
    widths, errors = page_check(open_page(small_report / "index.html", tmp_path / "profile")[0])
    assert widths == {f"{FIGURE_DIR}/b-fullrank.png": 0}
    assert "failed to load" in errors and "b-fullrank.png" in errors


@needs_browser
def test_browser_check_catches_a_script_error(small_report, tmp_path):
    index = small_report / "index.html"
    index.write_text(index.read_text().replace("</body>", "<script>undefinedFunction();</script></body>"))
    dom, log = open_page(index, tmp_path / "profile")
    assert "undefinedFunction" in page_check(dom)[1]
    assert any("undefinedFunction" in line for line in console_messages(log))


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    """The whole quick report, every registered figure (a few minutes)."""
    report = build_report(tmp_path_factory.mktemp("quick") / "report", "quick", progress=False)
    assert report.problems == []
    return report


def test_the_quick_report_finds_every_number_its_claims_read(quick_report):
    """Every claim is judged from numbers its figures wrote (none missing, whatever the verdict);
    the image claims on the offline digits are judged, those on the real data sets are not run."""
    for claim in quick_report.claims:
        result = quick_report.results[claim.id]
        if claim.source not in (None, "digits"):
            assert result.verdict == "not run" and "data not available offline" in result.reason, claim.id
            continue
        assert result.verdict != "not run", (claim.id, result.reason)
        missing = [o.measured.problem for o in result.outcomes if o.measured.problem is not None]
        assert missing == [], (claim.id, missing)


@needs_browser
def test_quick_report_in_a_browser(quick_report, tmp_path):
    """The quick report with every figure of ``modlab figure --list``; the screenshot lands in
    results/browser-test/quick-report.png."""
    listed = subprocess.run(
        [sys.executable, "-m", "modlab.cli", "figure", "--list"], capture_output=True, text=True, check=True
    ).stdout
    names = [line.split()[0] for line in listed.splitlines() if line.strip()]
    assert set(names) == set(FIGURES)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screenshot = SCREENSHOTS / "quick-report.png"
    assert_page_is_clean(quick_report.out_dir / "index.html", tmp_path / "profile", names, screenshot)
    assert screenshot.stat().st_size > 10_000
