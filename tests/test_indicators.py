"""The partnership dataset (sscp_lib/analysis/indicators.py) on the sample: figures recomputed
from the RAW files with plain pandas, quarters adding to the year, the statement's figures,
suppression, "not yet received", a planted shift, the catalogue's checks and the two files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from sscp_lib.analysis.indicators import NOT_RECEIVED, build_dataset, quarter_months, statement_year_values
from sscp_lib.catalogue import load_indicators
from sscp_lib.config import PartnershipConfig, ReportingYear, load_config
from sscp_lib.contract import load_contract, normalise_header
from sscp_lib.publishing.dataset_files import write_dataset_files
from sscp_lib.stages.loading import read_processed_table

YEAR = "2023-24"
SAMPLE_YEARS = ("2021-22", "2022-23", "2023-24")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The raw sample and its validated tables (clean and validate run in this process)."""
    from sscp_lib.sample.generate import generate_sample
    from sscp_lib.stages.runner import run_in_process

    root = tmp_path_factory.mktemp("indicators")
    generate_sample(out_dir=root / "raw")
    run_in_process(
        YEAR,
        raw_dir=root / "raw",
        processed_dir=root / "processed",
        reports_dir=root / "reports",
        stages=("clean", "validate"),
    )
    folder = root / "processed" / YEAR / "validated"
    tables = {
        name: read_processed_table(folder / f"{name}.parquet", name)
        for name in load_contract().datasets
        if (folder / f"{name}.parquet").exists()
    }
    return root, tables


def unsuppressed(config: PartnershipConfig) -> PartnershipConfig:
    return PartnershipConfig({**config, "disclosure": {"suppress_up_to": 0}}, config.path)


@pytest.fixture(scope="module")
def full_year(sample):
    return build_dataset(sample[1], YEAR, 4, unsuppressed(load_config()), None, synthetic=True)


def by_id(dataset: dict) -> dict[str, dict]:
    return {entry["id"]: entry for entry in dataset["indicators"]}


# --- the raw files, read with plain pandas -------------------------------------------------


def raw_table(root, dataset: str) -> pd.DataFrame:
    """Every year's raw CSV of a dataset, headings mapped to the contract's column names."""
    lookup = load_contract().dataset(dataset).header_lookup()
    frames = []
    for year in SAMPLE_YEARS:
        frame = pd.read_csv(root / "raw" / year / f"{dataset}.csv", dtype=str, keep_default_na=False)
        frames.append(frame.rename(columns=lambda h: lookup.get(normalise_header(h), h)))
    return pd.concat(frames, ignore_index=True)


def raw_date(values: pd.Series) -> pd.Series:
    dmy = pd.to_datetime(values, format="%d/%m/%Y", errors="coerce")
    return dmy.fillna(pd.to_datetime(values, format="%Y-%m-%d", errors="coerce"))


def quarters_of(year: str):
    start = ReportingYear.parse(year)
    for q in (1, 2, 3, 4):
        months = quarter_months(start, q)
        yield f"{year}-Q{q}", months[0].start_time, months[-1].end_time.normalize()


def test_contact_conversion_matches_the_raw_files(sample, full_year):
    contacts = raw_table(sample[0], "mash_contacts")
    contacts["date"] = raw_date(contacts["contact_date"])
    outcome = contacts["contact_outcome"].str.strip().str.lower()
    for key, start, end in quarters_of(YEAR):
        rows = outcome[(contacts["date"] >= start) & (contacts["date"] <= end)]
        recorded = rows[rows != ""]
        expected = round(100 * recorded.isin(["progressed to referral", "referral"]).sum() / len(recorded), 1)
        assert by_id(full_year)["contact_conversion_pct"]["values"][key] == expected, key


