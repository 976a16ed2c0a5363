"""make bench, issue 28: what a rerun costs when little or nothing changed, and a first run at scale
against an earlier commit.

For each scale (1x and 100x by default), on one sample and in one session, each repeat runs
`sscp run` (PDF included) in this order and measures it as benchmarks/run.py does (wall time,
peak PSS of the whole process tree):

  full       the processed folder and its reuse store emptied: everything is built
  unchanged  the same inputs again
  support    after one support-team file changed (a copy of its last row appended to audits.csv:
             the file's bytes change, clean removes the copy as a duplicate and counts it)
  police     after the police file changed the same way (police_referrals.csv)

Each rerun's time is divided by the full run's time of its own repeat; the medians of those
ratios are the figures. The raw files are put back before each repeat. With `--base COMMIT`
(875c92a by default at 100x) that commit's chain runs on the same sample, alternating with the
full run (its files under benchmarks/work/, run with this interpreter), so the ratio of the
two first runs is measured under one load. Then the clean stage's floor (benchmarks/clean_floor.py)
is measured on the same files. Results: benchmarks/results/reruns-<date>.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import clean_floor, stage_memory
from benchmarks.run import BENCH_KEY, RESULTS, WORK, YEAR

REPO = Path(__file__).resolve().parent.parent
BASE_COMMIT = "875c92a"
SUPPORT_FILE = "audits.csv"  # a support-team (SSCP business unit) file
POLICE_FILE = "police_referrals.csv"
RERUNS = ("unchanged", "support", "police")
TARGETS = {
    ("1", "unchanged"): 0.7,
    ("100", "unchanged"): 0.25,
    ("100", "support"): 0.3,
    "full_100_vs_base": 0.6,
    "peak_100_gb": 1.6,
}


def _chain(work: Path, python_path: Path | None = None, extra: tuple[str, ...] = ()) -> dict:
    """One `sscp run` over `work`, measured; with python_path, another checkout's code."""
    cmd = [
        sys.executable,
        "-m",
        "sscp_lib.cli",
        "run",
        "--year",
        YEAR,
        "--raw",
        str(work / "raw"),
        "--processed",
        str(work / ("processed-base" if python_path else "processed")),
        "--reports",
        str(work / ("reports-base" if python_path else "reports")),
        *extra,
    ]
    # `python -m` puts the working folder first on the import path: run from the checkout's root.
    env_before, cwd_before = os.environ.get("PYTHONPATH"), Path.cwd()
    os.environ["PYTHONPATH"] = str(python_path or REPO)
    os.chdir(python_path or REPO)
    try:
        run = stage_memory.run_chain_measured(cmd)
    finally:
        os.chdir(cwd_before)
        if env_before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = env_before
    if run["returncode"] != 0:
        raise RuntimeError(f"chain failed at {work}:\n{run['output'][-3000:]}")
    manifest = json.loads((work / ("reports-base" if python_path else "reports") / YEAR / "manifest.json").read_text())
    return {
        "seconds": round(run["seconds"], 2),
        "peak_gb": round(run["peak_gb"], 3),
        "stages": {s["name"]: s["seconds"] for s in manifest["stages"]},
        "reused": {
            stage: sum((d.get(stage) or {}).get("outcome") == "reused" for d in manifest.get("datasets", {}).values())
            for stage in ("clean", "validate")
        },
    }


def _append_last_row(path: Path) -> None:
    """The file's last data row once more: its bytes change, its meaning is one exact duplicate more."""
    text = path.read_bytes()
    lines = text.rstrip(b"\r\n").splitlines(keepends=False)
    ending = b"\r\n" if b"\r\n" in text[:4096] else b"\n"
    path.write_bytes(text.rstrip(b"\r\n") + ending + lines[-1] + ending)


