"""The dashboard's small multiples: one XmR (individuals) chart per indicator with a monthly
series, in the statement's house style.

Each chart shows the months held up to the quarter's end as points joined by a line, the mean
and the process limits as the indicator's SPC result gives them, and the special-cause points
marked in the highlight colour with a different marker (colour is never the only sign). Charts
are saved with alt text in the folder's charts.json, as the statement's are.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt

from sscp_lib.config import charts_index
from sscp_lib.files import write_json_atomic
from sscp_lib.formatting import format_value
from sscp_lib.publishing.charts import HIGHLIGHT, MUTED, PALETTE, SYNTHETIC_NOTE, _save_opaque_png, count_axis

SMALL_MULTIPLE_SIZE = (4.2, 2.5)  # inches: three to a row on an A4-landscape page


@dataclass(frozen=True)
class XmrSeries:
    """What an indicator's chart draws: months, values, centre line, limits and signal months."""

    months: list[str]
    values: list[float | None]
    mean: float | None
    lower: float | None
    upper: float | None
    special: list[str]  # months that are special-cause points

    @property
    def points(self) -> list[tuple[str, float]]:
        return [(m, v) for m, v in zip(self.months, self.values) if v is not None]


def _number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None  # "c" (suppressed) is not drawn


def xmr_series(indicator: Mapping, last_month: str) -> XmrSeries:
    """The indicator's monthly series up to `last_month` ('YYYY-MM') with its SPC result
    (`spc` in dataset.json: mean, lower and upper process limits, points with `special`)."""
    monthly = indicator.get("monthly") or {}
    months = sorted(m for m in monthly if m <= last_month)
    spc = indicator.get("spc") or {}
    return XmrSeries(
        months=months,
        values=[_number(monthly[m]) for m in months],
        mean=_number(spc.get("mean")),
        lower=_number(spc.get("lower")),
        upper=_number(spc.get("upper")),
        special=sorted(str(p["month"]) for p in spc.get("points") or () if p.get("special")),
    )


def _short_month(month: str) -> str:
    import calendar

    year, number = month.split("-")
    return f"{calendar.month_abbr[int(number)]} {year[2:]}"


def chart_alt(indicator: Mapping, series: XmrSeries) -> str:
    """A description a screen reader can use instead of the chart."""
    label, unit = indicator.get("label", indicator.get("id", "")), indicator.get("unit", "count")
    points = series.points
    if not points:
        return f"{label}: no monthly figures to chart."
    first, last = points[0], points[-1]
    low, high = min(points, key=lambda p: p[1]), max(points, key=lambda p: p[1])
    text = (
        f"{label}, monthly, {_short_month(first[0])} to {_short_month(last[0])}: {len(points)} months, "
        f"from {format_value(first[1], unit)} to {format_value(last[1], unit)}; lowest "
        f"{format_value(low[1], unit)} ({_short_month(low[0])}), highest {format_value(high[1], unit)} "
        f"({_short_month(high[0])})."
    )
    if series.mean is not None:
        text += f" Mean {format_value(series.mean, unit)}"
        if series.lower is not None and series.upper is not None:
            text += f", process limits {format_value(series.lower, unit)} to {format_value(series.upper, unit)}"
        text += "."
    special = [m for m in series.special if m in series.months]
    if special:
        text += f" Special-cause points: {', '.join(_short_month(m) for m in special)}."
    else:
        text += " No special-cause points."
    return text


def draw_xmr(indicator: Mapping, series: XmrSeries, synthetic: bool):
    """The figure for one indicator (closed by the caller's save)."""
    # A fixed layout: constrained layout would cost most of a small chart's drawing time.
    fig, ax = plt.subplots(figsize=SMALL_MULTIPLE_SIZE)
    title = textwrap.wrap(str(indicator.get("label", "")), 55)[:2]
    top = 0.86 if len(title) < 2 else 0.80
    fig.subplots_adjust(left=0.13, right=0.98, top=top, bottom=0.2 if synthetic else 0.14)
    ax.set_title("\n".join(title), fontsize=9, loc="left")
    positions = list(range(len(series.months)))
    xs = [i for i, v in zip(positions, series.values) if v is not None]
    ys = [v for v in series.values if v is not None]
    ax.plot(xs, ys, color=PALETTE[0], linewidth=1.2, marker="o", markersize=2.5, zorder=3)
    if series.mean is not None:
        ax.axhline(series.mean, color=PALETTE[4], linewidth=1, zorder=2)
    for limit in (series.lower, series.upper):
        if limit is not None:
            ax.axhline(limit, color=PALETTE[4], linewidth=0.9, linestyle=(0, (4, 3)), zorder=2)
    special = [
        (i, v) for i, m, v in zip(positions, series.months, series.values) if m in series.special and v is not None
    ]
    if special:
        ax.scatter(
            [i for i, _ in special], [v for _, v in special], marker="D", s=22, color=HIGHLIGHT,
            edgecolor="black", linewidth=0.5, zorder=4,
        )  # fmt: skip
    ticks = [i for i, m in zip(positions, series.months) if m.endswith("-04")] or positions[:1]
    ax.set_xticks(ticks, [_short_month(series.months[i]) for i in ticks], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(axis="y", color="#E5E5E5")
    if indicator.get("unit") == "count":
        count_axis(ax.yaxis)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlim(-0.5, max(len(positions) - 0.5, 0.5))
    if synthetic:
        fig.text(0.01, 0.01, SYNTHETIC_NOTE, fontsize=6, color="#505050", ha="left", va="bottom")
    ax.set_facecolor("white")
    for spine in ax.spines.values():
        spine.set_color(MUTED)
    return fig


def charted(dataset: Mapping) -> list[Mapping]:
    """The indicators that get a chart: every indicator, and of a breakdown (referrals by source,
    plans by category) the parts whose monthly figures show special-cause variation; the grid
    gives every part's figures."""
    special = {"improving", "concerning", "neither"}
    return [
        i
        for i in dataset.get("indicators", [])
        if not i.get("breakdown_of") or str((i.get("variation") or {}).get("code")) in special
    ]


def save_dashboard_charts(dataset: Mapping, charts_dir: Path | str, synthetic: bool) -> dict[str, Path]:
    """One PNG per indicator with a monthly series, recorded with its alt text in charts.json;
    returns indicator id -> PNG."""
    charts_dir = Path(charts_dir)
    charts_dir.mkdir(parents=True, exist_ok=True)
    last_month = dataset_last_month(dataset)
    written: dict[str, Path] = {}
    index: dict[str, dict] = {}
    for indicator in charted(dataset):
        series = xmr_series(indicator, last_month)
        if len(series.points) < 2:
            continue
        fig = draw_xmr(indicator, series, synthetic)
        path = charts_dir / f"{indicator['id']}.png"
        _save_opaque_png(fig, path)
        plt.close(fig)
        written[indicator["id"]] = path
        index[indicator["id"]] = {
            "title": indicator.get("label", indicator["id"]),
            "alt": chart_alt(indicator, series),
            "file": path.name,
            "source": "Source: the partnership dataset." + (f" {SYNTHETIC_NOTE}." if synthetic else ""),
        }
    write_json_atomic(charts_index(charts_dir), index)
    return written


def dataset_last_month(dataset: Mapping) -> str:
    """The last month of the dataset's period ('2023-24-Q3' -> '2023-12')."""
    from sscp_lib.config import Quarter, ReportingYear

    period = str(dataset.get("period", ""))
    year, _, quarter = period.partition("-Q")
    return Quarter(ReportingYear.parse(year), int(quarter or 4)).months[-1]
