"""The benchmark's targets: the 10x / 1x ratio from runs paired under one load when it has them,
and every target met or not on the figure as measured, not as rounded for the table."""

from __future__ import annotations

from benchmarks import baseline
from benchmarks.run import TARGETS, check_targets, scaling_ratio

ONE = {"chain_seconds_median": 10.0}
TEN = {"chain_seconds_median": 20.0}


def test_without_pairs_the_ratio_is_of_the_two_scales_medians():
    assert scaling_ratio(ONE, TEN) == (2.0, "10x time / 1x time")
    assert scaling_ratio({"chain_seconds_median": 3.0}, {"chain_seconds_median": 4.51})[0] == 4.51 / 3.0


def test_pairs_give_the_ratio_and_need_no_1x_block():
    ten = {**TEN, "paired_1x_seconds_all": [12.0, 13.0], "ratio_to_paired_1x_median": 1.4}
    ratio, name = scaling_ratio(None, ten)
    assert ratio == 1.4 and "paired" not in name and "just before" in name
    assert scaling_ratio(ONE, ten)[0] == 1.4


def test_the_target_check_reads_the_paired_ratio():
    checks = {c["target"]: c for c in check_targets({"10": {**TEN, "ratio_to_paired_1x_median": 1.6}})}
    (check,) = [c for name, c in checks.items() if name.startswith("10x time / 1x time")]
    assert check["measured"] == 1.6 and check["limit"] == TARGETS["scale_10_vs_1_ratio"] and not check["met"]


def test_no_10x_results_no_ratio():
    assert scaling_ratio(ONE, None) is None


def test_a_ratio_just_over_its_limit_is_not_met_though_it_rounds_to_it():
    one = {
        "chain_seconds_median": 16.33,
        "stage_seconds_median": {"validate": 1.0},
        "in_process_seconds_total": 10.0,
        "in_process_rendering_seconds": 5.0,
        "baseline": {"baseline_seconds_median": 46.39, "validate_alone_seconds_median": 1.0},
    }
    (plain,) = [c for c in baseline.checks(one) if c["target"].startswith("chain / plain tools")]
    assert plain["measured"] == 0.352 and plain["limit"] == 0.35 and not plain["met"]
    one["chain_seconds_median"] = 16.2  # 0.3492
    (plain,) = [c for c in baseline.checks(one) if c["target"].startswith("chain / plain tools")]
    assert plain["measured"] == 0.349 and plain["met"]
