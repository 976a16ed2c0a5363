"""docs/data-contract.md is generated from the contract and must not go stale."""

from __future__ import annotations

import re

import yaml

from sscp_lib.config import PartnershipConfig
from sscp_lib.contract import load_contract
from sscp_lib.ingest.contract_docs import DEFAULT_DOCS, render_contract_docs, write_contract_docs
from sscp_lib.ingest.sources import FALSE_WORDS, MULTI_SOURCE_KEYS, SOURCE_KEYS, TRUE_WORDS, resolve_sources


def test_committed_contract_docs_are_current():
    assert DEFAULT_DOCS.read_text(encoding="utf-8") == render_contract_docs(), (
        "docs/data-contract.md is stale: run `sscp contract-docs`"
    )


def test_docs_cover_every_dataset_column_code_list_and_annex_a():
    text = render_contract_docs()
    contract = load_contract()
    for name, dataset in contract.datasets.items():
        assert f"### `{name}`" in text
        assert f"Period column (places a row in a reporting year): `{dataset.period_column}`" in text
        for column in dataset.columns:
            assert f"| `{column.name}` | {column.type} |" in text
        for derived in contract.processed_schema(dataset):
            assert f"`{derived}`" in text
    for name in contract.code_lists:
        assert f"### Code list `{name}`" in text
    assert "pseudonymised as `child_pid`" in text and "personal data: dropped at cleaning" in text
    assert "| Referral NFA? | `referral_outcome` |" in text and "Yes → `NFA`" in text
    assert "| `MUL` | Multiple categories |" in text


def test_write_contract_docs_to_another_path(tmp_path):
    path = write_contract_docs(tmp_path / "contract.md")
    assert path.read_text(encoding="utf-8") == render_contract_docs()


def test_derived_columns_are_documented_with_their_codes():
    text = render_contract_docs()
    contract = load_contract()
    for name in contract.datasets:
        section = text.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        for derived in contract.derived_columns(name):
            row = next(line for line in section.splitlines() if line.startswith(f"| `{derived.name}` |"))
            if derived.codes:
                assert f"[`{derived.codes}`](#code-list-{derived.codes})" in row, row
    assert "| `referral_source_group` | code | `referral_source` |" in text and "(#code-list-source_agency)" in text


def test_docs_show_every_place_a_mapping_can_be_given():
    text = render_contract_docs()
    section = text[text.index("## Where a mapping can be given") : text.index("## Code lists")]
    for key in SOURCE_KEYS:
        assert f"| `{key}` |" in section
    for key in MULTI_SOURCE_KEYS:
        assert f"`sources.annex_a.{key}`" in section
    for word in TRUE_WORDS | FALSE_WORDS:
        assert f"`{word}`" in text
    assert "also accepted as" in section and "Annex A headings and values" in section
    assert "`sources.police_referrals.files`" in text


def test_the_documented_example_mapping_validates(tmp_path):
    text = render_contract_docs()
    example = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    config = PartnershipConfig(yaml.safe_load(example), tmp_path / "missing.yaml")
    sources = resolve_sources(load_contract(), config)
    assert sources.by_dataset["police_referrals"][0].rule.patterns == ("WMP PPN extract *.csv",)


def test_the_your_data_guide_covers_every_dataset_and_mapping_key():
    text = (DEFAULT_DOCS.parent / "your-data.md").read_text(encoding="utf-8")
    for name in load_contract().datasets:
        assert f"`{name}`" in text, name
    for key in SOURCE_KEYS:
        assert f"`{key}`" in text, key
