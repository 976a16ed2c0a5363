"""Review on the real chain: a rerun lists what moved, approvals hold until something changes,
and the reviewer's pages draw in a browser without overflowing the text column or reaching out.

Each scenario reruns a private copy of the session's chain run once per module (about a minute).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import YEAR, ChainRun
from render_fixtures import CHROMIUM, HEADLESS, chromium_visit, page_text

from sscp_lib.chain.pipeline import run_chain
from sscp_lib.cli import main as sscp
from sscp_lib.config import DEFAULT_CONFIG, NARRATIVE_DIR
from sscp_lib.review.history import history_runs

pytestmark = pytest.mark.slow


def _copy(chain_run, root: Path) -> ChainRun:
    shutil.copytree(chain_run.root, root, symlinks=True)
    return ChainRun(root, root / "raw", root / "processed", root / "reports", chain_run.exit_code)


def _rerun(run: ChainRun, **options) -> None:
    code = run_chain(year=YEAR, raw=run.raw, processed=run.processed, reports=run.reports, pdf=False, **options)
    assert code == 0


def _moved(old: dict, new: dict) -> set[str]:
    """Metric names whose value or previous-year value differs: the oracle for the changes page."""
    return {
        name
        for name in set(old) | set(new)
        for key in ("value", "previous")
        if (old.get(name) or {}).get(key) != (new.get(name) or {}).get(key)
    }


def _page_rows(page: str, table_class: str) -> list[str]:
    """The row headers of the tables of one class on a page."""
    found = []
    for table in re.findall(rf'<table class="review-table {table_class}">(.*?)</table>', page, re.S):
        found += [html.unescape(h) for h in re.findall(r'<th scope="row"[^>]*>(.*?)</th>', table)]
    return found


# --- A rerun after one raw file changed -------------------------------------------------------------


@pytest.fixture(scope="module")
def rerun_after_a_file_changed(chain_run, tmp_path_factory):
    run = _copy(chain_run, tmp_path_factory.mktemp("changed") / "copy")
    escalations = run.raw / YEAR / "escalations.csv"
    lines = escalations.read_text(encoding="utf-8").splitlines(keepends=True)
    escalations.write_text("".join(lines[:-1]), encoding="utf-8")  # the last escalation withdrawn
    _rerun(run)
    return run


def test_the_first_run_of_a_year_says_so(chain_run):
    page = (chain_run.report / "changes.html").read_text(encoding="utf-8")
    assert "The first run of 2023-24" in page_text(page)
    assert "The first run of 2023-24" in page_text((chain_run.report / "index.html").read_text(encoding="utf-8"))


def test_the_changes_page_lists_exactly_the_figures_that_moved_and_the_file(rerun_after_a_file_changed):
    run = rerun_after_a_file_changed
    (earlier,) = history_runs(run.report)
    old = json.loads((earlier / "metrics.json").read_text())
    new = json.loads((run.report / "metrics.json").read_text())
    moved = _moved(old, new)
    assert moved and "escalations.total" in moved
    page = (run.report / "changes.html").read_text(encoding="utf-8")
    from sscp_lib.publishing.narrative import public_label

    expected = sorted(
        public_label(new[name]["label"]) + suffix
        for name in moved
        for key, suffix in (("value", ""), ("previous", " (previous year)"))
        if (old.get(name) or {}).get(key) != (new.get(name) or {}).get(key)
    )
    assert sorted(_page_rows(page, "changes-table")) == expected
    assert _page_rows(page, "inputs-table") == [f"{YEAR}/escalations.csv"]
    text = page_text(page)
    assert "10. Advise on any issues the delegated partners cannot agree on" in text
    assert "Issues were escalated" in text  # the statement sentence quoting the figure
    index = page_text((run.report / "index.html").read_text(encoding="utf-8"))
    assert f"{len(moved)} figures changed since the run of" in index


def test_sscp_diff_prints_the_same(rerun_after_a_file_changed, capsys):
    run = rerun_after_a_file_changed
    assert sscp(["diff", "--year", YEAR, "--reports", str(run.reports)]) == 0
    out = capsys.readouterr().out
    page = (run.report / "changes.html").read_text(encoding="utf-8")
    for label in _page_rows(page, "changes-table"):
        assert f"- {label}:" in out
    assert f"{YEAR}/escalations.csv: changed" in out
    assert out.count(": changed (SHA-256") == 1
    summary = re.search(r'<p class="stage-summary-line changes-summary">(.*?)</p>', page, re.S).group(1)
    assert html.unescape(summary) in out


# --- Draft until approved -------------------------------------------------------------------------


def test_the_first_page_of_the_pdf_is_marked_draft_with_the_run_date(chain_run):
    from pypdf import PdfReader

    manifest = json.loads((chain_run.report / "manifest.json").read_text())
    first = PdfReader(chain_run.report / "assurance-statement.pdf").pages[0].extract_text()
    from sscp_lib.review.history import describe_time

    assert "OFFICIAL – DRAFT" in first
    assert "Made from the run of " + describe_time(manifest["started"]).split(" at ")[0] in " ".join(first.split())


@pytest.fixture(scope="module")
def own_narrative_run(chain_run, tmp_path_factory):
    """A copy of the session run whose config and narrative live beside it, so the narrative can change."""
    run = _copy(chain_run, tmp_path_factory.mktemp("approval") / "copy")
    (run.root / "config").mkdir()
    (run.root / "narrative").mkdir()
    shutil.copy2(DEFAULT_CONFIG, run.root / "config" / "partnership.yaml")
    shutil.copy2(NARRATIVE_DIR / f"{YEAR}.md", run.root / "narrative" / f"{YEAR}.md")
    run.config = run.root / "config" / "partnership.yaml"
    _rerun(run, start_from="statement", config=run.config)
    return run


def _statement(run) -> str:
    return (run.report / "assurance-statement.html").read_text(encoding="utf-8")


def test_a_statement_is_a_draft_until_approved_and_again_after_the_narrative_changes(own_narrative_run, capsys):
    run = own_narrative_run
    assert "OFFICIAL – DRAFT" in _statement(run) and "not yet approved by the partners" in page_text(_statement(run))

    assert sscp(["approve", "--year", YEAR, "--reports", str(run.reports), "--by", "Chief Whip"]) == 2
    error = capsys.readouterr().err
    assert "'Chief Whip' is not a signatory's role" in error and "Chief Constable, West Midlands Police" in error
    assert error.count("\n") == 1 and "Traceback" not in error
    approve = ["approve", "--year", YEAR, "--reports", str(run.reports), "--config", str(run.config)]
    assert (
        sscp([*approve, "--by", "Chief Constable", "--by", "Director of Children's Services", "--date", "2024-06-12"])
        == 0
    )
    assert (run.report / "approvals.json").exists()

    _rerun(run, start_from="statement", config=run.config)
    page = _statement(run)
    assert "DRAFT" not in page
    assert "Approved by the Chief Constable, West Midlands Police on 12 June 2024" in page_text(page)
    assert (run.report / "approvals.json").exists()  # kept through the swap

    narrative = run.root / "narrative" / f"{YEAR}.md"
    narrative.write_text(
        narrative.read_text(encoding="utf-8").replace("## Background\n", "## Background\n\nA new first sentence.\n", 1)
    )
    _rerun(run, start_from="statement", config=run.config)
    page = _statement(run)
    assert "OFFICIAL – DRAFT" in page and "draft again because the narrative changed" in page_text(page)
    changes = page_text((run.report / "changes.html").read_text(encoding="utf-8"))
    assert "no longer holds because of these changes" in changes and "The narrative changed." in changes
    assert "The narrative changed (" in changes  # and the settings list names it


# --- In a browser -------------------------------------------------------------------------------

OVERFLOW_PROBE = """<script>
window.addEventListener('load', function () {
  var main = document.querySelector('main') || document.body;
  var right = main.getBoundingClientRect().right + 1;
  var found = [];
  if (document.documentElement.scrollWidth > window.innerWidth + 1) found.push('page ' + document.documentElement.scrollWidth);
  main.querySelectorAll('*').forEach(function (el) {
    var box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > right) found.push(el.tagName + ' ends at ' + Math.round(box.right));
    var overflow = getComputedStyle(el).overflowX;
    if ((overflow === 'auto' || overflow === 'scroll') && el.scrollWidth > el.clientWidth + 1)
      found.push(el.tagName + ' scrolls ' + el.scrollWidth + ' > ' + el.clientWidth);
  });
  var out = document.createElement('pre'); out.id = 'overflow-result';
  out.textContent = JSON.stringify(found.slice(0, 10)); document.body.appendChild(out);
});
</script>"""


def overflow_of(page: Path, work: Path, width: int = 1000) -> list[str]:
    """Elements of the page's text column that stick out of it or scroll sideways, measured by
    Chromium on a copy of the page with a probe script (the page itself has none)."""
    work.mkdir(parents=True, exist_ok=True)
    probe = work / f"probe-{page.name}"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", OVERFLOW_PROBE + "</body>"), encoding="utf-8")
    command = [
        str(CHROMIUM),
        *HEADLESS,
        f"--user-data-dir={work / 'profile'}",
        f"--window-size={width},1200",
        "--dump-dom",
        probe.resolve().as_uri(),
    ]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=90, check=True).stdout
    result = re.search(r'<pre id="overflow-result">(.*?)</pre>', dom, re.S)
    assert result, "the probe did not run"
    return json.loads(html.unescape(result.group(1)))


def _drawn(shot: Path) -> bool:
    from test_browser import _png_pixels

    _, _, raw = _png_pixels(shot)
    return len(set(raw[: len(raw) // 2])) > 50


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed (Debian package 'chromium')")
@pytest.mark.parametrize("page", ["notebooks/02_validate.html", "notebooks/01_clean.html", "changes.html"])
def test_reviewer_pages_draw_fit_the_text_column_and_ask_nothing_of_the_network(
    rerun_after_a_file_changed, page, tmp_path
):
    path = rerun_after_a_file_changed.report / page
    if page == "changes.html":
        assert 'class="review-table changes-table"' in path.read_text(encoding="utf-8")  # a page with changes
    shot, requests = chromium_visit(path, tmp_path / "browser", width=1000, height=1600)
    assert _drawn(shot)
    assert requests == []
    assert overflow_of(path, tmp_path / "probe") == []


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed (Debian package 'chromium')")
def test_the_overflow_probe_catches_a_table_wider_than_the_column(tmp_path):
    wide = "".join(f"<td>{'x' * 40}</td>" for _ in range(8))
    page = tmp_path / "wide.html"
    page.write_text(
        f'<!DOCTYPE html><html><body><main style="max-width:600px"><table><tr>{wide}</tr></table></main></body></html>'
    )
    assert overflow_of(page, tmp_path / "probe") != []


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed (Debian package 'chromium')")
def test_the_whole_reviewer_pack_asks_nothing_of_the_network(rerun_after_a_file_changed, tmp_path):
    for number, page in enumerate(sorted(rerun_after_a_file_changed.report.rglob("*.html"))):
        _, requests = chromium_visit(page, tmp_path / f"browser-{number}", width=800, height=600)
        assert requests == [], page.name


# --- Last, as it reruns the changed copy: nothing changed ----------------------------------------


def test_rerunning_with_nothing_changed_says_no_figures_changed(rerun_after_a_file_changed, capsys):
    run = rerun_after_a_file_changed
    _rerun(run)
    assert len(history_runs(run.report)) == 2
    assert "No figures changed" in page_text((run.report / "changes.html").read_text(encoding="utf-8"))
    assert "No figures changed" in page_text((run.report / "index.html").read_text(encoding="utf-8"))
    capsys.readouterr()
    assert sscp(["diff", "--year", YEAR, "--reports", str(run.reports)]) == 0
    assert "No figures changed." in capsys.readouterr().out
    # Any two runs: the oldest kept against the newest.
    oldest = history_runs(run.report)[0]
    assert sscp(["diff", "--year", YEAR, "--reports", str(run.reports), "--against", str(oldest)]) == 0
    assert "escalations.csv: changed" in capsys.readouterr().out
