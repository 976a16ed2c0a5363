"""Draw: an answer's chart in the house style, and its on-screen view (table, chart, notes).

Every chart carries its source, the protective marking, the synthetic note where the data are
the sample, and either a note that small counts are hidden or, for working figures, a warning
that they are not for publication. Hidden counts are never drawn: a month whose share rests on
1 to threshold rows is drawn as the range that share could take.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sscp_lib.analysis.common import TOTAL
from sscp_lib.analysis.referrals import numeric_or_nan
from sscp_lib.disclosure import SUPPRESSED
from sscp_lib.explore.vocabulary import WORKING_NOTE, sentence
from sscp_lib.publishing import charts

if TYPE_CHECKING:  # answers imports this module when an answer is drawn or saved
    from sscp_lib.explore.answers import Answer

WORKING_COLOUR = "#B00020"
HIDDEN_LABEL = "Hidden (small counts)"
NOTE_SIZE = 7.5  # points


def colours(n: int) -> list[str]:
    """The house palette, or a longer categorical one when there are more series than it has."""
    if n <= len(charts.PALETTE):
        return charts.PALETTE[:n]
    cmap = plt.get_cmap("tab20")
    return [matplotlib_hex(cmap(i % 20)) for i in range(n)]


def matplotlib_hex(rgba) -> str:
    return "#" + "".join(f"{round(255 * c):02X}" for c in rgba[:3])


def notes(answer: Answer) -> list[str]:
    """The lines printed under a chart and a saved table."""
    lines = [f"Source: {answer.source}."]
    if answer.filters:
        lines.append(f"Rows: {'; '.join(answer.filters)}.")
    if answer.suppressed:
        lines.append(
            f"Counts of 1 to {answer.threshold} and any count that would reveal them are shown as '{SUPPRESSED}'."
        )
    else:
        lines.append(WORKING_NOTE + ".")
    if answer.synthetic:
        lines.append(charts.SYNTHETIC_NOTE + ".")
    return lines


def _month_ticks(ax, months: list[str]) -> None:
    periods = [pd.Period(m, freq="M") for m in months]
    step = 1 if len(periods) <= 18 else 3
    labels = [
        (f"{p:%b}\n{p:%Y}" if i == 0 or p.month == 1 else f"{p:%b}") if i % step == 0 else ""
        for i, p in enumerate(periods)
    ]
    ax.set_xticks(range(len(periods)), labels)


def _mark(ax, answer: Answer, months: list[str]) -> None:
    if answer.mark is None:
        return
    when, label = answer.mark
    periods = [pd.Period(m, freq="M") for m in months]
    for i, month in enumerate(periods):
        if month.start_time <= when <= month.end_time:
            position = i - 0.5 + (when.day - 1) / month.days_in_month
            ax.axvline(position, color=charts.HIGHLIGHT, linestyle="--", linewidth=1.2, label=label)
            return


def _counts_chart(answer: Answer):
    table = numeric_or_nan(answer.published.drop(index=TOTAL))
    values = table.iloc[:, 0]
    height = max(3.0, 0.32 * len(values) + 1.8)
    fig, ax = charts.new_chart(answer.title, sentence(answer.rows), "", figsize=(8, height))
    y = np.arange(len(values))
    ax.barh(y, values.fillna(0).to_numpy(dtype=float), color=charts.PALETTE[0])
    for position, value in zip(y, values):
        ax.text(
            0 if pd.isna(value) else value,
            position,
            f" {SUPPRESSED}" if pd.isna(value) else f" {value:,.0f}",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(y, [str(label) for label in values.index])
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#E5E5E5")
    ax.margins(x=0.1, y=0.02)
    return fig


def _crosstab_chart(answer: Answer):
    assert answer.shares is not None  # a two-way answer has shares
    shares = answer.shares.drop(index=TOTAL).drop(columns=TOTAL)
    shares = shares.apply(lambda s: pd.to_numeric(s.where(s != SUPPRESSED), errors="coerce"))
    height = max(3.0, 0.36 * len(shares) + 2.0)
    fig, ax = charts.new_chart(answer.title, f"% of the row's {answer.rows}", "", figsize=(9, height))
    y = np.arange(len(shares))
    left = np.zeros(len(shares))
    for colour, column in zip(colours(len(shares.columns)), shares.columns):
        width = shares[column].fillna(0).to_numpy(dtype=float)
        ax.barh(y, width, left=left, color=colour, label=str(column), height=0.7)
        left += width
    some_hidden = (answer.published.drop(index=TOTAL).drop(columns=TOTAL) == SUPPRESSED).any(axis=1).to_numpy()
    hidden = np.where(some_hidden, 100 - left, 0)
    if some_hidden.any():
        ax.barh(
            y, hidden, left=left, color="white", edgecolor=charts.MUTED, hatch="///", height=0.7, label=HIDDEN_LABEL
        )
    ax.set_yticks(y, [str(label) for label in shares.index])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#E5E5E5")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), title=answer.counts.columns.name)
    return fig


def _monthly_chart(answer: Answer):
    published = answer.published.drop(index=TOTAL)
    months = list(published.index)
    values = numeric_or_nan(published.drop(columns=TOTAL, errors="ignore"))
    fig, ax = charts.new_chart(answer.title, "Month", sentence(answer.rows))
    x = np.arange(len(months))
    if values.shape[1] == 1:
        series = values.iloc[:, 0]
        ax.bar(x, series.fillna(0).to_numpy(dtype=float), color=charts.PALETTE[0])
        for position in x[series.isna().to_numpy()]:
            ax.text(position, 0, SUPPRESSED, ha="center", va="bottom", fontsize=8)
    else:
        palette = colours(values.shape[1])
        for colour, column in zip(palette, values.columns):
            if answer.highlight is not None and column != answer.highlight:
                ax.plot(x, values[column].to_numpy(dtype=float), color=charts.MUTED, linewidth=1)
                continue
            ax.plot(
                x,
                values[column].to_numpy(dtype=float),
                marker="o",
                markersize=3,
                color=charts.HIGHLIGHT if answer.highlight is not None else colour,
                linewidth=2.2 if answer.highlight is not None else 1.5,
                label=str(column),
            )
        if answer.highlight is not None:
            ax.plot([], [], color=charts.MUTED, linewidth=1, label=f"Other {answer.by} values")
    _month_ticks(ax, months)
    _mark(ax, answer, months)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def _monthly_share_chart(answer: Answer):
    published = answer.published.drop(index=TOTAL)
    table = answer.table.drop(index=TOTAL)
    months = list(published.index)
    share = pd.to_numeric(table.iloc[:, -1].where(table.iloc[:, -1] != SUPPRESSED), errors="coerce")
    value = answer.counts.columns[0]
    fig, ax = charts.new_chart(answer.title, "Month", f"% of {answer.rows}")
    x = np.arange(len(months))
    ax.plot(x, share.to_numpy(dtype=float), marker="o", markersize=4, color=charts.PALETTE[0], label=value)
    # A hidden month: the share could be anything from 1 to threshold rows of the month's total.
    totals = pd.to_numeric(published[TOTAL].where(published[TOTAL] != SUPPRESSED), errors="coerce")
    hidden = (published[value] == SUPPRESSED).to_numpy() & totals.notna().to_numpy() & (totals > 0).to_numpy()
    if hidden.any():
        ax.vlines(
            x[hidden],
            100 / totals[hidden],
            100 * answer.threshold / totals[hidden],
            color=charts.PALETTE[0],
            alpha=0.45,
            linewidth=4,
            label=f"Month with 1 to {answer.threshold} (range of the share)",
        )
    ax.set_ylim(bottom=0)
    _month_ticks(ax, months)
    _mark(ax, answer, months)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


DRAWERS = {
    "counts": _counts_chart,
    "crosstab": _crosstab_chart,
    "monthly": _monthly_chart,
    "monthly_share": _monthly_share_chart,
}


def draw(answer: Answer):
    """The answer's chart with its notes, marking and (for working figures) the warning."""
    fig = DRAWERS[answer.kind](answer)
    height = fig.get_figheight()
    lines = [line for line in notes(answer) if line != WORKING_NOTE + "."]
    text = "\n".join(textwrap.fill(line, 140) for line in lines)
    line_height = NOTE_SIZE * 1.3 / 72  # inches
    footer = (text.count("\n") + 1) * line_height + 0.1
    fig.text(0.01, 0.04 / height, text, fontsize=NOTE_SIZE, color="#505050", ha="left", va="bottom")
    if answer.working:
        fig.text(
            0.01,
            footer / height,
            WORKING_NOTE.upper(),
            fontsize=9,
            fontweight="bold",
            color=WORKING_COLOUR,
            va="bottom",
        )
        footer += 9 * 1.4 / 72
    header = 0.0
    if answer.marking:
        fig.text(
            0.99,
            1 - 0.04 / height,
            answer.marking,
            fontsize=8,
            fontweight="bold",
            ha="right",
            va="top",
            color="#3D3D3D",
        )
        header = 0.2
    # Constrained layout lays the title and chart out in what the notes and the marking leave free.
    fig.get_layout_engine().set(rect=(0, footer / height, 1, 1 - (footer + header) / height))
    return fig


