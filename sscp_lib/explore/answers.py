"""Compute: answers to an analyst's question in one call, each a labelled table with a chart.

    count(referrals, "source")                       # one-way: counts and % of all
    count(referrals, "source_group", "outcome")      # two-way: counts with totals, and % of each row
    monthly(referrals, by="source_group")            # a long table: month, group, count, % of month
    monthly_share(police, "dara", "yes")             # per month: with, without, total, % with

Labels follow the contract's order ("Not recorded" after them). Counts of children's records are
suppressed by default (1 to the partnership's threshold show as "c", with the cells that would
reveal them); `suppress=False` gives working figures, marked as not for publication wherever
shown, and never saved as they are: `save` always writes the suppressed answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from sscp_lib.analysis.common import TOTAL
from sscp_lib.analysis.referrals import published_counts
from sscp_lib.config import load_config
from sscp_lib.contract import load_contract
from sscp_lib.disclosure import SUPPRESSED
from sscp_lib.explore.tables import partnership_settings, table_of
from sscp_lib.explore.vocabulary import (
    NOT_RECORDED,
    WORKING_NOTE,
    ExploreError,
    column_for,
    heading,
    humanise,
    labels_for,
    sentence,
    values_for,
)

SHARE = "%"  # heading prefix of share columns


@dataclass(frozen=True)
class Answer:
    """Counts behind a question, and how to show them: `table` (and `shares`), `chart()`, `save()`."""

    kind: str  # counts | crosstab | monthly | monthly_share
    title: str
    rows: str  # what is counted: "referrals"
    counts: pd.DataFrame = field(repr=False)  # raw counts, labelled, no totals
    suppressed: bool
    threshold: int
    source: str
    synthetic: bool
    filters: tuple[str, ...] = ()
    marking: str = ""  # the partnership's protective marking, printed on charts and saved files
    by: str | None = None  # heading of the grouping column(s)
    mark: tuple[pd.Timestamp, str] | None = None  # a date to mark on a monthly chart
    highlight: str | None = None  # the value drawn in colour on a monthly chart

    @property
    def published(self) -> pd.DataFrame:
        """The counts with totals, small cells and those revealing them shown as "c" when suppressed."""
        counts = self.counts.astype("int64")
        row_totals = self.kind in ("crosstab", "monthly_share") or (self.kind == "monthly" and counts.shape[1] > 1)
        if self.suppressed:
            return published_counts(counts, self.threshold, row_totals=row_totals)
        table = counts.copy()
        if row_totals:
            table[TOTAL] = table.sum(axis=1)
        table.loc[TOTAL] = table.sum(axis=0)
        return table.astype(object)

    @property
    def table(self) -> pd.DataFrame:
        """The answer as shown and saved, shares beside counts."""
        return TABLE_LAYOUT[self.kind](self)

    @property
    def shares(self) -> pd.DataFrame | None:
        """Percent of each row (two-way counts only); hidden where the count is."""
        if self.kind != "crosstab":
            return None
        published = self.published
        raw = self.counts.astype("int64")
        raw = raw.assign(**{TOTAL: raw.sum(axis=1)})
        raw.loc[TOTAL] = raw.sum(axis=0)
        pct = 100 * raw.div(raw[TOTAL].where(raw[TOTAL] > 0), axis=0)
        return _hide_like(pct.round(1), published)

    @property
    def working(self) -> bool:
        return not self.suppressed

    def with_suppression(self) -> Answer:
        return replace(self, suppressed=True)

    def chart(self):
        """The answer's chart (matplotlib figure) with its notes."""
        from sscp_lib.explore.draw import draw

        return draw(self)

    def save(self, path, **kwargs):
        """Write the suppressed table (.csv, .xlsx) or chart (.png, .svg) with source, marking and notes."""
        from sscp_lib.explore.save import save

        return save(self, path, **kwargs)

    def _repr_html_(self) -> str:
        from sscp_lib.explore.draw import answer_html

        return answer_html(self)

    def __repr__(self) -> str:
        note = f"\n[{WORKING_NOTE}]" if self.working else ""
        return f"{self.title}{note}\n{self.table.to_string()}"


