"""The DfE CIN census return (XML) as the council's source of referrals and child protection plans."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from bad_inputs.builders import YEAR, write_csv, write_xlsx, write_year

from sscp_lib.config import ReportingYear, load_config
from sscp_lib.contract import load_contract
from sscp_lib.errors import InputFileError, UserError
from sscp_lib.ingest.cin_census import read_cin_census
from sscp_lib.ingest.clean import NOT_READ_REPLACED, REASON_AFTER_YEAR, clean_dataset, clean_year, discover_files
from sscp_lib.ingest.sources import ANNEX_A, CIN_CENSUS
from sscp_lib.sample.generate import generate_sample

KEY = bytes.fromhex("5e" * 32)
CONFIG = load_config()
CONTRACT = load_contract()
COUNCIL = ("referrals", "cp_plans")

# The shape of each schema version, as far as a return's children and episodes go (liia-tools
# copies of the DfE XSDs, CIN_schema_2018 to CIN_schema_2026): how yes/no is written, whether the
# child's sex is <GenderCurrent> (1/2/0/9) or <Sex> (M/F/U), whether episodes carry <CINPlanDates>
# (from 2021-22), and referral source 5D (from 2022-23).
VERSIONS = {
    "2017-18": {"yes": "true", "no": "false", "sex": ("GenderCurrent", "2"), "plan_dates": False, "source": "5C"},
    "2019-20": {"yes": "1", "no": "0", "sex": ("GenderCurrent", "1"), "plan_dates": False, "source": "1D"},
    "2021-22": {"yes": "1", "no": "0", "sex": ("GenderCurrent", "0"), "plan_dates": True, "source": "3F"},
    "2023-24": {"yes": "TRUE", "no": "FALSE", "sex": ("GenderCurrent", "9"), "plan_dates": True, "source": "5D"},
    "2025-26": {"yes": "1", "no": "0", "sex": ("Sex", "F"), "plan_dates": True, "source": "5D"},
}


def episode(date, source="6", nfa="0", plans=(), version=VERSIONS["2023-24"], closure=None) -> str:
    """One <CINdetails>; `plans` are (start, end, initial, latest)."""
    parts = [
        "      <CINdetails>",
        f"        <CINreferralDate>{date}</CINreferralDate>",
        f"        <ReferralSource>{source}</ReferralSource>",
        "        <PrimaryNeedCode>N1</PrimaryNeedCode>",
    ]
    if closure:
        parts += [
            f"        <CINclosureDate>{closure}</CINclosureDate>",
            "        <ReasonForClosure>RC8</ReasonForClosure>",
        ]
    parts += [
        "        <Assessments>",
        f"          <AssessmentActualStartDate>{date}</AssessmentActualStartDate>",
        "          <FactorsIdentifiedAtAssessment><AssessmentFactors>3A</AssessmentFactors></FactorsIdentifiedAtAssessment>",
        "        </Assessments>",
    ]
    if version["plan_dates"]:
        parts += ["        <CINPlanDates><CINPlanStartDate>" + date + "</CINPlanStartDate></CINPlanDates>"]
    parts += [f"        <ReferralNFA>{nfa}</ReferralNFA>"]
    for start, end, initial, latest in plans:
        parts += ["        <ChildProtectionPlans>", f"          <CPPstartDate>{start}</CPPstartDate>"]
        if end:
            parts += [f"          <CPPendDate>{end}</CPPendDate>"]
        parts += [
            f"          <InitialCategoryOfAbuse>{initial}</InitialCategoryOfAbuse>",
            f"          <LatestCategoryOfAbuse>{latest}</LatestCategoryOfAbuse>",
            "          <NumberOfPreviousCPP>0</NumberOfPreviousCPP>",
            "          <Reviews><CPPreviewDate>" + start + "</CPPreviewDate></Reviews>",
            "        </ChildProtectionPlans>",
        ]
    return "\n".join(parts + ["      </CINdetails>"])


def child(child_id, *episodes, version=VERSIONS["2023-24"]) -> str:
    sex, code = version["sex"]
    return "\n".join(
        [
            "    <Child>",
            "      <ChildIdentifiers>",
            f"        <LAchildID>{child_id}</LAchildID>",
            "        <UPN>A123456789012</UPN>",
            "        <PersonBirthDate>2014-02-14</PersonBirthDate>",
            f"        <{sex}>{code}</{sex}>",
            "      </ChildIdentifiers>",
            "      <ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>",
            *episodes,
            "    </Child>",
        ]
    )


def census(*children, year="2024", collection="CIN", root_attributes="") -> str:
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f"<Message{root_attributes}>",
            "  <Header>",
            f"    <CollectionDetails><Collection>{collection}</Collection><Year>{year}</Year>"
            f"<ReferenceDate>{year}-03-31</ReferenceDate></CollectionDetails>",
            "    <Source><SourceLevel>L</SourceLevel><LEA>999</LEA><SoftwareCode>Test</SoftwareCode></Source>",
            "  </Header>",
            "  <Children>",
            *children,
            "  </Children>",
            "</Message>",
            "",
        ]
    )


def council_folder(raw: Path, text: str, name: str = "CIN_Census_2024_999.xml", year: str = YEAR) -> Path:
    """A year folder with every other dataset as CSV and the council's referrals and plans as a return."""
    folder = write_year(raw, year, skip=COUNCIL)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def run(raw: Path, out: Path | None = None, year: str = YEAR):
    return clean_year(ReportingYear.parse(year), raw, out or raw.parent / "clean", CONFIG, KEY)


