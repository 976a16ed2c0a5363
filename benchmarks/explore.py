"""Kernel time of the exploration notebook on the sample (`make bench`, or `python -m benchmarks.explore`).

Target: the notebook's four questions (loading included) answered in under 10 s of kernel time,
read as the kernel process's CPU time (the machine is shared, so wall time is reported beside it).
Each repeat starts a fresh `sscp` kernel in the notebook's working folder and runs the tracked
notebook's code cells one by one, reading the kernel's CPU time (getrusage) before and after each. The sample's validated tables are made once under benchmarks/work/explore/
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


CPU_NOW = "import resource as _r; _u = _r.getrusage(_r.RUSAGE_SELF); print(_u.ru_utime + _u.ru_stime)"


def _kernel_cpu(client) -> float:
    """The kernel process's own CPU seconds so far (user + system)."""
    seen = {}

    def read(msg):
        if msg["msg_type"] == "stream":
            seen["seconds"] = float(msg["content"]["text"])

    client.execute_interactive(CPU_NOW, output_hook=read, store_history=False)
    return seen["seconds"]


def run_once(processed: Path) -> dict:
    """One run in a fresh kernel: per cell, wall seconds and the kernel's CPU seconds."""
    notebook = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    parameters = f'year = "{YEAR}"\nprocessed_dir = "{processed}"\nbriefing_dir = "{WORK / "briefing"}"\n'
    manager, client = start_new_kernel(kernel_name=KERNEL_NAME, cwd=str(WORK))
    wall, cpu = {}, {}
    try:
        start_cpu = _kernel_cpu(client)
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = parameters if "parameters" in cell["metadata"].get("tags", []) else "".join(cell["source"])
            before_cpu, start = _kernel_cpu(client), time.perf_counter()
            reply = client.execute_interactive(source, timeout=600, output_hook=lambda msg: None)
            wall[cell["id"]] = round(time.perf_counter() - start, 3)
            cpu[cell["id"]] = round(_kernel_cpu(client) - before_cpu, 3)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"cell {cell['id']} failed: {reply['content'].get('evalue')}")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return {
        "wall": wall,
        "cpu": cpu,
        "kernel_start_cpu_seconds": round(start_cpu, 3),
        "questions_cpu_seconds": round(sum(cpu[c] for c in QUESTION_CELLS), 3),
        "questions_wall_seconds": round(sum(wall[c] for c in QUESTION_CELLS), 3),
        "notebook_cpu_seconds": round(sum(cpu.values()), 3),
        "notebook_wall_seconds": round(sum(wall.values()), 3),
    }


MEASURES = {
    "questions_cpu_seconds": "four questions incl. loading: kernel CPU (s)",
    "questions_wall_seconds": "four questions incl. loading: wall in kernel (s)",
    "notebook_cpu_seconds": "whole notebook: kernel CPU (s)",
    "notebook_wall_seconds": "whole notebook: wall in kernel (s)",
    "kernel_start_cpu_seconds": "kernel start-up before the first cell: CPU (s)",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    processed = _validated_tables()
    load_before = os.getloadavg()[0]
    runs = [run_once(processed) for _ in range(args.repeats)]
    load_after = os.getloadavg()[0]
    median = {key: round(statistics.median(r[key] for r in runs), 3) for key in MEASURES}
    result = {
        "date": date.today().isoformat(),
        "target": f"questions_cpu_seconds < {TARGET_SECONDS:g}",
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "median": median,
        "runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"explore-{result['date']}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    lines = [
        f"# Exploration notebook kernel time, {result['date']}",
        "",
        f"{args.repeats} runs of notebooks/explore_referrals.ipynb on the 1x sample, each in a fresh `{KERNEL_NAME}` "
        f"kernel. 1-minute load average {load_before:.1f} before, {load_after:.1f} after (2 cores, shared): "
        "wall times stretch with the load, CPU times much less.",
        "",
        "| measure | median | runs | target |",
        "| --- | ---: | --- | ---: |",
        *[
            f"| {label} | {median[key]} | {', '.join(str(r[key]) for r in runs)} | "
            + (f"< {TARGET_SECONDS:g}" if key == "questions_cpu_seconds" else "")
            + " |"
            for key, label in MEASURES.items()
        ],
        "",
        "| cell | median CPU s | median wall s |",
        "| --- | ---: | ---: |",
        *[
            f"| {name} | {statistics.median(r['cpu'][name] for r in runs):.2f} | "
            f"{statistics.median(r['wall'][name] for r in runs):.2f} |"
            for name in runs[0]["cpu"]
        ],
    ]
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0 if median["questions_cpu_seconds"] < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
