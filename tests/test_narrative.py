"""The narrative's placeholders, its sections, and the RAG judgements."""

import re
from pathlib import Path

import pytest
import yaml
from render_fixtures import YEAR, build_fixture_statement, eastmoor_config, fixture_metrics, solihull_config

from sscp_lib.config import PROJECT_ROOT, PartnershipConfig, ReportingYear
from sscp_lib.publishing.narrative import (
    NarrativeError,
    judge,
    load_narrative,
    narrative_path,
    render_narrative_text,
)

NARRATIVE_FILES = sorted((PROJECT_ROOT / "narrative").glob("*.md")) + sorted(
    (PROJECT_ROOT / "config" / "examples").glob("*.md")
)


def _config_with_narrative(tmp_path: Path, text: str) -> PartnershipConfig:
    """Solihull's config pointing at a narrative written into tmp_path."""
    (tmp_path / "narrative.md").write_text(text, encoding="utf-8")
    data = dict(solihull_config())
    data["narrative"] = "narrative.md"
    return PartnershipConfig(data, tmp_path / "partnership.yaml")


def _skeleton(section_1_body: str) -> str:
    sections = ["## Background\n\nb\n", "## Principles\n\np\n"]
    sections += [f"## {n}\n\nHeadline: h{n}\n\nbody\n" for n in range(2, 11)]
    sections += [f"## 1\n\n{section_1_body}\n"]
    sections += ["## Assurance opinion\n\no\n", "## Items received\n\ni\n", "## Lead partners' statement\n\nl\n"]
    return "\n".join(sections)


def test_placeholders_render_formatted_values_and_their_attributes(tmp_path):
    config = _config_with_narrative(
        tmp_path,
        _skeleton(
            "Headline: {{ m.business_plan.ipbp_complete_pct }} done\n\n"
            "Was {{ m.business_plan.ipbp_complete_pct.previous_formatted }}, {{ m.business_plan.ipbp_complete_pct.change }}; "
            "raw {{ m.business_plan.ipbp_complete_pct.value }}; {{ m.business_plan.ipbp_complete_pct.label }}; "
            "{{ change(m.budget.expenditure_actual) }}; {{ m.learning.newsletter_opens_total }}; "
            "{{ m.challenges.cspr_published }}; {{ year_end }}; {{ next_year }}; {{ m.learning.newsletter_campaign }}"
        ),
    )
    sections = load_narrative(config, YEAR, fixture_metrics())
    # Each quoted figure is marked with its metric, for the consistency check.
    assert sections["1"].headline == '<span data-metric="business_plan.ipbp_complete_pct">92%</span> done'
    body = re.sub(r"<[^>]+>", "", sections["1"].html)
    assert "Was 81%, up 11 percentage points from 81% the previous year" in body
    assert "raw 92.0" in body
    assert "IPBP actions complete at year end" in body
    assert "up from £298,000 the previous year" in body
    assert "2,407" in body
    assert "; c;" in body
    assert "31 March 2024" in body and "2024-25" in body
    assert "Who's in Charge?" in body


def test_a_placeholder_naming_no_metric_is_an_error_naming_it_the_file_and_line(tmp_path):
    config = _config_with_narrative(tmp_path, _skeleton("Headline: x\n\nSee {{ m.business_plan.ipbp_complete_pctx }}."))
    with pytest.raises(NarrativeError) as error:
        load_narrative(config, YEAR, fixture_metrics())
    message = str(error.value)
    assert "narrative.md" in message
    assert "placeholder 'business_plan.ipbp_complete_pctx' names no metric" in message
    line = (
        _skeleton("Headline: x\n\nSee {{ m.business_plan.ipbp_complete_pctx }}.")
        .splitlines()
        .index("See {{ m.business_plan.ipbp_complete_pctx }}.")
        + 1
    )
    assert f"line {line}" in message


