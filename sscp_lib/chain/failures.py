"""How a chain run that stops says so: one message naming what failed and where to look, that the
previous report is unchanged, and what to do next; the manifest in the staging folder records the
failed run (so `--from STAGE` can resume it)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from sscp_lib.chain.manifest import write_manifest
from sscp_lib.chain.run import RunContext, StageRecord
from sscp_lib.stages import STATEMENT_STAGE


class ChainStopped(Exception):
    """The run stops here; `report_failure` says so."""

    def __init__(self, what: str, details: list[str], next_step: str):
        super().__init__(what)
        self.what = what
        self.details = details  # where to look, one line each
        self.next_step = next_step


def stage_failed(ctx: RunContext, record: StageRecord) -> ChainStopped:
    nb = ctx.staging.notebooks / record.notebook
    return ChainStopped(
        f"stage '{record.name}' failed at {record.error}",
        [f"executed notebook: {nb}", f"rendered notebook: {nb.with_suffix('.html')}"],
        f"after fixing, resume with `sscp run --year {ctx.year} --from {record.name}`",
    )


def figures_disagree(ctx: RunContext, problems: list[str]) -> ChainStopped:
    return ChainStopped(
        "the statement's figures do not agree with each other, so it was not published:",
        [f"- {problem}" for problem in problems] + [f"rendered for checking: {ctx.staging.statement_html}"],
        "after mending the narrative or the catalogue, rerun with "
        f"`sscp run --year {ctx.year} --from {STATEMENT_STAGE.name}`",
    )


def pdf_failed(ctx: RunContext, why: Exception) -> ChainStopped:
    return ChainStopped(str(why), [], f"the statement's HTML is in {ctx.staging.statement_html}")


def report_failure(ctx: RunContext, stopped: ChainStopped) -> int:
    """Record the failed run in the staging folder's manifest and say what happened; the exit code."""
    write_manifest(ctx, datetime.now(UTC), outcome="failed")
    lines = [f"sscp: {stopped.what}", *(f"  {line}" for line in stopped.details)]
    lines.append(f"  the previous report in {Path(ctx.final.root)} is unchanged; {stopped.next_step}")
    print("\n".join(lines), file=sys.stderr, flush=True)
    return 1