def clean_council(raw: Path, year: str = YEAR) -> dict[str, pd.DataFrame]:
    """The council's referrals and plans cleaned as clean_year would, without the other datasets."""
    reporting_year, cache = ReportingYear.parse(year), {}
    by_dataset, _, _ = discover_files(raw, reporting_year, CONTRACT)
    tables = {}
    for name in COUNCIL:
        tables[name], _, rejected, _ = clean_dataset(
            name, by_dataset[name], CONTRACT, reporting_year, raw, CONFIG, KEY, cache
        )
        assert rejected.empty, rejected
    return tables


def in_year(table: pd.DataFrame, year: str = YEAR) -> pd.DataFrame:
    return table[table["reporting_year"] == year]


# --- what a return gives --------------------------------------------------------------------------


def test_hand_written_return_gives_exactly_its_referrals_and_plan(tmp_path):
    text = census(
        child(
            "LA-0001",
            episode("2023-05-02", source="6", nfa="1"),
            episode("2023-10-09", source="2A", nfa="0", plans=[("2023-10-27", None, "NEG", "EMO")]),
        ),
        child("LA-0002", episode("2024-01-15", source="3A", nfa="0", closure="2024-02-20")),
    )
    result = run(council_folder(tmp_path / "raw", text).parent)
    referrals, plans = in_year(result.tables["referrals"]), in_year(result.tables["cp_plans"])
    assert len(referrals) == 3 and referrals["child_pid"].nunique() == 2
    # NFA before the changeover date stays NFA; the other two went on to further action.
    assert sorted(referrals["referral_outcome"]) == ["FURTHER_ACTION", "FURTHER_ACTION", "NFA"]
    assert sorted(referrals["referral_source"]) == ["2A", "3A", "6"]
    assert referrals["referral_pid"].notna().all() and referrals["referral_pid"].nunique() == 3
    assert referrals["abuse_category"].isna().all() and referrals["domestic_abuse"].isna().all()
    assert len(plans) == 1
    plan = plans.iloc[0]
    assert (plan["cp_plan_start_date"], plan["initial_category"], plan["latest_category"]) == (
        pd.Timestamp("2023-10-27"),
        "NEG",
        "EMO",
    )
    assert pd.isna(plan["cp_plan_end_date"])
    assert plan["child_pid"] in set(referrals["child_pid"])
    log = result.log.set_index(["dataset", "sheet"])
    assert log.loc[("referrals", "CINdetails"), "rows_read"] == 3
    assert log.loc[("cp_plans", "ChildProtectionPlans"), "format"] == "xml"
    assert result.rejected.empty and result.unrecognised_files == []


