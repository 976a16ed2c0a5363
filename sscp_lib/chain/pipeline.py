"""The chain: papermill runs each stage notebook in order, then the statement is rendered.

Reports are built in a staging folder (reports/.staging-<year>) and swapped into
reports/<year> only when every stage has succeeded, so an interrupted or failed run leaves the
previous report as it was. A failed run keeps its staging folder so `--from STAGE` can resume.
"""

from __future__ import annotations

import json
import logging
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from sscp_lib.chain.kernels import KernelPool, chain_kernel_pool
from sscp_lib.config import (
    DEFAULT_CONFIG,
    KERNEL_NAME,
    NOTEBOOK_DIR,
    PROJECT_ROOT,
    PartnershipConfig,
    Paths,
    ReportingYear,
    ReportPaths,
    load_config,
)
from sscp_lib.errors import UserError
from sscp_lib.files import sha256_file, write_json_atomic
from sscp_lib.publishing.pdf import PdfFailed, PdfProcess
from sscp_lib.reuse import RECORD_FILE, write_run_inputs
from sscp_lib.stages import STAGE_NAMES, STAGES, STATEMENT_STAGE, Stage, get_stage, notebook_parameters, stage_groups
from sscp_lib.stages.runner import discard_derived_data
from sscp_lib.synthetic import is_synthetic

if TYPE_CHECKING:
    from sscp_lib.review.workflow import StatementStatus

# Packages whose versions go into the manifest.
MANIFEST_PACKAGES = (
    "pandas",
    "pyarrow",
    "numpy",
    "great-expectations",
    "papermill",
    "nbconvert",
    "nbformat",
    "ipykernel",
    "matplotlib",
    "weasyprint",
    "openpyxl",
    "jinja2",
    "pyyaml",
)


@dataclass
class StageRecord:
    """One stage's outcome in this run, as the manifest and the index record it."""

    name: str
    notebook: str
    outcome: str = "not run"  # ok | failed | not run | reused
    seconds: float | None = None
    error: str | None = None
    html: str | None = None

    @property
    def stage(self) -> Stage:
        return get_stage(self.name)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class RunContext:
    year: ReportingYear
    paths: Paths
    config_path: Path
    staging: ReportPaths
    final: ReportPaths
    make_pdf: bool
    started: datetime
    stages: list[StageRecord] = field(default_factory=list)
    statement_status: StatementStatus | None = None  # draft or approved
    fresh: bool = False  # rebuild every table, reusing none (sscp run --fresh)


def _say(message: str) -> None:
    print(message, flush=True)


def input_files(paths: Paths, year: ReportingYear) -> list[Path]:
    """Raw files the clean stage reads: the reporting year and every earlier year folder."""
    files: list[Path] = []
    if not paths.raw.exists():
        return files
    for folder in sorted(p for p in paths.raw.iterdir() if p.is_dir()):
        try:
            folder_year = ReportingYear.parse(folder.name)
        except ValueError:
            continue
        if folder_year <= year:
            files.extend(sorted(f for f in folder.rglob("*") if f.is_file()))
    return files


def _git_commit() -> dict:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = (
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            != ""
        )
        return {"commit": commit, "uncommitted_changes": dirty}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "uncommitted_changes": None}


def _package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in MANIFEST_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def run_fingerprint(ctx: RunContext) -> dict:
    """What an approval holds for: input, config and narrative hashes."""
    from sscp_lib.review.workflow import narrative_fields

    return {
        "config_sha256": sha256_file(ctx.config_path),
        # A source mapping kept in its own file is recorded like the config
        "source_mapping": _source_mapping_record(ctx.config_path),
        "inputs": {str(f.relative_to(ctx.paths.raw)): sha256_file(f) for f in input_files(ctx.paths, ctx.year)},
        **narrative_fields(ctx.config_path, ctx.year),
    }


def write_manifest(ctx: RunContext, finished: datetime | None, outcome: str) -> Path:
    config_path = ctx.config_path
    manifest = {
        "year": ctx.year.label,
        "outcome": outcome,
        "parameters": {
            "raw_dir": str(ctx.paths.raw),
            "processed_dir": str(ctx.paths.processed),
            "reports_dir": str(ctx.paths.reports),
            "config_path": str(config_path),
            "pdf": ctx.make_pdf,
        },
        **run_fingerprint(ctx),
        "packages": _package_versions(),
        "git": _git_commit(),
        "started": ctx.started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds") if finished else None,
        "stages": [s.as_dict() for s in ctx.stages],
        "datasets": dataset_keys(ctx.paths, ctx.year),
    }
    write_json_atomic(ctx.staging.manifest_json, manifest)
    return ctx.staging.manifest_json


