"""The sample as a partnership's own exports would arrive: every file renamed, many headings and
some value spellings changed, formats varied. Used by tests/test_sources.py and test_inspect.py.

`rename_sample(src, dst)` rewrites every year folder of a generated sample; SOURCES is the source
mapping a partnership would write for these files (config only: nothing in the package changes).
"""

from __future__ import annotations

import codecs
import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from sscp_lib.contract import load_contract
from sscp_lib.ingest.clean import parse_date_text
from sscp_lib.ingest.readers import read_raw_file
from sscp_lib.ingest.sources import FALSE_WORDS, TRUE_WORDS, default_spec


@dataclass(frozen=True)
class Export:
    file: str  # name, with {year} and, for split files, {part}
    headings: dict[str, str] = field(default_factory=dict)  # contract column -> heading in the export
    date_format: str | None = None  # strftime for every date column
    bools: dict[str, tuple[str, str]] = field(default_factory=dict)  # column -> (yes, no)
    codes: dict[str, dict[str, str] | str] = field(default_factory=dict)  # column -> {code: spelling} | "labels"
    parts: tuple[str, ...] = ()  # split the rows into these files, in order
    kind: str = "csv"  # csv | csv-utf16 | xlsx
    delimiter: str = ","


EXPORTS: dict[str, Export] = {
    "mash_contacts": Export(
        "MASH Contacts {year}.csv",
        {"contact_id": "Contact No", "child_id": "LCS Person ID", "child_name": "Child Full Name"},
        codes={"contact_source": "labels", "contact_outcome": "labels"},
        delimiter=";",
    ),
    "referrals": Export(
        "CSC Referrals {year}.csv",
        {
            "referral_id": "Referral No",
            "child_id": "LCS Person ID",
            "date_of_birth": "Child DOB",
            "referral_date": "Referral Received",
            "referral_source": "Referral Source (CIN)",
            "abuse_category": "Primary Need Category",
            "domestic_abuse": "DA Factor",
        },
        date_format="%d.%m.%Y",
        bools={"domestic_abuse": ("Yes", "No")},
        codes={"referral_source": "labels", "referral_outcome": {"S47": "Strategy / S47", "NFA": "NFA"}},
    ),
    "police_referrals": Export(
        "WMP PPN extract {year} {part}.csv",
        {
            "police_referral_id": "Occurrence Number",
            "child_id": "Subject Person ID",
            "child_name": "Subject Name",
            "date_of_birth": "Subject DOB",
            "referral_date": "PPN Submitted Date",
            "domestic_abuse": "DA Related (Y/N)",
            "dara_submitted": "DARA Completed",
            "risk_level": "DASH Risk",
        },
        date_format="%d-%b-%Y",
        bools={"domestic_abuse": ("Y", "N"), "dara_submitted": ("Completed", "Not completed")},
        codes={"risk_level": {"STANDARD": "Standard risk", "MEDIUM": "Medium risk", "HIGH": "High risk"}},
        parts=("Q1-Q2", "Q3-Q4"),
    ),
    "health_referrals": Export(
        "ICB safeguarding referrals {year}.xlsx",
        {"health_referral_id": "Referral Reference", "child_id": "Child Ref", "referral_date": "Date Referred"},
        codes={"concern_category": "labels"},
        kind="xlsx",
    ),
    "cp_plans": Export(
        "Child Protection Plans {year}.csv",
        {
            "cp_plan_id": "CP Plan Ref",
            "child_id": "LCS Person ID",
            "cp_plan_start_date": "CP Start Date",
            "cp_plan_end_date": "CP End Date",
            "initial_category": "Initial Category",
            "latest_category": "Latest Category",
        },
        codes={"initial_category": "labels", "latest_category": "labels"},
    ),
    "audits": Export(
        "MAAP audit programme {year}.csv",
        {"audit_title": "Audit Name", "cases_audited": "No. of Cases"},
        codes={"topic": "labels", "audit_type": "labels"},
    ),
    "audit_cases": Export("Audit case grades {year}.csv", {"grade": "Overall Grading", "audit_case_id": "Case Ref No"}),
    "audit_actions": Export(
        "Audit action tracker {year}.csv", {"owner_agency": "Lead Agency", "due_date": "Due By"}, date_format="%d %b %Y"
    ),
    "business_plan_actions": Export(
        "IPBP tracker {year}.csv", {"lead_agency": "Lead Partner", "status": "RAG Status", "workstream": "Workstream"}
    ),
    "case_reviews": Export("Rapid reviews and CSPRs {year}.csv", {"review_type": "Review Type", "themes": "Themes"}),
    "review_actions": Export(
        "CSPR action log {year}.csv", {"review_action_id": "Action Ref", "owner_agency": "Owner Org"}
    ),
    "training_attendance": Export(
        "Training bookings {year}.csv",
        {"attendance_id": "Booking Ref", "course_date": "Session Date", "attended": "Attendance Status"},
        bools={"attended": ("Attended", "Did not attend")},
        kind="csv-utf16",
        delimiter="\t",
    ),
    "meeting_attendance": Export(
        "Meeting attendance register {year}.csv", {"meeting_series": "Meeting", "attended": "Present"}
    ),
    "communications": Export("Comms and engagement {year}.csv", {"item_date": "Date Sent / Held"}),
    "budget": Export("Partnership budget {year}.csv", {"budget_amount": "Budget £", "actual_amount": "Outturn £"}),
    "escalations": Export("Escalation log {year}.csv", {"escalation_level": "Escalated To"}),
    "early_help": Export(
        "EH assessments {year}.csv",
        {
            "early_help_id": "Episode No",
            "child_id": "LCS Person ID",
            "assessment_start_date": "EHA Started",
            "assessment_completion_date": "EHA Completed",
            "lead_agency": "Lead Professional Agency",
            "early_help_outcome": "Closure Reason",
        },
        date_format="%d-%m-%Y",
        codes={
            "lead_agency": "labels",
            "early_help_outcome": {"CLOSED": "Needs met", "STEPPED_UP": "Step up to CSC", "STEPPED_DOWN": "Universal"},
        },
    ),
    "suspensions_exclusions": Export(
        "EIS suspensions log {year}.csv",
        {
            "child_id": "LA Child ID",
            "upn": "Pupil UPN",
            "child_name": "Pupil Name",
            "school_urn": "School URN",
            "exclusion_category": "Exclusion Type",
            "start_date": "Exclusion Start Date",
            "exclusion_reason": "Reason Code",
            "sessions": "No. of Sessions",
        },
        date_format="%d/%m/%y",
        codes={"exclusion_category": {"FIXD": "Suspension", "PERM": "Permanent", "LNCH": "Lunchtime"}},
        delimiter=";",
    ),
    "mental_health_referrals": Export(
        "SOLAR referrals {year}.csv",
        {
            "mh_referral_id": "SOLAR Ref",
            "child_id": "Council ID",
            "nhs_number": "NHS Number",
            "referral_date": "Date Received",
            "referral_source": "Referred By",
            "accepted": "Referral Accepted",
            "first_appointment_date": "First Attended Appt",
            "referral_reason": "Primary Presenting Need",
        },
        bools={"accepted": ("Accepted", "Signposted")},
        codes={"referral_source": {"GP": "GP surgery", "SOCIAL_CARE": "CSC"}, "referral_reason": "labels"},
    ),
}

