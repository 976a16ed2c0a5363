"""Quarter runs and the dashboard on the sample, through `sscp run` as a user runs it: the Q4
dashboard beside the statement, a quarter's own report folder with a dataset not yet received,
DRAFT until approved, the page checked by axe-core at three widths and its PDF by pdfua."""

from __future__ import annotations

import csv
import json
import re

import pytest
from chromium_cdp import AXE_SOURCE, CHROMIUM, Chromium
from conftest import YEAR
from pdfua import Severity, validate

from sscp_lib.chain.pipeline import run_chain
from sscp_lib.review.workflow import approve

pytestmark = pytest.mark.slow

DASHBOARD_FILES = ("partnership-dashboard.html", "partnership-dashboard.pdf", "dataset.json", "dataset.xlsx")


def _indicator(report, indicator_id: str) -> dict:
    dataset = json.loads((report / "dataset.json").read_text(encoding="utf-8"))
    return next(i for i in dataset["indicators"] if i["id"] == indicator_id)


def test_a_years_run_publishes_the_q4_dashboard_beside_the_statement(chain_run):
    report = chain_run.report
    assert all((report / name).is_file() for name in DASHBOARD_FILES + ("assurance-statement.pdf",))
    assert json.loads((report / "dataset.json").read_text(encoding="utf-8"))["period"] == "2023-24-Q4"
    index = (report / "index.html").read_text(encoding="utf-8")
    assert 'href="partnership-dashboard.html"' in index and 'href="partnership-dashboard.pdf"' in index
    assert 'href="dataset.xlsx"' in index and 'href="assurance-statement.html"' in index
    page = (report / "partnership-dashboard.html").read_text(encoding="utf-8")
    assert "Partnership Dashboard: Q4 2023-24" in page and "DRAFT" in page
    # The planted shift in health referrals (May to December) is special cause at Q4 too: the
    # months since it ended fall back, six in a row.
    points = _indicator(report, "health_referrals")["spc"]["points"]
    assert [p["month"] for p in points if p["special"] and p["direction"] == "higher"][:2] == ["2023-05", "2023-06"]
    assert re.search(r"Health [a-z ]*referrals (rose|fell) beyond their usual variation", page)


def _drop_police_rows_from(raw_year, first_day: str) -> int:
    """Remove the police referrals dated on or after first_day (ISO dates in this file)."""
    path = raw_year / "police_referrals.csv"
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    from sscp_lib.contract import load_contract, normalise_header

    lookup = load_contract().dataset("police_referrals").header_lookup()
    column = next(i for i, heading in enumerate(rows[0]) if lookup.get(normalise_header(heading)) == "referral_date")
    kept = [rows[0]] + [r for r in rows[1:] if r[column] < first_day]
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(kept)
    return len(rows) - len(kept)


@pytest.fixture(scope="module")
def quarter_run(tmp_path_factory, chain_run):
    """The sample with the police's October-December file not yet sent, run for Q3."""
    import shutil

    root = tmp_path_factory.mktemp("quarter")
    shutil.copytree(chain_run.root, root, dirs_exist_ok=True, symlinks=True)
    assert _drop_police_rows_from(root / "raw" / YEAR, "2023-10-01") > 0
    year_manifest = (root / "reports" / YEAR / "manifest.json").read_text(encoding="utf-8")
    code = run_chain(year=YEAR, quarter=3, raw=root / "raw", processed=root / "processed", reports=root / "reports")
    assert code == 0
    return root, year_manifest


def test_a_quarters_run_writes_its_own_folder_and_leaves_the_years_alone(quarter_run, capsys):
    root, year_manifest = quarter_run
    report = root / "reports" / "2023-24-Q3"
    assert all((report / name).is_file() for name in DASHBOARD_FILES + ("index.html", "manifest.json"))
    assert not (report / "assurance-statement.html").exists()
    manifest = json.loads((report / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["period"] == "2023-24-Q3"
    assert [s["name"] for s in manifest["stages"]] == ["clean", "validate", "dashboard"]
    assert (root / "reports" / YEAR / "manifest.json").read_text(encoding="utf-8") == year_manifest
    assert (root / "processed" / "2023-24-Q3" / YEAR / "validated").is_dir()


def test_a_dataset_with_no_rows_for_the_quarter_is_not_yet_received_never_zero(quarter_run):
    root, _ = quarter_run
    report = root / "reports" / "2023-24-Q3"
    police = _indicator(report, "police_referrals")
    assert police["values"]["2023-24-Q3"] is None and police["values"]["2023-24-Q2"] > 0
    assert police["reasons"]["2023-24-Q3"] == "not yet received"
    page = (report / "partnership-dashboard.html").read_text(encoding="utf-8")
    row = re.search(r"<tr>\s*<th scope=\"row\">Police child referrals.*?</tr>", page, re.S)
    assert row and "Not yet received" in row.group(0) and ">0<" not in row.group(0)
    assert re.search(r"not yet received for Q3 2023-24: [^<]*Police child referrals", page)
    # Later quarters of the year are not shown at all: the run stops at the quarter's end.
    dataset = json.loads((report / "dataset.json").read_text(encoding="utf-8"))
    assert dataset["period"] == "2023-24-Q3" and max(dataset["months"]) == "2023-12"
    # The planted eight-month shift in health referrals is what the quarter's dashboard finds.
    assert _indicator(report, "health_referrals")["variation"]["direction"] == "higher"
    assert re.search(r"Health [a-z ]*referrals rose beyond their usual variation \(a run of 7", page)


def test_the_quarters_pdf_passes_pdfua(quarter_run):
    root, _ = quarter_run
    report = validate(str(root / "reports" / "2023-24-Q3" / "partnership-dashboard.pdf"))
    serious = [f"{f.rule_id}: {f.message}" for f in report.findings if f.severity >= Severity.WARNING]
    assert serious == []


def test_the_quarters_dashboard_is_a_draft_until_approved(quarter_run):
    root, _ = quarter_run
    report = root / "reports" / "2023-24-Q3"
    assert "<strong>DRAFT.</strong>" in (report / "partnership-dashboard.html").read_text(encoding="utf-8")
    said = approve(YEAR, ["Director of Children's Services"], on="2024-01-20", reports=root / "reports", quarter=3)
    assert "recorded approval of the 2023-24-Q3 run" in said
    assert run_chain(year=YEAR, quarter=3, raw=root / "raw", processed=root / "processed", reports=root / "reports", pdf=False) == 0  # fmt: skip
    page = (report / "partnership-dashboard.html").read_text(encoding="utf-8")
    assert "DRAFT" not in page and "Approved" in page
    changes = (report / "changes.html").read_text(encoding="utf-8")
    assert "No figures changed" in changes and "2023-24-Q3" in changes


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed")
@pytest.mark.parametrize("width", [320, 800, 1280])
def test_the_dashboard_has_no_wcag_violations_at_any_width(chain_run, tmp_path, width):
    assert AXE_SOURCE.exists(), "axe-core is not installed: run `npm ci`"
    browser = Chromium(tmp_path / "chromium")
    try:
        for page in ("partnership-dashboard.html", "index.html"):
            violations = browser.axe(chain_run.report / page, width=width)
            assert [(v["id"], v["nodes"][:3]) for v in violations] == [], page
    finally:
        browser.close()
