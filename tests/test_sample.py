"""The synthetic sample: reproducible, valid under the contract, shaped like agency exports,
and carrying the facts of the 2023-24 statement."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from sscp_lib.config import ReportingYear, load_config
from sscp_lib.contract import load_contract, normalise_header
from sscp_lib.errors import UserError
from sscp_lib.sample.generate import generate_sample

YEARS = ("2021-22", "2022-23", "2023-24")
REF = "2023-24"
CONTRACT = load_contract()
CONFIG = load_config()
TRUE_WORDS, FALSE_WORDS = {"y", "yes", "true"}, {"n", "no", "false"}


# -- a small reader of raw files, independent of the generator -------------------------------


def _raw_file(folder: Path, dataset: str) -> Path:
    pattern = CONTRACT.dataset(dataset).file_pattern
    matches = [p for p in folder.iterdir() if p.name.startswith(pattern + ".")]
    assert len(matches) == 1, f"{dataset}: expected one file in {folder}, found {matches}"
    return matches[0]


def _read_table(path: Path) -> pd.DataFrame:
    """Raw headings and cell values as text ('' for empty); xlsx date cells kept as dates."""
    if path.suffix == ".xlsx":
        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        width = len(rows[0])  # empty trailing cells are not stored
        return pd.DataFrame(
            [["" if v is None else v for v in row] + [""] * (width - len(row)) for row in rows[1:]],
            columns=list(rows[0]),
            dtype=object,
        )
    data = path.read_bytes()
    encoding = "cp1252" if path.name.startswith("training_attendance") else "utf-8-sig"
    rows = list(csv.reader(io.StringIO(data.decode(encoding), newline="")))
    return pd.DataFrame(rows[1:], columns=rows[0], dtype=object)


def _parse_dates(values: pd.Series) -> pd.Series:
    """xlsx date cells, dd/mm/yyyy or ISO text (one format per file), '' for none."""
    if values.map(lambda v: isinstance(v, date)).any():
        return pd.to_datetime(values.where(values != "", None))
    text = values.astype(str)
    filled = text[text != ""]
    dmy, iso = filled.str.fullmatch(r"\d{2}/\d{2}/\d{4}"), filled.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    assert dmy.all() or iso.all(), f"mixed or unexpected dates: {set(filled[~(dmy | iso)])}"
    return pd.to_datetime(text.where(text != "", None), format="%d/%m/%Y" if len(filled) and dmy.all() else "%Y-%m-%d")


def _canonical(path: Path, dataset_name: str) -> pd.DataFrame:
    """Contract names and canonical values; asserts that every row is valid under the contract."""
    dataset = CONTRACT.dataset(dataset_name)
    raw = _read_table(path)
    lookup = dataset.header_lookup()
    names = [lookup.get(normalise_header(h)) for h in raw.columns]
    assert None not in names, f"{path.name}: unknown headings {list(raw.columns)}"
    raw.columns = names
    missing = {c.name for c in dataset.required_columns} - set(names)
    assert not missing, f"{path.name} lacks required columns {missing}"
    out = {}
    for col in dataset.columns:
        if col.name not in raw.columns and not col.required:
            continue  # an optional column the CSV sample does not carry (Annex A's counts)
        values = raw[col.name]
        empty = values.isna() | (values.astype(str) == "")
        assert col.nullable or not empty.any(), f"{path.name}: empty {col.name}"
        if col.type == "date":
            out[col.name] = _parse_dates(values)
        elif col.type == "code":
            table = CONTRACT.codes_for(col).lookup()
            codes = values.astype(str).str.strip().str.lower().map(table)
            unknown = codes.isna() & ~empty
            assert not unknown.any(), f"{path.name}: unknown {col.name} {set(values[unknown])}"
            out[col.name] = codes.astype(object).where(~empty, None)
        elif col.type == "bool":
            words = values.astype(str).str.strip().str.lower()
            assert words[~empty].isin(TRUE_WORDS | FALSE_WORDS).all(), f"{path.name}: bad {col.name}"
            out[col.name] = words.map(lambda w: True if w in TRUE_WORDS else False if w in FALSE_WORDS else None)
        elif col.type in ("int", "float"):
            numbers = pd.to_numeric(values.where(~empty, None))
            if col.min is not None:
                assert (numbers.dropna() >= col.min).all()
            if col.max is not None:
                assert (numbers.dropna() <= col.max).all()
            out[col.name] = numbers
        else:
            out[col.name] = values
    return pd.DataFrame(out)


def _load_all(root: Path, years=YEARS) -> dict[str, pd.DataFrame]:
    """Every dataset, every year, with reporting_year; checks periods and keys."""
    tables = {}
    for name, dataset in CONTRACT.datasets.items():
        frames = []
        for label in years:
            frame = _canonical(_raw_file(root / label, name), name)
            year = ReportingYear.parse(label)
            period = frame[dataset.period_column]
            assert period.notna().all()
            assert period.between(pd.Timestamp(year.start), pd.Timestamp(year.end)).all(), f"{name} {label} period"
            frames.append(frame.assign(reporting_year=label))
        table = pd.concat(frames, ignore_index=True)
        key = [c if c in table else CONTRACT.dataset(name).column(c).name for c in dataset.key]
        assert not table.duplicated(key).any(), f"{name}: duplicate keys"
        tables[name] = table
    for name, dataset in CONTRACT.datasets.items():
        for col in dataset.columns:
            if col.references:
                target, target_col = col.references.split(".")
                assert set(tables[name][col.name]) <= set(tables[target][target_col]), f"{name}.{col.name}"
    return tables


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("small")
    generate_sample(out_dir=root, seed=7, scale=0.05)
    return root


@pytest.fixture(scope="module")
def small_tables(small_sample) -> dict[str, pd.DataFrame]:
    return _load_all(small_sample)


@pytest.fixture(scope="module")
def full_sample(tmp_path_factory) -> dict[str, pd.DataFrame]:
    root = tmp_path_factory.mktemp("full")
    generate_sample(out_dir=root)
    return _load_all(root)


# -- reproducibility and files -----------------------------------------------------------------


def _bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(small_sample, tmp_path):
    generate_sample(out_dir=tmp_path / "again", seed=7, scale=0.05)
    first, second = _bytes(small_sample), _bytes(tmp_path / "again")
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []
    generate_sample(out_dir=tmp_path / "other", seed=8, scale=0.05, years=(REF,))
    other = _bytes(tmp_path / "other")
    assert other[f"{REF}/mash_contacts.csv"] != first[f"{REF}/mash_contacts.csv"]


def test_csv_files_written_in_chunks_are_the_same_bytes(tmp_path, monkeypatch):
    import sscp_lib.sample.generate as sample

    generate_sample(out_dir=tmp_path / "whole", seed=7, scale=0.05, years=(REF,))
    monkeypatch.setattr(sample, "CSV_CHUNK_ROWS", 7)
    generate_sample(out_dir=tmp_path / "chunked", seed=7, scale=0.05, years=(REF,))
    for name in ("police_referrals.csv", "training_attendance.csv", "referrals.csv"):
        whole = (tmp_path / "whole" / REF / name).read_bytes()
        assert (tmp_path / "chunked" / REF / name).read_bytes() == whole, name


def test_one_file_per_dataset_and_a_marker_per_year(small_sample):
    for label in YEARS:
        folder = small_sample / label
        for name in CONTRACT.datasets:
            _raw_file(folder, name)
        marker = json.loads((folder / "_sample.json").read_text(encoding="utf-8"))
        assert marker == {"synthetic": True, "seed": 7, "scale": 0.05, "generator": "sscp_lib.sample.generate"}


def test_every_row_is_valid_under_the_contract(small_tables):
    assert all(len(t) for t in small_tables.values())


def test_headings_vary_between_names_aliases_and_styles(small_sample):
    headings = []
    for name in CONTRACT.datasets:
        headings += list(_read_table(_raw_file(small_sample / REF, name)).columns)
    canonical = {c.name for ds in CONTRACT.datasets.values() for c in ds.columns}
    assert any(h in canonical for h in headings)  # some exports use the contract names
    assert sum(h not in canonical for h in headings) > len(headings) / 3
    assert any(h.isupper() for h in headings) and any(h != h.strip() for h in headings)


def test_files_use_each_agency_encoding(small_sample):
    folder = small_sample / REF
    police = (folder / "police_referrals.csv").read_bytes()
    assert police.startswith(b"\xef\xbb\xbf")
    training = (folder / "training_attendance.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        training.decode("utf-8")
    assert "Zoë" in training.decode("cp1252")
    assert (folder / "mental_health_referrals.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    for path in folder.glob("*.csv"):
        if path.name not in {"police_referrals.csv", "training_attendance.csv", "mental_health_referrals.csv"}:
            text = path.read_bytes().decode("utf-8")
            assert not text.startswith("\ufeff")
    sheet = openpyxl.load_workbook(folder / "health_referrals.xlsx", read_only=True).worksheets[0]
    header, first = list(sheet.iter_rows(min_row=1, max_row=2, values_only=True))
    lookup = CONTRACT.dataset("health_referrals").header_lookup()
    referral_date = [lookup.get(normalise_header(h)) for h in header].index("referral_date")
    assert isinstance(first[referral_date], date)


def test_the_same_child_keeps_one_id_across_agencies_and_years(small_tables):
    tables = small_tables
    contacts = tables["mash_contacts"]
    for other in ("referrals", "police_referrals", "health_referrals", "cp_plans"):
        for label in YEARS:
            ids = set(tables[other].loc[tables[other]["reporting_year"] == label, "child_id"])
            assert ids <= set(contacts.loc[contacts["reporting_year"] == label, "child_id"])
    by_year = [set(contacts.loc[contacts["reporting_year"] == y, "child_id"]) for y in YEARS]
    assert by_year[0] & by_year[2]
    assert all(re.fullmatch(r"SMBC-\d{6,}", i) for i in contacts["child_id"])


def test_scale_multiplies_child_level_volumes_only(tmp_path):
    # Scales large enough that rounding each audit's case count does not distort the ratio.
    generate_sample(out_dir=tmp_path / "half", seed=7, scale=0.5, years=(REF,))
    generate_sample(out_dir=tmp_path / "one", seed=7, scale=1.0, years=(REF,))
    for name in CONTRACT.datasets:
        small = len(_read_table(_raw_file(tmp_path / "half" / REF, name)))
        double = len(_read_table(_raw_file(tmp_path / "one" / REF, name)))
        if name in {
            "mash_contacts",
            "referrals",
            "police_referrals",
            "health_referrals",
            "cp_plans",
            "training_attendance",
            "audit_cases",
            "early_help",
            "suspensions_exclusions",
            "mental_health_referrals",
        }:
            assert 1.8 <= double / small <= 2.2, name
        else:
            assert double == small, name


def test_years_without_scripted_facts_are_still_valid(tmp_path):
    generate_sample(out_dir=tmp_path, seed=3, scale=0.05, years=("2024-25",))
    tables = _load_all(tmp_path, years=("2024-25",))
    assert len(tables["referrals"]) and len(tables["escalations"])


def test_refuses_to_write_among_real_exports(tmp_path):
    (tmp_path / REF).mkdir()
    (tmp_path / REF / "referrals.csv").write_text("real data\n", encoding="utf-8")
    with pytest.raises(UserError):
        generate_sample(out_dir=tmp_path, years=(REF,), scale=0.05)
    with pytest.raises(UserError):
        generate_sample(out_dir=tmp_path / "new", scale=0)


# -- Annex A ------------------------------------------------------------------------------------


def test_annex_a_workbook_has_the_four_lists_with_official_headings(tmp_path):
    written = generate_sample(out_dir=tmp_path, seed=7, scale=0.05, annex_a=True, years=(REF,))
    folder = tmp_path / REF
    workbook_path = folder / f"annex_a_{REF}.xlsx"
    assert workbook_path in written
    for name in ("mash_contacts", "early_help", "referrals", "cp_plans"):
        assert not any(p.name.startswith(CONTRACT.dataset(name).file_pattern + ".") for p in folder.iterdir())
    book = openpyxl.load_workbook(workbook_path, read_only=True)
    assert book.sheetnames == ["List 1", "List 2", "List 3", "List 7"]
    for name in ("mash_contacts", "early_help", "referrals", "cp_plans"):
        dataset = CONTRACT.dataset(name)
        rows = list(book[dataset.annex_a["sheet"]].iter_rows(values_only=True))
        assert rows[0][0].startswith("Annex A") and all(v is None for v in rows[1])
        header = list(rows[2])
        assert set(dataset.annex_a["columns"]) <= set(header)
        assert {"Gender", "Ethnicity"} <= set(header)
        # No record ids: the cleaner derives them.
        lookup = dataset.header_lookup()
        derived = {c.name for c in dataset.columns if c.derive_if_missing}
        assert derived and not derived & {lookup.get(normalise_header(h)) for h in header}
        body = pd.DataFrame(rows[3:], columns=header)
        assert len(body) > 0
        if name == "referrals":
            assert set(body["Referral NFA?"]) <= {"Yes", "No"} and "Yes" in set(body["Referral NFA?"])
            assert all(re.fullmatch(r"[a-v]\) \w+: .+", v) for v in body["Referral Source"])
        if name == "cp_plans":
            assert set(body["Initial Category of Abuse"]) <= {
                "a) Neglect",
                "b) Physical abuse",
                "c) Sexual abuse",
                "d) Emotional abuse",
                "e) Multiple/not recommended",
            }
            assert isinstance(body["Child Protection Plan Start Date"].iloc[0], date)
        if name == "early_help":
            agencies = CONTRACT.code_lists["agency"].codes
            lettered = {f"{chr(97 + i)}) {label}" for i, label in enumerate(agencies.values())}
            assert set(body["Organisation completing assessment"]) <= lettered
            assert isinstance(body["Assessment start date"].iloc[0], date)
    book.close()
    source_codes = CONTRACT.code_lists["referral_source"]
    assert "v) 10: Unknown" in {
        f"{chr(97 + i)}) {c}: {label}" for i, (c, label) in enumerate(source_codes.codes.items())
    }
    again = tmp_path / "again"
    generate_sample(out_dir=again, seed=7, scale=0.05, annex_a=True, years=(REF,))
    assert (again / REF / workbook_path.name).read_bytes() == workbook_path.read_bytes()
    # Switching back to separate files removes the workbook from the sample folder.
    generate_sample(out_dir=tmp_path, seed=7, scale=0.05, years=(REF,))
    assert not workbook_path.exists() and (folder / "mash_contacts.csv").exists()


# -- the facts of the 2023-24 statement, at scale 1 ------------------------------------------


def _in(table: pd.DataFrame, label: str = REF) -> pd.DataFrame:
    return table[table["reporting_year"] == label]


def test_quality_of_practice_facts(full_sample):
    audits = _in(full_sample["audits"])
    assert {"NEGLECT", "VOICE_OF_CHILD", "SUPERVISION", "EXPLOITATION", "DOMESTIC_ABUSE"} <= set(audits["topic"])
    assert ((audits["topic"] == "DOMESTIC_ABUSE") & (audits["audit_type"] == "DIP_SAMPLE")).any()
    assert audits["learning_brief_date"].notna().all()
    cases = full_sample["audit_cases"].groupby("audit_id").size()
    assert (audits.set_index("audit_id")["cases_audited"] == cases.reindex(audits["audit_id"])).all()
    actions = _in(full_sample["audit_actions"])
    end = pd.Timestamp(ReportingYear.parse(REF).end)
    due = actions[actions["due_date"] <= end]
    on_time = (due["status"] == "COMPLETE") & (due["completed_date"] <= due["due_date"])
    late = (due["status"] == "COMPLETE") & (due["completed_date"] > due["due_date"])
    overdue = due["status"] == "OPEN"
    assert on_time.mean() >= 0.8 and 1 <= late.sum() <= 3 and 1 <= overdue.sum() <= 2


def test_business_plan_and_priority_facts(full_sample):
    plan = _in(full_sample["business_plan_actions"])
    ipbp = plan[plan["source"] == "IPBP"]
    assert len(ipbp) >= 40 and (ipbp["status"] == "COMPLETE").mean() > 0.9
    assert ipbp["workstream"].nunique() >= 4
    assert {"NEGLECT", "EARLY_HELP", "INSPECTION_FINDINGS"} <= set(ipbp["priority"])
    by_priority = (
        plan[plan["priority"] != "NONE"].groupby("priority")["status"].apply(lambda s: (s == "COMPLETE").mean())
    )
    assert by_priority.idxmax() == "NEGLECT" and by_priority.max() > by_priority.drop("NEGLECT").max()
    for source in ("JTAI", "NATIONAL_PANEL"):
        rows = plan[plan["source"] == source]
        assert len(rows) and (rows["status"] == "COMPLETE").all()
    scrutineer = plan[plan["source"] == "SCRUTINEER"]
    days = (scrutineer["response_date"] - scrutineer["raised_date"]).dt.days
    assert len(scrutineer) and days.between(7, 42).all()
    previous = _in(full_sample["business_plan_actions"], "2022-23")
    assert (previous.loc[previous["source"] == "IPBP", "status"] == "COMPLETE").mean() < 0.9


def test_case_review_facts(full_sample):
    reviews = full_sample["case_reviews"]
    year = ReportingYear.parse(REF)
    published = reviews[
        (reviews["review_type"] == "CSPR")
        & reviews["published_date"].between(pd.Timestamp(year.start), pd.Timestamp(year.end))
    ]
    assert len(published) == 1 and published["published_date"].iloc[0].year == 2023
    december = _in(reviews)
    december = december[
        (december["review_type"] == "RAPID_REVIEW") & (december["review_start_date"].dt.strftime("%Y-%m") == "2023-12")
    ]
    assert len(december) == 1
    assert december["notification_date"].notna().all() and (december["panel_decision"] == "AGREED_NO_CSPR").all()
    themes = " ".join(_in(reviews)["themes"]).lower()
    assert "trauma informed practice" in themes and "medical neglect" in themes
    actions = _in(full_sample["review_actions"])
    due = actions[actions["due_date"] <= pd.Timestamp(year.end)]
    assert (due["status"] == "COMPLETE").mean() >= 0.85 and (actions["status"] == "OPEN").any()


def test_training_facts(full_sample):
    training = full_sample["training_attendance"]
    attended = training[training["attended"].astype(bool)]

    def q1_to_q3(label):
        rows = _in(attended, label)
        return int((rows["course_date"].dt.month.between(4, 12)).sum())

    current = _in(training)
    assert current["course_date"].dt.month.between(4, 12).all()
    assert 570 <= len(_in(attended)) <= 599
    assert q1_to_q3(REF) > q1_to_q3("2022-23") > q1_to_q3("2021-22")
    for label in ("2021-22", "2022-23"):
        assert set(_in(training, label)["course_date"].dt.month.isin([1, 2, 3])) == {True, False}
    assert {"Sexual Abuse", "Neglect"} <= set(current["module"])


def test_engagement_and_communications_facts(full_sample):
    meetings = _in(full_sample["meeting_attendance"])
    arg = meetings[meetings["meeting_series"] == "ARG"]
    assert arg["meeting_date"].nunique() == 12 and arg.groupby("meeting_date").size().eq(8).all()
    assert arg["attended"].astype(bool).mean() > 0.9
    face_to_face_from = pd.Timestamp("2023-11-01")
    assert (arg.loc[arg["meeting_date"] < face_to_face_from, "meeting_format"] == "VIRTUAL").all()
    assert (arg.loc[arg["meeting_date"] >= face_to_face_from, "meeting_format"] == "FACE_TO_FACE").all()
    executive = meetings[meetings["meeting_series"] == "EXECUTIVE"]
    assert executive["attended"].astype(bool).mean() > 0.9
    comms = _in(full_sample["communications"])
    newsletters = comms[(comms["item_type"] == "NEWSLETTER") & (comms["campaign"] == "Who's in Charge?")]
    newsletters = newsletters.sort_values("item_date")
    assert (newsletters["item_date"] < pd.Timestamp("2023-12-25")).all()
    assert list(newsletters["opens"]) == [1401, 1006] and list(newsletters["campaign_clicks"]) == [103, 44]
    event = comms[(comms["item_type"] == "LEARNING_EVENT") & (comms["item_date"].dt.strftime("%Y-%m") == "2023-05")]
    assert list(event["attendees"]) == [140] and list(event["later_views"]) == [90]
    assert event["attendees"].iloc[0] == comms["attendees"].max()


def test_referral_facts(full_sample):
    referrals = full_sample["referrals"]
    current = _in(referrals)
    assert 2400 <= len(current) <= 2800
    assert len(_in(referrals, "2021-22")) < len(_in(referrals, "2022-23")) < len(current)
    categorised = current["abuse_category"].dropna()
    sab_share = (categorised == "SAB").mean()
    assert 0.015 <= sab_share < CONFIG["analysis"]["sexual_abuse_comparator_share"]
    month = current["referral_date"].dt.strftime("%Y-%m")
    unknown = current["referral_source"] == "10"
    spike = month.isin(["2023-10", "2023-11"])
    assert 0.12 <= unknown[spike].mean() <= 0.25
    assert unknown[~spike].mean() <= 0.03
    assert unknown[month.isin(["2023-12", "2024-01", "2024-02", "2024-03"])].mean() <= 0.04
    changeover = pd.Timestamp(CONFIG.data_rule_date("nfa_changeover_date"))
    before, after = (
        referrals[referrals["referral_date"] < changeover],
        referrals[referrals["referral_date"] >= changeover],
    )
    assert not (before["referral_outcome"] == "ADVICE_INFO").any() and not (after["referral_outcome"] == "NFA").any()
    assert (before["referral_outcome"] == "NFA").mean() >= 0.2 and (after["referral_outcome"] == "ADVICE_INFO").any()


def test_police_dara_facts(full_sample):
    police = _in(full_sample["police_referrals"])
    assert 2700 <= len(police) <= 3300 and 0.4 <= police["domestic_abuse"].astype(bool).mean() <= 0.5
    correction = pd.Timestamp(CONFIG.data_rule_date("dara_correction_date"))
    da = police[police["domestic_abuse"].astype(bool)]
    submitted = da["dara_submitted"].map(lambda v: v is True)
    assert 0.25 <= submitted[da["referral_date"] < correction].mean() <= 0.45
    assert submitted[da["referral_date"] >= correction].mean() >= 0.8
    assert da["dara_submitted"].notna().all()


def test_child_protection_plan_facts(full_sample):
    plans = full_sample["cp_plans"]
    retired = pd.Timestamp(CONFIG.data_rule_date("multiple_category_retired_from"))
    multiple = (plans["initial_category"] == "MUL") | (plans["latest_category"] == "MUL")
    assert multiple.any() and (plans.loc[multiple, "cp_plan_start_date"] < retired).all()
    assert set(plans.loc[multiple, "reporting_year"]) == {"2021-22", "2022-23"}
    current = _in(plans)
    assert 220 <= len(current) <= 280
    shares = current["initial_category"].value_counts(normalize=True)
    assert 0.4 <= shares["NEG"] <= 0.6 and 0.25 <= shares["EMO"] <= 0.42 and shares["SAB"] < 0.08
    year_end = pd.Timestamp(ReportingYear.parse(REF).end)
    open_at_end = (plans["cp_plan_start_date"] <= year_end) & ~(plans["cp_plan_end_date"] <= year_end)
    assert 200 <= open_at_end.sum() <= 260
    ended = plans.dropna(subset=["cp_plan_end_date"])
    days = (ended["cp_plan_end_date"] - ended["cp_plan_start_date"]).dt.days
    assert days.between(182, 549).all()


def test_budget_and_escalation_facts(full_sample):
    budget = _in(full_sample["budget"])
    spend = budget[budget["line_type"] == "EXPENDITURE"]
    assert len(spend) >= 5 and abs(spend["actual_amount"].sum() / spend["budget_amount"].sum() - 1) <= 0.05
    income = budget[budget["line_type"] == "INCOME"].groupby("partner")["actual_amount"].sum()
    shares = income / income.sum()
    assert shares.round(2).to_dict() == {"COUNCIL": 0.5, "HEALTH": 0.25, "POLICE": 0.25}
    escalations = full_sample["escalations"]
    current = _in(escalations)
    assert (
        len(current) == 2 and (current["escalation_level"] == "LSP").all() and (current["status"] == "RESOLVED").all()
    )
    topics = " ".join(current["topic"]).lower()
    assert "one leader" in topics and "health" in topics
    assert len(escalations[escalations["reporting_year"] != REF]) >= 3