@pytest.mark.parametrize("version", list(VERSIONS))
def test_each_schema_version_parses(tmp_path, version):
    shape = VERSIONS[version]
    start = ReportingYear.parse(version).start_year
    text = census(
        child(
            "C1",
            episode(f"{start}-06-01", source=shape["source"], nfa=shape["yes"], version=shape),
            episode(
                f"{start}-11-20",
                nfa=shape["no"],
                plans=[(f"{start}-12-05", f"{start + 1}-02-01", "PHY", "SAB")],
                version=shape,
            ),
            version=shape,
        ),
        year=str(start + 1),
    )
    tables = clean_council(council_folder(tmp_path / "raw", text, year=version).parent, year=version)
    referrals = tables["referrals"].sort_values("referral_date")
    assert referrals["referral_source"].tolist() == [shape["source"], "6"]
    assert referrals["referral_outcome_original"].tolist() == ["NFA", "FURTHER_ACTION"]
    plans = tables["cp_plans"]
    assert plans[["initial_category", "latest_category"]].values.tolist() == [["PHY", "SAB"]]
    assert plans["cp_plan_end_date"].iloc[0] == pd.Timestamp(f"{start + 1}-02-01")


@pytest.mark.parametrize("spelling", ["true", "True", "TRUE", "1", " 1 ", "false", "FALSE", "0"])
def test_referral_nfa_in_any_spelling(tmp_path, spelling):
    text = census(child("C1", episode("2023-05-02", nfa=spelling)))
    tables = read_cin_census(council_folder(tmp_path / "raw", text) / "CIN_Census_2024_999.xml", CONTRACT)
    assert tables["referrals"].frame[3].tolist() == [spelling.strip()]
    expected = "NFA" if spelling.strip().lower() in {"true", "1"} else "FURTHER_ACTION"
    assert clean_council(tmp_path / "raw")["referrals"]["referral_outcome"].tolist() == [expected]


def test_namespaced_return_and_zoned_dates_are_read(tmp_path):
    text = census(
        child("C1", episode("2023-05-02+01:00", plans=[("2023-06-01Z", None, "NEG", "NEG")])),
        root_attributes=' xmlns="http://example.invalid/cin" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
    )
    tables = clean_council(council_folder(tmp_path / "raw", text).parent)
    assert tables["referrals"]["referral_date"].tolist() == [pd.Timestamp("2023-05-02")]
    assert tables["cp_plans"]["cp_plan_start_date"].tolist() == [pd.Timestamp("2023-06-01")]