def test_re_referrals_match_the_raw_files(sample, full_year):
    refs = raw_table(sample[0], "referrals")
    refs["date"] = raw_date(refs["referral_date"])
    pairs = refs[["referral_id", "child_id", "date"]].merge(
        refs[["child_id", "date"]].rename(columns={"date": "earlier"}), on="child_id"
    )
    within = pairs[(pairs["earlier"] < pairs["date"]) & (pairs["earlier"] >= pairs["date"] - pd.DateOffset(months=12))]
    re_referred = set(within["referral_id"])
    entry = by_id(full_year)["re_referral_pct"]
    for year in ("2022-23", YEAR):
        for key, start, end in quarters_of(year):
            rows = refs[(refs["date"] >= start) & (refs["date"] <= end)]
            expected = round(100 * rows["referral_id"].isin(re_referred).sum() / len(rows), 1)
            assert entry["values"][key] == expected, key
    # The first year held has no 12 months before it to look back on.
    assert entry["values"]["2021-22-Q4"] is None
    assert "12 months" in entry["reasons"]["2021-22-Q4"]


def test_second_plans_and_two_year_plans_match_the_raw_files(sample, full_year):
    plans = raw_table(sample[0], "cp_plans")
    plans["start"] = raw_date(plans["cp_plan_start_date"])
    plans["end"] = raw_date(plans["cp_plan_end_date"])
    pairs = plans[["cp_plan_id", "child_id", "start"]].merge(
        plans[["child_id", "start"]].rename(columns={"start": "before"}), on="child_id"
    )
    later = set(pairs.loc[pairs["before"] < pairs["start"], "cp_plan_id"])
    second = by_id(full_year)["cp_second_plan_pct"]
    two_year = by_id(full_year)["cp_two_year_plans_pct"]
    for year in ("2022-23", YEAR):
        for key, start, end in quarters_of(year):
            started = plans[(plans["start"] >= start) & (plans["start"] <= end)]
            assert second["values"][key] == round(100 * started["cp_plan_id"].isin(later).sum() / len(started), 1)
            ended = plans[(plans["end"] >= start) & (plans["end"] <= end)]
            if key >= "2023-24":
                long = (ended["end"] >= ended["start"] + pd.DateOffset(years=2)).sum()
                assert two_year["values"][key] == (round(100 * long / len(ended), 1) if len(ended) else None)
            else:
                assert two_year["values"][key] is None  # fewer than 24 months held before it


def test_counts_add_up_months_to_quarters_to_the_year(full_year):
    counts = [e for e in full_year["indicators"] if e["unit"] == "count" and e["measured"] == "over_period"]
    assert len(counts) >= 10
    for entry in counts:
        for year in full_year["years"]:
            quarters = [v for k, v in entry["values"].items() if k.startswith(year)]
            if None in quarters:
                continue
            assert sum(quarters) == entry["year_to_date"][year], (entry["id"], year)
            for q, key in enumerate(sorted(k for k in entry["values"] if k.startswith(year)), start=1):
                months = [entry["monthly"][str(m)] for m in quarter_months(ReportingYear.parse(year), q)]
                assert sum(months) == entry["values"][key], (entry["id"], key)
    sources = [e for e in counts if e["breakdown_of"] == "referrals_by_source_agency"]
    referrals = by_id(full_year)["referrals"]
    for key in referrals["values"]:
        assert sum(e["values"][key] for e in sources) == referrals["values"][key]


def test_year_figures_are_the_statements(sample, full_year):
    from sscp_lib.analysis import assurance, linked, referrals
    from sscp_lib.stages import analyse_assurance, analyse_linked, analyse_referrals

    config = load_config()
    year = ReportingYear.parse(YEAR)
    tables = sample[1]
    statement = {
        **analyse_referrals.metric_values(referrals.analyse(tables, year, config)),
        **analyse_assurance.metric_values(assurance.analyse(tables, year, config)),
        **analyse_linked.metric_values(linked.analyse(tables, year, config)),
    }
    mine = statement_year_values(full_year)
    assert len(mine) >= 20
    linked_themes = {
        e["theme"]
        for e in full_year["indicators"]
        if (e["statement_metric"] or "").startswith(("linked.", "early_help.", "education.", "mental_health."))
    }
    assert linked_themes == {"early_help", "schools", "mental_health"}
    for name, value in mine.items():
        expected = statement[name]
        assert value == (round(expected, 1) if isinstance(expected, float) else expected), name


