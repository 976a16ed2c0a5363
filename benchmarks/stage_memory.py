"""The chain run as a user runs it (`sscp run`), with its peak memory overall and stage by stage.

The memory of the whole process tree (the chain and every kernel it starts) is sampled every
0.1 s and summed two ways: resident set size (RSS), which counts the pages processes share
(the Python and library code every kernel maps) once per process, and proportional set size
(PSS), which splits shared pages between the processes sharing them: the physical memory the
run needs. Targets are judged on PSS; RSS is reported beside it.

Stage windows come from the chain's own progress lines ("[2/5] validate running ...", then
"... ok (1.2 s)"), timed as they arrive. A sample taken while two stages run side by side
counts for both; samples outside every stage window count for "startup" (before the first) or
"rendering" (after the last: statement HTML, PDF, index).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
import time

import psutil

STARTUP, RENDERING = "startup", "rendering"
_PROGRESS = re.compile(r"^\[\d+/\d+\]\s+(?P<stage>\S+)\s+(?P<what>running|ok|failed)")


class MemoryTimeline:
    """Samples the summed RSS and PSS of a process and its descendants: (seconds, pss, rss) rows."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.root = psutil.Process(pid)
        self.interval = interval
        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                rss = pss = 0
                for proc in [self.root, *self.root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        info = proc.memory_full_info()
                        rss += info.rss
                        pss += info.pss
                self.samples.append((time.perf_counter(), pss, rss))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def stage_windows(progress: list[tuple[float, str]]) -> dict[str, tuple[float, float]]:
    """(start, end) per stage from the chain's timed progress lines."""
    windows: dict[str, list[float]] = {}
    for at, line in progress:
        match = _PROGRESS.match(line.strip())
        if not match:
            continue
        if match["what"] == "running":
            windows[match["stage"]] = [at, float("inf")]
        elif match["stage"] in windows:
            windows[match["stage"]][1] = at
    return {stage: (start, end) for stage, (start, end) in windows.items()}


def peaks_by_stage(samples: list[tuple[float, int, int]], windows: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Peak PSS in GB while each stage ran, and before the first and after the last."""
    first = min((start for start, _ in windows.values()), default=float("inf"))
    last = max((end for _, end in windows.values()), default=float("-inf"))
    peaks: dict[str, int] = {}
    for at, pss, _ in samples:
        phases = [stage for stage, (start, end) in windows.items() if start <= at <= end]
        if not phases:
            phases = [STARTUP] if at < first else [RENDERING] if at > last else []
        for phase in phases:
            peaks[phase] = max(peaks.get(phase, 0), pss)
    order = [STARTUP, *windows, RENDERING]
    return {phase: round(peaks[phase] / 1e9, 3) for phase in order if phase in peaks}


def run_chain_measured(cmd: list[str]) -> dict:
    """Run the chain command; wall seconds, peak PSS and RSS sums (GB), peak PSS by stage, output."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    progress: list[tuple[float, str]] = []
    with MemoryTimeline(proc.pid) as memory:
        for line in proc.stdout:
            progress.append((time.perf_counter(), line))
        proc.wait()
    seconds = time.perf_counter() - started
    samples = memory.samples
    return {
        "returncode": proc.returncode,
        "output": "".join(line for _, line in progress),
        "seconds": seconds,
        "peak_gb": max((s[1] for s in samples), default=0) / 1e9,
        "peak_rss_gb": max((s[2] for s in samples), default=0) / 1e9,
        "stage_peak_gb": peaks_by_stage(samples, stage_windows(progress)),
    }


def highest(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each phase's highest peak over several runs."""
    phases = dict.fromkeys(phase for run in runs for phase in run)
    return {phase: max(run.get(phase, 0) for run in runs) for phase in phases}


def results_lines(results: dict[str, dict]) -> list[str]:
    """The results file's table of peaks by stage, one row per scale."""
    phases = list(dict.fromkeys(p for r in results.values() for p in r.get("stage_peak_gb", {})))
    if not phases:
        return []
    lines = [
        "",
        "## Peak memory by stage (GB, PSS of the process tree; stages run side by side share one peak)",
        "",
        "| scale | " + " | ".join(phases) + " |",
        "| ---: |" + " ---: |" * len(phases),
    ]
    for r in results.values():
        peaks = r.get("stage_peak_gb", {})
        lines.append(f"| {r['scale']:g} | " + " | ".join(str(peaks.get(p, "–")) for p in phases) + " |")
    return lines