def test_sample_written_as_a_return_cleans_to_the_csv_routes_tables(tmp_path):
    years = ("2022-23", YEAR)
    generate_sample(out_dir=tmp_path / "csv", seed=11, scale=0.1, years=years)
    written = generate_sample(out_dir=tmp_path / "xml", seed=11, scale=0.1, years=years, cin_xml=True)
    folder = tmp_path / "xml" / YEAR
    assert folder / f"cin_census_{YEAR}.xml" in written
    assert not (folder / "referrals.csv").exists() and not (folder / "cp_plans.csv").exists()
    from_csv, from_xml = run(tmp_path / "csv", tmp_path / "out_csv"), run(tmp_path / "xml", tmp_path / "out_xml")
    assert from_xml.rejected.empty
    for name in ("mash_contacts", "police_referrals", "audits"):
        pd.testing.assert_frame_equal(from_csv.tables[name], from_xml.tables[name])

    def ordered(table, by):
        return table.sort_values(by, kind="stable").reset_index(drop=True)

    # Plans: everything the census carries; it has no plan id, so the pseudonymous id is derived.
    by = ["child_pid", "cp_plan_start_date"]
    csv_plans, xml_plans = ordered(from_csv.tables["cp_plans"], by), ordered(from_xml.tables["cp_plans"], by)
    pd.testing.assert_frame_equal(csv_plans.drop(columns="cp_plan_pid"), xml_plans.drop(columns="cp_plan_pid"))
    # Referrals: child, date, source and whether the referral ended in no further action.
    by = ["child_pid", "referral_date", "referral_source"]
    csv_refs, xml_refs = ordered(from_csv.tables["referrals"], by), ordered(from_xml.tables["referrals"], by)
    same = ["child_pid", "referral_date", "referral_source", "referral_source_group", "reporting_year"]
    pd.testing.assert_frame_equal(csv_refs[same], xml_refs[same])
    nfa = csv_refs["referral_outcome"].isin(["NFA", "ADVICE_INFO"])
    expected = csv_refs["referral_outcome"].where(nfa, "FURTHER_ACTION")
    assert xml_refs["referral_outcome"].tolist() == expected.tolist()
    assert xml_refs["abuse_category"].isna().all() and xml_refs["domestic_abuse"].isna().all()


def test_sscp_sample_cin_xml_writes_a_return_per_year(tmp_path, capsys):
    from sscp_lib.cli import main

    assert main(["sample", "--out", str(tmp_path), "--scale", "0.05", "--cin-xml", "--annex-a"]) == 0
    for year in ("2021-22", "2022-23", YEAR):
        names = {p.name for p in (tmp_path / year).iterdir()}
        assert {f"cin_census_{year}.xml", f"annex_a_{year}.xlsx"} <= names
        assert not {"referrals.csv", "cp_plans.csv", "mash_contacts.csv"} & names
    assert "synthetic sample written" in capsys.readouterr().out


def test_sample_return_takes_each_years_schema_shape(tmp_path):
    generate_sample(out_dir=tmp_path, seed=3, scale=0.05, years=("2023-24", "2024-25"), cin_xml=True)
    older = (tmp_path / "2023-24" / "cin_census_2023-24.xml").read_text(encoding="utf-8")
    newer = (tmp_path / "2024-25" / "cin_census_2024-25.xml").read_text(encoding="utf-8")
    assert "<GenderCurrent>" in older and "<Sex>" not in older
    assert "<Sex>" in newer and "<GenderCurrent>" not in newer
    # Back to separate files: the return goes, the CSVs come back.
    generate_sample(out_dir=tmp_path, seed=3, scale=0.05, years=("2023-24",))
    assert not (tmp_path / "2023-24" / "cin_census_2023-24.xml").exists()
    assert (tmp_path / "2023-24" / "referrals.csv").exists()


class _Pool:
    """A child pool as the sample has it: ids, dates of birth, gender and ethnicity by index."""

    dob = pd.to_datetime(["2012-01-01", "2015-06-30"]).to_numpy().astype("datetime64[D]")
    gender = pd.array([1, 0]).to_numpy()
    ethnicity = pd.array([0, 1]).to_numpy()

    def ids(self, index):
        return pd.Series([f"K{i}" for i in index])