def _base_checkout(commit: str) -> Path:
    """The commit's files (git archive: no worktree registered) under benchmarks/work/."""
    folder = WORK / f"base-{commit}"
    if not (folder / "sscp_lib").is_dir():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", commit], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def bench_scale(scale: float, repeats: int, base: str | None, keep_sample: bool = False) -> dict:
    from sscp_lib.sample.generate import generate_sample

    work = WORK / f"reruns-{scale:g}"
    started = time.perf_counter()
    if not (keep_sample and (work / "raw" / YEAR).is_dir()):
        shutil.rmtree(work, ignore_errors=True)
        generate_sample(out_dir=work / "raw", scale=scale)
    sample_seconds = time.perf_counter() - started
    year_dir = work / "raw" / YEAR
    originals = {name: (year_dir / name).read_bytes() for name in (SUPPORT_FILE, POLICE_FILE)}
    base_checkout = _base_checkout(base) if base else None
    runs: list[dict] = []
    for repeat in range(repeats):
        for name, content in originals.items():
            (year_dir / name).write_bytes(content)
        shutil.rmtree(work / "processed", ignore_errors=True)  # the reuse store with it
        shutil.rmtree(work / "processed-base", ignore_errors=True)
        record: dict = {}
        # This commit from nothing, its reruns, then the earlier commit from nothing on the same
        # files (the changed files put back first).
        for kind in ("full", *RERUNS):
            if kind == "support":
                _append_last_row(year_dir / SUPPORT_FILE)
            elif kind == "police":
                _append_last_row(year_dir / POLICE_FILE)
            record[kind] = _chain(work)
            print(f"{scale:g}x repeat {repeat + 1}: {kind} {json.dumps(record[kind])}", flush=True)
        if base_checkout:
            for name, content in originals.items():
                (year_dir / name).write_bytes(content)
            record["base"] = _chain(work, base_checkout)
            print(f"{scale:g}x repeat {repeat + 1}: base {json.dumps(record['base'])}", flush=True)
        runs.append(record)
    result: dict = {
        "scale": scale,
        "repeats": repeats,
        "sample_seconds": round(sample_seconds, 2),
        "runs": runs,
        "full_seconds_median": statistics.median(r["full"]["seconds"] for r in runs),
        "peak_gb": max(r[k]["peak_gb"] for r in runs for k in ("full", *RERUNS)),
        "ratios": {
            kind: round(statistics.median(r[kind]["seconds"] / r["full"]["seconds"] for r in runs), 3)
            for kind in RERUNS
        },
    }
    if base_checkout:
        result["base"] = base
        result["full_vs_base"] = round(statistics.median(r["full"]["seconds"] / r["base"]["seconds"] for r in runs), 3)
        result["base_peak_gb"] = max(r["base"]["peak_gb"] for r in runs)
    for name, content in originals.items():
        (year_dir / name).write_bytes(content)
    print(f"{scale:g}x: the clean stage's floor ...", flush=True)
    result["clean_floor"] = clean_floor.measure(work / "raw", YEAR)
    result["clean_stage_seconds"] = statistics.median(r["full"]["stages"]["clean"] for r in runs)
    shutil.rmtree(work, ignore_errors=True)
    return result


def checks(results: dict[str, dict]) -> list[dict]:
    found = []

    def check(name: str, measured: float, limit: float) -> None:
        found.append({"target": name, "measured": measured, "limit": limit, "met": measured <= limit})

    for (scale, kind), limit in ((k, v) for k, v in TARGETS.items() if isinstance(k, tuple)):
        if scale in results:
            check(f"{scale}x rerun ({kind}) / full run", results[scale]["ratios"][kind], limit)
    hundred = results.get("100")
    if hundred:
        if "full_vs_base" in hundred:
            check(
                f"100x full run / commit {hundred['base']}'s (pairs)",
                hundred["full_vs_base"],
                TARGETS["full_100_vs_base"],
            )
        check("100x peak memory GB (PSS), every run", hundred["peak_gb"], TARGETS["peak_100_gb"])
    return found


def write(results: dict[str, dict]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    found = checks(results)
    (RESULTS / f"reruns-{stamp}.json").write_text(json.dumps({"results": results, "checks": found}, indent=2) + "\n")
    lines = [
        f"# Reruns and first runs, {stamp} (issue 28)",
        "",
        "Ratios are medians over repeats of each run's seconds over the full run's of the same repeat.",
        "",
        "| target | measured | limit | met |",
        "| --- | ---: | ---: | --- |",
        *(f"| {c['target']} | {c['measured']:.3f} | {c['limit']} | {'yes' if c['met'] else 'NO'} |" for c in found),
        "",
        "| scale | repeat | run | seconds | peak GB (PSS) | clean s | validate s | analyses s | tables reused (clean / validate) |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for scale, r in results.items():
        for i, run in enumerate(r["runs"], 1):
            for kind, m in run.items():
                analyses = max(m["stages"].get("analyse_referrals") or 0, m["stages"].get("analyse_assurance") or 0)
                lines.append(
                    f"| {scale}x | {i} | {kind} | {m['seconds']} | {m['peak_gb']} | {m['stages'].get('clean')} | "
                    f"{m['stages'].get('validate')} | {analyses} | "
                    f"{m.get('reused', {}).get('clean', '–')} / {m.get('reused', {}).get('validate', '–')} |"
                )
    lines += clean_floor.results_lines(results)
    path = RESULTS / f"reruns-{stamp}.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="1,100")
    parser.add_argument("--repeats", type=int, default=3, help="repeats at 1x (100x runs once)")
    parser.add_argument("--base", default=BASE_COMMIT, help="the commit a 100x first run is compared with")
    parser.add_argument("--keep-sample", action="store_true", help="use the sample left in benchmarks/work/")
    args = parser.parse_args(argv)
    os.environ.setdefault("SSCP_PSEUDONYMISATION_KEY", BENCH_KEY)
    results: dict[str, dict] = {}
    for text in args.scales.split(","):
        scale = float(text)
        results[f"{scale:g}"] = bench_scale(
            scale, 1 if scale >= 100 else args.repeats, args.base if scale >= 100 else None
        )
        path = write(results)
    print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
