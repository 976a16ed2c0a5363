"""What the chain is measured against at 1x: the same notebooks run with the plain tools.

An analyst without the chain would run each stage notebook with the papermill command line, one
after another (a fresh kernel each, nothing overlapped, the notebook saved after every cell),
then convert the executed statement notebook to HTML without its code (`jupyter nbconvert --to
html --no-input`) and print that to PDF with WeasyPrint. That is the baseline. The chain does
more (an HTML report per stage, a reviewer index, the manifest) and should still take a small
share of the baseline's time. It is also compared with the stages' code run in one process
followed by the rendering the chain does (stage reports, statement HTML, tagged PDF), so that
ratio is the cost of kernels and papermill alone.

Also measured here: in a fresh interpreter, Great Expectations' import and then the validate
stage alone, so the stage's own time is read apart from the import.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sscp_lib.config import DEFAULT_CONFIG, KERNEL_NAME, NOTEBOOK_DIR, Paths, ReportingYear, ReportPaths
from sscp_lib.stages import STAGES, STATEMENT_STAGE, notebook_parameters

YEAR = "2023-24"
BIN = Path(sys.executable).parent
# The chain's 1x time against these, judged on medians of one run (issue 15).
TARGETS = {
    "chain_vs_baseline_ratio": 0.35,
    "chain_vs_in_process_ratio": 1.3,
    # The validate stage's share of the chain's seconds at 1x: a third of the 0.42 measured before
    # issue 15 (16.3 s of 39.2 s).
    "validate_share_of_chain": 0.14,
    # The validate stage in one process once Great Expectations is imported.
    "validate_in_process_less_gx_import_seconds": 3.0,
}


def _timed(cmd: list[str], cwd: Path | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed:\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    return time.perf_counter() - started


def run_plain_tools(work: Path) -> dict:
    """The baseline once over work/raw: seconds in all and per step."""
    out = work / "plain-tools"
    shutil.rmtree(out, ignore_errors=True)
    notebooks = out / "notebooks"
    notebooks.mkdir(parents=True)
    paths = Paths(raw=work / "raw", processed=out / "processed", reports=out / "reports")
    year = ReportingYear.parse(YEAR)
    parameters = notebook_parameters(year, paths, ReportPaths(paths.reports_year(year)), DEFAULT_CONFIG)
    steps = {}
    for stage in STAGES:
        cmd = [str(BIN / "papermill"), str(stage.notebook_path), str(notebooks / stage.notebook), "-k", KERNEL_NAME]
        cmd += ["--cwd", str(NOTEBOOK_DIR), "--no-progress-bar"]
        for key, value in parameters.items():
            cmd += ["-p", key, value]
        steps[f"papermill {stage.name}"] = _timed(cmd)
    statement = notebooks / STATEMENT_STAGE.notebook
    html = statement.with_suffix(".html")
    steps["nbconvert statement"] = _timed(
        [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(statement), "--output", html.name]
    )
    steps["weasyprint statement"] = _timed([str(BIN / "weasyprint"), str(html), str(html.with_suffix(".pdf"))])
    return {"seconds": sum(steps.values()), "steps": steps}


_VALIDATE_ALONE = """
import json, sys, time
import pandas, numpy, pyarrow  # imported by every stage: not counted
started = time.perf_counter()
import great_expectations
imported = time.perf_counter()
from sscp_lib.stages.runner import run_in_process
run_in_process(sys.argv[1], raw_dir=sys.argv[2], processed_dir=sys.argv[3], reports_dir=sys.argv[4], stages=("validate",))
print(json.dumps({"gx_import": imported - started, "validate": time.perf_counter() - imported}))
"""


def validate_alone(work: Path) -> dict:
    """In a fresh interpreter: Great Expectations' import, then the validate stage on the clean
    tables the in-process run left (work/in-process-processed), each timed."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _VALIDATE_ALONE,
            YEAR,
            str(work / "raw"),
            str(work / "in-process-processed"),
            str(work / "in-process-reports"),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"validate alone failed at {work}:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def summary(runs: list[dict], validate_runs: list[dict]) -> dict:
    """Medians and every run of the baseline; GX's import and the validate stage alone."""
    return {
        "baseline_seconds_median": round(statistics.median(r["seconds"] for r in runs), 2),
        "baseline_seconds_all": [round(r["seconds"], 2) for r in runs],
        "baseline_step_seconds_median": {
            step: round(statistics.median(r["steps"][step] for r in runs), 2) for step in runs[0]["steps"]
        },
        "gx_import_seconds_median": round(statistics.median(r["gx_import"] for r in validate_runs), 2),
        "validate_alone_seconds_median": round(statistics.median(r["validate"] for r in validate_runs), 2),
    }


def checks(one: dict) -> list[dict]:
    """The 1x ratios against their targets, from one scale's results (with its "baseline" entry)."""
    reference = one.get("baseline")
    if not reference:
        return []
    chain = one["chain_seconds_median"]
    stages = one["stage_seconds_median"]
    in_process = one["in_process_seconds_total"] + one.get("in_process_rendering_seconds", 0.0)
    validate_alone = reference["validate_alone_seconds_median"]
    rows = [
        (
            "chain / plain tools (papermill CLI, nbconvert, WeasyPrint) at 1x",
            chain / reference["baseline_seconds_median"],
            "chain_vs_baseline_ratio",
        ),
        (
            "chain (wall) / in-process stages and the chain's rendering at 1x",
            chain / in_process,
            "chain_vs_in_process_ratio",
        ),
        ("validate stage's share of the chain at 1x", stages["validate"] / chain, "validate_share_of_chain"),
        (
            "validate stage in one process, GX already imported, at 1x (seconds)",
            validate_alone,
            "validate_in_process_less_gx_import_seconds",
        ),
    ]
    # Met or not is decided on the figure as measured, not as rounded for the table.
    return [
        {"target": name, "measured": round(measured, 3), "limit": TARGETS[key], "met": bool(measured <= TARGETS[key])}
        for name, measured, key in rows
    ]


def results_lines(results: dict[str, dict]) -> list[str]:
    """The results file's paragraph on the baseline, for each scale that ran it."""
    lines = []
    for r in results.values():
        if "baseline" not in r:
            continue
        b = r["baseline"]
        steps = ", ".join(f"{step} {seconds}" for step, seconds in b["baseline_step_seconds_median"].items())
        lines += [
            "",
            f"## Plain tools at {r['scale']:g}x",
            "",
            f"The same notebooks run with papermill's command line, then nbconvert and WeasyPrint: "
            f"{b['baseline_seconds_median']} s (runs {', '.join(map(str, b['baseline_seconds_all']))}; "
            f"median seconds by step: {steps}). The chain took {r['chain_seconds_median']} s, the stages' "
            f"code in one process {r['in_process_seconds_total']} s, and rendering what the chain renders "
            f"(stage reports, statement HTML and PDF) {r.get('in_process_rendering_seconds', '–')} s more. In a fresh interpreter, Great Expectations' "
            f"import took {b['gx_import_seconds_median']} s and then the validate stage "
            f"{b['validate_alone_seconds_median']} s.",
        ]
    return lines
