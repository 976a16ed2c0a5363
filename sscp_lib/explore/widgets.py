"""Drop-downs in JupyterLab over the same helpers: pick year, source, outcome, category and what
to count by, and the table and chart below follow.

    explorer(referrals)

Each change runs filter_rows and count (or monthly) exactly as a cell would, suppressed.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd
from IPython.display import display

from sscp_lib.explore.answers import Answer, count, monthly
from sscp_lib.explore.filters import filter_rows
from sscp_lib.explore.tables import table_of
from sscp_lib.explore.vocabulary import ExploreError, column_for, heading, sentence

ALL = "All"
MONTH = "month"
# Filters offered, where the table has them (short names as filter_rows takes them).
FILTERS = ("year", "source_group", "source", "outcome", "category")
COUNT_BY = ("source_group", "source", "outcome", "category", "domestic_abuse", MONTH)


def _options(frame: pd.DataFrame, name: str) -> list[str]:
    if name == "year":
        return [ALL] + sorted(frame["reporting_year"].dropna().unique(), reverse=True)
    labels = frame[f"{column_for(frame, name)}_label"]
    present = set(labels.dropna().unique())
    return [ALL] + [label for label in labels.cat.categories if label in present]


def _available(frame: pd.DataFrame, names) -> list[str]:
    found = []
    for name in names:
        if name in ("year", MONTH):
            found.append(name)
            continue
        try:
            if f"{column_for(frame, name)}_label" in frame.columns:
                found.append(name)
        except ExploreError:
            continue
    return found


class Explorer:
    """The drop-downs, the answer they give (`answer`) and the HTML view showing it."""

    def __init__(self, frame: pd.DataFrame, by: str = "source_group"):
        self.frame = frame
        dataset = table_of(frame).dataset
        self.filters = {
            name: widgets.Dropdown(
                options=_options(frame, name),
                value=ALL,
                description="Year" if name == "year" else sentence(heading(dataset, column_for(frame, name))),
                style={"description_width": "initial"},
            )
            for name in _available(frame, FILTERS)
        }
        choices = _available(frame, COUNT_BY)
        self.by = widgets.Dropdown(
            options=[("Month" if c == MONTH else sentence(heading(dataset, column_for(frame, c))), c) for c in choices],
            value=by if by in choices else choices[0],
            description="Count by",
        )
        # The answer is shown as HTML in a widget (no output capture, which headless runs handle badly).
        self.view = widgets.HTML()
        self.answer: Answer | None = None
        for control in [*self.filters.values(), self.by]:
            control.observe(lambda _change: self.refresh(), names="value")
        self.widget = widgets.VBox(
            [
                widgets.HBox(list(self.filters.values())[:3]),
                widgets.HBox([*list(self.filters.values())[3:], self.by]),
                self.view,
            ]
        )
        self.refresh()

    def chosen(self) -> dict:
        return {name: control.value for name, control in self.filters.items() if control.value != ALL}

    def compute(self) -> Answer:
        rows = filter_rows(self.frame, **self.chosen())
        return monthly(rows) if self.by.value == MONTH else count(rows, self.by.value)

    def refresh(self) -> None:
        try:
            self.answer = self.compute()
            self.view.value = self.answer._repr_html_()
        except ExploreError as exc:
            self.answer = None
            self.view.value = f"<p>{html.escape(str(exc))}</p>"

    def _ipython_display_(self):
        display(self.widget)


def explorer(frame: pd.DataFrame, by: str = "source_group") -> Explorer:
    """Drop-downs for the table's year, source, outcome and category, and what to count by."""
    return Explorer(frame, by)
