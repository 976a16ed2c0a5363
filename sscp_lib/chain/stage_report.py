"""The parts of a stage report written around the notebook's own outputs, for its reviewer:
a three-line summary at the top (what came in, what went out, anything to check, and where),
a banner when the stage failed (linking to the failing cell and saying how to resume), and the
provenance at the end (parameters, time taken, the SHA-256 of every input file it read).

The render step passes the result of `stage_parts` to the page template (render.notebook_to_html).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sscp_lib.files import sha256_file
from sscp_lib.formatting import format_count

FAILING_CELL_ID = "failing-cell"
INDEX_HREF = "../index.html"  # stage reports live in <report>/notebooks/
CHANGES_HREF = "../changes.html"


@dataclass
class SummaryLine:
    label: str  # "In", "Out", "Check"
    text: str
    href: str | None = None
    link_text: str | None = None


@dataclass
class StageParts:
    summary: list[SummaryLine] = field(default_factory=list)
    failure: dict | None = None  # {"message", "resume", "href"}
    provenance: dict | None = None  # {"parameters", "seconds", "started", "inputs": {file: sha256}}

    def as_dict(self) -> dict:
        return asdict(self)


def hashes(files: list[Path], bases: list[Path]) -> dict[str, str]:
    """SHA-256 of each file, named relative to the first of `bases` that holds it."""
    out = {}
    for path in files:
        name = str(path)
        for base in bases:
            if Path(path).is_relative_to(base):
                name = str(Path(path).relative_to(base))
                break
        out[name] = sha256_file(path)
    return out


def _count(metrics: dict, name: str):
    return (metrics.get(name) or {}).get("value")


def _words(value) -> str:
    return format_count(value) if isinstance(value, (int, float)) else str(value if value is not None else "–")


def _markdown_anchor(nb, phrase: str) -> str | None:
    """#cell-<id> of the first Markdown cell mentioning `phrase` (the template gives cells ids)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and phrase.lower() in cell.source.lower() and cell.get("id"):
            return f"#cell-{cell['id']}"
    return None


def clean_summary(metrics: dict, nb, tables: int) -> list[SummaryLine]:
    rejected, duplicates = _count(metrics, "run.rows_rejected"), _count(metrics, "run.duplicates_removed")
    read = _count(metrics, "run.rows_read")
    kept = read - rejected - duplicates if all(isinstance(v, int) for v in (read, rejected, duplicates)) else None
    return [
        SummaryLine("In", f"{_words(_count(metrics, 'run.files_read'))} raw files, {_words(read)} rows."),
        SummaryLine(
            "Out", f"{tables} pseudonymous tables holding {_words(kept)} rows; names and dates of birth dropped."
        ),
        SummaryLine(
            "Check",
            f"{_words(rejected)} rows rejected and {_words(duplicates)} exact duplicates removed:",
            _markdown_anchor(nb, "Rejected rows"),
            "rejected rows by file, column and reason",
        ),
    ]


def validate_summary(metrics: dict, nb, tables: int) -> list[SummaryLine]:
    failed, warned = (
        _count(metrics, "validation.expectations_failed"),
        _count(metrics, "validation.expectations_warned"),
    )
    passed = _count(metrics, "validation.expectations_passed")
    total = sum(v for v in (failed, warned, passed) if isinstance(v, int))
    return [
        SummaryLine("In", f"{tables} clean tables checked against {_words(total)} expectations."),
        SummaryLine(
            "Out",
            f"{tables} validated tables; {_words(_count(metrics, 'validation.rows_quarantined'))} rows quarantined.",
        ),
        SummaryLine(
            "Check",
            f"{_words(failed)} critical expectations failed and {_words(warned)} warnings:",
            _markdown_anchor(nb, "Every expectation not met"),
            "every expectation not met",
        ),
    ]


def analysis_summary(metrics: dict, nb, charts: int) -> list[SummaryLine]:
    suppressed = sum(1 for e in metrics.values() if e.get("value") == "c")
    return [
        SummaryLine("In", "The validated tables: the rows that passed every critical check."),
        SummaryLine("Out", f"{len(metrics)} figures for the statement and {charts} charts."),
        SummaryLine(
            "Check",
            f"{suppressed} figures suppressed as small counts (shown as c); figures that moved since the last run:",
            CHANGES_HREF,
            "changes page",
        ),
    ]


def dashboard_summary(dataset_json: Path, charts: int) -> list[SummaryLine]:
    """The dashboard stage's summary, from the dataset.json it wrote."""
    dataset = json.loads(dataset_json.read_text(encoding="utf-8")) if dataset_json.is_file() else {}
    indicators = dataset.get("indicators") or []
    return [
        SummaryLine("In", "The validated tables, cut at the end of the quarter reported on."),
        SummaryLine(
            "Out",
            f"The partnership dataset for {dataset.get('period', 'the period')}: {len(indicators)} indicators "
            f"(dataset.json and dataset.xlsx) and {charts} charts.",
        ),
        SummaryLine("Check", "The dashboard itself, linked from the index, shows what changed significantly."),
    ]