def test_a_dataset_without_rows_for_a_quarter_is_not_yet_received(full_year):
    # The sample's training records stop after the third quarter of 2023-24.
    training = by_id(full_year)["training_attendees"]
    assert training["values"][f"{YEAR}-Q4"] is None
    assert training["reasons"][f"{YEAR}-Q4"] == NOT_RECEIVED
    assert training["monthly"]["2024-03"] is None
    assert training["received"] is False
    assert training["year_to_date"][YEAR] == sum(training["values"][f"{YEAR}-Q{q}"] for q in (1, 2, 3))


def test_a_quarter_run_stops_at_its_quarter(sample):
    dataset = build_dataset(sample[1], YEAR, 3, load_config(), None, synthetic=True)
    assert dataset["period"] == "2023-24-Q3" and dataset["months"][-1] == "2023-12"
    assert dataset["months"][0] == "2021-04" and len(dataset["months"]) == 33
    entry = by_id(dataset)["referrals"]
    assert set(entry["values"]) == {k for k in dataset["quarters"]}
    assert entry["latest"]["period"] == "2023-24-Q3"
    assert entry["previous_quarter"]["period"] == "2023-24-Q2"
    assert entry["same_quarter_last_year"]["period"] == "2022-23-Q3"
    # The unknown-source spike of October and November 2023 is found.
    unknown = by_id(dataset)["unknown_source_pct"]
    assert (unknown["variation"]["code"], unknown["variation"]["direction"]) == ("concerning", "higher")
    assert any(p["special"] for p in unknown["spc"]["points"] if p["month"] in ("2023-10", "2023-11"))


def test_small_counts_and_what_reveals_them_are_suppressed(sample):
    config = load_config()
    dataset = build_dataset(sample[1], YEAR, 4, config, None, synthetic=True)
    threshold = config.suppression_threshold
    for entry in dataset["indicators"]:
        if not entry["child_level"] or entry["unit"] != "count":
            continue
        for values in (entry["monthly"], entry["values"], entry["year_to_date"]):
            assert not any(isinstance(v, int) and 0 < v <= threshold for v in values.values()), entry["id"]
        # Never exactly one month of a quarter hidden beside the published quarter.
        for key in dataset["quarters"]:
            if entry["values"][key] in (None, "c"):
                continue
            y, n = key.split("-Q")
            months = [entry["monthly"][str(m)] for m in quarter_months(ReportingYear.parse(y), int(n))]
            assert months.count("c") != 1, (entry["id"], key)
    # One count reached by two indicators is hidden in both or neither.
    share, count = by_id(dataset)["unknown_source_pct"], by_id(dataset)["referrals_by_source_agency.UNKNOWN"]
    for part in ("monthly", "values"):
        assert [v == "c" for v in share[part].values()] == [v == "c" for v in count[part].values()]
    housing = by_id(dataset)["referrals_by_source_agency.HOUSING"]
    assert "c" in housing["monthly"].values()
    # A suppressed month still shows as "c" on the chart.
    assert any(p["value"] == "c" for p in housing["spc"]["points"])


def test_a_planted_eight_month_shift_is_flagged_in_its_direction(sample):
    tables = dict(sample[1])
    plans = tables["cp_plans"]
    extra = plans[plans["cp_plan_start_date"] >= pd.Timestamp("2023-08-01")].copy()
    extra["cp_plan_pid"] = extra["cp_plan_pid"] + "-planted"
    tables["cp_plans"] = pd.concat([plans, extra, extra.assign(cp_plan_pid=extra["cp_plan_pid"] + "2")])
    dataset = build_dataset(tables, YEAR, 4, load_config(), None)
    starts = by_id(dataset)["cp_plans_started"]
    assert (starts["variation"]["code"], starts["variation"]["direction"]) == ("neither", "higher")
    base = by_id(build_dataset(sample[1], YEAR, 4, load_config(), None))["cp_plans_started"]
    assert base["variation"]["code"] == "common_cause"


