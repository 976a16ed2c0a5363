"""The catalogue, the contract and the partnership config are read against their schemas: a crafted
bad file is rejected with one message naming the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sscp_lib.catalogue import CATALOGUE_FILE, load_catalogue
from sscp_lib.config import DEFAULT_CONFIG, load_config
from sscp_lib.contract import CONTRACT_FILE, load_contract
from sscp_lib.schema import SchemaError, check_catalogue

EASTMOOR = DEFAULT_CONFIG.parent / "examples" / "eastmoor.yaml"


def _copy_with(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _catalogue_error(path: Path) -> str:
    with pytest.raises(SchemaError) as caught:
        check_catalogue(yaml.safe_load(path.read_text(encoding="utf-8")), path)
    return str(caught.value)


def test_the_shipped_files_match_their_schemas():
    assert "challenges.cp_plan_rate_per_10k" in load_catalogue()["metrics"]
    assert load_contract().datasets
    for config in (DEFAULT_CONFIG, EASTMOOR):
        assert load_config(config)["headings"]


def test_every_metric_label_is_whole():
    labels = {name: spec["label"] for name, spec in load_catalogue()["metrics"].items()}
    assert labels["challenges.cp_plan_rate_per_10k"] == "Children on a plan at 31 March per 10,000 children"
    assert labels["data.anomalies"] == "Months flagged as anomalous, by category"


def test_an_unquoted_comma_in_a_flow_mapping_is_caught(tmp_path):
    path = _copy_with(
        tmp_path,
        CATALOGUE_FILE,
        'label: "Children on a plan at 31 March per 10,000 children"',
        "label: Children on a plan at 31 March per 10,000 children",
    )
    message = _catalogue_error(path)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "cp_plan_rate_per_10k:" in t)
    assert message.startswith(f"{path}: 1 problem: line {line}, metrics.challenges.cp_plan_rate_per_10k.000 children")
    assert "unknown key '000 children'" in message


def test_a_unit_outside_the_list_and_a_missing_label_are_both_named(tmp_path):
    path = _copy_with(tmp_path, CATALOGUE_FILE, "{unit: gbp, label: Expenditure budget, ", "{unit: pounds, ")
    message = _catalogue_error(path)
    assert "2 problems" in message
    assert "metrics.budget.expenditure_budget.unit: 'pounds' is not one of: count, percent" in message
    assert "metrics.budget.expenditure_budget: missing key 'label'" in message


def test_relations_and_chart_data_must_name_metrics_of_the_right_unit(tmp_path):
    path = _copy_with(
        tmp_path,
        CATALOGUE_FILE,
        "audit_grades: {heading: 1, data: practice.audit_grades_by_topic}",
        "audit_grades: {heading: 1, data: practice.audit_cases_graded}",
    )
    assert "charts.audit_grades.data: 'practice.audit_cases_graded' is a count, not a table" in _catalogue_error(path)


def test_every_count_says_what_it_counts_and_only_counts_do(tmp_path):
    path = _copy_with(tmp_path, CATALOGUE_FILE, ", counts: cases}", "}")
    assert "metrics.practice.audit_cases_graded: a count needs `counts:`" in _catalogue_error(path)
    path = _copy_with(
        tmp_path,
        CATALOGUE_FILE,
        "{unit: gbp, label: Expenditure budget, ",
        "{unit: gbp, counts: pounds, label: Expenditure budget, ",
    )
    assert "metrics.budget.expenditure_budget.counts: only a count has `counts:`" in _catalogue_error(path)


def test_an_unknown_contract_key_is_named_with_its_file_and_line(tmp_path):
    path = _copy_with(
        tmp_path,
        CONTRACT_FILE,
        "type: date, required: true, aliases: [date of contact",
        "type: date, requried: true, aliases: [date of contact",
    )
    with pytest.raises(SchemaError) as caught:
        load_contract(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: 1 problem: line ")
    assert "datasets.mash_contacts.columns.4.requried: unknown key 'requried'" in message


def test_an_unknown_config_key_is_named_with_its_file_and_line(tmp_path):
    path = _copy_with(tmp_path, DEFAULT_CONFIG, "  suppress_up_to: 5\n", "  suppress_upto: 5\n")
    with pytest.raises(SchemaError) as caught:
        load_config(path)
    message = str(caught.value)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "suppress_upto" in t)
    assert message.endswith(
        f"1 problem: line {line}, disclosure.suppress_upto: unknown key 'suppress_upto' (known: suppress_up_to)"
    )


def test_a_rating_rule_must_name_a_catalogue_metric(tmp_path):
    path = _copy_with(
        tmp_path,
        EASTMOOR,
        "metric: escalations.open, direction: lower, green: 1",
        "metric: escalations.opened, direction: lower, green: 1",
    )
    with pytest.raises(SchemaError, match=r"rag\.10\.metric: names no metric in the catalogue: 'escalations.opened'"):
        load_config(path)


def test_the_sources_section_is_passed_to_its_own_checks(tmp_path):
    sources = "\nsources:\n  referrals: {system: Liquidlogic, extract: monthly}\n"
    path = tmp_path / "with-sources.yaml"
    path.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8") + sources, encoding="utf-8")
    assert load_config(path)["sources"]["referrals"]["system"] == "Liquidlogic"
    path.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8") + "\nsources: [referrals]\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="sources: should be a mapping"):
        load_config(path)
