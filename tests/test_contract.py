"""The data contract is internally consistent."""

import pytest

from sscp_lib.catalogue import load_catalogue
from sscp_lib.contract import PANDAS_DTYPES, load_contract, normalise_header


@pytest.fixture(scope="module")
def contract():
    return load_contract()


def test_every_dataset_has_period_column_and_key(contract):
    for ds in contract.datasets.values():
        names = {c.name for c in ds.columns}
        assert ds.period_column in names, ds.name
        schema = contract.processed_schema(ds)
        for key in ds.key:
            assert key in schema, f"{ds.name}: key {key} is not a processed column"


def test_identifiers_never_survive_cleaning(contract):
    for ds in contract.datasets.values():
        schema = contract.processed_schema(ds)
        for col in ds.columns:
            if col.role == "drop":
                assert col.name not in schema
            if col.role == "pseudonymise":
                assert col.output and col.output.endswith("_pid") and col.name not in schema


def test_child_level_datasets_carry_a_pseudonymous_child(contract):
    for ds in contract.datasets.values():
        if ds.child_level and ds.name != "case_reviews":
            assert "child_pid" in contract.processed_schema(ds), ds.name


def test_aliases_do_not_collide_within_a_dataset(contract):
    for ds in contract.datasets.values():
        seen = {}
        for col in ds.columns:
            for heading in (col.name, *col.aliases):
                key = normalise_header(heading)
                assert seen.setdefault(key, col.name) == col.name, f"{ds.name}: {heading!r} is ambiguous"


def test_references_and_code_lists_resolve(contract):
    for ds in contract.datasets.values():
        for col in ds.columns:
            if col.references:
                target, target_col = col.references.split(".")
                assert target_col in contract.processed_schema(target)
            if col.codes:
                codes = contract.codes_for(col)
                for alias_target in codes.aliases.values():
                    assert alias_target in codes.codes
                for grouped in codes.group_of():
                    assert grouped in codes.codes


def test_annex_a_mappings_name_contract_columns(contract):
    for ds in contract.datasets.values():
        if ds.annex_a:
            names = {c.name for c in ds.columns}
            assert set(ds.annex_a["columns"].values()) <= names


def test_processed_dtypes_are_known(contract):
    for ds in contract.datasets.values():
        assert set(contract.processed_schema(ds).values()) <= set(PANDAS_DTYPES.values())


def test_catalogue_units_and_headings_are_known():
    catalogue = load_catalogue()
    units = {"count", "percent", "gbp", "days", "rate", "date", "text", "flag", "list", "table"}
    for name, spec in catalogue["metrics"].items():
        assert spec["unit"] in units, name
        assert "stage" not in spec, f"{name}: the stage that computes a metric is declared in sscp_lib/stages/"
    for name, spec in catalogue["charts"].items():
        assert 1 <= spec["heading"] <= 10, name
