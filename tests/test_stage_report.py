"""Stage reports around the notebook's outputs: summary, failure banner and provenance."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from sscp_lib.chain.stage_report import failure_banner, parts_for
from sscp_lib.config import Paths, ReportingYear, ReportPaths, load_config
from sscp_lib.publishing.render import external_references, notebook_node_to_html
from sscp_lib.stages import StageContext, get_stage, import_stage
from sscp_lib.stages.summary import ReportView

YEAR = ReportingYear.parse("2023-24")


def _notebook(*, failed: bool = False):
    nb = nbformat.v4.new_notebook()
    intro = nbformat.v4.new_markdown_cell("Every expectation not met, across all tables.")
    intro["id"] = "intro-cell"
    code = nbformat.v4.new_code_cell("validate.failures_frame(report)")
    code.execution_count = 3
    if failed:
        code.outputs = [
            nbformat.v4.new_output("error", ename="ValidationStop", evalue="audits: no rows", traceback=["boom"])
        ]
    nb.cells = [intro, code]
    nb.metadata["papermill"] = {
        "parameters": {"year": "2023-24", "config_path": "/x/partnership.yaml"},
        "duration": 4.2,
        "start_time": "2024-06-01T10:00:00",
    }
    return nb


@pytest.fixture()
def stage_files(tmp_path):
    paths = Paths(raw=tmp_path / "raw", processed=tmp_path / "processed", reports=tmp_path / "reports")
    paths.clean_dir(YEAR).mkdir(parents=True)
    (paths.clean_dir(YEAR) / "referrals.parquet").write_bytes(b"clean referrals")
    (paths.clean_dir(YEAR) / "clean_log.parquet").write_bytes(b"log, not a table")
    paths.validated_dir(YEAR).mkdir(parents=True)
    (paths.validated_dir(YEAR) / "referrals.parquet").write_bytes(b"validated")
    paths.metrics_dir(YEAR).mkdir(parents=True)
    metrics = {
        "validation.expectations_passed": {"value": 480},
        "validation.expectations_failed": {"value": 2},
        "validation.expectations_warned": {"value": 6},
        "validation.rows_quarantined": {"value": 1234},
    }
    (paths.metrics_dir(YEAR) / "validate.json").write_text(json.dumps(metrics))
    config = tmp_path / "config" / "partnership.yaml"
    config.parent.mkdir()
    config.write_text("partnership: {name: X}\n")
    return paths, config


def _context(paths, config, stage="validate") -> StageContext:
    report = ReportPaths(paths.reports / ".staging-2023-24")
    return StageContext(stage=get_stage(stage), year=YEAR, paths=paths, report=report, config=load_config(config))


def _parts(paths, config, nb_path, outcome="ok"):
    return parts_for(
        _context(paths, config),
        nb_path,
        outcome=outcome,
        error="cell 2 (execution count 3): ValidationStop: audits: no rows" if outcome == "failed" else None,
        seconds=12.34,
        raw_inputs=[],
    )


def test_a_stage_report_opens_with_its_summary_and_ends_with_its_provenance(stage_files, tmp_path):
    paths, config = stage_files
    nb = _notebook()
    nb_path = tmp_path / "02_validate.ipynb"
    nbformat.write(nb, nb_path)
    parts = _parts(paths, config, nb_path)
    lines = [f"{line.label}: {line.text}" for line in parts.summary]
    assert lines == [
        "In: 1 clean tables checked against 488 expectations.",
        "Out: 1 validated tables; 1,234 rows quarantined.",
        "Check: 2 critical expectations failed and 6 warnings:",
    ]
    assert parts.summary[-1].href == "#cell-intro-cell"
    assert parts.failure is None
    assert parts.provenance["seconds"] == 12.3
    assert parts.provenance["parameters"]["year"] == "2023-24"
    assert set(parts.provenance["inputs"]) == {
        "2023-24/clean/referrals.parquet",
        "2023-24/clean/clean_log.parquet",
        "config/partnership.yaml",
    }
    assert all(len(h) == 64 for h in parts.provenance["inputs"].values())

    page = notebook_node_to_html(
        nb, tmp_path / "02_validate.html", title="Validate", synthetic=False, review=parts.as_dict()
    ).read_text()
    assert external_references(page) == []
    assert page.index('class="stage-summary"') < page.index('<main class="document">')
    assert 'href="../index.html"' in page and 'id="cell-intro-cell"' in page
    assert page.index("Provenance") > page.index("Every expectation not met")
    assert "2023-24/clean/referrals.parquet" in page and parts.provenance["inputs"]["config/partnership.yaml"] in page


def test_a_failed_stage_opens_with_a_banner_linking_to_the_failing_cell_and_the_resume_command(stage_files, tmp_path):
    paths, config = stage_files
    nb = _notebook(failed=True)
    nb_path = tmp_path / "02_validate.ipynb"
    nbformat.write(nb, nb_path)
    parts = _parts(paths, config, nb_path, outcome="failed")
    assert parts.summary == [] and parts.failure == failure_banner(
        "validate", "2023-24", "cell 2 (execution count 3): ValidationStop: audits: no rows"
    )
    page = notebook_node_to_html(
        nb, tmp_path / "02_validate.html", title="Validate", synthetic=False, review=parts.as_dict()
    ).read_text()
    banner = page[page.index('class="banner failure-banner"') : page.index("</div>", page.index("failure-banner"))]
    assert 'href="#failing-cell"' in banner and "sscp run --year 2023-24 --from validate" in banner
    assert "ValidationStop: audits: no rows" in banner
    assert 'id="failing-cell"' in page and page.index("failure-banner") < page.index('id="failing-cell"')


def test_validate_summary_handles_a_stage_that_wrote_no_metrics(stage_files):
    view = ReportView(_context(*stage_files), _notebook(), metrics={})
    lines = import_stage("sscp_lib.stages.validate").report_summary(view)
    assert lines[2].text.startswith("– critical expectations failed")


def test_every_stage_module_provides_its_report_summary_and_libraries():
    """One interface for every stage module; the module itself loads no table library, so the
    chain's process reads summaries without pandas (the libraries come with `import_stage`)."""
    probe = (
        "import importlib, sys\n"
        "from sscp_lib.stages import STAGES\n"
        "for stage in STAGES:\n"
        "    module = importlib.import_module(stage.module)\n"
        "    assert callable(module.run) and callable(module.report_summary) and module.LIBRARIES, stage.name\n"
        "print(sorted(m for m in ('pandas', 'great_expectations', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
