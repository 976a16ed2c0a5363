"""Figures that agree: the catalogue's part/whole and share relations hold on every sample year and on
the second partnership, the statement quotes what metrics.json and its key-figures table hold, and
the check fails on a metrics file with a part larger than its whole."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import YEAR

from sscp_lib.config import DEFAULT_CONFIG
from sscp_lib.consistency import check_metrics, check_run, check_statement
from sscp_lib.metrics import load_catalogue
from sscp_lib.pipeline import run_chain

EASTMOOR = DEFAULT_CONFIG.parent / "examples" / "eastmoor.yaml"


def _run_files(report):
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    page = (report / "assurance-statement.html").read_text(encoding="utf-8")
    return metrics, page


@pytest.fixture(scope="module")
def other_runs(chain_run, tmp_path_factory):
    """2022-23 for Solihull and 2023-24 for Eastmoor, from the session's sample (no PDF)."""
    root = tmp_path_factory.mktemp("other-runs")
    runs = {}
    for name, year, config in (("2022-23", "2022-23", None), ("eastmoor", YEAR, EASTMOOR)):
        processed, reports = root / name / "processed", root / name / "reports"
        code = run_chain(year=year, raw=chain_run.raw, processed=processed, reports=reports, config=config, pdf=False)
        assert code == 0, f"the chain failed for {name}"
        runs[name] = reports / year
    return runs


@pytest.mark.slow
def test_figures_agree_in_the_2023_24_statement(chain_run):
    metrics, page = _run_files(chain_run.report)
    assert check_run(metrics, page, load_catalogue()) == []


@pytest.mark.slow
@pytest.mark.parametrize("run", ["2022-23", "eastmoor"])
def test_figures_agree_in_the_other_statements(other_runs, run):
    metrics, page = _run_files(other_runs[run])
    assert check_run(metrics, page, load_catalogue()) == []


@pytest.mark.slow
def test_the_check_fails_on_a_part_larger_than_its_whole(chain_run):
    metrics, _ = _run_files(chain_run.report)
    broken = copy.deepcopy(metrics)
    broken["escalations.resolved"]["value"] = broken["escalations.total"]["value"] + 1
    problems = check_metrics(broken, load_catalogue())
    assert problems == [
        f"escalations.resolved = {broken['escalations.resolved']['value']} is larger than its whole "
        f"escalations.total = {broken['escalations.total']['value']}"
    ]


# --- The rules on small, made-up inputs --------------------------------------------------------

CATALOGUE = {
    "metrics": {
        "a.total": {"unit": "count", "label": "Actions"},
        "a.done": {"unit": "count", "label": "Actions done", "part_of": "a.total"},
        "a.done_pct": {"unit": "percent", "label": "Share done", "share_of": {"part": "a.done", "whole": "a.total"}},
    }
}


def _metrics(total=20, done=15, pct=75.0, previous=None):
    metrics = {
        "a.total": {"value": total, "unit": "count", "label": "Actions"},
        "a.done": {"value": done, "unit": "count", "label": "Actions done"},
        "a.done_pct": {"value": pct, "unit": "percent", "label": "Share done"},
    }
    for name, value in (previous or {}).items():
        metrics[name]["previous"] = value
    return metrics


def test_parts_and_shares_that_agree_pass():
    assert check_metrics(_metrics(), CATALOGUE) == []
    assert check_metrics(_metrics(total=3, done=1, pct=33.3), CATALOGUE) == []  # rounded to one place


def test_a_share_that_is_not_its_part_over_its_whole_fails():
    assert check_metrics(_metrics(pct=80.0), CATALOGUE) == [
        "a.done_pct = 80% is not a.done / a.total = 15 / 20 = 75.0%"
    ]


def test_the_previous_year_is_checked_too_and_suppressed_values_are_not():
    previous = {"a.total": 10, "a.done": 12}
    assert check_metrics(_metrics(previous=previous), CATALOGUE) == [
        "a.done = 12 is larger than its whole a.total = 10 (previous year)"
    ]
    assert check_metrics(_metrics(done="c", pct=None), CATALOGUE) == []


def _statement(paragraph: str, row_value: str = "15") -> str:
    return (
        f"<section><p>{paragraph}</p><table><tbody>"
        f'<tr data-metric="a.done"><th scope="row">Actions done</th><td class="num">{row_value}</td></tr>'
        "</tbody></table></section>"
    )


def _q(name: str, shown: str) -> str:
    return f'<span data-metric="{name}">{shown}</span>'


def test_prose_that_matches_metrics_and_key_figures_passes():
    page = _statement(f"Of {_q('a.total', '20')} actions, {_q('a.done', '15')} were done ({_q('a.done_pct', '75%')}).")
    assert check_statement(page, _metrics(), CATALOGUE) == []


def test_a_quoted_figure_unlike_its_key_figure_or_metrics_json_fails():
    page = _statement(f"{_q('a.done', '15')} were done.", row_value="16")
    assert check_statement(page, _metrics(), CATALOGUE) == ["a.done reads '15' in the text but '16' in the key figures"]
    page = _statement(f"{_q('a.done', '14')} were done.", row_value="14")
    assert check_statement(page, _metrics(), CATALOGUE) == [
        "the statement quotes a.done as '14'; metrics.json gives '15'"
    ]


def test_a_share_quoted_with_its_part_but_not_its_whole_fails():
    # "15 actions (75% of them)" beside a different count leaves the reader to guess the whole.
    page = _statement(f"{_q('a.done', '15')} actions were done ({_q('a.done_pct', '75%')} of them).")
    (problem,) = check_statement(page, _metrics(), CATALOGUE)
    assert problem.startswith("a paragraph quotes a.done_pct with its part a.done but not its whole a.total")
