"""Review without the chain: run history, the comparison of two runs, approvals, the changes page."""

from __future__ import annotations

import copy
import json
import shutil

import pytest
from render_fixtures import YEAR, fixture_metrics, page_text, solihull_config

from sscp_lib.errors import UserError
from sscp_lib.files import write_json_atomic
from sscp_lib.publishing.narrative import narrative_path
from sscp_lib.publishing.render import external_references
from sscp_lib.review.approvals import approval_state, fingerprint, load_approvals, record_approval, resolve_roles
from sscp_lib.review.changes import changed_figures, changed_inputs, compare_runs, narrative_sentences
from sscp_lib.review.changes_report import changes_text, write_changes_page
from sscp_lib.review.history import carry_over, history_runs, load_run, runs_kept

HASH_A, HASH_B = "a" * 64, "b" * 64


def manifest(started: str, **changes) -> dict:
    base = {
        "year": YEAR,
        "outcome": "ok",
        "started": started,
        "inputs": {f"{YEAR}/referrals.csv": HASH_A, f"{YEAR}/audits.csv": HASH_A},
        "config_sha256": "c" * 64,
        "narrative_sha256": "d" * 64,
        "narrative_file": "narrative/2023-24.md",
        "git": {"commit": "0123456789abcdef", "uncommitted_changes": False},
        "packages": {"pandas": "3.1.1"},
        "parameters": {},
    }
    base.update(changes)
    return base


def write_run(folder, metrics: dict, run_manifest: dict):
    write_json_atomic(folder / "metrics.json", metrics)
    write_json_atomic(folder / "manifest.json", run_manifest)
    return folder


# --- History --------------------------------------------------------------------------------------


def test_carry_over_keeps_the_replaced_run_and_prunes_to_the_configured_number(tmp_path):
    final, staging = tmp_path / "2023-24", tmp_path / ".staging"
    staging.mkdir()
    for hour in range(4):
        write_run(final, {"x": {"value": hour, "unit": "count"}}, manifest(f"2024-06-01T1{hour}:00:00+00:00"))
        assert carry_over(final, staging, keep=2) is not None
        # The next run replaces the report: staging becomes final.
        shutil.rmtree(final / "history", ignore_errors=True)
        shutil.copytree(staging / "history", final / "history")
    kept = history_runs(staging)
    assert [p.name for p in kept] == ["20240601T120000Z", "20240601T130000Z"]
    assert json.loads((kept[-1] / "metrics.json").read_text())["x"]["value"] == 3


def test_the_first_run_has_no_earlier_run_and_a_failed_run_is_not_kept(tmp_path):
    final, staging = tmp_path / "2023-24", tmp_path / ".staging"
    staging.mkdir()
    assert carry_over(final, staging, keep=3) is None
    write_run(final, {}, manifest("2024-06-01T10:00:00+00:00", outcome="failed"))
    assert carry_over(final, staging, keep=3) is None


def test_approvals_survive_the_swap(tmp_path):
    final, staging = tmp_path / "2023-24", tmp_path / ".staging"
    staging.mkdir()
    write_run(final, {}, manifest("2024-06-01T10:00:00+00:00"))
    (final / "approvals.json").write_text('{"approvals": []}')
    carry_over(final, staging, keep=1)
    assert (staging / "approvals.json").read_text() == '{"approvals": []}'


@pytest.mark.parametrize("value", [0, -1, "3", 2.5, True])
def test_runs_kept_must_be_a_whole_number_of_runs(value):
    with pytest.raises(UserError, match="review.runs_kept"):
        runs_kept({"review": {"runs_kept": value}})


def test_runs_kept_is_read_from_the_partnership_config():
    assert runs_kept(solihull_config()) == solihull_config()["review"]["runs_kept"]


# --- Comparison -----------------------------------------------------------------------------------


def test_changed_figures_lists_exactly_the_values_that_moved():
    old = fixture_metrics()
    new = copy.deepcopy(old)
    new["data.referrals"]["value"] = old["data.referrals"]["value"] + 7
    new["data.referrals"]["previous"] = 4321
    new["challenges.cspr_published"]["value"] = 6
    table = new["challenges.referrals_by_category"]["value"]
    table["rows"][0][1] += 1
    found = changed_figures(old, new, {})
    assert {(f.name, f.previous_year) for f in found} == {
        ("data.referrals", False),
        ("data.referrals", True),
        ("challenges.cspr_published", False),
        ("challenges.referrals_by_category", False),
    }
    by_name = {(f.name, f.previous_year): f for f in found}
    assert by_name[("challenges.cspr_published", False)].before == "c"
    assert by_name[("challenges.cspr_published", False)].after == "6"
    assert by_name[("data.referrals", True)].label.endswith("(previous year)")
    assert "1 cell differ" in by_name[("challenges.referrals_by_category", False)].after
    assert changed_figures(old, copy.deepcopy(old), {}) == []


def test_a_figure_is_shown_with_the_narrative_sentence_that_quotes_it():
    config, metrics = solihull_config(), fixture_metrics()
    sentences = narrative_sentences(narrative_path(config, YEAR), metrics, YEAR, config)
    sentence = sentences["business_plan.ipbp_complete"]
    assert sentence.startswith("Of ") and sentence.endswith(".")
    assert "{{" not in sentence and "\x02" not in sentence
    assert f"{metrics['business_plan.ipbp_complete']['value']:,}" in sentence
    # Headline sentences lose their "Headline:" prefix; list items their bullet and bold.
    assert not sentences["business_plan.ipbp_complete_pct"].startswith("Headline")
    assert "**" not in sentences["priorities.neglect_complete_pct"]