def test_targets_give_rag_and_assurance_with_text(full_year):
    entry = by_id(full_year)["audit_actions_on_time_pct"]
    assert entry["target"]["target"] == 80
    assert entry["rag"]["status"] in ("green", "amber", "red") and entry["rag"]["text"]
    assert entry["assurance"]["code"] in ("passing", "failing", "hit_and_miss") and entry["assurance"]["text"]
    assert by_id(full_year)["referrals"]["rag"] is None and by_id(full_year)["referrals"]["assurance"] is None
    for item in full_year["indicators"]:
        assert item["variation"]["text"]
        assert item["comparator"]["text"]
        assert item["comparator"]["status"] in ("not_supplied", "not_published")


def test_the_catalogue_names_what_it_needs():
    catalogue = load_indicators()
    ids = set(catalogue["indicators"])
    for needed in (
        "contacts",
        "contact_conversion_pct",
        "referrals",
        "referral_rate",
        "re_referral_pct",
        "referrals_by_source_agency",
        "unknown_source_pct",
        "nfa_advice_pct",
        "police_referrals",
        "police_da_referrals",
        "dara_submitted_pct",
        "health_referrals",
        "cp_plans_started",
        "cp_plan_rate",
        "cp_second_plan_pct",
        "cp_two_year_plans_pct",
        "cp_plans_by_category",
        "audit_actions_on_time_pct",
        "business_plan_complete_pct",
        "training_attendees",
        "escalations_open",
    ):
        assert needed in ids


def test_a_target_on_an_indicator_without_a_direction_is_refused(tmp_path):
    import yaml

    from sscp_lib.config import DEFAULT_CONFIG
    from sscp_lib.schema import SchemaError

    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["dashboard"]["targets"]["referrals"] = {"green": 1, "amber": 2}
    data["dashboard"]["targets"]["no_such_indicator"] = {"green": 1, "amber": 2}
    path = tmp_path / "partnership.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        load_config(path)
    assert "dashboard.targets.referrals" in str(caught.value)
    assert "no_such_indicator" in str(caught.value)


def test_the_dataset_files(tmp_path, sample):
    dataset = build_dataset(sample[1], YEAR, 3, load_config(), None, synthetic=True)
    paths = write_dataset_files(dataset, tmp_path)
    written = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert written["period"] == "2023-24-Q3"
    first = written["indicators"][0]
    for key in ("id", "label", "theme", "unit", "polarity", "values", "monthly", "rag", "variation", "assurance"):
        assert key in first
    assert "comparator" in first
    book = load_workbook(paths["xlsx"])
    themes = list(load_indicators()["themes"].values())
    assert book.sheetnames == ["About", *themes, "Definitions"]
    about = [row[0] for row in book["About"].iter_rows(values_only=True)]
    assert about[0] == "OFFICIAL"
    assert any("synthetic" in str(text) for text in about)
    sheet = book[themes[0]]
    header = [c.value for c in sheet[3]]
    assert "2023-12" in header and "2023-24-Q3" in header and "Latest quarter" in header
    ids = [row[0] for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert "referrals" in ids
    row = next(r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] == "referrals")
    assert row[header.index("2023-24-Q3")] == by_id(dataset)["referrals"]["values"]["2023-24-Q3"]