def dataset_keys(paths: Paths, year: ReportingYear) -> dict:
    """Per dataset, the clean and validation keys of this run's tables and whether each was
    reused, and from which run (as the clean folder's reuse.json and validation.json record them)."""
    records: dict[str, dict] = {}
    for stage, path, read in (
        ("clean", paths.clean_dir(year) / RECORD_FILE, lambda doc: doc.get("datasets", [])),
        ("validate", paths.validation_report(year), lambda doc: doc.get("reuse", [])),
    ):
        try:
            found = read(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
        for record in found:
            records.setdefault(record["dataset"], {})[stage] = {
                k: record.get(k) for k in ("key", "outcome", "reused_from")
            }
    return records


def _source_mapping_record(config_path: Path) -> dict | None:
    from sscp_lib.ingest.sources import mapping_file

    path = mapping_file(load_config(config_path))
    return {"path": str(path), "sha256": sha256_file(path)} if path and path.is_file() else None


def _execute_stage(ctx: RunContext, record: StageRecord, kernels: KernelPool) -> None:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out_nb = ctx.staging.notebooks / record.notebook
    out_nb.parent.mkdir(parents=True, exist_ok=True)
    parameters = notebook_parameters(ctx.year, ctx.paths, ctx.staging, ctx.config_path)
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


def _render_stage_html(ctx: RunContext, record: StageRecord, synthetic: bool, marking: str) -> None:
    from sscp_lib.chain.stage_report import parts_for
    from sscp_lib.publishing.render import notebook_to_html

    nb_path = ctx.staging.notebooks / record.notebook
    if not nb_path.exists():
        return
    html_path = nb_path.with_suffix(".html")
    parts = parts_for(  # summary, failure banner, provenance
        record.stage,
        nb_path,
        outcome=record.outcome,
        error=record.error,
        seconds=record.seconds,
        year=ctx.year,
        paths=ctx.paths,
        report_root=ctx.staging.root,
        config_path=ctx.config_path,
        raw_inputs=input_files(ctx.paths, ctx.year),
        approval_line=ctx.statement_status.line if ctx.statement_status else None,
    )
    notebook_to_html(
        nb_path,
        html_path,
        title=record.stage.title,
        synthetic=synthetic,
        kind="report",
        marking=marking,
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
                f"cannot resume from stage '{STAGE_NAMES[start_index]}': no earlier run for {ctx.year} "
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
                    f"cannot resume from stage '{STAGE_NAMES[start_index]}': stage '{record.name}' "
                    f"did not succeed in the earlier run"
                )
            record.outcome, record.seconds, record.html = "reused", old.get("seconds"), old.get("html")


def _swap_into_place(ctx: RunContext) -> None:
    final_root, staging_root = ctx.final.root, ctx.staging.root
    retired = final_root.with_name(f".previous-{ctx.year.label}")
    if retired.exists():
        shutil.rmtree(retired)
    if final_root.exists():
        final_root.rename(retired)
    staging_root.rename(final_root)
    if retired.exists():
        shutil.rmtree(retired)


def _finish_statement(
    ctx: RunContext, synthetic: bool, partnership: str, marking: str, pdf_process: PdfProcess | None
) -> list[Path]:
    """The statement's HTML, checked; its PDF asked of pdf_process (the caller waits for it)."""
    from sscp_lib.publishing.render import notebook_to_html

    written = [ctx.staging.metrics_json]  # written by the statement stage
    statement_nb = ctx.staging.notebooks / STATEMENT_STAGE.notebook
    title = f"{partnership}: assurance statement {ctx.year.label}"
    status = ctx.statement_status  # DRAFT until approved
    notebook_to_html(
        statement_nb,
        ctx.staging.statement_html,
        title=title,
        synthetic=synthetic,
        kind="statement",
        marking=status.marking(marking) if status else marking,
        review={"status": status.as_dict()} if status else None,
    )
    written.append(ctx.staging.statement_html)
    problems = figures_disagreeing(ctx.staging.metrics_json, ctx.staging.statement_html)
    if problems:
        raise FiguresDisagree(problems)
    if pdf_process is not None:
        pdf_process.start(ctx.staging.statement_html, ctx.staging.statement_pdf)
        written.append(ctx.staging.statement_pdf)
    elif ctx.staging.statement_pdf.exists():
        ctx.staging.statement_pdf.unlink()  # a PDF from an older run would not match this statement
    return written


class FiguresDisagree(Exception):
    """The rendered statement's figures disagree with each other (sscp_lib/publishing/consistency.py)."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def figures_disagreeing(metrics_json: Path, statement_html: Path) -> list[str]:
    """What consistency.check_run finds in a run's metrics and rendered statement."""
    from sscp_lib.catalogue import load_catalogue
    from sscp_lib.publishing.consistency import check_run

    metrics = json.loads(metrics_json.read_text(encoding="utf-8"))
    return check_run(metrics, statement_html.read_text(encoding="utf-8"), load_catalogue())


def _write_index(ctx: RunContext, synthetic: bool, partnership: str, changes: dict | None = None) -> Path:
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
        year=ctx.year.label,
        partnership=partnership,
        stages=stages,
        synthetic=synthetic,
        changes=changes,
    )


