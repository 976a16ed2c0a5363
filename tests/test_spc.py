"""XmR charts and the Making Data Count rules (sscp_lib/analysis/spc.py) on worked examples
computed by hand, a planted eight-month shift, and a flat noisy series that must flag nothing."""

from __future__ import annotations

import numpy as np
import pytest

from sscp_lib.analysis import spc


def test_limits_of_a_small_series_computed_by_hand():
    # mean 58/5 = 11.6; moving ranges 2, 1, 2, 1: mean 1.5; limits 11.6 -/+ 2.66 * 1.5 = 3.99
    chart = spc.xmr([10, 12, 11, 13, 12])
    assert chart.mean == pytest.approx(11.6)
    assert chart.mean_moving_range == pytest.approx(1.5)
    assert chart.upper == pytest.approx(15.59)
    assert chart.lower == pytest.approx(7.61)
    assert chart.sigma == pytest.approx(1.5 / 1.128)
    assert chart.special_points == []


def test_gaps_and_suppressed_values_are_left_out_of_the_chart():
    chart = spc.xmr([10, None, 12, "c", 11, float("nan"), 13, 12])
    assert chart.mean == pytest.approx(11.6)
    assert chart.mean_moving_range == pytest.approx(1.5)
    assert [p.index for p in chart.points] == [0, 2, 4, 6, 7]
    assert spc.xmr([None, 3]) is None


def test_a_point_beyond_the_upper_limit():
    # 14 points alternating 10, 11 then 30: mean 177/15 = 11.8; moving ranges 13 x 1 and 19:
    # mean 32/14 = 2.2857; upper limit 11.8 + 2.66 * 2.2857 = 17.88, which 30 is beyond.
    values = [10, 11] * 7 + [30]
    chart = spc.xmr(values)
    assert chart.upper == pytest.approx(11.8 + 2.66 * 32 / 14)
    last = chart.points[-1]
    assert "beyond_limits" in last.rules and last.direction == "higher"
    assert spc.variation(chart, "lower_is_better").code == "concerning"
    assert spc.variation(chart, "higher_is_better").code == "improving"
    verdict = spc.variation(chart, "neither")
    assert verdict.code == "neither" and verdict.direction == "higher"
    assert "beyond the process limits" in verdict.text


def test_a_run_of_seven_on_one_side_is_special_and_six_is_not():
    base = [0.0, 2.0] * 5  # mean 1, ending on the high side
    six = base + [0.0] + [1.3, 1.4] * 3 + [0.0, 2.0]
    chart = spc.xmr(six)
    # mean (10 + 0 + 8.1 + 2) / 19 = 1.058: the 1.3/1.4 block is above it, six points long
    assert chart.mean == pytest.approx(20.1 / 19)
    assert not any("run" in p.rules for p in chart.points)
    seven = base + [0.0] + [1.3, 1.4] * 3 + [1.3, 0.0, 2.0]
    chart = spc.xmr(seven)
    flagged = [p.index for p in chart.points if "run" in p.rules]
    assert flagged == list(range(11, 18))
    assert {chart.points[i].direction for i in flagged} == {"higher"}


def test_six_points_rising_is_a_trend_and_five_is_not():
    noise = [5.0, 3.0, 5.0, 3.0, 5.0, 3.0]
    five = noise + [2.0, 3.0, 4.0, 5.0, 6.0] + noise
    assert not any("trend" in p.rules for p in spc.xmr(five).points)
    six = noise + [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] + noise
    chart = spc.xmr(six)
    flagged = [p.index for p in chart.points if "trend" in p.rules]
    assert flagged == list(range(6, 12))
    falling = noise + [6.0, 5.0, 4.0, 3.0, 2.0, 1.0] + noise
    assert {p.direction for p in spc.xmr(falling).points if "trend" in p.rules} == {"lower"}


def test_two_of_three_beyond_two_sigma_on_one_side():
    # 12 points alternating 10 and 10.5, then 12, 10.2, 12: mean 157.2 / 15 = 10.48; moving
    # ranges 11 x 0.5, 1.5, 1.8, 1.8: mean 10.6 / 14 = 0.7571; sigma 0.6712; two sigma above the
    # mean 11.82, the upper limit 12.49: both 12s lie between.
    values = [10.0, 10.5] * 6 + [12.0, 10.2, 12.0]
    chart = spc.xmr(values)
    assert chart.mean == pytest.approx(10.48)
    assert chart.mean_moving_range == pytest.approx(10.6 / 14)
    assert chart.mean + 2 * chart.sigma < 12 < chart.upper
    flagged = [p.index for p in chart.points if "two_of_three" in p.rules]
    assert flagged == [12, 14]
    assert chart.points[12].rules == ("two_of_three",) and chart.points[12].direction == "higher"
    # One point beyond two sigma in three is not enough.
    assert not any("two_of_three" in p.rules for p in spc.xmr(values[:-1] + [10.4]).points)


def test_an_eight_month_shift_is_special_cause_in_its_direction():
    rng = np.random.default_rng(7)
    values = list(100 + rng.normal(0, 5, 36))
    shifted = values[:28] + [v + 15 for v in values[28:]]
    chart = spc.xmr(shifted)
    last_quarter = [33, 34, 35]
    up = spc.variation(chart, "higher_is_better", last_quarter)
    assert (up.code, up.direction) == ("improving", "higher")
    assert spc.variation(chart, "lower_is_better", last_quarter).code == "concerning"
    assert "run" in " ".join(r for p in chart.points[28:] for r in p.rules)
    down = spc.variation(spc.xmr(values[:28] + [v - 15 for v in values[28:]]), "lower_is_better", last_quarter)
    assert (down.code, down.direction) == ("improving", "lower")


def test_a_flat_noisy_series_flags_nothing():
    rng = np.random.default_rng(20240331)
    chart = spc.xmr(list(50 + rng.normal(0, 3, 36)))
    assert chart.special_points == []
    assert spc.variation(chart, "higher_is_better", [33, 34, 35]).code == "common_cause"


def test_too_few_points_are_not_judged():
    chart = spc.xmr([1.0, 2.0, 50.0])
    assert spc.variation(chart, "higher_is_better").code == "too_few_points"
    assert spc.assurance(chart, "higher_is_better", 10).code == "too_few_points"


def test_assurance_compares_the_target_with_the_process_limits():
    chart = spc.xmr([10, 12, 11, 13, 12] * 3)  # limits about 7.6 and 15.6
    assert spc.assurance(chart, "higher_is_better", 5).code == "passing"
    assert spc.assurance(chart, "higher_is_better", 20).code == "failing"
    assert spc.assurance(chart, "higher_is_better", 12).code == "hit_and_miss"
    assert spc.assurance(chart, "lower_is_better", 20).code == "passing"
    assert spc.assurance(chart, "lower_is_better", 5).code == "failing"
    assert spc.assurance(chart, "neither", 12) is None
    assert spc.assurance(chart, "higher_is_better", None) is None
    assert spc.assurance(chart, "higher_is_better", 12).text == spc.ASSURANCE_TEXT["hit_and_miss"]