def test_comparators_reach_the_dataset_and_the_statements_sexual_abuse_share(sample, tmp_path):
    import yaml

    from sscp_lib.config import DEFAULT_CONFIG
    from sscp_lib.ingest.comparators import read_comparators
    from sscp_lib.stages.runner import run_in_process

    fixture = "made_up_cin_cpp_comparators.csv"
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["narrative"] = str(DEFAULT_CONFIG.parent.parent / "narrative" / "{year}.md")
    data["dashboard"]["comparators"] = {
        "folder": str(Path(__file__).parent / "fixtures" / "comparators"),
        "local_authority": "E08000029",
        "statistical_neighbours": ["E08000025", "359"],
        "measures": {
            "referral_rate": {"file": fixture, "column": "referral_rate_per_10000"},
            "cp_plans_by_category.NEG": {"file": fixture, "column": "initial_category_neglect_percent"},
            "sexual_abuse_share": {"file": fixture, "column": "sexual_abuse_factor_percent"},
        },
    }
    path = tmp_path / "partnership.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_config(path)
    dataset = build_dataset(sample[1], YEAR, 4, config, read_comparators(config))
    rate = by_id(dataset)["referral_rate"]["comparator"]
    assert rate["status"] == "supplied" and rate["england"] == 544.5 and rate["region_name"] == "West Midlands"
    assert by_id(dataset)["cp_plans_by_category.NEG"]["comparator"]["england"] == 48.6
    assert by_id(dataset)["cp_plan_rate"]["comparator"]["text"] == "comparator not supplied"
    assert by_id(dataset)["contacts"]["comparator"]["status"] == "not_published"

    root = sample[0]
    run_in_process(
        YEAR,
        raw_dir=root / "raw",
        processed_dir=root / "processed",
        reports_dir=tmp_path / "reports",
        config_path=path,
        stages=("analyse_referrals",),
    )
    fragment = json.loads((root / "processed" / YEAR / "metrics" / "analyse_referrals.json").read_text())
    assert fragment["challenges.sexual_abuse_comparator_pct"]["value"] == 4.8  # England's, from the file


def test_a_broken_indicator_catalogue_is_refused_naming_line_and_key(tmp_path):
    import yaml

    from sscp_lib.catalogue import INDICATORS_FILE, load_catalogue
    from sscp_lib.schema import SchemaError, check_indicators

    text = INDICATORS_FILE.read_text(encoding="utf-8")
    text = text.replace("    theme: front_door\n", "    theme: front_dor\n", 1)
    text = text.replace("    unit: percent\n", "    unit: percentage\n", 1)
    text = text.replace("statement_metric: data.referrals\n", "statement_metric: data.referals\n", 1)
    path = tmp_path / "indicators.yaml"
    path.write_text(text, encoding="utf-8")
    contract = load_contract()
    args = (load_catalogue()["metrics"], contract.datasets, contract.code_lists["agency"].codes, contract.code_lists)
    with pytest.raises(SchemaError) as caught:
        check_indicators(yaml.safe_load(text), path, *args)
    message = str(caught.value)
    assert "indicators.contact_conversion_pct.unit" in message and "'percentage' is not one of" in message
    lines = text.splitlines()
    assert f"line {lines.index('    unit: percentage') + 1}" in message
    fixed = text.replace("unit: percentage", "unit: percent")
    with pytest.raises(SchemaError) as caught:
        check_indicators(yaml.safe_load(fixed), path, *args)
    message = str(caught.value)
    assert "indicators.contacts.theme" in message and "front_dor" in message
    assert "indicators.referrals.statement_metric" in message and "data.referals" in message


def test_a_missing_table_is_not_yet_received_everywhere_and_judged_as_no_data(sample):
    tables = {name: frame for name, frame in sample[1].items() if name != "health_referrals"}
    dataset = build_dataset(tables, YEAR, 2, load_config(), None)
    health = by_id(dataset)["health_referrals"]
    assert set(health["values"].values()) == {None}
    assert set(health["reasons"].values()) == {NOT_RECEIVED}
    assert health["variation"]["code"] == "no_data" and NOT_RECEIVED in health["variation"]["text"]
    assert health["spc"] is None and health["received"] is False
    assert by_id(dataset)["referrals"]["values"]["2023-24-Q2"] > 0


def test_referral_rate_is_a_yearly_rate_per_10000_children(full_year):
    population = load_config().child_population
    rate, referrals = by_id(full_year)["referral_rate"], by_id(full_year)["referrals"]
    assert rate["year_to_date"][YEAR] == round(10_000 * referrals["year_to_date"][YEAR] / population, 1)
    assert rate["values"][f"{YEAR}-Q2"] == round(4 * 10_000 * referrals["values"][f"{YEAR}-Q2"] / population, 1)
    assert rate["monthly"]["2023-05"] == round(12 * 10_000 * referrals["monthly"]["2023-05"] / population, 1)