def test_changed_inputs_by_sha256():
    old = manifest("2024-06-01T10:00:00+00:00")
    new = manifest(
        "2024-06-02T10:00:00+00:00",
        inputs={f"{YEAR}/referrals.csv": HASH_B, f"{YEAR}/training.csv": HASH_A},
    )
    assert [(i.file, i.change) for i in changed_inputs(old, new)] == [
        (f"{YEAR}/audits.csv", "removed"),
        (f"{YEAR}/referrals.csv", "changed"),
        (f"{YEAR}/training.csv", "added"),
    ]


def _runs(tmp_path, new_metrics=None, **new_manifest):
    old_metrics = fixture_metrics()
    old = load_run(write_run(tmp_path / "old", old_metrics, manifest("2024-06-01T10:00:00+00:00")))
    new = load_run(
        write_run(
            tmp_path / "new",
            new_metrics or copy.deepcopy(old_metrics),
            manifest("2024-06-02T10:00:00+00:00", **new_manifest),
        )
    )
    return old, new


def test_changes_page_and_text_for_one_moved_figure_and_file(tmp_path):
    config = solihull_config()
    metrics = fixture_metrics()
    metrics["data.referrals"]["value"] += 11
    old, new = _runs(
        tmp_path,
        metrics,
        inputs={f"{YEAR}/referrals.csv": HASH_B, f"{YEAR}/audits.csv": HASH_A},
        narrative_sha256="e" * 64,
    )
    comparison = compare_runs(new, old, config, narrative_path(config, YEAR))
    assert comparison.figures_changed == 1
    assert comparison.summary_line().startswith("1 figure changed since the run of 1 June 2024")
    page = write_changes_page(comparison, tmp_path / "new", partnership="SSCP", synthetic=True, marking="OFFICIAL")
    html = page.read_text()
    assert external_references(html) == []
    text = page_text(html)
    assert "6. Provide analyses of trends" in text
    assert "Referrals" in text and f"{metrics['data.referrals']['value']:,}" in text
    assert f"{YEAR}/referrals.csv" in text and HASH_B[:12] in text and f"{YEAR}/audits.csv" not in text
    assert "The narrative changed" in text
    terminal = changes_text(comparison)
    assert "6. Provide analyses of trends" in terminal and f"{YEAR}/referrals.csv: changed" in terminal
    assert f"{metrics['data.referrals']['value']:,}" in terminal


def test_nothing_changed_and_the_first_run_say_so(tmp_path):
    config = solihull_config()
    old, new = _runs(tmp_path)
    same = compare_runs(new, old, config, narrative_path(config, YEAR))
    assert same.summary_line().startswith("No figures changed")
    assert "No figures changed" in page_text(
        write_changes_page(same, tmp_path / "new", partnership="SSCP", synthetic=False, marking="OFFICIAL").read_text()
    )
    assert "No figures changed." in changes_text(same)
    first = compare_runs(new, None, config)
    assert "first run of 2023-24" in first.summary_line()
    assert "first run of 2023-24" in page_text(
        write_changes_page(first, tmp_path / "new", partnership="SSCP", synthetic=False, marking="OFFICIAL").read_text()
    )
    assert "first run of 2023-24" in changes_text(first)


# --- Approvals ------------------------------------------------------------------------------------


def test_an_unknown_role_is_one_error_listing_the_roles_in_config():
    with pytest.raises(UserError) as error:
        resolve_roles(solihull_config(), ["Chief Whip"])
    message = str(error.value)
    assert "'Chief Whip' is not a signatory's role" in message
    assert "Chief Constable, West Midlands Police" in message and "Director of Children's Services" in message


def test_a_role_two_signatories_hold_needs_the_organisation():
    config = solihull_config()
    with pytest.raises(UserError, match="held by 2 signatories"):
        resolve_roles(config, ["Chief Executive"])
    chosen = resolve_roles(config, ["chief executive, solihull metropolitan borough council", "Chief Constable"])
    assert [p.organisation for p in chosen] == ["Solihull Metropolitan Borough Council", "West Midlands Police"]


def test_an_approval_holds_until_an_input_config_or_narrative_changes(tmp_path):
    config = solihull_config()
    root = write_run(tmp_path / YEAR, fixture_metrics(), manifest("2024-06-01T10:00:00+00:00"))
    record_approval(root, config, ["Chief Constable"], "2024-06-12")
    current = fingerprint(load_run(root).manifest)
    state = approval_state(load_approvals(root), current)
    assert state.approved
    assert approval_state(load_approvals(root), load_run(root).manifest).approved  # extra keys are ignored
    assert state.line(None) == "Approved by the Chief Constable, West Midlands Police on 12 June 2024."
    changed = dict(current, narrative_sha256="f" * 64)
    state = approval_state(load_approvals(root), changed)
    assert not state.approved and state.reasons == ["the narrative changed"]
    assert "approved on 12 June 2024 but is a draft again because the narrative changed" in state.line(
        "2024-06-20T09:00:00+00:00"
    )
    assert (
        approval_state([], current)
        .line("2024-06-20T09:00:00+00:00")
        .startswith("Draft. Made from the run of 20 June 2024")
    )


def test_a_bad_approval_date_is_refused(tmp_path):
    root = write_run(tmp_path / YEAR, fixture_metrics(), manifest("2024-06-01T10:00:00+00:00"))
    with pytest.raises(UserError, match="2024-06-30"):
        record_approval(root, solihull_config(), ["Chief Constable"], "30/06/2024")