def test_sample_returns_count_a_childs_earlier_plans_across_years(tmp_path):
    from sscp_lib.sample.cin_census_writer import SampleCensusReturns

    def year_tables(referral_date, plan_start):
        referrals = pd.DataFrame(
            {
                "_child": [0, 1],
                "referral_date": pd.to_datetime([referral_date] * 2),
                "referral_source": ["6", "9"],
                "referral_outcome": ["S47", "ADVICE_INFO"],
            }
        )
        plans = pd.DataFrame(
            {
                "_child": [0],
                "cp_plan_start_date": pd.to_datetime([plan_start]),
                "cp_plan_end_date": pd.to_datetime([None]),
                "initial_category": ["NEG"],
                "latest_category": ["NEG"],
            }
        )
        return {"referrals": referrals, "cp_plans": plans}

    writer = SampleCensusReturns(_Pool(), ["a) Male", "b) Female", "c) Not stated"], ["WBRI", "APKN"])
    first = writer.write(tmp_path, ReportingYear.parse("2023-24"), year_tables("2023-05-01", "2023-05-20"))
    second = writer.write(tmp_path, ReportingYear.parse("2024-25"), year_tables("2024-05-01", "2024-05-20"))
    assert "<NumberOfPreviousCPP>0</NumberOfPreviousCPP>" in first.read_text(encoding="utf-8")
    newer = second.read_text(encoding="utf-8")
    assert "<NumberOfPreviousCPP>1</NumberOfPreviousCPP>" in newer
    assert "<Sex>F</Sex>" in newer and "<Sex>M</Sex>" in newer and "<Ethnicity>APKN</Ethnicity>" in newer
    tables = read_cin_census(second, CONTRACT)
    assert tables["referrals"].frame.values.tolist() == [["K0", "2024-05-01", "6", "0"], ["K1", "2024-05-01", "9", "1"]]
    assert tables["cp_plans"].frame.values.tolist() == [["K0", "2024-05-20", "", "NEG", "NEG"]]


# --- which source wins ---------------------------------------------------------------------------


def test_census_wins_over_annex_a_and_separate_files_for_referrals_and_plans(tmp_path):
    raw = tmp_path / "raw"
    folder = write_year(raw, skip=("mash_contacts",) + COUNCIL)
    (folder / "cin_census.xml").write_text(
        census(child("C1", episode("2023-05-02", plans=[("2023-06-01", None, "NEG", "NEG")]))), encoding="utf-8"
    )
    title = [["Annex A"], []]
    write_xlsx(
        folder / "annex_a_2023-24.xlsx",
        {
            "List 1": title + [["Child Unique ID", "Date of Contact", "Contact Source"], ["C1", "01/05/2023", "6"]],
            "List 2": title
            + [
                [
                    "Child Unique ID",
                    "Assessment start date",
                    "Assessment completion date",
                    "Organisation completing assessment",
                ]
            ]
            + [["C1", "10/05/2023", "01/06/2023", "School"]],
            "List 3": title
            + [["Child Unique ID", "Date of referral", "Referral Source", "Referral NFA?"]]
            + [["C1", "02/05/2023", "6", "No"], ["C2", "03/05/2023", "9", "Yes"]],
            "List 7": title
            + [["Child Unique ID", "Child Protection Plan Start Date", "Initial Category of Abuse"]]
            + [["C1", "01/06/2023", "a) Neglect"]],
        },
    )
    write_csv(
        folder / "referrals.csv",
        ["child_id", "referral_date", "referral_source", "referral_outcome"],
        [["C3", "04/05/2023", "6", "S47"]],
    )
    result = run(raw)
    assert len(result.tables["referrals"]) == 1 and len(result.tables["cp_plans"]) == 1
    assert len(result.tables["mash_contacts"]) == 1  # contacts still come from Annex A
    not_read = result.files_not_read().set_index("file")["why"].to_dict()
    assert not_read == {
        "2023-24/annex_a_2023-24.xlsx (List 3)": NOT_READ_REPLACED[CIN_CENSUS],
        "2023-24/annex_a_2023-24.xlsx (List 7)": NOT_READ_REPLACED[CIN_CENSUS],
        "2023-24/referrals.csv": NOT_READ_REPLACED[CIN_CENSUS],
        "2023-24/early_help.csv": NOT_READ_REPLACED[ANNEX_A],  # List 2 holds the early help assessments
    }
    sources = result.log.groupby("dataset")["file"].apply(set)
    assert sources["referrals"] == {"2023-24/cin_census.xml"}
    assert sources["mash_contacts"] == {"2023-24/annex_a_2023-24.xlsx"}