def figure_png(fig, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    # On screen only: light compression is several times faster and the PNG stays small.
    fig.savefig(buffer, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    plt.close(fig)
    return buffer.getvalue()


def answer_html(answer: Answer) -> str:
    """Title, the warning for working figures, the whole table (scrolls, nothing hidden), the chart, notes."""
    parts = [f"<h4>{html.escape(answer.title)}</h4>"]
    if answer.working:
        parts.append(
            f'<p style="color:{WORKING_COLOUR};border:2px solid {WORKING_COLOUR};padding:4px 8px;font-weight:bold">'
            f"{html.escape(WORKING_NOTE)}. Save or share through answer.save(), which suppresses them.</p>"
        )
    box = '<div style="max-height:40em;overflow:auto;display:inline-block;vertical-align:top;margin-right:1em">'
    table = answer.table
    parts.append(box + table.to_html(na_rep="", index=not isinstance(table.index, pd.RangeIndex)) + "</div>")
    if answer.shares is not None:
        parts.append(box + f"<p><b>% of each row</b></p>{answer.shares.to_html(na_rep='')}</div>")
    png = base64.b64encode(figure_png(draw(answer))).decode("ascii")
    parts.append(f'<div><img src="data:image/png;base64,{png}" alt="Chart: {html.escape(answer.title)}"></div>')
    return '<div class="sscp-answer">' + "\n".join(parts) + "</div>"
