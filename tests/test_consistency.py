"""Figures that agree: the catalogue's part/whole and share relations hold on every sample year and on
the second partnership, the statement quotes what metrics.json and its key-figures table hold, and
the check fails on a metrics file with a part larger than its whole."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import YEAR

from sscp_lib.catalogue import load_catalogue
from sscp_lib.chain.pipeline import run_chain
from sscp_lib.config import DEFAULT_CONFIG, NARRATIVE_DIR
from sscp_lib.publishing.consistency import check_metrics, check_run, check_statement

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


@pytest.mark.slow
def test_the_chain_refuses_to_publish_a_statement_whose_figures_disagree(chain_copy, capsys):
    # The 2023-24 narrative with "(the previous best was 498 people)" cut to "(... was 498)": two
    # counts of attendees and one of modules in one sentence, one of them no longer saying what it counts.
    narrative = (NARRATIVE_DIR / f"{YEAR}.md").read_text(encoding="utf-8")
    cut = narrative.replace("training_same_quarters_previous_max }} people)", "training_same_quarters_previous_max }})")
    assert cut != narrative
    (chain_copy.root / "narrative.md").write_text(cut, encoding="utf-8")
    config = chain_copy.root / "partnership.yaml"
    config.write_text(
        DEFAULT_CONFIG.read_text(encoding="utf-8").replace(
            "narrative: ../narrative/{year}.md", "narrative: narrative.md"
        ),
        encoding="utf-8",
    )
    before = (chain_copy.report / "assurance-statement.html").read_bytes()
    code = run_chain(
        year=YEAR,
        raw=chain_copy.raw,
        processed=chain_copy.processed,
        reports=chain_copy.reports,
        config=config,
        pdf=False,
        start_from="statement",
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "the statement's figures do not agree with each other, so it was not published" in err
    assert "support_hub.training_same_quarters_previous_max = 498 (attendees)" in err
    assert "Traceback" not in err
    assert (chain_copy.report / "assurance-statement.html").read_bytes() == before


# --- The rules on small, made-up inputs --------------------------------------------------------

CATALOGUE = {
    "metrics": {
        "a.total": {"unit": "count", "label": "Actions", "counts": "actions"},
        "a.done": {"unit": "count", "label": "Actions done", "part_of": "a.total", "counts": "actions"},
        "a.done_pct": {"unit": "percent", "label": "Share done", "share_of": {"part": "a.done", "whole": "a.total"}},
        "b.audits": {"unit": "count", "label": "Audits held", "counts": "audits"},
        "b.cases": {"unit": "count", "label": "Cases graded", "counts": ["cases", "case files"]},
    }
}


def _metrics(total=20, done=15, pct=75.0, previous=None):
    metrics = {
        "b.audits": {"value": 6, "unit": "count", "label": "Audits held"},
        "b.cases": {"value": 40, "unit": "count", "label": "Cases graded"},
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


def _sentence_problems(paragraph: str) -> list[str]:
    return check_statement(_statement(paragraph), _metrics(), CATALOGUE)


def test_counts_of_different_kinds_in_one_sentence_must_each_say_what_they_count():
    # Six audits and then forty "of them": forty what? The reader takes them to be audits.
    (problem,) = _sentence_problems(f"We held {_q('b.audits', '6')} audits and graded {_q('b.cases', '40')} of them.")
    assert problem.startswith(
        "a sentence sets b.cases = 40 (cases) beside b.audits (audits) without saying what it counts: "
        "put 'cases' or 'case files' next to it"
    )
    # Both named, one after and one before its figure, or in another sentence: nothing to report.
    assert (
        _sentence_problems(f"We held {_q('b.audits', '6')} audits and graded {_q('b.cases', '40')} case files.") == []
    )
    assert _sentence_problems(f"Audits held: {_q('b.audits', '6')}; {_q('b.cases', '40')} cases were graded.") == []
    assert (
        _sentence_problems(f"We held {_q('b.audits', '6')} audits. Of them, {_q('b.cases', '40')} were graded.") == []
    )


def test_counts_of_one_kind_may_stand_side_by_side_unnamed():
    # "Of 20 actions, 15 were done" counts actions twice: nothing to say.
    assert _sentence_problems(f"Of {_q('a.total', '20')}, {_q('a.done', '15')} were done.") == []


def test_a_noun_in_the_next_sentence_does_not_count():
    # "Cases" opens the next sentence: the forty of this one still say nothing of what they are.
    problems = _sentence_problems(f"We held {_q('b.audits', '6')} audits and graded {_q('b.cases', '40')}. Cases vary.")
    assert len(problems) == 1 and problems[0].startswith("a sentence sets b.cases = 40 (cases)")


def test_a_noun_past_the_next_figure_or_a_decimal_point_does_not_count():
    # The noun after the second figure is not the first figure's noun; "3.5" does not end the sentence.
    problems = _sentence_problems(f"After 3.5 weeks {_q('b.audits', '6')} and {_q('b.cases', '40')} cases were noted.")
    assert len(problems) == 1 and problems[0].startswith("a sentence sets b.audits = 6 (audits)")
