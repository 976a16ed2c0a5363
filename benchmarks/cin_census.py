"""The CIN census return (XML) against the same records as CSV: clean time and peak memory.

`.venv/bin/python -m benchmarks.cin_census [--children 200000] [--repeats 3]` generates a return of
that many children for 2023-24 (sscp_lib.sample.cin_census_writer, the writer the sample uses) and the same
referrals and plans as referrals.csv and cp_plans.csv, then cleans each folder's council datasets
(read, map, parse, derive ids, pseudonymise: clean_dataset, as the clean stage does) in a fresh
interpreter per run, alternating the two, while sampling the process's memory. Targets: the return
cleans within twice the CSV's time, under 1 GB peak. Results: benchmarks/results/cin-census-<date>.md/.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from benchmarks.run import BENCH_KEY, RESULTS, WORK
from benchmarks.stage_memory import MemoryTimeline
from sscp_lib.config import ReportingYear
from sscp_lib.contract import load_contract
from sscp_lib.sample.cin_census_writer import write_cin_census

YEAR = ReportingYear.parse("2023-24")
COUNCIL = ("referrals", "cp_plans")
TARGETS = {"xml_vs_csv_time_ratio": 2.0, "xml_peak_gb": 1.0}
HERE = Path(__file__).resolve().parent


def generate(children: int, seed: int = 20240331) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(episodes, plans, children) for a return of `children` children: about 1.25 referrals a child,
    three in ten NFA, a plan after one referral in ten."""
    rng = np.random.default_rng(seed)
    contract = load_contract()
    ids = pd.Series(np.arange(1, children + 1)).astype(str).str.zfill(7).radd("LA").to_numpy(dtype=object)
    per_child = 1 + rng.poisson(0.25, children)
    child_of = np.repeat(np.arange(children), per_child)
    days = (YEAR.end - YEAR.start).days + 1
    referral_date = np.datetime64(YEAR.start) + rng.integers(0, days, len(child_of)).astype("timedelta64[D]")
    sources = np.array(list(contract.code_lists["referral_source"].codes), dtype=object)
    episodes = pd.DataFrame(
        {
            "child_id": ids[child_of],
            "referral_date": referral_date,
            "referral_source": sources[rng.integers(0, len(sources), len(child_of))],
            "referral_nfa": rng.random(len(child_of)) < 0.3,
        }
    )
    with_plan = np.flatnonzero(~episodes["referral_nfa"].to_numpy() & (rng.random(len(episodes)) < 0.14))
    start = np.minimum(
        referral_date[with_plan] + rng.integers(10, 21, len(with_plan)).astype("timedelta64[D]"),
        np.datetime64(YEAR.end),
    )
    end = start + rng.integers(60, 400, len(with_plan)).astype("timedelta64[D]")
    categories = np.array(["NEG", "EMO", "PHY", "SAB"], dtype=object)
    initial = categories[rng.choice(4, len(with_plan), p=[0.5, 0.34, 0.12, 0.04])]
    plans = pd.DataFrame(
        {
            "child_id": episodes["child_id"].to_numpy()[with_plan],
            "start_date": start,
            "end_date": np.where(end <= np.datetime64(YEAR.end), end, np.datetime64("NaT")),
            "initial_category": initial,
            "latest_category": initial,
            "previous_plans": rng.integers(0, 2, len(with_plan)),
        }
    )
    born = np.datetime64("2006-04-01") + rng.integers(0, 17 * 365, children).astype("timedelta64[D]")
    people = pd.DataFrame(
        {
            "birth_date": born,
            "sex": np.array(["M", "F", "U"], dtype=object)[rng.choice(3, children, p=[0.49, 0.49, 0.02])],
            "ethnicity": "WBRI",
        },
        index=ids,
    )
    return episodes, plans, people


def _iso(values) -> pd.Series:
    """Dates as the census writes them (2023-04-01), '' for none."""
    return pd.Series(values).dt.strftime("%Y-%m-%d").fillna("")


def write_folders(work: Path, children: int) -> dict[str, dict]:
    """work/xml/<year>/ with the return, work/csv/<year>/ with the same records as CSV."""
    episodes, plans, people = generate(children)
    xml_path = write_cin_census(work / "xml" / YEAR.label / "cin_census.xml", YEAR, episodes, plans, people)
    csv_folder = work / "csv" / YEAR.label
    csv_folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "child_id": episodes["child_id"],
            "referral_date": _iso(episodes["referral_date"]),
            "referral_source": episodes["referral_source"],
            "referral_outcome": np.where(episodes["referral_nfa"], "NFA", "FURTHER_ACTION"),
        }
    ).to_csv(csv_folder / "referrals.csv", index=False)
    pd.DataFrame(
        {
            "child_id": plans["child_id"],
            "cp_plan_start_date": _iso(plans["start_date"]),
            "cp_plan_end_date": _iso(plans["end_date"]),
            "initial_category": plans["initial_category"],
            "latest_category": plans["latest_category"],
        }
    ).to_csv(csv_folder / "cp_plans.csv", index=False)
    sizes = {
        "xml": {"files": 1, "megabytes": round(xml_path.stat().st_size / 1e6, 1)},
        "csv": {"files": 2, "megabytes": round(sum(p.stat().st_size for p in csv_folder.iterdir()) / 1e6, 1)},
    }
    return {
        "children": children,
        "referrals": len(episodes),
        "plans": len(plans),
        "sizes": sizes,
    }


