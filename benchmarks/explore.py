"""Kernel time of the exploration notebook on the sample (`make bench`, or `python -m benchmarks.explore`).

Target: the notebook's four questions (loading included) answered in under 10 s of kernel time.
Each repeat starts a fresh `sscp` kernel in the notebook's working folder and runs the tracked
notebook's code cells one by one, timing each (wall clock in the kernel) and reading the kernel's
own CPU time at the end. The sample's validated tables are made once under benchmarks/work/explore/
(git-ignored). Writes benchmarks/results/explore-<date>.md and .json; read medians, the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from jupyter_client.manager import start_new_kernel

from sscp_lib.config import KERNEL_NAME, PROJECT_ROOT
from sscp_lib.explore.lab import TEMPLATE

WORK = PROJECT_ROOT / "benchmarks" / "work" / "explore"
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
YEAR = "2023-24"
TARGET_SECONDS = 10.0
# The cells that answer the four questions, and the one that loads the tables they use.
QUESTION_CELLS = (
    "load",
    "q1-sources-last-six-months",
    "q2-police-da-dara-share",
    "q3-outcome-by-source-group",
    "q4-unknown-source-share",
)
THROWAWAY_KEY = "be" * 32  # synthetic data only


def _validated_tables() -> Path:
    processed = WORK / "processed"
    if not (processed / YEAR / "validated" / "referrals.parquet").exists():
        env = {**os.environ, "SSCP_PSEUDONYMISATION_KEY": os.environ.get("SSCP_PSEUDONYMISATION_KEY", THROWAWAY_KEY)}
        sscp = [sys.executable, "-m", "sscp_lib.cli"]
        subprocess.run([*sscp, "sample", "--out", str(WORK / "raw")], check=True, env=env)
        subprocess.run(
            [*sscp, "run", "--year", YEAR, "--raw", str(WORK / "raw"), "--processed", str(processed)]
            + ["--reports", str(WORK / "reports"), "--no-pdf"],
            check=True,
            env=env,
        )
    return processed


def run_once(processed: Path) -> dict:
    notebook = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    parameters = f'year = "{YEAR}"\nprocessed_dir = "{processed}"\nbriefing_dir = "{WORK / "briefing"}"\n'
    manager, client = start_new_kernel(kernel_name=KERNEL_NAME, cwd=str(WORK))
    cells, cpu = {}, {}
    try:
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = parameters if "parameters" in cell["metadata"].get("tags", []) else "".join(cell["source"])
            start = time.perf_counter()
            reply = client.execute_interactive(source, timeout=600, output_hook=lambda msg: None)
            cells[cell["id"]] = round(time.perf_counter() - start, 3)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"cell {cell['id']} failed: {reply['content'].get('evalue')}")

        def read_cpu(msg):
            if msg["msg_type"] == "stream":
                cpu["seconds"] = float(msg["content"]["text"])

        client.execute_interactive(
            "import resource as _r; _u = _r.getrusage(_r.RUSAGE_SELF); print(_u.ru_utime + _u.ru_stime)",
            output_hook=read_cpu,
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return {
        "cells": cells,
        "questions_seconds": round(sum(cells[c] for c in QUESTION_CELLS), 3),
        "notebook_seconds": round(sum(cells.values()), 3),
        "kernel_cpu_seconds": round(cpu["seconds"], 3),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    processed = _validated_tables()
    runs = [run_once(processed) for _ in range(args.repeats)]
    median = {
        key: statistics.median(r[key] for r in runs)
        for key in ("questions_seconds", "notebook_seconds", "kernel_cpu_seconds")
    }
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    result = {
        "date": date.today().isoformat(),
        "repeats": runs,
        "median": median,
        "target_seconds": TARGET_SECONDS,
        "load_average": load,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"explore-{result['date']}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    cell_names = list(runs[0]["cells"])
    lines = [
        f"# Exploration notebook kernel time, {result['date']}",
        "",
        f"{args.repeats} runs, each in a fresh `{KERNEL_NAME}` kernel; 1-minute load average at the end {load}.",
        "",
        "| measure | median | runs | target |",
        "| --- | ---: | --- | ---: |",
        f"| four questions incl. loading (s, wall in kernel) | {median['questions_seconds']} | "
        + ", ".join(str(r["questions_seconds"]) for r in runs)
        + f" | < {TARGET_SECONDS:g} |",
        f"| whole notebook (s, wall in kernel) | {median['notebook_seconds']} | "
        + ", ".join(str(r["notebook_seconds"]) for r in runs)
        + " | |",
        f"| kernel CPU incl. start-up (s) | {median['kernel_cpu_seconds']} | "
        + ", ".join(str(r["kernel_cpu_seconds"]) for r in runs)
        + " | |",
        "",
        "| cell | median s |",
        "| --- | ---: |",
        *[f"| {name} | {statistics.median(r['cells'][name] for r in runs):.2f} |" for name in cell_names],
    ]
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0 if median["questions_seconds"] < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
