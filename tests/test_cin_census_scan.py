"""The census scanner reads every return it takes exactly as the element tree does, and leaves the rest to the tree."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cin_census import CONTRACT, VERSIONS, census, child, episode

import sscp_lib.ingest.cin_census_scan as scan
from sscp_lib.config import ReportingYear
from sscp_lib.ingest.census_layout import CensusLayout
from sscp_lib.ingest.cin_census import read_cin_census
from sscp_lib.ingest.cin_census_scan import CannotScan, scan_return
from sscp_lib.sample.generate import generate_sample

LAYOUT = CensusLayout.from_contract(CONTRACT)
NS = ' xmlns="http://example.invalid/cin"'


def prefixed(text: str, prefix: str = "cin", root_attributes: str = ' xmlns:cin="http://example.invalid/cin"') -> str:
    """The return with every element written with `prefix:` and the prefix declared on the root."""
    text = re.sub(r"<(/?)([A-Za-z])", rf"<\1{prefix}:\2", text)
    return text.replace(f"<{prefix}:Message>", f"<{prefix}:Message{root_attributes}>", 1)


def hand_written(**options) -> str:
    return census(
        child(
            "LA-0001",
            episode("2023-05-02", source="6", nfa="1"),
            episode("2023-10-09", source="2A", nfa="0", plans=[("2023-10-27", None, "NEG", "EMO")]),
        ),
        child("LA-0002", episode("2024-01-15", source="3A", nfa="0", closure="2024-02-20")),
        **options,
    )


def each_version() -> dict[str, str]:
    returns = {}
    for version, shape in VERSIONS.items():
        start = ReportingYear.parse(version).start_year
        plans = [(f"{start}-12-05", f"{start + 1}-02-01", "PHY", "SAB")]
        returns[f"version {version}"] = census(
            child(
                "C1",
                episode(f"{start}-06-01", source=shape["source"], nfa=shape["yes"], version=shape),
                episode(f"{start}-11-20", nfa=shape["no"], plans=plans, version=shape),
                version=shape,
            ),
            year=str(start + 1),
        )
    return returns


def awkward() -> dict[str, str]:
    """Returns a scanner could misread: each is still plain XML, so the scanner must read it."""
    text = hand_written()
    other = ' xmlns:x="http://example.invalid/other"'
    return {
        "default namespace, zoned dates": census(
            child("C1", episode("2023-05-02+01:00", plans=[("2023-06-01Z", None, "NEG", "NEG")])),
            root_attributes=NS + ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
        ),
        "prefixed": prefixed(text),
        "prefixed and default namespace mixed": prefixed(text, root_attributes=' xmlns:cin="u:cin" xmlns="u:cin"')
        .replace("<cin:CINdetails>", "<CINdetails>")
        .replace("</cin:CINdetails>", "</CINdetails>"),
        # Elements in another namespace are not the census's, whatever their local name.
        "another namespace's elements": text.replace("<Message>", f"<Message{other}>")
        .replace("<ReferralSource>6</ReferralSource>", "<x:ReferralSource>9</x:ReferralSource>")
        .replace(
            "<CINdetails>", "<x:CINdetails><CINreferralDate>2023-01-01</CINreferralDate></x:CINdetails><CINdetails>", 1
        ),
        "unprefixed elements under a prefixed root": prefixed(text).replace(
            "<cin:LAchildID>LA-0002</cin:LAchildID>", "<LAchildID>LA-0002</LAchildID>"
        ),
        "attributes and space in tags": text.replace("<Child>", "<Child id=\"1\" status='open'>", 1)
        .replace("<CINdetails>", "<CINdetails\n   note = 'x' >")
        .replace("</ReferralSource>", "</ReferralSource >")
        .replace("<ReferralNFA>1</ReferralNFA>", '<ReferralNFA flag="y"/>'),
        "empty elements": text.replace("<ReferralSource>2A</ReferralSource>", "<ReferralSource/>").replace(
            "<LatestCategoryOfAbuse>EMO</LatestCategoryOfAbuse>", "<LatestCategoryOfAbuse />"
        ),
        "references and line ends": text.replace("LA-0001", "LA&amp;0001 &#x41;&#66;&lt;&gt;&quot;&apos;").replace(
            "\n", "\r\n"
        ),
        "text across lines": text.replace(
            "<ReferralSource>6</ReferralSource>", "<ReferralSource>\r\n 6 \r</ReferralSource>"
        ),
        "UTF-8 beyond ASCII": text.replace("LA-0001", "Zoë-Ŵ-😀"),
        # findtext reads an element's own children only, the first of a name, and the text before its first child.
        "values nested deeper or repeated": text.replace(
            "<PrimaryNeedCode>N1</PrimaryNeedCode>", "<Extra><ReferralSource>X</ReferralSource></Extra>"
        )
        .replace("<ReferralNFA>0</ReferralNFA>", "<ReferralNFA>0</ReferralNFA><ReferralNFA>1</ReferralNFA>")
        .replace("<CPPstartDate>2023-10-27", "<CPPstartDate>2023-10-27<Note/>later"),
        "a value only deeper down": text.replace(
            "<ReferralSource>3A</ReferralSource>", "<Assessments><ReferralSource>3A</ReferralSource></Assessments>"
        ),
        "a record not where records are": text.replace(
            "<ChildCharacteristics>",
            "<ChildCharacteristics><CINdetails><CINreferralDate>2023-09-09</CINreferralDate></CINdetails>",
        ),
        "a second identifiers block": text.replace(
            "<ChildIdentifiers>", "<ChildIdentifiers><UPN>X</UPN></ChildIdentifiers><ChildIdentifiers>", 1
        ),
        "identifiers without an id first": text.replace("<LAchildID>LA-0002</LAchildID>", "").replace(
            "<ChildIdentifiers>", "<ChildIdentifiers/><ChildIdentifiers>", 1
        ),
        "another element among the children": text.replace("<Children>", "<Children>\n    <Note><CINdetails/></Note>"),
        "an empty record": text.replace("<Child>", "<Child><CINdetails/>", 1),
        "elements after the children": text.replace("</Children>", "</Children>\n  <Footer><Child/></Footer>"),
        "BOM, comment and instruction before the root": "\ufeff"
        + text.replace("<Message>", "<!-- exported <today> -->\n<?app x?>\n<Message>"),
        "a collection in any case": hand_written(collection=" cin "),
        "no collection named": text.replace("<Collection>CIN</Collection>", "<Collection/>"),
    }


def plain_returns() -> dict[str, str]:
    return {"hand-written": hand_written(), **each_version(), **awkward()}


def assert_same_tables(path: Path) -> None:
    scanned, tree = read_cin_census(path, CONTRACT), read_cin_census(path, CONTRACT, scan=False)
    assert scanned.keys() == tree.keys()
    for name in tree:
        a, b = scanned[name], tree[name]
        pd.testing.assert_frame_equal(a.frame, b.frame)
        np.testing.assert_array_equal(a.row_numbers, b.row_numbers)
        assert (a.headings, a.header_row, a.format, a.encoding, a.sheet) == (
            b.headings,
            b.header_row,
            b.format,
            b.encoding,
            b.sheet,
        )
        np.testing.assert_array_equal(
            a.file_rows(np.ones(len(a.frame), bool)), b.file_rows(np.ones(len(b.frame), bool))
        )


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "return.xml"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("name", list(plain_returns()))
@pytest.mark.parametrize("block", [scan.SCAN_BLOCK, 64])
def test_the_scanner_reads_a_plain_return_as_the_tree_does(tmp_path, monkeypatch, name, block):
    monkeypatch.setattr(scan, "SCAN_BLOCK", block)  # small blocks: records cut across blocks
    path = write(tmp_path, plain_returns()[name])
    scan_return(path, LAYOUT, "utf-8")  # the scanner takes it (raises CannotScan otherwise)
    assert_same_tables(path)


def test_the_scanner_reads_the_sample_written_as_a_return(tmp_path):
    generate_sample(out_dir=tmp_path, seed=5, scale=0.1, years=("2023-24", "2024-25"), cin_xml=True)
    for path in sorted(tmp_path.glob("*/cin_census_*.xml")):
        assert len(scan_return(path, LAYOUT, "utf-8").columns("referrals")[0]) > 100
        assert_same_tables(path)


FALLBACKS = {
    "a DOCTYPE": ("DOCTYPE", lambda t: t.replace("<Message>", '<!DOCTYPE Message [<!ENTITY la "LA">]>\n<Message>')),
    "an entity from the DOCTYPE": (
        "DOCTYPE",
        lambda t: t.replace("<Message>", '<!DOCTYPE Message [<!ENTITY la "LA">]>\n<Message>').replace("LA-", "&la;-"),
    ),
    "a CDATA section": ("CDATA", lambda t: t.replace("LA-0001", "<![CDATA[LA-<0001>]]>")),
    "a comment inside": ("comment", lambda t: t.replace("<CINdetails>", "<!-- <CINdetails> --><CINdetails>", 1)),
    "an instruction inside": ("processing instruction", lambda t: t.replace("<Child>", "<?app keep?><Child>", 1)),
    "a '>' in text": ("'>'", lambda t: t.replace("LA-0001", "LA->0001")),
    "a '>' in an attribute": ("'>'", lambda t: t.replace("<Child>", '<Child note="a/>b">', 1)),
    "a namespace declared inside": ("namespace", lambda t: t.replace("<Child>", '<Child xmlns="u:other">', 1)),
    "a comment after the root": ("comment", lambda t: t + "<!-- end -->\n"),
}


@pytest.mark.parametrize("name", list(FALLBACKS))
def test_the_tree_reads_what_the_scanner_cannot_read_exactly(tmp_path, name):
    why, change = FALLBACKS[name]
    path = write(tmp_path, change(hand_written()))
    with pytest.raises(CannotScan, match=why):
        scan_return(path, LAYOUT, "utf-8")
    assert_same_tables(path)


def test_the_tree_reads_a_return_in_another_encoding(tmp_path):
    path = write(tmp_path, hand_written().replace("UTF-8", "ISO-8859-1").replace("LA-0001", "Zoë"), "latin-1")
    with pytest.raises(CannotScan, match="iso-8859-1"):
        scan_return(path, LAYOUT, "iso-8859-1")
    assert read_cin_census(path, CONTRACT)["referrals"].frame[0].tolist() == ["Zoë", "Zoë", "LA-0002"]
    assert_same_tables(path)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<Workbook><Sheet/></Workbook>", "root element is <Workbook>"),
        (hand_written(collection="SEN2"), "'SEN2' collection"),
        ("<Message><Header/><Persons/><Children><Child/></Children></Message>", "another element than <Header>"),
        ("<Message><Header/></Message>", "0 <Children>"),
        ("<Message><Children/><Children><Child/></Children></Message>", "2 <Children>"),
        ("<Message><Children>\n</Children></Message>", "<Children> is empty"),
        ("<Message><Children><Child><CinDetails/></Child></Children></Message>", "no records"),
        ("<Message/>", "root element is empty"),
    ],
)
def test_what_is_not_a_census_return_is_left_to_the_tree_to_say(tmp_path, text, why):
    with pytest.raises(CannotScan, match=re.escape(why)):
        scan_return(write(tmp_path, text), LAYOUT, "utf-8")


def test_a_file_that_is_not_well_formed_gets_the_trees_message_naming_the_line(tmp_path):
    from sscp_lib.errors import InputFileError

    text = hand_written().replace("</ReferralSource>", "</ReferalSource>", 1)
    line = next(i for i, t in enumerate(text.splitlines(), start=1) if "</ReferalSource>" in t)
    path = write(tmp_path, text)
    messages = []
    for scan_first in (True, False):
        with pytest.raises(InputFileError) as caught:
            read_cin_census(path, CONTRACT, scan=scan_first)
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and f"line {line}, column " in messages[0]


def test_a_large_return_is_checked_in_a_second_process_with_the_same_outcomes(tmp_path, monkeypatch):
    # From CHECK_APART_BYTES on, expat checks the file in `python -m sscp_lib.ingest.xml_check` while the
    # scanner reads it here: a plain return gives the same tables, a malformed one the tree's message.
    import subprocess

    import sscp_lib.ingest.cin_census as census_reader
    from sscp_lib.errors import InputFileError

    monkeypatch.setattr(census_reader, "CHECK_APART_BYTES", 0)
    started = []
    real_popen = subprocess.Popen

    def popen(args, **kwargs):
        started.append(args)
        return real_popen(args, **kwargs)

    monkeypatch.setattr(census_reader.subprocess, "Popen", popen)
    path = write(tmp_path, hand_written())
    assert_same_tables(path)
    assert started and started[0][1:3] == ["-m", "sscp_lib.ingest.xml_check"]
    broken = write(tmp_path, hand_written().replace("</ReferralSource>", "</ReferalSource>", 1))
    with pytest.raises(InputFileError, match=r"not well-formed at line \d+"):
        read_cin_census(broken, CONTRACT)


def test_the_well_formedness_check_says_so_by_its_exit_status(tmp_path):
    import subprocess
    import sys

    good = write(tmp_path, hand_written())
    bad = tmp_path / "bad.xml"
    bad.write_text("<Message><Children></Message>", encoding="utf-8")
    run = [sys.executable, "-m", "sscp_lib.ingest.xml_check"]
    assert subprocess.run([*run, str(good)]).returncode == 0
    assert subprocess.run([*run, str(bad)]).returncode == 1
    assert subprocess.run([*run, str(tmp_path / "missing.xml")]).returncode == 2