def statement_summary(metrics: dict, approval_line: str | None) -> list[SummaryLine]:
    return [
        SummaryLine("In", f"{len(metrics)} figures, the partnership configuration and the year's narrative."),
        SummaryLine("Out", "The assurance statement as published (web page and PDF)."),
        SummaryLine(
            "Check", (approval_line or "Approval state unknown.") + " What changed:", CHANGES_HREF, "changes page"
        ),
    ]


def failure_banner(stage: str, year: str, error: str | None) -> dict:
    return {
        "message": f"This stage stopped with an error ({error or 'see the failing cell'}).",
        "href": f"#{FAILING_CELL_ID}",
        "resume": f"sscp run --year {year} --from {stage}",
    }


def provenance(nb, seconds: float | None, inputs: dict[str, str]) -> dict:
    meta = (nb.metadata.get("papermill") or {}) if nb is not None else {}
    duration = meta.get("duration")
    return {
        "parameters": {k: v for k, v in (meta.get("parameters") or {}).items()},
        "seconds": round(float(seconds if seconds is not None else duration or 0), 1),
        "started": meta.get("start_time"),
        "inputs": inputs,
    }


def read_fragment(metrics_dir: Path, stage: str) -> dict:
    path = Path(metrics_dir) / f"{stage}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(Path(folder).glob(pattern)) if Path(folder).is_dir() else []


def _dataset_tables(folder: Path) -> list[Path]:
    """The contract's datasets written to a folder (not the logs beside them)."""
    from sscp_lib.contract import load_contract

    datasets = load_contract().datasets
    return [p for p in _files(folder, "*.parquet") if p.stem in datasets]


def stage_inputs(ctx, raw_inputs: list[Path]) -> list[Path]:
    """The files a stage read: every file in the locations its registry entry `reads` (the raw
    location is `raw_inputs`, earlier years included), the config, and the statement's narrative."""
    from sscp_lib.stages import STATEMENT_STAGE

    files: list[Path] = []
    for name in ctx.stage.reads:
        if name == "raw":
            files += list(raw_inputs)
            continue
        where = ctx.location(name)
        files += sorted(p for p in where.rglob("*") if p.is_file()) if where.is_dir() else [where] * where.is_file()
    files.append(Path(ctx.config.path))
    if ctx.stage.name == STATEMENT_STAGE.name:
        from sscp_lib.review.workflow import narrative_file

        narrative = narrative_file(ctx.config, ctx.year.label)
        files += [narrative] if narrative else []
    return files


def _charts_in(nb) -> int:
    return sum(
        1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    )


def parts_for(
    stage,
    nb_path: Path,
    *,
    outcome: str,
    error: str | None,
    seconds: float | None,
    year,
    paths,
    report_root: Path,
    config_path: Path,
    raw_inputs: list[Path],
    approval_line: str | None = None,
) -> StageParts:
    """Summary, failure banner and provenance for one stage's rendered report (stage: the
    registry's Stage)."""
    import nbformat

    from sscp_lib.config import Period, ReportPaths, load_config
    from sscp_lib.stages import StageContext

    report = ReportPaths(report_root)
    ctx = StageContext(
        stage=stage, year=year, paths=paths, report=report, config=load_config(config_path), period=Period(year)
    )
    nb = nbformat.read(str(nb_path), as_version=4)
    metrics = read_fragment(paths.metrics_dir(year), stage.name)
    if stage.name == "clean":
        summary = clean_summary(metrics, nb, len(_dataset_tables(paths.clean_dir(year))))
    elif stage.name == "validate":
        summary = validate_summary(metrics, nb, len(_dataset_tables(paths.validated_dir(year))))
    elif "dataset" in stage.writes:
        summary = dashboard_summary(report.dataset_json, _charts_in(nb))
    elif "validated" in stage.reads:
        summary = analysis_summary(metrics, nb, _charts_in(nb))
    else:
        from sscp_lib.catalogue import merge_fragments

        summary = statement_summary(merge_fragments(paths.metrics_dir(year)), approval_line)
    inputs = stage_inputs(ctx, raw_inputs)
    bases = [paths.raw, paths.processed, Path(report_root), Path(config_path).parent.parent]
    return StageParts(
        summary=[] if outcome == "failed" else summary,
        failure=failure_banner(stage.name, str(year), error) if outcome == "failed" else None,
        provenance=provenance(nb, seconds, hashes(inputs, bases)),
    )
