"""Statistical process control as NHS England's "Making Data Count" reads it: XmR charts.

An XmR (individuals and moving range) chart of a monthly series: the centre line is the mean,
the process limits are the mean plus and minus 2.66 times the mean moving range (the mean of
the absolute differences between consecutive points), and sigma is the mean moving range over
1.128. A point is special cause when it

- lies beyond a process limit (`beyond_limits`),
- is one of a run of 7 or more consecutive points on one side of the mean (`run`; a point on
  the mean breaks a run),
- is one of 6 or more consecutive points each higher, or each lower, than the one before
  (`trend`; an equal point breaks a trend),
- is one of 2 out of 3 consecutive points beyond two sigma on the same side of the mean
  (`two_of_three`).

The variation verdict reads the polarity (which way is better): special cause improving,
special cause concerning, special cause in an indicator with no better direction, or common
cause. The assurance verdict, for an indicator with a target, compares the target with the
process limits as the NHS icons do: a process whose limits both lie on the good side of the
target will consistently pass it, both on the bad side consistently fail, and otherwise it will
hit and miss at random. Every verdict has its text.

Why not a library: PyPI's `abspc` 1.1.0 (alpha, two releases) implements MDC charts but uses
runs of 8 and counts only points between two and three sigma for 2-of-3, with no way to
change either; this module is small, follows the rules above, and is tested against worked
examples in tests/test_spc.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

LIMIT_FACTOR = 2.66  # 3 / d2 (1.128), rounded as MDC publishes it
D2 = 1.128  # the bias correction of a moving range of two points
RUN_LENGTH = 7
TREND_LENGTH = 6
# Fewer points than this and the limits are not yet trustworthy (MDC advises 15 to 20).
MIN_POINTS = 15

RULE_TEXT = {
    "beyond_limits": "a point beyond the process limits",
    "run": f"a run of {RUN_LENGTH} or more points on one side of the mean",
    "trend": f"{TREND_LENGTH} or more points in a row rising or falling",
    "two_of_three": "2 of 3 points beyond two sigma on one side of the mean",
}
VARIATION_TEXT = {
    "improving": "Special cause variation: improving",
    "concerning": "Special cause variation: concerning",
    "neither": "Special cause variation",
    "common_cause": "Common cause variation: no significant change",
    "too_few_points": f"Too few points to judge (fewer than {MIN_POINTS} months)",
}
ASSURANCE_TEXT = {
    "passing": "The process will consistently pass the target",
    "failing": "The process will consistently fail the target without a change to the system",
    "hit_and_miss": "The process will hit and miss the target at random",
}


@dataclass(frozen=True)
class Point:
    """One point of the chart: its position in the series, value, the rules it breaks, and
    which way it departs (`higher` or `lower`; None for common cause)."""

    index: int
    value: float
    rules: tuple[str, ...]
    direction: str | None

    @property
    def special(self) -> bool:
        return bool(self.rules)


@dataclass(frozen=True)
class XmR:
    mean: float
    mean_moving_range: float
    lower: float
    upper: float
    sigma: float
    points: tuple[Point, ...]  # the series' present values only (gaps left out)

    @property
    def special_points(self) -> list[Point]:
        return [p for p in self.points if p.special]


def _present(values: Sequence[float | None]) -> list[tuple[int, float]]:
    out = []
    for i, v in enumerate(values):
        if v is None or isinstance(v, str):
            continue
        x = float(v)
        if math.isfinite(x):
            out.append((i, x))
    return out


def xmr(values: Sequence[float | None]) -> XmR | None:
    """The XmR chart of a series; None (a gap) and "c" (suppressed) values are left out and the
    moving range is taken between consecutive present values. None with fewer than 2 values."""
    present = _present(values)
    if len(present) < 2:
        return None
    xs = [x for _, x in present]
    mean = sum(xs) / len(xs)
    moving = [abs(b - a) for a, b in zip(xs, xs[1:])]
    mr_bar = sum(moving) / len(moving)
    sigma = mr_bar / D2
    lower, upper = mean - LIMIT_FACTOR * mr_bar, mean + LIMIT_FACTOR * mr_bar
    rules: list[list[str]] = [[] for _ in xs]
    direction: list[str | None] = [None] * len(xs)

    def mark(i: int, rule: str, way: str) -> None:
        if rule not in rules[i]:
            rules[i].append(rule)
        direction[i] = way

    side = [0 if x == mean else (1 if x > mean else -1) for x in xs]
    way_of = {1: "higher", -1: "lower"}
    # Beyond the limits.
    for i, x in enumerate(xs):
        if x > upper:
            mark(i, "beyond_limits", "higher")
        elif x < lower:
            mark(i, "beyond_limits", "lower")
    # Runs on one side of the mean.
    start = 0
    for i in range(1, len(xs) + 1):
        if i == len(xs) or side[i] != side[start] or side[i] == 0:
            if side[start] != 0 and i - start >= RUN_LENGTH:
                for j in range(start, i):
                    mark(j, "run", way_of[side[start]])
            start = i
    # Trends: consecutive points each above (or each below) the one before.
    steps = [0 if b == a else (1 if b > a else -1) for a, b in zip(xs, xs[1:])]
    start = 0  # index into steps
    for i in range(1, len(steps) + 1):
        if i == len(steps) or steps[i] != steps[start] or steps[i] == 0:
            if steps[start] != 0 and i - start + 1 >= TREND_LENGTH:
                for j in range(start, i + 1):
                    mark(j, "trend", way_of[steps[start]])
            start = i
    # 2 of 3 beyond two sigma on the same side.
    far = [0 if abs(x - mean) <= 2 * sigma else side[i] for i, x in enumerate(xs)]
    for i in range(len(xs) - 2):
        for s in (1, -1):
            hits = [j for j in range(i, i + 3) if far[j] == s]
            if len(hits) >= 2:
                for j in hits:
                    mark(j, "two_of_three", way_of[s])
    points = tuple(
        Point(index=present[i][0], value=xs[i], rules=tuple(rules[i]), direction=direction[i] if rules[i] else None)
        for i in range(len(xs))
    )
    return XmR(mean=mean, mean_moving_range=mr_bar, lower=lower, upper=upper, sigma=sigma, points=points)


@dataclass(frozen=True)
class Verdict:
    code: str
    text: str
    direction: str | None = None  # higher | lower, for special cause


def variation(chart: XmR | None, polarity: str, latest: Sequence[int] | None = None) -> Verdict:
    """The variation verdict of a chart: from its latest special-cause point among the series
    positions `latest` (e.g. the months of the latest quarter; default: the last point)."""
    if chart is None or len(chart.points) < MIN_POINTS:
        return Verdict("too_few_points", VARIATION_TEXT["too_few_points"])
    window = set(latest) if latest is not None else {chart.points[-1].index}
    flagged = [p for p in chart.points if p.special and p.index in window]
    if not flagged:
        return Verdict("common_cause", VARIATION_TEXT["common_cause"])
    point = flagged[-1]
    way = point.direction
    if polarity == "neither":
        code = "neither"
    else:
        good = "higher" if polarity == "higher_is_better" else "lower"
        code = "improving" if way == good else "concerning"
    because = "; ".join(RULE_TEXT[r] for r in point.rules)
    return Verdict(code, f"{VARIATION_TEXT[code]} ({way}: {because})", way)


def assurance(chart: XmR | None, polarity: str, target: float | None) -> Verdict | None:
    """The assurance verdict against a target; None without a target or a better direction."""
    if target is None or polarity == "neither":
        return None
    if chart is None or len(chart.points) < MIN_POINTS:
        return Verdict("too_few_points", VARIATION_TEXT["too_few_points"])
    if polarity == "higher_is_better":
        passing, failing = chart.lower >= target, chart.upper < target
    else:
        passing, failing = chart.upper <= target, chart.lower > target
    code = "passing" if passing else "failing" if failing else "hit_and_miss"
    return Verdict(code, ASSURANCE_TEXT[code])