def test_a_record_in_two_years_returns_is_taken_from_the_later_one(tmp_path):
    raw = tmp_path / "raw"
    open_plan = [("2023-02-01", None, "MUL", "MUL")]
    ended_plan = [("2023-02-01", "2023-08-31", "MUL", "NEG")]
    council_folder(raw, census(child("C1", episode("2023-01-10", plans=open_plan)), year="2023"), year="2022-23")
    council_folder(
        raw,
        census(
            child("C1", episode("2023-01-10", plans=ended_plan)),
            child("C2", episode("2023-07-01", nfa="1")),
        ),
    )
    result = run(raw)
    plans = result.tables["cp_plans"]
    assert len(plans) == 1
    assert (plans["cp_plan_end_date"].iloc[0], plans["latest_category"].iloc[0]) == (pd.Timestamp("2023-08-31"), "NEG")
    assert len(result.tables["referrals"]) == 2
    log = result.log[result.log["dataset"] == "cp_plans"].set_index("file")
    assert log.loc["2022-23/CIN_Census_2024_999.xml", "duplicates_removed"] == 1
    assert log.loc["2023-24/CIN_Census_2024_999.xml", "rows_kept"] == 1
    assert (log["rows_read"] == log["rows_kept"] + log["duplicates_removed"] + log["rows_rejected"]).all()


# --- dates outside the window ----------------------------------------------------------------------


def test_a_referral_after_the_year_end_is_rejected_naming_its_line(tmp_path):
    text = census(child("C1", episode("2023-05-02"), episode("2024-04-03")), child("C2", episode("2023-06-01")))
    result = run(council_folder(tmp_path / "raw", text).parent)
    rejected = result.rejected
    assert len(rejected) == 1
    row = rejected.iloc[0]
    lines = text.splitlines()
    assert lines[row["row"] - 1].strip() == "<CINdetails>" and "2024-04-03" in lines[row["row"]]
    assert (row["sheet"], row["column"], row["reason"], row["value"]) == (
        "CINdetails",
        "referral_date",
        REASON_AFTER_YEAR,
        "2024-04-03",
    )
    assert len(result.tables["referrals"]) == 2


def test_a_referral_before_the_earliest_year_is_quarantined_by_validation(tmp_path):
    from sscp_lib.validation.suites import SuiteInputs, validate_table

    text = census(child("C1", episode("2019-05-02"), episode("2023-05-02")))
    referrals = clean_council(council_folder(tmp_path / "raw", text).parent)["referrals"]
    earliest = ReportingYear.parse(CONFIG["data_rules"]["earliest_year"])
    inputs = SuiteInputs(year=ReportingYear.parse(YEAR), earliest_year=earliest)
    _, validated, quarantined = validate_table(referrals, "referrals", inputs)
    assert quarantined["referral_date"].tolist() == [pd.Timestamp("2019-05-02")]
    assert validated["referral_date"].tolist() == [pd.Timestamp("2023-05-02")]


# --- bad files -------------------------------------------------------------------------------------


def clean_error(raw: Path) -> str:
    with pytest.raises(InputFileError) as caught:
        run(raw)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_malformed_xml_is_one_error_naming_file_and_line(tmp_path):
    text = census(child("C1", episode("2023-05-02"))).replace("</ReferralSource>", "</ReferalSource>", 1)
    line = next(i for i, t in enumerate(text.splitlines(), start=1) if "</ReferalSource>" in t)
    council_folder(tmp_path / "raw", text)
    message = clean_error(tmp_path / "raw")
    assert "CIN_Census_2024_999.xml" in message and f"line {line}," in message
    assert "mismatched tag" in message and "not well-formed" in message


