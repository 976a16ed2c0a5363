"""The whole chain on the sample, asserted on its outputs (as papermill's own tests do)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import YEAR

from sscp_lib.catalogue import load_catalogue
from sscp_lib.chain.pipeline import run_chain
from sscp_lib.stages import STAGES

pytestmark = pytest.mark.slow


def test_outputs_exist(chain_run):
    report = chain_run.report
    for name in ("assurance-statement.html", "assurance-statement.pdf", "index.html", "metrics.json", "manifest.json"):
        assert (report / name).stat().st_size > 0, name
    for notebook in [stage.notebook for stage in STAGES]:
        assert (report / "notebooks" / notebook).exists()
        assert (report / "notebooks" / notebook).with_suffix(".html").exists()
    assert not (chain_run.reports / f".staging-{YEAR}").exists()


def test_executed_notebooks_ran_every_cell_without_error(chain_run):
    for notebook in [stage.notebook for stage in STAGES]:
        nb = nbformat.read(chain_run.report / "notebooks" / notebook, as_version=4)
        assert nb.metadata["papermill"]["parameters"]["year"] == YEAR
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.execution_count is not None, f"{notebook}: a cell did not run"
                assert not [o for o in cell.outputs if o.output_type == "error"], notebook


def test_metrics_json_holds_every_catalogue_metric(chain_run):
    metrics = json.loads((chain_run.report / "metrics.json").read_text())
    assert set(load_catalogue()["metrics"]) <= set(metrics)
    assert metrics["run.synthetic"]["value"] is True


def test_manifest_records_the_run(chain_run):
    manifest = json.loads((chain_run.report / "manifest.json").read_text())
    assert manifest["outcome"] == "ok" and manifest["year"] == YEAR
    assert [s["name"] for s in manifest["stages"]] == [stage.name for stage in STAGES]
    assert all(s["outcome"] == "ok" and s["seconds"] > 0 for s in manifest["stages"])
    raw_files = [p for p in chain_run.raw.rglob("*") if p.is_file()]
    assert len(manifest["inputs"]) == len(raw_files)
    assert all(len(h) == 64 for h in manifest["inputs"].values())
    assert manifest["packages"]["pandas"].startswith("3.")
    assert manifest["packages"]["great-expectations"].startswith("1.")
    assert manifest["started"] <= manifest["finished"]


def test_index_links_every_rendered_notebook(chain_run):
    index = (chain_run.report / "index.html").read_text()
    for notebook in [stage.notebook for stage in STAGES]:
        assert f"notebooks/{Path(notebook).with_suffix('.html').name}" in index
    for target in ("assurance-statement.html", "assurance-statement.pdf", "metrics.json", "manifest.json"):
        assert target in index


def test_rendered_notebooks_show_every_table_output(chain_run):
    for notebook in [stage.notebook for stage in STAGES[:-1]]:
        nb = nbformat.read(chain_run.report / "notebooks" / notebook, as_version=4)
        tables = sum(
            o.get("data", {}).get("text/html", "").count("<table")
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.outputs
        )
        html = (chain_run.report / "notebooks" / notebook).with_suffix(".html").read_text()
        assert tables > 0 and html.count("<table") >= tables, notebook


def test_index_links_the_manifest(chain_run):
    assert 'href="manifest.json"' in (chain_run.report / "index.html").read_text()


def test_everything_made_from_the_sample_says_so(chain_run):
    for html in [
        chain_run.report / "assurance-statement.html",
        chain_run.report / "index.html",
        *sorted((chain_run.report / "notebooks").glob("*.html")),
    ]:
        assert "synthetic" in html.read_text().lower(), html.name


def test_processed_layers_written(chain_run):
    year_dir = chain_run.processed / YEAR
    for layer in ("clean", "validated"):
        referrals = pd.read_parquet(year_dir / layer / "referrals.parquet")
        assert len(referrals) > 1000
    assert (year_dir / "validation.json").exists()


def test_earlier_year_runs_too(chain_copy):
    code = run_chain(
        year="2022-23", raw=chain_copy.raw, processed=chain_copy.processed, reports=chain_copy.reports, pdf=False
    )
    assert code == 0
    assert (chain_copy.reports / "2022-23" / "assurance-statement.html").exists()
    metrics = json.loads((chain_copy.reports / "2022-23" / "metrics.json").read_text())
    assert metrics["data.referrals"]["value"] not in (None, "c")


def test_a_failing_stage_stops_the_chain_and_keeps_the_last_report(chain_copy, capsys):
    before = (chain_copy.report / "assurance-statement.html").read_bytes()
    # An audits file with no rows in the year: a critical table-level validation failure.
    audits = chain_copy.raw / YEAR / "audits.csv"
    audits.write_text(audits.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    code = run_chain(
        year=YEAR, raw=chain_copy.raw, processed=chain_copy.processed, reports=chain_copy.reports, pdf=False
    )
    err = capsys.readouterr().err
    assert code != 0
    assert "stage 'validate' failed" in err and "audits" in err
    assert "02_validate.ipynb" in err
    assert "Traceback" not in err
    assert (chain_copy.report / "assurance-statement.html").read_bytes() == before
    manifest = json.loads((chain_copy.reports / f".staging-{YEAR}" / "manifest.json").read_text())
    assert manifest["outcome"] == "failed"


def test_resume_from_a_stage(chain_copy):
    code = run_chain(
        year=YEAR,
        raw=chain_copy.raw,
        processed=chain_copy.processed,
        reports=chain_copy.reports,
        pdf=False,
        start_from="statement",
    )
    assert code == 0
    manifest = json.loads((chain_copy.report / "manifest.json").read_text())
    outcomes = {s["name"]: s["outcome"] for s in manifest["stages"]}
    assert outcomes["clean"] == "reused" and outcomes["statement"] == "ok"


def test_cli_reports_missing_raw_data_in_one_line(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sscp_lib.cli",
            "run",
            "--year",
            YEAR,
            "--raw",
            str(tmp_path / "none"),
            "--processed",
            str(tmp_path / "p"),
            "--reports",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "no raw data for 2023-24" in result.stderr and "Traceback" not in result.stderr


def _sscp_run(run, *more: str) -> list[str]:
    """The arguments of `sscp run` for the year over a chain run's folders."""
    folders = ["--raw", str(run.raw), "--processed", str(run.processed), "--reports", str(run.reports)]
    return ["run", "--year", YEAR, *folders, *more]