# The source mapping a partnership would write for these exports (test_sources.py writes it as a file).
SOURCES = {
    "mash_contacts": {
        "files": "MASH Contacts *.csv",
        "columns": {"Contact No": "contact_id", "LCS Person ID": "child_id"},
    },
    "referrals": {
        "files": "CSC Referrals *.csv",
        "columns": {
            "Referral No": "referral_id",
            "LCS Person ID": "child_id",
            "Child DOB": "date_of_birth",
            "Referral Received": "referral_date",
            "Referral Source (CIN)": "referral_source",
            "Primary Need Category": "abuse_category",
            "DA Factor": "domestic_abuse",
        },
        "values": {"referral_outcome": {"Strategy / S47": "S47"}},
        "date_formats": ["%d.%m.%Y"],
    },
    "police_referrals": {
        "files": ["WMP PPN extract *.csv"],
        "columns": {
            "Occurrence Number": "police_referral_id",
            "Subject Person ID": "child_id",
            "Subject Name": "child_name",
            "Subject DOB": "date_of_birth",
            "PPN Submitted Date": "referral_date",
            "DA Related (Y/N)": "domestic_abuse",
            "DARA Completed": "dara_submitted",
            "DASH Risk": "risk_level",
        },
        "values": {"risk_level": {"Standard risk": "STANDARD", "Medium risk": "MEDIUM", "High risk": "HIGH"}},
        "date_formats": ["%d-%b-%Y"],
        "yes_words": ["Completed"],
        "no_words": ["Not completed"],
    },
    "health_referrals": {
        "files": "ICB safeguarding referrals *.xlsx",
        "sheet": "Referrals",
        "columns": {"Referral Reference": "health_referral_id", "Date Referred": "referral_date"},
    },
    "cp_plans": {
        "files": "Child Protection Plans *.csv",
        "columns": {
            "LCS Person ID": "child_id",
            "CP Start Date": "cp_plan_start_date",
            "CP End Date": "cp_plan_end_date",
        },
    },
    "audits": {
        "files": "MAAP audit programme *.csv",
        "columns": {"Audit Name": "audit_title", "No. of Cases": "cases_audited"},
    },
    "audit_cases": {
        "files": "Audit case grades *.csv",
        "columns": {"Overall Grading": "grade", "Case Ref No": "audit_case_id"},
    },
    "audit_actions": {
        "files": "Audit action tracker *.csv",
        "columns": {"Lead Agency": "owner_agency", "Due By": "due_date"},
        "date_formats": ["%d %b %Y"],
    },
    "business_plan_actions": {
        "files": "IPBP tracker *.csv",
        "columns": {"Lead Partner": "lead_agency", "RAG Status": "status"},
    },
    "case_reviews": {"files": "Rapid reviews and CSPRs *.csv"},
    "review_actions": {"files": "CSPR action log *.csv", "columns": {"Owner Org": "owner_agency"}},
    "training_attendance": {
        "files": "Training bookings *.csv",
        "encoding": "utf-16-le",
        "columns": {"Booking Ref": "attendance_id", "Session Date": "course_date", "Attendance Status": "attended"},
        "yes_words": "Attended",
        "no_words": "Did not attend",
    },
    "meeting_attendance": {"files": "Meeting attendance register *.csv"},
    "communications": {"files": "Comms and engagement *.csv", "columns": {"Date Sent / Held": "item_date"}},
    "budget": {
        "files": "Partnership budget *.csv",
        "columns": {"Budget £": "budget_amount", "Outturn £": "actual_amount"},
    },
    "escalations": {"files": "Escalation log *.csv", "columns": {"Escalated To": "escalation_level"}},
    "early_help": {
        "files": "EH assessments *.csv",
        "columns": {
            "Episode No": "early_help_id",
            "LCS Person ID": "child_id",
            "EHA Started": "assessment_start_date",
            "EHA Completed": "assessment_completion_date",
            "Lead Professional Agency": "lead_agency",
            "Closure Reason": "early_help_outcome",
        },
        "values": {
            "early_help_outcome": {"Needs met": "CLOSED", "Step up to CSC": "STEPPED_UP", "Universal": "STEPPED_DOWN"}
        },
        "date_formats": ["%d-%m-%Y"],
    },
    "suspensions_exclusions": {
        "files": "EIS suspensions log *.csv",
        "columns": {
            "LA Child ID": "child_id",
            "Pupil UPN": "upn",
            "Pupil Name": "child_name",
            "School URN": "school_urn",
            "Exclusion Type": "exclusion_category",
            "Exclusion Start Date": "start_date",
            "Reason Code": "exclusion_reason",
            "No. of Sessions": "sessions",
        },
        "date_formats": ["%d/%m/%y"],
    },
    "mental_health_referrals": {
        "files": "SOLAR referrals *.csv",
        "columns": {
            "SOLAR Ref": "mh_referral_id",
            "Council ID": "child_id",
            "Referral Accepted": "accepted",
            "First Attended Appt": "first_appointment_date",
            "Primary Presenting Need": "referral_reason",
        },
        "values": {"referral_source": {"GP surgery": "GP", "CSC": "SOCIAL_CARE"}},
        "yes_words": "Accepted",
        "no_words": "Signposted",
    },
}