def test_truncated_return_is_one_error(tmp_path):
    text = census(child("C1", episode("2023-05-02")))
    council_folder(tmp_path / "raw", text[: text.index("</Children>")])
    message = clean_error(tmp_path / "raw")
    assert "cut short" in message and "CIN_Census_2024_999.xml" in message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('<?xml version="1.0"?>\n<Workbook><Sheet/></Workbook>\n', "its root element is <Workbook>"),
        (census(child("C1", episode("2023-05-02")), collection="SEN2"), "names the 'SEN2' collection"),
        ("<Message><Header/><Persons><Person/></Persons></Message>", "<Message> holds <Persons>"),
        ("<Message><Header/></Message>", "no <Children> element"),
        ("<Message><Children></Children></Message>", "holds no <Child> records"),
        ("<Message><Children><Child><CinDetails/></Child></Children></Message>", "no <CINdetails> record"),
        ("", "the file is empty"),
    ],
)
def test_an_xml_file_that_is_not_a_census_return_is_one_clear_error(tmp_path, text, words):
    council_folder(tmp_path / "raw", text, name="export.xml")
    message = clean_error(tmp_path / "raw")
    assert "export.xml" in message and words in message


def test_a_workbook_named_xml_is_one_clear_error(tmp_path):
    folder = write_year(tmp_path / "raw", skip=COUNCIL)
    write_xlsx(tmp_path / "book.xlsx", {"Sheet": [["a"]]})
    (folder / "cin.xml").write_bytes((tmp_path / "book.xlsx").read_bytes())
    assert "Excel workbook or zip file" in clean_error(tmp_path / "raw")


def test_contract_docs_show_the_census_mapping_and_which_source_wins():
    from sscp_lib.ingest.contract_docs import render_contract_docs

    text = render_contract_docs()
    assert "| `CINdetails/ReferralNFA` | `referral_outcome` |" in text
    assert "| `CINdetails/ChildProtectionPlans/CPPstartDate` | `cp_plan_start_date` |" in text
    assert "true → `NFA`, 1 → `NFA`, false → `FURTHER_ACTION`, 0 → `FURTHER_ACTION`" in text
    assert "a CIN census return first, then an Annex A workbook, then a separate file" in text


def test_sscp_inspect_reads_a_census_return_without_showing_identifiers(tmp_path, capsys):
    from sscp_lib.cli import main

    text = census(child("LA-0001", episode("2023-05-02", nfa="1", plans=[("2023-06-01", None, "NEG", "NEG")])))
    folder = council_folder(tmp_path / "raw", text)
    assert main(["inspect", str(folder / "CIN_Census_2024_999.xml")]) == 0
    out = capsys.readouterr().out
    assert "Read as a CIN census return (utf-8): 1 <CINdetails> records" in out
    assert "CINdetails/ReferralNFA      -> referral_outcome  [CIN census element]" in out
    assert "LA-0001" not in out and "2014-02-14" not in out


def test_a_return_with_no_plans_stops_naming_the_return_and_each_file_set_aside(tmp_path):
    """The plans come from the census return when there is one; a return holding none stops the
    clean stage saying so, and where each file that would have given them went and why."""
    raw = tmp_path / "raw"
    folder = write_year(raw, skip=("referrals",))  # cp_plans.csv stays in the folder
    (folder / "CIN_Census_2024_999.xml").write_text(census(child("C1", episode("2023-05-02"))), encoding="utf-8")
    with pytest.raises(UserError) as caught:
        run(raw)
    message = str(caught.value)
    assert "\n" not in message
    assert "child protection plans for 2023-24 are read from the CIN census return" in message
    assert "2023-24/CIN_Census_2024_999.xml" in message and "holds none dated in 2023-24" in message
    assert "2023-24/cp_plans.csv, replaced by the CIN census return" in message
    assert "left where they are unread" in message and "docs/cin-census.md" in message
    assert not (tmp_path / "clean" / "cp_plans.parquet").exists()  # nothing half-written
