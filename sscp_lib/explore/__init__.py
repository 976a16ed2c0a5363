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

from sscp_lib.errors import UserError
from sscp_lib.explore.answers import Answer, count, monthly, monthly_share
from sscp_lib.explore.dictionary import data_dictionary
from sscp_lib.explore.filters import filter_rows
from sscp_lib.explore.lab import briefing_folder
from sscp_lib.explore.tables import (
    TABLES,
    describe,
    load_contacts,
    load_health_referrals,
    load_plans,
    load_police_referrals,
    load_referrals,
    load_table,
)
from sscp_lib.explore.vocabulary import NOT_RECORDED, ExploreError


def one_line_error(shell, etype, value, tb, tb_offset=None) -> list[str]:
    """IPython shows a UserError as its message: the message says what to do, a traceback would not."""
    lines = [f"{etype.__name__}: {value}"]
    shell._showtraceback(etype, value, lines)  # IPython leaves showing a custom exception to its handler
    return lines


def _short_user_errors_in_notebooks() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and not shell.custom_exceptions:
        shell.set_custom_exc((UserError,), one_line_error)


_short_user_errors_in_notebooks()


def explorer(frame, by: str = "source_group"):
    """Drop-downs over a table (see widgets.explorer); ipywidgets is imported only when asked for."""
    from sscp_lib.explore.widgets import explorer as make

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