def test_the_chains_own_process_runs_without_pandas(chain_copy):
    """Pandas is imported by the kernels and the clean lane, not by `sscp run` itself: half a
    second of CPU the stages' kernels would otherwise share the two cores with."""
    probe = "import sys; sys.modules['pandas'] = None; from sscp_lib.cli import main; sys.exit(main(sys.argv[1:]))"
    said = subprocess.run([sys.executable, "-c", probe, *_sscp_run(chain_copy)], capture_output=True, text=True)
    assert said.returncode == 0, said.stderr[-2000:]
    assert (chain_copy.report / "assurance-statement.pdf").exists()


def test_interrupted_run_leaves_the_previous_report_intact(chain_copy):
    before = (chain_copy.report / "assurance-statement.html").read_bytes()
    cmd = [sys.executable, "-m", "sscp_lib.cli", *_sscp_run(chain_copy, "--no-pdf")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    # Kill the whole process group once the second stage has started.
    for line in proc.stdout:
        if "validate" in line and "running" in line:
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert (chain_copy.report / "assurance-statement.html").read_bytes() == before
    assert (chain_copy.reports / f".staging-{YEAR}").exists()  # the half-built run, set aside
    code = run_chain(
        year=YEAR, raw=chain_copy.raw, processed=chain_copy.processed, reports=chain_copy.reports, pdf=False
    )
    assert code == 0
    assert not (chain_copy.reports / f".staging-{YEAR}").exists()


def test_no_rendered_html_refers_to_the_network(chain_run):
    """Every HTML page of the report works offline: no attribute points at an http(s) resource."""
    from html.parser import HTMLParser

    class Refs(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found = []

        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if (
                    name in {"src", "href", "data", "poster", "srcset", "action"}
                    and value
                    and value.strip().lower().startswith(("http:", "https:", "//"))
                ):
                    self.found.append((tag, name, value))

    pages = sorted(chain_run.report.rglob("*.html"))
    assert len(pages) >= 7
    for page in pages:
        parser = Refs()
        parser.feed(page.read_text(encoding="utf-8"))
        assert parser.found == [], page.name
        assert "cdn." not in page.read_text(encoding="utf-8").lower(), page.name


def test_injected_bad_rows_are_quarantined_and_listed(chain_copy):
    """Rows that clean but break a critical rule are set aside with the check they failed."""
    import csv

    actions = chain_copy.raw / YEAR / "audit_actions.csv"
    with open(actions, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    header, first = rows[0], rows[1]
    orphan = list(first)
    orphan[header.index("Action ID")], orphan[header.index("Audit ID")] = "AA-ORPHAN-1", "AUD-NO-SUCH-AUDIT"
    meetings = chain_copy.raw / YEAR / "meeting_attendance.csv"
    with open(meetings, newline="", encoding="utf-8-sig") as fh:
        meeting_rows = list(csv.reader(fh))
    clash = list(meeting_rows[1])
    clash[meeting_rows[0].index("present")] = "N" if clash[meeting_rows[0].index("present")] == "Y" else "Y"
    with open(actions, "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow(orphan)
    with open(meetings, "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow(clash)

    code = run_chain(
        year=YEAR, raw=chain_copy.raw, processed=chain_copy.processed, reports=chain_copy.reports, pdf=False
    )
    assert code == 0
    quarantine = chain_copy.processed / YEAR / "quarantine"
    bad_actions = pd.read_parquet(quarantine / "audit_actions.parquet")
    assert bad_actions["audit_action_id"].tolist() == ["AA-ORPHAN-1"]
    assert "reference" in bad_actions["failed_checks"].iloc[0]
    bad_meetings = pd.read_parquet(quarantine / "meeting_attendance.parquet")
    assert len(bad_meetings) == 2  # both records of the clashing key are set aside
    assert bad_meetings["failed_checks"].str.contains("unique").all()
    validated = pd.read_parquet(chain_copy.processed / YEAR / "validated" / "audit_actions.parquet")
    assert "AA-ORPHAN-1" not in set(validated["audit_action_id"])
    report = (chain_copy.report / "notebooks" / "02_validate.html").read_text()
    assert "AA-ORPHAN-1" in report
    metrics = json.loads((chain_copy.report / "metrics.json").read_text())
    assert metrics["validation.rows_quarantined"]["value"] == 3


def test_a_pdf_that_cannot_be_made_stops_the_chain_and_keeps_the_last_report(chain_copy, capsys, monkeypatch):
    import sscp_lib.chain.scheduling as scheduling

    class PdfOfAMissingPage(scheduling.PdfProcess):
        def start(self, html_path, pdf_path):
            super().start(Path(html_path).with_name("missing.html"), pdf_path)

    monkeypatch.setattr(scheduling, "PdfProcess", PdfOfAMissingPage)
    before = (chain_copy.report / "assurance-statement.pdf").read_bytes()
    code = run_chain(
        year=YEAR,
        raw=chain_copy.raw,
        processed=chain_copy.processed,
        reports=chain_copy.reports,
        start_from="statement",
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "the statement's PDF was not made" in err and "missing.html" in err
    assert (chain_copy.report / "assurance-statement.pdf").read_bytes() == before
    manifest = json.loads((chain_copy.reports / f".staging-{YEAR}" / "manifest.json").read_text())
    assert manifest["outcome"] == "failed"
