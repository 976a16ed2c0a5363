"""The chain: papermill runs each stage notebook in order, then the statement is rendered.

Reports are built in a staging folder (reports/.staging-<year>) and swapped into
reports/<year> only when every stage has succeeded, so an interrupted or failed run leaves the
previous report as it was. A failed run keeps its staging folder so `--from STAGE` can resume.

The run's context (chain.run), what goes on beside the stages (chain.scheduling), the manifest
(chain.manifest) and the message a failed run ends with (chain.failures) are pieces of their own.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sscp_lib.chain import dashboard_run
from sscp_lib.chain.failures import ChainStopped, figures_disagree, pdf_failed, report_failure, stage_failed
from sscp_lib.chain.kernels import KernelPool, chain_kernel_pool
from sscp_lib.chain.manifest import write_manifest
from sscp_lib.chain.run import RunContext, StageRecord, open_run
from sscp_lib.chain.scheduling import Schedule, side_by_side
from sscp_lib.chain.year_lock import year_lock
from sscp_lib.config import KERNEL_NAME, NOTEBOOK_DIR
from sscp_lib.errors import UserError
from sscp_lib.publishing.pdf import PdfFailed
from sscp_lib.reuse import write_run_inputs
from sscp_lib.stages import STATEMENT_STAGE, get_stage, notebook_parameters, stage_groups
from sscp_lib.stages.runner import discard_derived_data
from sscp_lib.synthetic import is_synthetic

if TYPE_CHECKING:
    from sscp_lib.publishing.pdf import PdfProcess


def run_chain(
    year: str,
    raw: str | Path | None = None,
    processed: str | Path | None = None,
    reports: str | Path | None = None,
    config: str | Path | None = None,
    pdf: bool = True,
    start_from: str | None = None,
    kernels: KernelPool | None = None,
    quarter: int | str | None = None,
    wait: bool = False,
    fresh: bool = False,
) -> int:
    """Run the chain for a reporting year, or (with `quarter`) that quarter's dashboard; returns
    the process exit code. kernels: the run's kernel pool if the caller started it earlier (`sscp
    run` does, before importing this module). wait: if another run holds the year's lock, wait for
    it rather than stop (year_lock.py); a year's quarters share the year's lock. fresh: rebuild
    every clean and validated table, reusing none (sscp_lib.reuse)."""
    logging.getLogger("papermill").setLevel(logging.WARNING)
    if kernels is None:
        kernels = chain_kernel_pool()
    with closing(kernels):  # a failed check shuts down the zygote and any kernel started
        period = dashboard_run.parse_period(year, quarter)
        stages = dashboard_run.run_stages(period)  # the registry's stages for a year's or a quarter's run
        start_index = dashboard_run.resume_index(stages, get_stage(start_from).name if start_from else None, period)
        # The first stage's kernel starts now, on the core the chain's own checks leave free.
        for stage in stage_groups(start_index, stages)[0]:
            kernels.warm(stage.name)
        ctx = open_run(period.year, raw, processed, reports, config, pdf, quarter=period.quarter_number)
        ctx.fresh = fresh
        label = period.year.label
        with year_lock((ctx.paths.reports, ctx.paths.processed), label, command=_command(period), wait=wait):
            ctx.started = datetime.now(UTC)  # after any wait for the lock
            return _run_stages(ctx, kernels, start_index)


def _command(period) -> str:
    """The command a waiting user sees named as the lock's holder."""
    quarter = f" --quarter {period.quarter_number}" if period.quarterly else ""
    return f"sscp run --year {period.year.label}{quarter}"


def _run_stages(ctx: RunContext, kernels: KernelPool, start_index: int) -> int:
    """The chain from `start_index` on, once its arguments are checked: stages, statement, index, swap."""
    _prepare_staging(ctx, start_index)
    # The stages take the raw files' hashes from the run (clean's reuse keys) rather than hash again.
    write_run_inputs(ctx.staging.run_inputs, ctx.paths.raw, ctx.inputs.fingerprint()["inputs"], ctx.fresh)
    previous_run = _carry_review_over(ctx)
    if start_index == 0:
        discard_derived_data(ctx.paths, ctx.year)
    what = f"quarter {ctx.period}" if ctx.period.quarterly else f"year {ctx.year}"
    _say(f"sscp: {ctx.partnership}, {what}, {len(ctx.stages) - start_index} stage(s)")
    chain_started = time.perf_counter()
    for index, record in enumerate(ctx.stages[:start_index]):
        _say(f"[{index + 1}/{len(ctx.stages)}] {record.name:<18} reused from the earlier run")
    records = {record.name: record for record in ctx.stages}
    groups = [[records[stage.name] for stage in group] for group in stage_groups(start_index, ctx.run_stages)]
    with_statement = STATEMENT_STAGE in ctx.run_stages
    try:
        with Schedule(kernels, groups, pdf=ctx.make_pdf, pdfs=2 if with_statement else 1) as schedule:
            for group in schedule.groups():
                _run_group(ctx, group, schedule)
            synthetic = is_synthetic(ctx.paths, ctx.year)
            render_started = time.perf_counter()
            written = _finish_statement(ctx, synthetic, schedule.pdf_process) if with_statement else []
            written += _finish_dashboard(ctx, synthetic, schedule.last_pdf_process)
            schedule.finish()  # the stage reports and the PDF: an error is raised here, before anything is swapped in
    except ChainStopped as stopped:
        return report_failure(ctx, stopped)
    except PdfFailed as exc:
        return report_failure(ctx, pdf_failed(ctx, exc))
    written += _publish(ctx, previous_run, synthetic)
    rendered = "statement and dashboard" if with_statement else "dashboard"
    pdfs = (", PDFs" if with_statement else ", PDF") if ctx.make_pdf else ""
    _say(f"rendered {rendered}{pdfs} and index ({time.perf_counter() - render_started:.1f} s)")
    _swap_into_place(ctx)
    _say_done(ctx, written, time.perf_counter() - chain_started, synthetic)
    return 0


def _run_group(ctx: RunContext, group: Sequence[StageRecord], schedule: Schedule) -> None:
    """One group of stages, side by side; each stage's report rendered behind it. ChainStopped,
    once the failed stage's report is rendered, if one failed."""
    for record in group:
        _say(f"[{_number(ctx, record)}/{len(ctx.stages)}] {record.name:<18} running ...")
    side_by_side(lambda record: _execute_stage(ctx, record, schedule.kernels), group)
    synthetic = is_synthetic(ctx.paths, ctx.year)
    failed = next((record for record in group if record.outcome == "failed"), None)
    if failed is not None:
        schedule.rendered()
        _render_stage_html(ctx, failed, synthetic)
        raise stage_failed(ctx, failed)
    for record in group:
        schedule.render(_render_stage_html, ctx, record, synthetic)
        _say(f"[{_number(ctx, record)}/{len(ctx.stages)}] {record.name:<18} ok ({record.seconds:.1f} s)")


def _carry_review_over(ctx: RunContext):
    """Run history and approvals carried into staging, and the statement's status (draft or
    approved); the last earlier run kept, for the changes page."""
    from sscp_lib.review import workflow as review

    previous_run, ctx.statement_status = review.before_statement(
        ctx.final.root, ctx.staging.root, ctx.config, ctx.inputs.fingerprint(), ctx.started.isoformat()
    )
    return previous_run


def _publish(ctx: RunContext, previous_run, synthetic: bool) -> list[Path]:
    """The manifest, the changes page and the index (last: it links the manifest) in the staging
    folder; the files written."""
    from sscp_lib.review import workflow as review

    write_manifest(ctx, datetime.now(UTC), outcome="ok")
    comparison = review.after_manifest(  # the changes page, linked from the index with its one-line count
        ctx.staging.root,
        previous_run,
        ctx.config,
        partnership=ctx.partnership,
        synthetic=synthetic,
        marking=ctx.marking,
        period=ctx.period,
    )
    _say(comparison.summary_line())
    return [ctx.staging.root / review.CHANGES_PAGE, _write_index(ctx, synthetic, review.index_entry(comparison))]


def _execute_stage(ctx: RunContext, record: StageRecord, kernels: KernelPool) -> None:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out_nb = ctx.staging.notebooks / record.notebook
    out_nb.parent.mkdir(parents=True, exist_ok=True)
    parameters = notebook_parameters(ctx.year, ctx.paths, ctx.staging, ctx.config_path, ctx.period.quarter_number)
    started = time.perf_counter()  # includes any wait for the warm kernel
    kernel = kernels.take(record.name)
    try:
        papermill.execute_notebook(
            str(record.stage.notebook_path),
            str(out_nb),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            log_output=False,
            # Saving the notebook after every cell rewrites it (charts included) dozens of times;
            # papermill still writes it when the stage ends or fails.
            request_save_on_cell_execute=False,
            cwd=str(NOTEBOOK_DIR),
            km=kernel,
        )
    except PapermillExecutionError as exc:
        record.outcome = "failed"
        record.error = f"cell {exc.cell_index} (execution count {exc.exec_count}): {exc.ename}: {exc.evalue}"
    finally:
        kernels.release(kernel)  # papermill leaves a kernel it was given running
        record.seconds = round(time.perf_counter() - started, 2)
    if record.outcome != "failed":
        record.outcome = "ok"


def _render_stage_html(ctx: RunContext, record: StageRecord, synthetic: bool) -> None:
    from sscp_lib.chain.stage_report import parts_for
    from sscp_lib.publishing.render import notebook_to_html

    nb_path = ctx.staging.notebooks / record.notebook
    if not nb_path.exists():
        return
    html_path = nb_path.with_suffix(".html")
    parts = parts_for(  # summary, failure banner, provenance
        ctx.stage_context(record),
        nb_path,
        outcome=record.outcome,
        error=record.error,
        seconds=record.seconds,
        raw_inputs=ctx.inputs.raw_files,
        known_hashes=ctx.inputs.sha256,
        approval_line=ctx.statement_status.line if ctx.statement_status else None,
    )
    notebook_to_html(
        nb_path,
        html_path,
        title=record.stage.title,
        synthetic=synthetic,
        kind="report",
        marking=ctx.marking,
        review=parts.as_dict(),
    )
    record.html = str(html_path.relative_to(ctx.staging.root))


def _prepare_staging(ctx: RunContext, start_index: int) -> None:
    staging_root = ctx.staging.root
    if start_index == 0:
        if staging_root.exists():
            shutil.rmtree(staging_root)
        staging_root.mkdir(parents=True)
        return
    # Resuming: a failed run's staging folder is newest; else start from the last good report.
    if not staging_root.exists():
        if not ctx.final.root.exists():
            raise UserError(
                f"cannot resume from stage '{ctx.stages[start_index].name}': no earlier run for {ctx.period} "
                f"in {ctx.paths.reports} (run without --from first)"
            )
        shutil.copytree(ctx.final.root, staging_root)
    previous = ctx.staging.manifest_json
    if previous.exists():
        earlier = {s["name"]: s for s in json.loads(previous.read_text(encoding="utf-8")).get("stages", [])}
        for record in ctx.stages[:start_index]:
            old = earlier.get(record.name, {})
            if old.get("outcome") not in {"ok", "reused"}:
                raise UserError(
                    f"cannot resume from stage '{ctx.stages[start_index].name}': stage '{record.name}' "
                    f"did not succeed in the earlier run"
                )
            record.outcome, record.seconds, record.html = "reused", old.get("seconds"), old.get("html")


def _finish_statement(ctx: RunContext, synthetic: bool, pdf_process: PdfProcess | None) -> list[Path]:
    """The statement's HTML, checked; its PDF asked of pdf_process (the caller waits for it)."""
    from sscp_lib.publishing.render import notebook_to_html

    written = [ctx.staging.metrics_json]  # written by the statement stage
    statement_nb = ctx.staging.notebooks / STATEMENT_STAGE.notebook
    title = f"{ctx.partnership}: assurance statement {ctx.year.label}"
    status = ctx.statement_status  # DRAFT until approved
    notebook_to_html(
        statement_nb,
        ctx.staging.statement_html,
        title=title,
        synthetic=synthetic,
        kind="statement",
        marking=status.marking(ctx.marking) if status else ctx.marking,
        review={"status": status.as_dict()} if status else None,
    )
    written.append(ctx.staging.statement_html)
    problems = figures_disagreeing(ctx.staging.metrics_json, ctx.staging.statement_html)
    if problems:
        raise figures_disagree(ctx, problems)
    if pdf_process is not None:
        pdf_process.start(ctx.staging.statement_html, ctx.staging.statement_pdf)
        written.append(ctx.staging.statement_pdf)
    elif ctx.staging.statement_pdf.exists():
        ctx.staging.statement_pdf.unlink()  # a PDF from an older run would not match this statement
    return written


def _finish_dashboard(ctx: RunContext, synthetic: bool, pdf_process: PdfProcess | None) -> list[Path]:
    """The dashboard's page (DRAFT until approved) and its PDF asked of pdf_process; a quarter's
    run also writes its metrics.json, which the history keeps and the changes page compares."""
    written = [dashboard_run.write_quarter_metrics(ctx.staging)] if ctx.period.quarterly else []
    status = ctx.statement_status
    return written + dashboard_run.finish_dashboard(
        ctx.staging,
        ctx.config,
        synthetic=synthetic,
        marking=status.marking(ctx.marking) if status else ctx.marking,
        status=status.as_dict() if status else None,
        pdf_process=pdf_process,
    )


def figures_disagreeing(metrics_json: Path, statement_html: Path) -> list[str]:
    """What consistency.check_run finds in a run's metrics and rendered statement."""
    from sscp_lib.catalogue import load_catalogue
    from sscp_lib.publishing.consistency import check_run

    metrics = json.loads(metrics_json.read_text(encoding="utf-8"))
    return check_run(metrics, statement_html.read_text(encoding="utf-8"), load_catalogue())


def _write_index(ctx: RunContext, synthetic: bool, changes: dict | None = None) -> Path:
    from sscp_lib.publishing.render import write_index

    stages = [
        {
            "name": s.name,
            "title": s.stage.title,
            "html": s.html,
            "ipynb": f"notebooks/{s.notebook}",
            "outcome": s.outcome,
            "seconds": s.seconds,
        }
        for s in ctx.stages
    ]
    return write_index(
        ctx.staging.root,
        year=ctx.period.label,
        partnership=ctx.partnership,
        stages=stages,
        synthetic=synthetic,
        changes=changes,
    )


def _swap_into_place(ctx: RunContext) -> None:
    final_root, staging_root = ctx.final.root, ctx.staging.root
    retired = final_root.with_name(f".previous-{ctx.period.label}")
    if retired.exists():
        shutil.rmtree(retired)
    if final_root.exists():
        final_root.rename(retired)
    staging_root.rename(final_root)
    if retired.exists():
        shutil.rmtree(retired)


def _say_done(ctx: RunContext, written: list[Path], seconds: float, synthetic: bool) -> None:
    _say(f"\ndone in {seconds:.1f} s" + (" (synthetic sample data)" if synthetic else ""))
    for path in written + [ctx.staging.manifest_json]:
        _say(f"  {ctx.final.root / path.relative_to(ctx.staging.root)}")
    _say(f"  {ctx.final.notebooks}/ (executed and rendered stage notebooks)")
    _say(f"  {ctx.paths.processed_year(ctx.year)}/ (processed tables, quarantine, metrics)")


def _number(ctx: RunContext, record: StageRecord) -> int:
    return [r.name for r in ctx.stages].index(record.name) + 1


def _say(message: str) -> None:
    print(message, flush=True)
