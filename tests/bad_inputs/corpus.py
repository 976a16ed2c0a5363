"""The bad-input corpus: each case breaks one raw file of an otherwise valid year folder.

A case names the dataset it breaks, a `build(folder)` that writes the bad file, and what the
clean stage must do: raise one clear error (`error`: regex; the message must name the file), or
keep/reject rows (`rejected`: reasons expected, `kept`: rows kept). Files are made in tmp folders.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from .builders import csv_text, dataset_rows, ole2_bytes, write_csv, write_xlsx


@dataclass(frozen=True)
class Case:
    name: str
    dataset: str
    build: Callable[[Path], Path]  # writes the bad file, returns its path
    error: str | None = None  # regex the one error message must match
    rejected: dict[int, str] = field(default_factory=dict)  # file row -> reason
    rejected_column: str | None = None
    kept: int | None = None
    duplicates: int = 0
    skipped: int = 0
    check: Callable | None = None  # extra assertions on (table, log_row)


def _rows(name: str, n: int = 3, **changes) -> tuple[list[str], list[list[str]]]:
    """Valid rows with changes: {column: {row_index: value}}."""
    header, rows = dataset_rows(name, n)
    for column, by_row in changes.items():
        for i, value in by_row.items():
            rows[i][header.index(column)] = value
    return header, rows


def _write(name: str, file: str | None = None, encoding: str = "utf-8", **changes):
    def build(folder: Path) -> Path:
        header, rows = _rows(name, **changes)
        return write_csv(folder / (file or f"{name}.csv"), header, rows, encoding=encoding)

    return build


def _bytes(file: str, content: bytes, remove: str | None = None):
    def build(folder: Path) -> Path:
        if remove:
            (folder / remove).unlink()
        path = folder / file
        path.write_bytes(content)
        return path

    return build


def _text(name: str, text: str, encoding: str = "utf-8"):
    return _bytes(f"{name}.csv", text.encode(encoding))


def _lines(name: str, *extra_lines: str, n: int = 2, head: str = "", bom: bool = False):
    header, rows = dataset_rows(name, n)
    return _text(name, ("\ufeff" if bom else "") + head + csv_text(header, rows) + "".join(extra_lines))


def _xlsx(name: str, rows_of: Callable[[list[str], list[list[str]]], list[list]], remove_csv: bool = True):
    def build(folder: Path) -> Path:
        header, rows = dataset_rows(name, 3)
        if remove_csv:
            (folder / f"{name}.csv").unlink()
        return write_xlsx(folder / f"{name}.xlsx", {"Export": rows_of(header, rows)})

    return build


def _corrupt_xlsx(folder: Path) -> Path:
    (folder / "health_referrals.csv").unlink()
    path = folder / "health_referrals.xlsx"
    header, rows = dataset_rows("health_referrals", 3)
    write_xlsx(path, {"Data": [header, *rows]})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # truncated in transfer
    return path


def _xlsx_missing_sheet_part(folder: Path) -> Path:
    (folder / "health_referrals.csv").unlink()
    path = folder / "health_referrals.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    return path


# A CIN census return: two children, one referral each (lines 5 and 11 start the episodes).
CENSUS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Message>
  <Children>
    <Child><ChildIdentifiers><LAchildID>C1</LAchildID></ChildIdentifiers>
      <CINdetails>
        <CINreferralDate>2023-05-02</CINreferralDate><ReferralSource>6</ReferralSource>
        <ReferralNFA>0</ReferralNFA>
      </CINdetails>
    </Child>
    <Child><ChildIdentifiers><LAchildID>C2</LAchildID></ChildIdentifiers>
      <CINdetails>
        <CINreferralDate>2023-06-01</CINreferralDate><ReferralSource>9</ReferralSource>
        <ReferralNFA>1</ReferralNFA>
      </CINdetails>
    </Child>
  </Children>
</Message>
"""

ANNEX_TITLE = [["Annex A: children's social care data return"], ["Local authority: Solihull"], [None], [None]]