def _respell(values: list[str], column, export: Export, contract) -> list[str]:
    """Each value in the export's spelling; values the cleaner cannot read stay as they are."""
    if column.type == "date" and export.date_format and column.role != "drop":
        out = []
        for value in values:
            day = parse_date_text(value) if value else None
            out.append(day.strftime(export.date_format) if day else value)
        return out
    if column.type == "bool" and column.name in export.bools:
        yes, no = export.bools[column.name]
        return [yes if v.lower() in TRUE_WORDS else no if v.lower() in FALSE_WORDS else v for v in values]
    if column.type == "code" and column.name in export.codes:
        from sscp_lib.ingest.clean import normalise_code

        codes = contract.codes_for(column)
        spelling = export.codes[column.name]
        lookup = codes.lookup()
        out = []
        for value in values:
            code = normalise_code(value, lookup) if value else None
            if code is None:
                out.append(value)
            elif spelling == "labels":
                out.append(codes.codes[code])
            else:
                out.append(spelling.get(code, value))
        return out
    return values


def _write(path: Path, export: Export, headings: list[str], rows: list[list[str]], year: str) -> None:
    if export.kind == "xlsx":
        workbook = openpyxl.Workbook()
        notes = workbook.active
        notes.title = "Notes"
        notes.append(["Safeguarding referrals made by health providers, extracted from the ICB system."])
        data = workbook.create_sheet("Referrals")
        data.append([f"ICB safeguarding referrals {year}"])
        data.append(["Extracted for the partnership: OFFICIAL-SENSITIVE"])
        data.append([])
        data.append(headings)
        for row in rows:
            data.append(row)
        workbook.save(path)
        return
    encoding = "utf-16-le" if export.kind == "csv-utf16" else "utf-8"
    with codecs.open(path, "w", encoding=encoding) as fh:
        writer = csv.writer(fh, delimiter=export.delimiter, lineterminator="\r\n")
        writer.writerow(headings)
        writer.writerows(rows)