def _hide_like(values: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Values with a "c" wherever the published count is hidden (a share would reveal it)."""
    out = values.astype(object).where(values.notna(), "")
    for column in published.columns:
        hidden = published[column].astype(object) == SUPPRESSED
        out.loc[hidden, column] = SUPPRESSED
    return out


def _counts_table(answer: Answer) -> pd.DataFrame:
    published = answer.published
    total = int(answer.counts.to_numpy().sum())
    column = published.columns[0]
    raw = answer.counts.iloc[:, 0].astype("int64")
    raw.loc[TOTAL] = total
    pct = (100 * raw / total).round(1) if total else raw * float("nan")
    shares = _hide_like(pct.to_frame(column), published)[column]
    return pd.DataFrame({column: published[column], f"{SHARE} of all": shares})


def _crosstab_table(answer: Answer) -> pd.DataFrame:
    return answer.published


def _monthly_table(answer: Answer) -> pd.DataFrame:
    published = answer.published
    noun = sentence(answer.rows)
    if answer.counts.shape[1] == 1:
        return published.rename(columns={published.columns[0]: noun})
    raw = answer.counts.astype("int64")
    raw[TOTAL] = raw.sum(axis=1)
    raw.loc[TOTAL] = raw.sum(axis=0)
    pct = _hide_like((100 * raw.div(raw[TOTAL].where(raw[TOTAL] > 0), axis=0)).round(1), published)
    long = pd.DataFrame(
        {
            "Month": [m for m in published.index for _ in published.columns],
            sentence(answer.by or "value"): [c for _ in published.index for c in published.columns],
            noun: [published.loc[m, c] for m in published.index for c in published.columns],
            f"{SHARE} of month": [pct.loc[m, c] for m in published.index for c in published.columns],
        }
    )
    return long


def _monthly_share_table(answer: Answer) -> pd.DataFrame:
    published = answer.published
    value = answer.counts.columns[0]
    raw = answer.counts.astype("int64")
    raw[TOTAL] = raw.sum(axis=1)
    raw.loc[TOTAL] = raw.sum(axis=0)
    pct = (100 * raw[value] / raw[TOTAL].where(raw[TOTAL] > 0)).round(1)
    # A share beside a hidden count (or a hidden total) would reveal it.
    visible = (published[value] != SUPPRESSED) & (published[TOTAL] != SUPPRESSED)
    table = published.copy()
    table[f"{SHARE} {value}"] = pct.astype(object).where(visible & pct.notna(), SUPPRESSED).where(pct.notna(), "")
    table.index.name = "Month"
    return table


TABLE_LAYOUT = {
    "counts": _counts_table,
    "crosstab": _crosstab_table,
    "monthly": _monthly_table,
    "monthly_share": _monthly_share_table,
}


# --------------------------------------------------------------------------------------------
# The questions
# --------------------------------------------------------------------------------------------


def _labelled(frame: pd.DataFrame, name: str) -> tuple[str, pd.Series]:
    """The column an analyst names, as labels in the contract's order (its label column if any)."""
    column = column_for(frame, name).removesuffix("_label")
    dataset = table_of(frame).dataset
    if f"{column}_label" in frame.columns:
        return heading(dataset, column), frame[f"{column}_label"]
    values = frame[column]
    if isinstance(values.dtype, pd.CategoricalDtype):
        return heading(dataset, column), values
    text = values.astype("string").fillna(NOT_RECORDED)
    order = sorted(set(text.unique()) - {NOT_RECORDED}) + [NOT_RECORDED]
    return heading(dataset, column), pd.Series(pd.Categorical(text, categories=order, ordered=True), index=frame.index)


def _tidy(counts: pd.DataFrame, drop_empty: bool, axis: int) -> pd.DataFrame:
    """Drop categories with no rows: all of them with drop_empty, else "Not recorded" and values off the list."""
    labels = counts.index if axis == 0 else counts.columns
    empty = counts.sum(axis=1 - axis) == 0
    keep = [label for label in labels if not empty[label] or (not drop_empty and not _is_extra(label, labels))]
    return counts.loc[keep] if axis == 0 else counts[keep]


def _is_extra(label, labels) -> bool:
    # Contract labels come first; "Not recorded" and anything after it is not a contract label.
    return list(labels).index(label) >= list(labels).index(NOT_RECORDED) if NOT_RECORDED in labels else False


def _context(frame: pd.DataFrame, suppress: bool, threshold: int | None) -> dict:
    # The loader noted the config's threshold and marking; a frame built otherwise reads the config.
    if "threshold" not in frame.attrs or "marking" not in frame.attrs:
        frame = frame.copy()
        frame.attrs.update(partnership_settings())
    return {
        "suppressed": suppress,
        "threshold": frame.attrs["threshold"] if threshold is None else threshold,
        "marking": frame.attrs["marking"],
        "source": frame.attrs.get("source", f"validated {table_of(frame).rows}"),
        "synthetic": bool(frame.attrs.get("synthetic", False)),
        "filters": tuple(frame.attrs.get("filters", ())),
    }


def _title(title: str | None, what: str, filters: tuple[str, ...]) -> str:
    if title:
        return title
    return sentence(what) + (f", {'; '.join(filters)}" if filters else "")


def count(
    frame: pd.DataFrame,
    rows: str,
    cols: str | None = None,
    *,
    suppress: bool = True,
    threshold: int | None = None,
    drop_empty: bool | None = None,
    title: str | None = None,
) -> Answer:
    """Counts by one column (with % of all) or two (with totals and % of each row).

    By one column, every code of its list is a row, zeros included; by two, codes no row has are
    left out (`drop_empty` says otherwise). "Not recorded" appears when some value is missing.
    """
    noun = table_of(frame).rows
    row_heading, row_values = _labelled(frame, rows)
    context = _context(frame, suppress, threshold)
    if cols is None:
        counts = (
            row_values.value_counts(sort=False)
            .reindex(row_values.cat.categories, fill_value=0)
            .to_frame(sentence(noun))
        )
        counts = _tidy(counts, bool(drop_empty), axis=0)
        counts.index.name = sentence(row_heading)
        return Answer(
            "counts",
            _title(title, f"{noun} by {row_heading}", context["filters"]),
            noun,
            counts,
            by=row_heading,
            **context,
        )
    col_heading, col_values = _labelled(frame, cols)
    counts = pd.crosstab(row_values, col_values, dropna=False)
    counts = counts.reindex(index=row_values.cat.categories, columns=col_values.cat.categories, fill_value=0)
    drop_empty = True if drop_empty is None else drop_empty
    counts = _tidy(_tidy(counts, drop_empty, axis=0), drop_empty, axis=1)
    counts.index.name, counts.columns.name = sentence(row_heading), sentence(col_heading)
    what = f"{noun} by {row_heading} and {col_heading}"
    return Answer(
        "crosstab",
        _title(title, what, context["filters"]),
        noun,
        counts,
        by=f"{row_heading} and {col_heading}",
        **context,
    )


def _months(frame: pd.DataFrame) -> tuple[pd.Series, pd.PeriodIndex]:
    """Each row's month, and every month from the first asked for (or present) to the last."""
    period_column = load_contract().dataset(table_of(frame).dataset).period_column
    month = frame[period_column].dt.to_period("M")
    first, last = frame.attrs.get("span") or (None, None)
    first = pd.Period(first, freq="M") if first is not None else month.min()
    last = pd.Period(last, freq="M") if last is not None else month.max()
    if pd.isna(first) or pd.isna(last):
        raise ExploreError(f"no {table_of(frame).rows} to count by month: the filters left none")
    return month, pd.period_range(first, last, freq="M")


def _month_index(months: pd.PeriodIndex) -> pd.Index:
    return pd.Index([m.strftime("%Y-%m") for m in months], name="Month")


def monthly(
    frame: pd.DataFrame,
    by: str | None = None,
    *,
    suppress: bool = True,
    threshold: int | None = None,
    drop_empty: bool = True,
    highlight: str | None = None,
    mark: str | None = None,
    title: str | None = None,
) -> Answer:
    """Rows per month, every month from the first to the last (empty months as 0).

    With `by`: a long table (month, value, count, % of the month's rows) and a line per value;
    `highlight` names one value to draw in colour over the others in grey. `mark` names a date
    rule of the partnership config (e.g. "nfa_changeover_date") to draw on the chart.
    """
    noun = table_of(frame).rows
    month, months = _months(frame)
    context = _context(frame, suppress, threshold)
    if by is None:
        counts = month.value_counts().reindex(months, fill_value=0).to_frame(sentence(noun))
        counts.index = _month_index(months)
        what = f"{noun} by month"
        by_heading = None
    else:
        by_heading, values = _labelled(frame, by)
        counts = pd.crosstab(month.to_numpy(), values.to_numpy())
        counts = counts.reindex(index=months, columns=values.cat.categories, fill_value=0)
        counts = _tidy(counts, drop_empty, axis=1)
        counts.index = _month_index(months)
        counts.columns.name = sentence(by_heading)
        what = f"{noun} by month and {by_heading}"
        if highlight is not None:
            labels = labels_for(table_of(frame).dataset, column_for(frame, by).removesuffix("_label")) or {}
            wanted = values_for(
                frame, table_of(frame).dataset, column_for(frame, by).removesuffix("_label"), highlight
            )[0]
            highlight = NOT_RECORDED if pd.isna(wanted) else labels.get(wanted, str(wanted))
    return Answer(
        "monthly",
        _title(title, what, context["filters"]),
        noun,
        counts,
        by=by_heading,
        mark=_mark(mark),
        highlight=highlight,
        **context,
    )


def monthly_share(
    frame: pd.DataFrame,
    column: str,
    value,
    *,
    suppress: bool = True,
    threshold: int | None = None,
    mark: str | None = None,
    title: str | None = None,
) -> Answer:
    """Per month: rows with `column` = `value`, the others, the total and the share with it.

    monthly_share(police_da, "dara", "yes"): DARA forms with police domestic-abuse referrals.
    monthly_share(referrals, "source_group", "Unknown"): the Unknown-source share.
    """
    table = table_of(frame)
    name = column_for(frame, column).removesuffix("_label")
    wanted = values_for(frame, table.dataset, name, value)
    labels = labels_for(table.dataset, name) or {}
    shown = ", ".join(NOT_RECORDED if pd.isna(v) else labels.get(v, str(v)) for v in wanted)
    col_heading = heading(table.dataset, name)
    codes = [v for v in wanted if not pd.isna(v)]
    match = frame[name].isin(codes).fillna(False).astype(bool)
    if len(codes) < len(wanted):
        match |= frame[name].isna()
    month, months = _months(frame)
    with_value = month[match].value_counts().reindex(months, fill_value=0)
    everything = month.value_counts().reindex(months, fill_value=0)
    value_heading = f"{sentence(col_heading)}: {shown}"
    counts = pd.DataFrame({value_heading: with_value, "Other": everything - with_value})
    counts.index = _month_index(months)
    context = _context(frame, suppress, threshold)
    what = f"share of {table.rows} where {col_heading} is {shown}, by month"
    return Answer(
        "monthly_share",
        _title(title, what, context["filters"]),
        table.rows,
        counts,
        by=col_heading,
        mark=_mark(mark),
        **context,
    )


def _mark(rule: str | None) -> tuple[pd.Timestamp, str] | None:
    if rule is None:
        return None
    config = load_config()
    try:
        when = config.data_rule_date(rule)
    except KeyError:
        raise ExploreError(
            f"no date rule {rule!r} in the partnership config; rules: {', '.join(config['data_rules'])}"
        ) from None
    return pd.Timestamp(when), f"{sentence(humanise(rule.removesuffix('_date')))} {when:%-d %b %Y}"