def _annex_a(with_list_7: bool = True):
    def build(folder: Path) -> Path:
        sheets = {
            "List 1": ANNEX_TITLE
            + [
                ["Child Unique ID", "Gender", "Date of Birth", "Date of Contact", "Contact Source"],
                ["C1", "a) Male", date(2014, 3, 1), date(2023, 5, 1), "f) 6: Police"],
                ["C2", "b) Female", date(2016, 3, 1), date(2023, 6, 9), "u) 10: Unknown"],
            ],
            # List 2 as councils fill it: extra columns Ofsted asks for, lettered organisations,
            # an assessment still open (no completion date).
            "List 2": ANNEX_TITLE
            + [
                [
                    "Child Unique ID",
                    "Gender",
                    "Ethnicity",
                    "Date of Birth",
                    "Age of Child (Years)",
                    "Assessment start date",
                    "Assessment completion date",
                    "Organisation completing assessment",
                    "LA",
                ],
                [
                    "C3",
                    "b) Female",
                    "WBRI",
                    date(2015, 1, 9),
                    8,
                    date(2023, 4, 20),
                    date(2023, 5, 30),
                    "b) School",
                    "Solihull",
                ],
                [
                    "C1",
                    "a) Male",
                    "MWBC",
                    date(2014, 3, 1),
                    9,
                    date(2023, 9, 4),
                    None,
                    "a) Local authority",
                    "Solihull",
                ],
                [
                    "C4",
                    "a) Male",
                    "AIND",
                    date(2019, 6, 2),
                    4,
                    datetime(2024, 1, 15),
                    date(2024, 2, 20),
                    "c) Health visitor",
                    "Solihull",
                ],
            ],
            "List 3": ANNEX_TITLE
            + [
                ["Child Unique ID", "Date of Birth", "Date of referral", "Referral Source", "Referral NFA?"],
                ["C1", date(2014, 3, 1), date(2023, 5, 2), "f) 6: Police", "No"],
                ["C2", date(2016, 3, 1), datetime(2023, 10, 2), "a) 1A: Individual", "Yes"],
            ],
        }
        if with_list_7:
            sheets["List 7"] = ANNEX_TITLE + [
                [
                    "Child Unique ID",
                    "Child Protection Plan Start Date",
                    "Initial Category of Abuse",
                    "Latest Category of Abuse",
                ],
                ["C1", date(2023, 7, 1), "a) Neglect", "c) Sexual abuse"],
            ]
        return write_xlsx(folder / "annex_a.xlsx", sheets)

    return build


LONG_TEXT = "Very long free text. " * 5000  # ~100,000 characters in one cell