def rename_sample(src: Path, dst: Path) -> list[Path]:
    """Rewrite every year folder of the sample at src as renamed exports under dst."""
    contract = load_contract()
    written = []
    for folder in sorted(p for p in Path(src).iterdir() if p.is_dir()):
        out = Path(dst) / folder.name
        out.mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.iterdir()):
            if path.name == "_sample.json":
                shutil.copy(path, out / path.name)
                continue
            name = next((n for n in EXPORTS if path.stem == contract.dataset(n).file_pattern), None)
            assert name is not None, f"unexpected sample file {path}"
            dataset, export = contract.dataset(name), EXPORTS[name]
            spec = default_spec(dataset)
            table = read_raw_file(path, spec.expected_headings())
            lookup = spec.lookup()
            columns = [lookup.get(_normalise(h)) for h in table.headings]
            headings = [export.headings.get(c, h) if c else h for c, h in zip(columns, table.headings)]
            by_position = [
                _respell(table.frame[i].tolist(), dataset.column(c), export, contract) if c else table.frame[i].tolist()
                for i, c in enumerate(columns)
            ]
            rows = [list(r) for r in zip(*by_position)] if by_position else []
            parts = export.parts or ("",)
            size = -(-len(rows) // len(parts))
            for index, part in enumerate(parts):
                target = out / export.file.format(year=folder.name, part=part)
                _write(target, export, headings, rows[index * size : (index + 1) * size], folder.name)
                written.append(target)
    return written


def _normalise(heading: str) -> str:
    from sscp_lib.contract import normalise_header

    return normalise_header(heading)
