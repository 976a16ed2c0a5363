"""Exploring the child-level tables in a notebook: load, filter, answer, save.

    from sscp_lib.explore import *
    referrals = load_referrals()                                   # every year of the latest run
    recent = filter_rows(referrals, start="2023-10", end="2024-03")
    count(recent, "source")                                        # table and chart, suppressed
    count(referrals, "source_group", "outcome", suppress=False)    # working figures, marked as such
    monthly_share(filter_rows(load_police_referrals(), domestic_abuse="yes"), "dara", "yes")
    answer.save("briefing.xlsx")                                   # suppressed, with source and marking
    data_dictionary("referrals")                                   # columns, meanings, codes

Modules by job: tables (load), vocabulary (column and value names), filters and answers
(compute), draw (charts and the on-screen view), save (files for briefings), dictionary,
widgets (drop-downs over the same helpers), lab (starting JupyterLab on a working copy).
"""

from .answers import Answer, count, monthly, monthly_share
from .dictionary import data_dictionary
from .filters import filter_rows
from .lab import briefing_folder
from .tables import (
    TABLES,
    describe,
    load_contacts,
    load_health_referrals,
    load_plans,
    load_police_referrals,
    load_referrals,
    load_table,
)
from .vocabulary import NOT_RECORDED, ExploreError


def explorer(frame, by: str = "source_group"):
    """Drop-downs over a table (see widgets.explorer); ipywidgets is imported only when asked for."""
    from .widgets import explorer as make

    return make(frame, by)


__all__ = [
    "NOT_RECORDED",
    "TABLES",
    "Answer",
    "ExploreError",
    "briefing_folder",
    "count",
    "data_dictionary",
    "describe",
    "explorer",
    "filter_rows",
    "load_contacts",
    "load_health_referrals",
    "load_plans",
    "load_police_referrals",
    "load_referrals",
    "load_table",
    "monthly",
    "monthly_share",
]
