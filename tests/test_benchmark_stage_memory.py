"""The benchmark's peak memory by stage: stage windows from the chain's progress lines."""

from __future__ import annotations

from benchmarks.stage_memory import highest, peaks_by_stage, results_lines, stage_windows

PROGRESS = [
    (1.0, "sscp: Example LSCP, year 2023-24, 5 stage(s)\n"),
    (2.0, "[1/5] clean              running ...\n"),
    (5.0, "[1/5] clean              ok (3.0 s)\n"),
    (5.1, "[2/5] validate           running ...\n"),
    (7.0, "[2/5] validate           ok (1.9 s)\n"),
    (7.1, "[3/5] analyse_referrals  running ...\n"),
    (7.1, "[4/5] analyse_assurance  running ...\n"),
    (9.0, "[3/5] analyse_referrals  ok (1.9 s)\n"),
    (9.0, "[4/5] analyse_assurance  ok (1.9 s)\n"),
    (9.1, "[5/5] statement          running ...\n"),
    (9.5, "[5/5] statement          ok (0.4 s)\n"),
    (12.0, "rendered statement, PDF and index (2.5 s)\n"),
]
GB = 10**9


def test_windows_follow_the_progress_lines():
    windows = stage_windows(PROGRESS)
    assert list(windows) == ["clean", "validate", "analyse_referrals", "analyse_assurance", "statement"]
    assert windows["clean"] == (2.0, 5.0)
    assert windows["analyse_referrals"] == windows["analyse_assurance"] == (7.1, 9.0)


def test_each_sample_counts_for_the_stages_running_then():
    samples = [
        (1.5, 1 * GB, 0),
        (3.0, 3 * GB, 0),
        (6.0, 2 * GB, 0),
        (8.0, 4 * GB, 0),
        (9.3, 1 * GB, 0),
        (11, 2 * GB, 0),
    ]
    peaks = peaks_by_stage(samples, stage_windows(PROGRESS))
    assert peaks == {
        "startup": 1.0,
        "clean": 3.0,
        "validate": 2.0,
        "analyse_referrals": 4.0,
        "analyse_assurance": 4.0,
        "statement": 1.0,
        "rendering": 2.0,
    }


def test_highest_over_runs_and_the_results_table():
    peaks = highest([{"clean": 1.0, "validate": 2.0}, {"clean": 1.5, "validate": 0.5}])
    assert peaks == {"clean": 1.5, "validate": 2.0}
    lines = results_lines({"1": {"scale": 1.0, "stage_peak_gb": peaks}, "10": {"scale": 10.0}})
    assert lines[-2:] == ["| 1 | 1.5 | 2.0 |", "| 10 | – | – |"]