CASES: list[Case] = [
    Case(
        "windows-1252 file with £ and accents",
        "training_attendance",
        _write("training_attendance", encoding="cp1252", module={0: "Café-based neglect training – £0"}),
        kept=3,
        check=lambda t, log: log["encoding"] == "cp1252" and "Café-based neglect training – £0" in set(t["module"]),
    ),
    Case(
        "UTF-8 file with a byte-order mark",
        "police_referrals",
        _lines("police_referrals", bom=True),
        kept=2,
        check=lambda t, log: log["encoding"] == "utf-8-sig",
    ),
    Case(
        "mixed date formats in one column",
        "audits",
        _write("audits", audit_date={0: "2023-06-10", 1: "11/06/2023", 2: "12/6/23"}),
        kept=3,
        check=lambda t, log: (
            sorted(t["audit_date"].dt.strftime("%Y-%m-%d")) == ["2023-06-10", "2023-06-11", "2023-06-12"]
        ),
    ),
    Case(
        "Excel serial dates in a CSV",
        "escalations",
        _write("escalations", raised_date={0: "45097", 1: "45098.0", 2: "45099"}),
        kept=3,
        check=lambda t, log: (
            sorted(t["raised_date"].dt.strftime("%Y-%m-%d")) == ["2023-06-20", "2023-06-21", "2023-06-22"]
        ),
    ),
    Case("blank trailing rows", "budget", _lines("budget", ",,,,,\r\n", "\r\n", ",,,,,\r\n"), kept=2, skipped=3),
    Case(
        "repeated header row in the middle",
        "case_reviews",
        lambda folder: _lines(
            "case_reviews",
            ",".join(dataset_rows("case_reviews")[0]).upper() + "\r\n",
            csv_text(*_rows("case_reviews", 1, review_id={0: "LATE-1"})).split("\r\n", 1)[1],
        )(folder),
        kept=3,
        skipped=1,
    ),
    Case(
        "missing required column",
        "referrals",
        _text("referrals", "referral_id,child_id,referral_date,referral_source\r\nR1,C1,01/05/2023,6\r\n"),
        error=r"referrals\.csv, column 'referral_outcome': missing required column",
    ),
    Case(
        "extra columns are ignored and listed",
        "audit_cases",
        _text(
            "audit_cases",
            "audit_case_id,audit_id,child_id,audit_date,grade,Auditor,Notes\r\n"
            "AC1,A1,C1,01/05/2023,Good,Jo,free text\r\n",
        ),
        kept=1,
        check=lambda t, log: log["extra_columns"] == "Auditor, Notes",
    ),
    Case(
        "empty file with only a header row",
        "escalations",
        _text("escalations", ",".join(dataset_rows("escalations")[0]) + "\r\n"),
        kept=0,
    ),
    Case("zero-byte file", "audits", _bytes("audits.csv", b""), error=r"audits\.csv: the file is empty \(0 bytes\)"),
    Case(
        "binary junk saved as .csv",
        "communications",
        _bytes("communications.csv", bytes(range(256)) * 40),
        error=r"communications\.csv: the file holds binary data",
    ),
    Case(
        "control characters (no NUL) saved as .csv",
        "communications",
        _bytes("communications.csv", b"a,b\r\n" + bytes([1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 31]) * 60),
        error=r"communications\.csv: the file holds binary data, not CSV text",
    ),
    Case(
        "unknown agency code",
        "training_attendance",
        _write("training_attendance", attendee_agency={1: "MI5"}),
        rejected={3: "unknown code"},
        rejected_column="attendee_agency",
        kept=2,
    ),
    Case(
        "unknown referral outcome",
        "referrals",
        _write("referrals", referral_outcome={0: "Sent to Narnia"}),
        rejected={2: "unknown code"},
        rejected_column="referral_outcome",
        kept=2,
    ),
    Case(
        "unknown abuse category",
        "cp_plans",
        _write("cp_plans", initial_category={2: "z) Spiritual"}),
        rejected={4: "unknown code"},
        rejected_column="initial_category",
        kept=2,
    ),
    Case(
        "future period date",
        "mash_contacts",
        _write("mash_contacts", contact_date={0: "01/01/2031"}),
        rejected={2: "date after the end of the reporting year"},
        rejected_column="contact_date",
        kept=2,
    ),
    Case(
        "period dates either side of the year",
        "health_referrals",
        _write("health_referrals", referral_date={0: "31/03/2023", 1: "01/04/2024"}),
        rejected={3: "date after the end of the reporting year"},
        kept=2,
        check=lambda t, log: sorted(t["reporting_year"]) == ["2022-23", "2023-24"],
    ),
    Case(
        "negative counts",
        "communications",
        _write("communications", opens={0: "-5"}, attendees={2: "-1"}),
        rejected={2: "below the minimum of 0", 4: "below the minimum of 0"},
        kept=1,
    ),
    Case(
        "duplicate keys are kept for validation",
        "police_referrals",
        _write("police_referrals", police_referral_id={1: "POLICE_REFERRAL_ID-0001"}),
        kept=3,
        check=lambda t, log: t["police_referral_pid"].nunique() == 2,
    ),
    Case(
        "exact duplicate rows removed",
        "meeting_attendance",
        lambda folder: write_csv(
            folder / "meeting_attendance.csv",
            *(lambda h, r: (h, r + [r[0], r[0]]))(*dataset_rows("meeting_attendance", 3)),
        ),
        kept=3,
        duplicates=2,
    ),
    Case(
        "Annex A workbook with title rows above the headers",
        "referrals",
        _annex_a(),
        kept=2,
        check=lambda t, log: (
            sorted(t["referral_outcome"]) == ["ADVICE_INFO", "FURTHER_ACTION"] and log["sheet"] == "List 3"
        ),
    ),
    Case(
        "Annex A workbook: List 2 early help assessments with lettered organisations and extra columns",
        "early_help",
        _annex_a(),
        kept=3,
        check=lambda t, log: (
            list(t["lead_agency"]) == ["EDUCATION", "COUNCIL", "HEALTH"]
            and t["assessment_completion_date"].isna().tolist() == [False, True, False]
            and t["early_help_outcome"].isna().all()
            and log["sheet"] == "List 2"
        ),
    ),
    Case(
        "Annex A workbook without List 7",
        "cp_plans",
        _annex_a(with_list_7=False),
        error=r"annex_a\.xlsx: the workbook has no sheet 'List 7'",
    ),
    Case(
        "CIN census return with a referral after the year end",
        "referrals",
        _bytes("cin_census.xml", CENSUS_XML.replace("2023-06-01", "2024-06-01").encode()),
        rejected={11: "date after the end of the reporting year"},  # the line of that <CINdetails>
        rejected_column="referral_date",
        kept=1,
        check=lambda t, log: log["sheet"] == "CINdetails" and log["format"] == "xml",
    ),
    Case(
        "CIN census return that is not well-formed XML",
        "referrals",
        _bytes("cin_census.xml", CENSUS_XML.replace("</ReferralNFA>", "</ReferralNFA", 1).encode()),
        error=r"cin_census\.xml: the XML is not well-formed at line 8, column \d+",
    ),
    Case(
        "XML file that is not a CIN census return",
        "cp_plans",
        _bytes("Workforce return.xml", b'<?xml version="1.0"?>\n<Message><Header/><CSWWWorker/></Message>\n'),
        error=r"Workforce return\.xml: this XML file is not a CIN census return: <Message> holds <CSWWWorker>",
    ),
    Case("corrupt xlsx", "health_referrals", _corrupt_xlsx, error=r"health_referrals\.xlsx: the workbook is corrupt"),
    Case(
        "xlsx zip without a worksheet",
        "health_referrals",
        _xlsx_missing_sheet_part,
        error=r"health_referrals\.xlsx: the workbook (is corrupt|cannot be opened)",
    ),
    Case(
        "password-protected xlsx",
        "health_referrals",
        _bytes("health_referrals.xlsx", ole2_bytes(), remove="health_referrals.csv"),
        error=r"health_referrals\.xlsx: the workbook is password-protected",
    ),
    Case(
        "very long text",
        "business_plan_actions",
        _write("business_plan_actions", action={0: LONG_TEXT}, status={1: LONG_TEXT}),
        rejected={3: "unknown code"},
        rejected_column="status",
        kept=2,
        check=lambda t, log: t["action"].str.len().max() == len(LONG_TEXT.strip()),
    ),
    Case(
        "semicolon-delimited export",
        "audit_actions",
        lambda folder: write_csv(folder / "audit_actions.csv", *dataset_rows("audit_actions", 3), delimiter=";"),
        kept=3,
    ),
    Case(
        "a row with more fields than the header",
        "review_actions",
        _lines("review_actions", "RA-9,R-1,act,COUNCIL,01/05/2023,01/06/2023,,OPEN,surplus,more\r\n"),
        error=r"review_actions\.csv, row 4: the CSV rows do not line up with the header: 10 fields where the header has 8",
    ),
    Case(
        "required value empty",
        "police_referrals",
        _write("police_referrals", child_id={0: "  "}),
        rejected={2: "required value empty"},
        rejected_column="child_id",
        kept=2,
    ),
    Case(
        "yes/no column with another word",
        "police_referrals",
        _write("police_referrals", dara_submitted={2: "maybe"}),
        rejected={4: "not a yes/no value"},
        rejected_column="dara_submitted",
        kept=2,
    ),
    Case(
        "impossible calendar date",
        "audit_actions",
        _write("audit_actions", due_date={1: "30/02/2024"}),
        rejected={3: "unparseable date"},
        rejected_column="due_date",
        kept=2,
    ),
    Case(
        "amount that is not a number",
        "budget",
        _write("budget", actual_amount={0: "tbc"}),
        rejected={2: "not a number"},
        rejected_column="actual_amount",
        kept=2,
    ),
    Case(
        "xlsx export with header on row 3, date cells and numbers",
        "audits",
        _xlsx(
            "audits",
            lambda h, rows: (
                [["Audit programme"], [], h]
                + [
                    [
                        datetime(2023, 7, 1 + i) if c == "audit_date" else (int(v) if c == "cases_audited" else v)
                        for c, v in zip(h, r)
                    ]
                    for i, r in enumerate(rows)
                ]
            ),
        ),
        kept=3,
        check=lambda t, log: log["format"] == "xlsx" and t["cases_audited"].notna().all(),
    ),
    Case(
        "codes written as labels in odd case and spacing",
        "audit_cases",
        _write("audit_cases", grade={0: "  requires IMPROVEMENT ", 1: "Good", 2: "outstanding"}),
        kept=3,
        check=lambda t, log: sorted(t["grade"]) == ["GOOD", "OUTSTANDING", "REQUIRES_IMPROVEMENT"],
    ),
    Case(
        "two headings meaning the same column",
        "escalations",
        _text("escalations", "escalation_id,ref,raised_date,topic,raised_by,level,status\r\n"),
        error=r"escalations\.csv, row 1, column 'escalation_id': headings 'escalation_id' and 'ref' both mean",
    ),
    Case(
        "bytes that are neither UTF-8 nor Windows-1252",
        "communications",
        _bytes("communications.csv", b"item_id,item_type,title,item_date\r\nN1,NEWSLETTER,\x81\x8d,01/05/2023\r\n"),
        error=r"communications\.csv: the file is neither UTF-8 nor Windows-1252",
    ),
]