@pytest.mark.parametrize(
    "placeholder, expected",
    [
        ("{{ m.no_such_group.thing }}", "placeholder 'no_such_group' names no metric"),
        ("{{ m.business_plan }}", "names a group of metrics"),
        ("{{ m.budget.by_line }}", "is a table"),
        ("{{ undefined_thing }}", "'undefined_thing' is undefined"),
        ("{{ m.data.referrals ", "line"),
    ],
)
def test_other_placeholder_mistakes_are_clear_errors(tmp_path, placeholder, expected):
    config = _config_with_narrative(tmp_path, _skeleton(f"Headline: x\n\n{placeholder}"))
    with pytest.raises(NarrativeError, match=re.escape(expected)):
        load_narrative(config, YEAR, fixture_metrics())


def test_a_catalogue_metric_the_run_did_not_compute_is_named(tmp_path):
    metrics = fixture_metrics()
    del metrics["budget.income_actual"]
    config = _config_with_narrative(tmp_path, _skeleton("Headline: x\n\n{{ m.budget.income_actual }}"))
    with pytest.raises(
        NarrativeError, match="'budget.income_actual' names a metric this run did not compute; run every stage"
    ):
        load_narrative(config, YEAR, metrics)


def test_missing_sections_and_headlines_are_named(tmp_path):
    text = (
        _skeleton("Headline: x\n\nbody")
        .replace("## 7\n\nHeadline: h7", "## 7\n\nNo headline here")
        .replace("## Items received", "## Items we got")
    )
    config = _config_with_narrative(tmp_path, text)
    with pytest.raises(NarrativeError, match=r"section '## 7' must begin with 'Headline: \.\.\.'"):
        load_narrative(config, YEAR, fixture_metrics())
    config = _config_with_narrative(tmp_path, text.replace("No headline here", "Headline: h7"))
    with pytest.raises(NarrativeError, match="unknown section '## Items we got'"):
        load_narrative(config, YEAR, fixture_metrics())
    config = _config_with_narrative(tmp_path, _skeleton("Headline: x").replace("## Principles\n\np\n", ""))
    with pytest.raises(NarrativeError, match="missing section.*Principles"):
        load_narrative(config, YEAR, fixture_metrics())


def test_narrative_path_comes_from_the_config_relative_to_its_file():
    assert narrative_path(solihull_config(), "2023-24") == PROJECT_ROOT / "narrative" / "2023-24.md"
    assert narrative_path(eastmoor_config(), "2023-24").name == "eastmoor-narrative-2023-24.md"
    with pytest.raises(NarrativeError, match="2019-20"):
        narrative_path(solihull_config(), "2019-20")


