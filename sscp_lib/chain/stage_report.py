"""The parts of a stage report written around the notebook's own outputs, for its reviewer:
a three-line summary at the top (what came in, what went out, anything to check, and where),
a banner when the stage failed (linking to the failing cell and saying how to resume), and the
provenance at the end (parameters, time taken, the SHA-256 of every input file it read).

The summary is the stage module's own (`report_summary`, sscp_lib/stages/summary.py). The render
step passes the result of `parts_for` to the page template (render.notebook_to_html).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sscp_lib.files import sha256_file
from sscp_lib.stages.summary import SummaryLine

if TYPE_CHECKING:
    from sscp_lib.stages.context import StageContext

FAILING_CELL_ID = "failing-cell"
INDEX_HREF = "../index.html"  # stage reports live in <report>/notebooks/


@dataclass
class StageParts:
    summary: list[SummaryLine] = field(default_factory=list)
    failure: dict | None = None  # {"message", "resume", "href"}
    provenance: dict | None = None  # {"parameters", "seconds", "started", "inputs": {file: sha256}}

    def as_dict(self) -> dict:
        return asdict(self)


def hashes(files: list[Path], bases: list[Path], known: Mapping[Path, str] | None = None) -> dict[str, str]:
    """SHA-256 of each file, named relative to the first of `bases` that holds it; a file in
    `known` (the run's inputs, hashed once when the run began) is not read again."""
    known = known or {}
    out = {}
    for path in files:
        name = str(path)
        for base in bases:
            if Path(path).is_relative_to(base):
                name = str(Path(path).relative_to(base))
                break
        out[name] = known[path] if path in known else sha256_file(path)
    return out


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


def parts_for(
    ctx: StageContext,
    nb_path: Path,
    *,
    outcome: str,
    error: str | None,
    seconds: float | None,
    raw_inputs: list[Path],
    known_hashes: Mapping[Path, str] | None = None,
    approval_line: str | None = None,
) -> StageParts:
    """Summary, failure banner and provenance for one stage's rendered report. The summary is the
    stage module's own (`report_summary`); `known_hashes` are the run's inputs, hashed once."""
    import nbformat

    from sscp_lib.stages.summary import ReportView, read_fragment

    nb = nbformat.read(str(nb_path), as_version=4)
    summary: list[SummaryLine] = []
    if outcome != "failed":
        view = ReportView(ctx, nb, read_fragment(ctx.paths.metrics_dir(ctx.year), ctx.stage.name), approval_line)
        summary = importlib.import_module(ctx.stage.module).report_summary(view)
    paths = ctx.paths
    bases = [paths.raw, paths.processed, ctx.report.root, Path(ctx.config.path).parent.parent]
    return StageParts(
        summary=summary,
        failure=failure_banner(ctx.stage.name, str(ctx.year), error) if outcome == "failed" else None,
        provenance=provenance(nb, seconds, hashes(stage_inputs(ctx, raw_inputs), bases, known_hashes)),
    )
