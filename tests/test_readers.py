"""Reading raw files: encodings, delimiters, header rows, xlsx cells and unreadable files."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from bad_inputs.builders import ole2_bytes, write_xlsx

from sscp_lib.contract import load_contract
from sscp_lib.errors import InputFileError
from sscp_lib.ingest.readers import cell_text, expected_headings, read_annex_a, read_raw_file

CONTACT_HEADINGS = expected_headings(load_contract().dataset("mash_contacts"))


def values(table):
    return table.frame.values.tolist()


@pytest.mark.parametrize("encoding,bom", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")])
def test_csv_encodings(tmp_path, encoding, bom):
    path = tmp_path / "budget.csv"
    path.write_bytes(bom + "Budget line,Amount\nCafé £5,1\n".encode(encoding))
    table = read_raw_file(path)
    assert table.headings == ["Budget line", "Amount"]  # no BOM left on the first heading
    assert values(table) == [["Café £5", "1"]]
    expected = {"utf-8": "utf-8-sig" if bom else "utf-8", "cp1252": "cp1252"}[encoding]
    assert table.encoding == expected and table.format == "csv"


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path, delimiter):
    path = tmp_path / "x.csv"
    path.write_text(
        delimiter.join(["child_id", "contact_date", "source"]) + "\nA,1".replace(",", delimiter) + delimiter + "6\n"
    )
    table = read_raw_file(path, CONTACT_HEADINGS)
    assert table.headings == ["child_id", "contact_date", "source"]
    assert values(table) == [["A", "1", "6"]]


def test_comma_inside_quotes_does_not_fool_the_sniffer(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('child_id;contact_date;source\n"A,B";01/05/2023;6\n')
    assert values(read_raw_file(path, CONTACT_HEADINGS)) == [["A,B", "01/05/2023", "6"]]


def test_title_rows_blank_rows_and_repeated_headers_keep_file_row_numbers(tmp_path):
    path = tmp_path / "mash_contacts.csv"
    path.write_text(
        "Solihull MASH contacts export\n"  # row 1: title
        "Run 01/04/2024\n"  # row 2: title
        "Child ID,Date of contact,Source\n"  # row 3: header
        "A, 01/05/2023 ,6\n"  # row 4
        "\n"  # row 5: blank
        "CHILD ID,date of contact,source\n"  # row 6: repeated header
        "B,02/05/2023,6\n"  # row 7
        ",,\n"  # row 8: blank trailing
        ",,\n"
    )
    table = read_raw_file(path, CONTACT_HEADINGS)
    assert table.header_row == 3
    assert values(table) == [["A", "01/05/2023", "6"], ["B", "02/05/2023", "6"]]
    assert table.row_numbers.tolist() == [4, 7]
    assert table.blank_rows_skipped == 3 and table.header_rows_skipped == 1


def test_header_only_file_has_no_rows(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("child_id,contact_date,source\n")
    table = read_raw_file(path, CONTACT_HEADINGS)
    assert table.frame.empty and table.headings == ["child_id", "contact_date", "source"]


def test_short_rows_are_padded_long_rows_are_an_error_naming_the_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2\n")
    assert values(read_raw_file(path)) == [["1", "2", ""]]
    path.write_text("a,b\n1,2\n1,2,3\n")
    with pytest.raises(InputFileError, match=r"x\.csv, row 3: .* 3 fields where the header has 2"):
        read_raw_file(path)


def test_xlsx_cells_become_text(tmp_path):
    path = write_xlsx(
        tmp_path / "x.xlsx",
        {
            "Data": [
                ["Title of the export"],
                [],
                ["child_id", "contact_date", "source", "count", "flag", "when"],
                ["A", datetime(2023, 5, 1), 6, 2.5, True, datetime(2023, 5, 1, 9, 30)],
                ["B", date(2023, 5, 2), "6", 3.0, False, None],
                [None, None, None, None, None, None],
            ]
        },
    )
    table = read_raw_file(path, CONTACT_HEADINGS)
    assert table.format == "xlsx" and table.sheet == "Data" and table.header_row == 3
    assert values(table) == [
        ["A", "2023-05-01", "6", "2.5", "TRUE", "2023-05-01 09:30:00"],
        ["B", "2023-05-02", "6", "3", "FALSE", ""],
    ]
    assert table.row_numbers.tolist() == [4, 5]


def test_cell_text():
    assert cell_text(None) == "" and cell_text(12.0) == "12" and cell_text(0.1) == "0.1"
    assert cell_text(datetime(2024, 3, 31)) == "2024-03-31"


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("a.csv", b"", "0 bytes"),
        ("a.csv", b"  \r\n\r\n", "empty"),
        ("a.csv", b"\x00\x01\x02binary\x00" * 50, "binary"),
        ("a.csv", bytes(range(1, 32)) * 40, "binary"),
        ("a.csv", ole2_bytes(), "password-protected"),
        ("a.csv", b"PK\x03\x04rest-of-zip", "workbook"),
        ("a.xlsx", b"", "0 bytes"),
        ("a.xlsx", ole2_bytes(), "password-protected"),
        ("a.xlsx", b"PK\x03\x04this is not really a zip", "corrupt"),
        ("a.xlsx", b"child_id,date\n1,2\n", "not an Excel workbook"),
        ("a.pdf", b"%PDF-1.4", "unsupported file type"),
    ],
)
def test_unreadable_files_raise_input_file_error_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message) as caught:
        read_raw_file(path)
    assert str(path) in str(caught.value)


def test_undecodable_text_is_an_input_file_error(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"a,b\n\x81\x8d\x8f,1\n")  # bytes neither UTF-8 nor Windows-1252 define
    with pytest.raises(InputFileError, match="neither UTF-8 nor Windows-1252"):
        read_raw_file(path)


def test_annex_a_lists_found_below_title_rows(tmp_path):
    path = write_xlsx(
        tmp_path / "annex_a.xlsx",
        {
            "Cover": [["Annex A"]],
            "List 1": [
                ["List 1: Contacts"],
                ["Provide all contacts"],
                [],
                ["Child Unique ID", "Gender", "Date of Birth", "Date of Contact", "Contact Source"],
                ["C1", "a) Male", date(2012, 1, 1), date(2023, 5, 1), "f) 6: Police"],
            ],
            "List 2": [
                ["List 2: Early help assessments"],
                ["Child Unique ID", "Gender", "Assessment start date", "Organisation completing assessment", "LA"],
                ["C1", "a) Male", date(2023, 4, 20), "b) School", "Solihull"],
                ["C2", "b) Female", date(2023, 4, 21), "a) Local authority", "Solihull"],
            ],
            "List 3": [
                ["List 3"],
                ["Child Unique ID", "Date of referral", "Referral Source", "Referral NFA?"],
                ["C1", date(2023, 5, 2), "f) 6: Police", "Yes"],
            ],
            "list 7": [
                ["Child Unique ID", "Child Protection Plan Start Date", "Initial Category of Abuse"],
                ["C1", date(2023, 6, 1), "a) Neglect"],
            ],
        },
    )
    tables = read_annex_a(path, load_contract())
    assert set(tables) == {"mash_contacts", "early_help", "referrals", "cp_plans"}
    early_help = tables["early_help"]
    assert early_help.header_row == 2 and early_help.row_numbers.tolist() == [3, 4] and early_help.sheet == "List 2"
    assert values(early_help) == [
        ["C1", "a) Male", "2023-04-20", "b) School", "Solihull"],
        ["C2", "b) Female", "2023-04-21", "a) Local authority", "Solihull"],
    ]
    contacts = tables["mash_contacts"]
    assert contacts.header_row == 4 and contacts.row_numbers.tolist() == [5] and contacts.sheet == "List 1"
    assert values(contacts) == [["C1", "a) Male", "2012-01-01", "2023-05-01", "f) 6: Police"]]
    assert tables["cp_plans"].sheet == "list 7"


def test_annex_a_without_a_list_names_the_missing_sheet(tmp_path):
    path = write_xlsx(tmp_path / "annex_a.xlsx", {"List 1": [["Child Unique ID"]]})
    with pytest.raises(InputFileError, match="no sheet 'List 3'"):
        read_annex_a(path, load_contract())