@pytest.mark.parametrize("path", NARRATIVE_FILES, ids=lambda p: p.name)
def test_narrative_files_type_no_figures(path):
    """Digits may appear only inside placeholders, in '## N' section markers and in year labels."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", "", text, flags=re.S)
    text = re.sub(r"^##\s+\d+\s*$", "", text, flags=re.M)
    text = re.sub(r"\b\d{4}-\d{2}\b", "", text)  # a year label such as 2023-24
    offending = [line for line in text.splitlines() if re.search(r"\d", line)]
    assert offending == []


def test_digit_scan_catches_a_typed_figure(tmp_path):
    typed = tmp_path / "typed.md"
    typed.write_text("## 1\n\nHeadline: over 90% of actions were done in {{ year }}\n", encoding="utf-8")
    text = re.sub(r"\{\{.*?\}\}", "", typed.read_text(encoding="utf-8"))
    text = re.sub(r"^##\s+\d+\s*$", "", text, flags=re.M)
    assert re.search(r"\d", text)


@pytest.mark.parametrize("year", ["2022-23", "2023-24"])
def test_solihull_narratives_render_for_both_years(year):
    sections = load_narrative(solihull_config(), year, fixture_metrics())
    assert all(sections[str(n)].headline for n in range(1, 11))
    text = render_narrative_text(
        narrative_path(solihull_config(), year), fixture_metrics(), ReportingYear.parse(year), solihull_config()
    )
    assert "not available" not in text  # every placeholder found a value in the complete fixture


# --- RAG ------------------------------------------------------------------------------------

HIGHER = {"metric": "x.pct", "direction": "higher", "green": 90, "amber": 75}
LOWER = {"metric": "x.open", "direction": "lower", "green": 0, "amber": 2}
ABSOLUTE = {"metric": "x.var", "direction": "lower", "absolute": True, "green": 5, "amber": 10}


def _metrics(name, value, unit="percent"):
    return {name: {"value": value, "unit": unit, "label": "A measure (config)"}}


@pytest.mark.parametrize(
    "rule, value, status",
    [
        (HIGHER, 90, "green"),
        (HIGHER, 89.99, "amber"),
        (HIGHER, 75, "amber"),
        (HIGHER, 74.9, "red"),
        (HIGHER, 100, "green"),
        (LOWER, 0, "green"),
        (LOWER, 1, "amber"),
        (LOWER, 2, "amber"),
        (LOWER, 3, "red"),
        (ABSOLUTE, -5, "green"),
        (ABSOLUTE, 5, "green"),
        (ABSOLUTE, -5.1, "amber"),
        (ABSOLUTE, 10, "amber"),
        (ABSOLUTE, -10.5, "red"),
        (ABSOLUTE, 12, "red"),
    ],
)
def test_rag_boundaries(rule, value, status):
    unit = "count" if rule is LOWER else "percent"
    judgement = judge(rule, _metrics(rule["metric"], value, unit))
    assert judgement.status == status
    assert judgement.label in judgement.label.capitalize()
    assert "A measure:" in judgement.reason and "(config)" not in judgement.reason


def test_rag_reason_states_the_thresholds():
    assert judge(HIGHER, _metrics("x.pct", 92)).reason == "A measure: 92% (green at 90% or more, amber at 75% or more)"
    assert "either way" in judge(ABSOLUTE, _metrics("x.var", -3.4)).reason


@pytest.mark.parametrize(
    "metrics, reason",
    [
        (_metrics("x.pct", "c"), "suppressed"),
        (_metrics("x.pct", None), "no numeric value"),
        ({}, "x.pct) is not available"),
    ],
)
def test_suppressed_or_missing_metric_is_not_rated_with_the_reason(metrics, reason):
    judgement = judge(HIGHER, metrics)
    assert judgement.status == "not rated" and judgement.label == "Not rated"
    assert reason in judgement.reason


def test_heading_without_a_rule_is_not_rated_and_a_bad_direction_is_an_error():
    assert judge(None, {}).status == "not rated"
    with pytest.raises(Exception, match="direction"):
        judge({**HIGHER, "direction": "up"}, _metrics("x.pct", 50))


def test_statement_rates_each_heading_by_the_config_rules(tmp_path):
    statement = build_fixture_statement(tmp_path)
    assert [h.number for h in statement.headings] == list(range(1, 11))
    by_number = {h.number: h for h in statement.headings}
    assert by_number[2].judgement.status == "green"  # 92% against green at 90
    assert by_number[9].judgement.status == "green"  # -3.4% within 5% either way
    assert by_number[10].judgement.status == "amber"  # 1 open escalation: green only at 0
    assert statement.synthetic is True


def test_eastmoor_config_has_the_same_keys_as_solihull():
    solihull = yaml.safe_load((PROJECT_ROOT / "config" / "partnership.yaml").read_text())
    eastmoor = yaml.safe_load((PROJECT_ROOT / "config" / "examples" / "eastmoor.yaml").read_text())
    assert set(solihull) == set(eastmoor)
    for key in ("partnership", "disclosure", "data_rules", "analysis"):
        assert set(solihull[key]) == set(eastmoor[key])
    assert set(solihull["rag"]) == set(eastmoor["rag"]) and set(solihull["headings"]) == set(eastmoor["headings"])