def run_chain(
    year: str,
    raw: str | Path | None = None,
    processed: str | Path | None = None,
    reports: str | Path | None = None,
    config: str | Path | None = None,
    pdf: bool = True,
    start_from: str | None = None,
    kernels: KernelPool | None = None,
    fresh: bool = False,
) -> int:
    """Run the chain for a reporting year; returns the process exit code. kernels: the run's
    kernel pool if the caller started it earlier (`sscp run` does, before importing this module)."""
    logging.getLogger("papermill").setLevel(logging.WARNING)
    if kernels is None:
        kernels = chain_kernel_pool()
    with closing(kernels):  # a failed check shuts down the zygote and any kernel started
        try:
            reporting_year = ReportingYear.parse(year)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        start_index = STAGE_NAMES.index(get_stage(start_from).name) if start_from else 0
        # The first stage's kernel starts now, on the core the chain's own checks leave free.
        for stage in stage_groups(start_index)[0]:
            kernels.warm(stage.name)
        ctx, partnership_config = _checked_context(reporting_year, raw, processed, reports, config, pdf)
        ctx.fresh = fresh
        return _run_stages(ctx, kernels, partnership_config, start_index, pdf)


def _checked_context(
    reporting_year: ReportingYear,
    raw: str | Path | None,
    processed: str | Path | None,
    reports: str | Path | None,
    config: str | Path | None,
    pdf: bool,
) -> tuple[RunContext, PartnershipConfig]:
    """The run's context once its folders, configuration and source mapping are checked."""
    paths = Paths.with_overrides(*(Path(folder).resolve() if folder else None for folder in (raw, processed, reports)))
    config_path = Path(config).resolve() if config else DEFAULT_CONFIG
    try:
        partnership_config = load_config(config_path)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    from sscp_lib.contract import load_contract
    from sscp_lib.ingest.sources import resolve_sources

    resolve_sources(load_contract(), partnership_config)  # A bad source mapping stops here, in one message
    if not paths.raw_year(reporting_year).is_dir():
        raise UserError(
            f"no raw data for {reporting_year}: expected a folder {paths.raw_year(reporting_year)} "
            f"(`make report` writes the synthetic sample there)"
        )
    ctx = RunContext(
        year=reporting_year,
        paths=paths,
        config_path=config_path,
        staging=ReportPaths(paths.reports / f".staging-{reporting_year.label}"),
        final=ReportPaths(paths.reports_year(reporting_year)),
        make_pdf=pdf,
        started=datetime.now(UTC),
        stages=[StageRecord(stage.name, stage.notebook) for stage in STAGES],
    )
    return ctx, partnership_config