def clean_council(raw: Path) -> dict:
    """Clean the folder's referrals and plans as the clean stage does; seconds (wall and CPU) and rows."""
    from sscp_lib.config import load_config
    from sscp_lib.ingest.clean import clean_dataset, discover_files

    contract, config, key = load_contract(), load_config(), bytes.fromhex(BENCH_KEY)
    wall, cpu = time.perf_counter(), _cpu_seconds()
    by_dataset, _, _ = discover_files(raw, YEAR, contract)
    cache: dict = {}
    rows = {}
    for name in COUNCIL:
        table, log_rows, rejected, _ = clean_dataset(name, by_dataset[name], contract, YEAR, raw, config, key, cache)
        rows[name] = {"kept": len(table), "rejected": len(rejected), "read": sum(r["rows_read"] for r in log_rows)}
    return {"seconds": time.perf_counter() - wall, "cpu_seconds": _cpu_seconds() - cpu, "rows": rows}


def _cpu_seconds() -> float:
    """CPU time of this process and of the processes it started and waited for (the XML check)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def run_fresh(raw: Path) -> dict:
    """clean_council in a new interpreter, its memory sampled (RSS and PSS every 0.1 s)."""
    code = (
        "import json, sys; from pathlib import Path; from benchmarks.cin_census import clean_council; "
        "print(json.dumps(clean_council(Path(sys.argv[1]))))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(raw)],
        cwd=HERE.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with MemoryTimeline(proc.pid) as memory:
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"cleaning {raw} failed:\n{err}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_gb"] = max((rss for _, _, rss in memory.samples), default=0) / 1e9
    result["peak_pss_gb"] = max((pss for _, pss, _ in memory.samples), default=0) / 1e9
    return result


def summarise(runs: list[dict]) -> dict:
    return {
        "seconds_median": round(statistics.median(r["seconds"] for r in runs), 2),
        "seconds_all": [round(r["seconds"], 2) for r in runs],
        "cpu_seconds_median": round(statistics.median(r["cpu_seconds"] for r in runs), 2),
        "peak_rss_gb": round(max(r["peak_rss_gb"] for r in runs), 3),
        "peak_pss_gb": round(max(r["peak_pss_gb"] for r in runs), 3),
        "rows": runs[0]["rows"],
    }


def write_results(payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"cin-census-{payload['date']}"
    stem.with_suffix(".json").write_text(json.dumps(payload, indent=2) + "\n")
    xml, csv, data = payload["xml"], payload["csv"], payload["data"]
    lines = [
        f"# CIN census benchmark {payload['date']}",
        "",
        f"Machine: {payload['machine']['cpus']} cores, {payload['machine']['memory_gb']} GB, Python "
        f"{payload['machine']['python']}; shared, so read the ratios. A return of {data['children']:,} children "
        f"({data['referrals']:,} referrals, {data['plans']:,} plans; {data['sizes']['xml']['megabytes']} MB of XML) "
        f"against the same records as CSV ({data['sizes']['csv']['megabytes']} MB). Each run cleans the council's "
        "referrals and plans (clean_dataset) in a fresh interpreter; peak memory is that process's, imports included.",
        "",
        "| target | measured | limit | met |",
        "| --- | ---: | ---: | --- |",
    ]
    lines += [
        f"| {c['target']} | {c['measured']} | {c['limit']} | {'yes' if c['met'] else 'NO'} |" for c in payload["checks"]
    ]
    lines += [
        "",
        "| source | seconds (median) | runs | CPU seconds (median) | peak RSS GB | peak PSS GB |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for name, r in (("CIN census XML", xml), ("CSV", csv)):
        lines.append(
            f"| {name} | {r['seconds_median']} | {', '.join(map(str, r['seconds_all']))} | "
            f"{r['cpu_seconds_median']} | {r['peak_rss_gb']} | {r['peak_pss_gb']} |"
        )
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    return stem.with_suffix(".md")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("SSCP_PSEUDONYMISATION_KEY", BENCH_KEY)
    work = WORK / "cin-census"
    shutil.rmtree(work, ignore_errors=True)
    started = time.perf_counter()
    data = write_folders(work, args.children)
    data["generate_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(data), flush=True)
    runs: dict[str, list[dict]] = {"xml": [], "csv": []}
    for _ in range(args.repeats):  # alternated, so both see the same load on the shared machine
        for kind in ("xml", "csv"):
            runs[kind].append(run_fresh(work / kind))
            print(kind, json.dumps(runs[kind][-1]), flush=True)
    xml, csv = summarise(runs["xml"]), summarise(runs["csv"])
    if xml["rows"] != csv["rows"]:
        raise RuntimeError(f"the two routes kept different rows: {xml['rows']} against {csv['rows']}")
    ratio = round(xml["seconds_median"] / csv["seconds_median"], 2)
    cpu_ratio = round(xml["cpu_seconds_median"] / csv["cpu_seconds_median"], 2)
    checks = [
        {
            "target": "XML / CSV clean time (median wall seconds)",
            "measured": ratio,
            "limit": TARGETS["xml_vs_csv_time_ratio"],
            "met": ratio <= TARGETS["xml_vs_csv_time_ratio"],
        },
        {
            "target": "XML / CSV clean CPU time (median)",
            "measured": cpu_ratio,
            "limit": TARGETS["xml_vs_csv_time_ratio"],
            "met": cpu_ratio <= TARGETS["xml_vs_csv_time_ratio"],
        },
        {
            "target": "XML peak memory GB (PSS)",
            "measured": xml["peak_pss_gb"],
            "limit": TARGETS["xml_peak_gb"],
            "met": xml["peak_pss_gb"] <= TARGETS["xml_peak_gb"],
        },
    ]
    payload = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
            "python": platform.python_version(),
        },
        "targets": TARGETS,
        "data": data,
        "xml": xml,
        "csv": csv,
        "checks": checks,
    }
    md_path = write_results(payload)
    print(md_path.read_text())
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