def _run_stages(
    ctx: RunContext, kernels: KernelPool, partnership_config: PartnershipConfig, start_index: int, pdf: bool
) -> int:
    """The chain from `start_index` on, once its arguments are checked: stages, statement, index, swap."""
    paths, reporting_year = ctx.paths, ctx.year
    _prepare_staging(ctx, start_index)
    # Run history and approvals carried into staging; the statement's status (draft or approved).
    from sscp_lib.review import workflow as review

    fingerprint = run_fingerprint(ctx)
    previous_run, ctx.statement_status = review.before_statement(
        ctx.final.root, ctx.staging.root, partnership_config, fingerprint, ctx.started.isoformat()
    )
    # The stages take the inputs' hashes from here (clean's reuse keys) rather than hash again.
    write_run_inputs(ctx.staging.run_inputs, paths.raw, fingerprint["inputs"], ctx.fresh)
    if start_index == 0:
        discard_derived_data(paths, reporting_year)

    partnership = partnership_config["partnership"]["name"]
    marking = partnership_config.get("protective_marking", "OFFICIAL")
    _say(f"sscp: {partnership}, year {reporting_year}, {len(STAGES) - start_index} stage(s)")
    chain_started = time.perf_counter()
    # Stage notebooks render to HTML on a second thread while the next stage's kernel works.
    # The next group's kernels start and import while the current group runs.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="render") as renderer, ExitStack() as finishing:
        pending: list = []
        pdf_process: PdfProcess | None = None
        for index, record in enumerate(ctx.stages[:start_index]):
            _say(f"[{index + 1}/{len(STAGES)}] {record.name:<18} reused from the earlier run")
        records = {record.name: (index, record) for index, record in enumerate(ctx.stages)}
        groups = [[records[stage.name] for stage in group] for group in stage_groups(start_index)]
        for number, group in enumerate(groups):
            for _, record in groups[number + 1] if number + 1 < len(groups) else []:
                kernels.warm(record.name)
            if pdf and number == len(groups) - 1:
                # The PDF's process starts, and imports WeasyPrint, while the last stage runs.
                pdf_process = finishing.enter_context(closing(PdfProcess()))
            for index, record in group:
                _say(f"[{index + 1}/{len(STAGES)}] {record.name:<18} running ...")
            if len(group) == 1:
                _execute_stage(ctx, group[0][1], kernels)
            else:
                with ThreadPoolExecutor(max_workers=len(group), thread_name_prefix="stage") as together:
                    for job in [together.submit(_execute_stage, ctx, record, kernels) for _, record in group]:
                        job.result()
            synthetic = is_synthetic(ctx.paths, ctx.year)
            failed = next((record for _, record in group if record.outcome == "failed"), None)
            if failed is not None:
                record = failed
                for job in pending:
                    job.result()
                _render_stage_html(ctx, record, synthetic, marking)
                write_manifest(ctx, datetime.now(UTC), outcome="failed")
                nb = ctx.staging.notebooks / record.notebook
                print(
                    f"sscp: stage '{record.name}' failed at {record.error}\n"
                    f"  executed notebook: {nb}\n"
                    f"  rendered notebook: {nb.with_suffix('.html')}\n"
                    f"  the previous report in {ctx.final.root} is unchanged; after fixing, resume with "
                    f"`sscp run --year {reporting_year} --from {record.name}`",
                    file=sys.stderr,
                    flush=True,
                )
                return 1
            for index, record in group:
                pending.append(renderer.submit(_render_stage_html, ctx, record, synthetic, marking))
                _say(f"[{index + 1}/{len(STAGES)}] {record.name:<18} ok ({record.seconds:.1f} s)")

        synthetic = is_synthetic(ctx.paths, ctx.year)
        render_started = time.perf_counter()
        try:
            written = _finish_statement(ctx, synthetic, partnership, marking, pdf_process)
        except FiguresDisagree as exc:
            write_manifest(ctx, datetime.now(UTC), outcome="failed")
            listed = "\n".join(f"  - {problem}" for problem in exc.problems)
            print(
                f"sscp: the statement's figures do not agree with each other, so it was not published:\n{listed}\n"
                f"  rendered for checking: {ctx.staging.statement_html}\n"
                f"  the previous report in {ctx.final.root} is unchanged; after mending the narrative or "
                f"the catalogue, rerun with `sscp run --year {reporting_year} --from {STATEMENT_STAGE.name}`",
                file=sys.stderr,
                flush=True,
            )
            return 1
        for job in pending:
            job.result()  # re-raises a rendering error here, before anything is swapped in
        if pdf_process is not None:
            try:
                pdf_process.result()
            except PdfFailed as exc:
                write_manifest(ctx, datetime.now(UTC), outcome="failed")
                print(
                    f"sscp: {exc}\n  the previous report in {ctx.final.root} is unchanged; the statement's "
                    f"HTML is in {ctx.staging.statement_html}",
                    file=sys.stderr,
                    flush=True,
                )
                return 1
    write_manifest(ctx, datetime.now(UTC), outcome="ok")
    # The changes page, linked from the index with its one-line count.
    comparison = review.after_manifest(
        ctx.staging.root,
        previous_run,
        partnership_config,
        partnership=partnership,
        synthetic=synthetic,
        marking=marking,
    )
    written.append(ctx.staging.root / review.CHANGES_PAGE)
    _say(comparison.summary_line())
    changes = review.index_entry(comparison)
    written.append(_write_index(ctx, synthetic, partnership, changes))  # last: it links the manifest
    _say(f"rendered statement{', PDF' if pdf else ''} and index ({time.perf_counter() - render_started:.1f} s)")
    _swap_into_place(ctx)

    final = ctx.final
    _say(f"\ndone in {time.perf_counter() - chain_started:.1f} s" + (" (synthetic sample data)" if synthetic else ""))
    for path in written + [ctx.staging.manifest_json]:
        _say(f"  {final.root / path.relative_to(ctx.staging.root)}")
    _say(f"  {final.notebooks}/ (executed and rendered stage notebooks)")
    _say(f"  {paths.processed_year(reporting_year)}/ (processed tables, quarantine, metrics)")
    return 0
