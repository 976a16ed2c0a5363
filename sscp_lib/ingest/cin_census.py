"""Read a DfE Children in Need census return (XML) into one raw table per dataset.

The return's records become tables of strings like any agency file (sscp_lib.ingest.readers.RawTable), so
the clean stage maps, parses, rejects and pseudonymises them as it does CSV, XLSX and Annex A. Which
element feeds which contract column is declared once, in the contract (`cin_census:` of a dataset:
the record element that makes a row and element paths from <Child> to columns).

Two readers give the same tables. First expat checks the whole file is well-formed (in C, with no
handlers), then the scanner (sscp_lib.ingest.cin_census_scan) reads the records in bulk, block by block,
from the tags' positions. It takes a plain return: UTF-8, no DOCTYPE, no comment, CDATA section or
processing instruction after the root's start, no '>' outside a tag's end, no namespace declared
below the root; its docstring says why each matters. Anything else, and any file that is not
well-formed or not a census return, is read by the element tree, which is also what says what is
wrong with a bad file, so each message comes from one place.

The tree reads the file streaming with xml.etree's pull parser (what iterparse is built on):
complete <Child> elements are taken from <Children> after each block read, turned into rows and
dropped, so a national-size return is never held as a whole tree. Once <Children> has started the
parser reports no more events, so the C tree builder runs without a Python call per element.

Schema versions 2017-18 to 2025-26 differ in elements this reader does not read (GenderCurrent became
Sex in 2024-25; CINPlanDates arrived in 2021-22; new referral source, closure and assessment codes)
and in how yes/no is spelled (0/1, or true/false in some years): the contract's value spellings for
ReferralNFA take any of them, in any case.

Rows are numbered by record (the n-th <CINdetails> of the file); the line of a record is looked up
only for rows the clean stage reports, because neither reader tracks lines (`locate_record_lines`).
"""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import xml.parsers.expat
from collections.abc import Callable
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from sscp_lib.contract import Contract
from sscp_lib.errors import InputFileError
from sscp_lib.ingest.census_layout import CensusLayout, RecordLevel
from sscp_lib.ingest.cin_census_scan import SCAN_ENCODINGS, CannotScan, ScannedReturn, scan_return
from sscp_lib.ingest.readers import OLE2_SIGNATURE, ZIP_SIGNATURE, RawTable
from sscp_lib.ingest.xml_check import check_well_formed

READ_BLOCK = 1 << 20
# From this size a return's well-formedness is checked in a second process while this one scans it
# (starting that process costs tens of milliseconds; checking 100 MB about a second).
CHECK_APART_BYTES = 16 << 20
PACKAGE_PARENT = Path(__file__).resolve().parents[2]  # where `python -m sscp_lib.ingest.xml_check` is found
# The first read is small: once <Children> has started, the events already queued are drained in Python.
FIRST_READ = 1 << 14
# An xs:date may carry a time zone (2023-05-01Z, 2023-05-01+01:00); the day is what counts.
_ZONED_DATE = r"^(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})$"
_DECLARED_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# Expat's reason for a parse error, in words a person exporting the file can act on.
_PARSE_HINTS = {
    "no element found": "the file ends before the XML is complete (was the export cut short?)",
    "unclosed token": "the file ends inside a tag (was the export cut short?)",
    "mismatched tag": "a closing tag does not match the tag it closes",
    "not well-formed (invalid token)": "a character or tag that is not valid XML",
    "junk after document element": "text after the end of the <Message> element",
    "undefined entity": "an '&' that is not written as &amp;",
    "syntax error": "text that is not XML",
}


class _NotCensus(Exception):
    """Raised inside the parse when the file turns out to be another kind of XML."""


Walk = Callable[[ET.Element, tuple], None]


class _Rows:
    """The rows of each dataset, filled child by child.

    The layout is compiled once for the file's namespace into one function per level, which reads the
    level's own values, adds a row to each dataset made at that level and walks the records below.
    Per child only Element.find, findtext and findall with a plain tag are called, which run in C
    (a path with '/' would go through Python's ElementPath), and each row is picked from the values
    with one itemgetter.
    """

    def __init__(self, layout: CensusLayout, namespace: str):
        self.layout = layout
        self.namespace = namespace  # '{uri}' when the file declares a default namespace, else ''
        self.rows: dict[str, list[tuple]] = {name: [] for name in layout.headings}
        self.children = 0
        self._walk_child = self._compile(layout.top, [])

    def _compile(self, level: RecordLevel, available: list[str]) -> Walk:
        available = available + [column_path for column_path, _ in level.own]
        steps = [tuple(self.namespace + s for s in relative.split("/")) for _, relative in level.own]
        tags = [s[0] for s in steps] if all(len(s) == 1 for s in steps) else None
        sinks = []
        for name in level.datasets:
            positions = [available.index(p) for p in self.layout.headings[name]]
            pick = itemgetter(*positions) if len(positions) > 1 else (lambda values, i=positions[0]: (values[i],))
            sinks.append((self.rows[name].append, pick))
        below = [(self.namespace + sub.path.rsplit("/", 1)[-1], self._compile(sub, available)) for sub in level.below]

        def walk(element: ET.Element, inherited: tuple) -> None:
            # Raw text (None where an element is missing); stripped column-wise once all rows are read.
            if tags is not None:
                values = inherited + tuple(map(element.findtext, tags))
            else:
                values = inherited + tuple([_text(element, s) for s in steps])
            for append, pick in sinks:
                append(pick(values))
            for tag, walk_below in below:
                for record in element.findall(tag):
                    walk_below(record, values)

        return walk

    def add_child(self, child: ET.Element) -> None:
        self.children += 1
        self._walk_child(child, ())

    def columns(self, name: str) -> list[tuple[str, ...]]:
        """The dataset's values column by column."""
        rows = self.rows[name]
        return list(zip(*rows)) if rows else [() for _ in self.layout.headings[name]]


def _text(element: ET.Element, steps: tuple[str, ...]) -> str | None:
    """Text of the element reached by following tags from `element` (None when one is missing)."""
    node: ET.Element | None = element
    for step in steps[:-1]:
        node = node.find(step) if node is not None else None
    return node.findtext(steps[-1]) if node is not None else None


def _declared_encoding(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    found = _DECLARED_ENCODING.match(head)
    return found.group(1).decode("ascii").lower() if found else "utf-8"


def _split_tag(tag: str) -> tuple[str, str]:
    """('{namespace}', 'Local') of an element tag."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return "{" + namespace + "}", local
    return "", tag


def _parse_error(path: Path, error: ET.ParseError) -> InputFileError:
    line, column = error.position
    reason = str(error).split(":")[0].strip()
    hint = _PARSE_HINTS.get(reason, reason)
    return InputFileError(
        path,
        f"the XML is not well-formed at line {line}, column {column + 1}: {hint} ({reason}); "
        "export the census return again from the case management system",
    )


def _check_signature(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise InputFileError(path, f"the file cannot be read ({exc.strerror or exc})") from None
    if not head.strip():
        raise InputFileError(path, "the file is empty" if head else "the file is empty (0 bytes)")
    if head.startswith((ZIP_SIGNATURE, OLE2_SIGNATURE)):
        raise InputFileError(path, "this is an Excel workbook or zip file with an .xml name, not a CIN census return")
    return head


def _stream_children(path: Path, layout: CensusLayout) -> _Rows:
    """Parse the file; turn each complete <Child> into rows; raise _NotCensus for other XML."""
    parser: ET.XMLPullParser = ET.XMLPullParser(events=("start", "end"))
    depth = 0
    root: ET.Element | None = None
    container: ET.Element | None = None
    rows: _Rows | None = None
    quiet = False
    with open(path, "rb") as fh:
        while True:
            block = fh.read(READ_BLOCK if quiet or container is not None else FIRST_READ)
            if block:
                parser.feed(block)
            else:
                parser.close()
            if not quiet:
                for event in parser.read_events():
                    if event[0] == "end":
                        depth -= 1
                        continue
                    depth += 1
                    element = cast(ET.Element, event[-1])  # a start event carries its element
                    namespace, local = _split_tag(element.tag)
                    if root is None:
                        root = element
                        if local != layout.root:
                            raise _NotCensus(
                                f"its root element is <{local}>, where a census return has <{layout.root}>"
                            )
                        rows = _Rows(layout, namespace)
                    elif depth == 2 and local == layout.container:
                        container = element
                        _check_collection(root, namespace, layout)
                        quiet = _stop_events(parser)
                        if quiet:
                            break
                    elif depth == 2 and local != layout.header:
                        raise _NotCensus(
                            f"<{layout.root}> holds <{local}>, where a census return holds <{layout.header}> and "
                            f"<{layout.container}>"
                        )
            if rows is not None and container is not None and len(container) > 1:
                done = container[:-1]
                del container[:-1]  # the last child may still be being read
                for child in done:
                    rows.add_child(child)
            if not block:
                break
    if rows is None or container is None:
        raise _NotCensus(f"it has no <{layout.container}> element")
    for child in list(container):
        rows.add_child(child)
    container.clear()
    return rows


def _check_collection(root: ET.Element, namespace: str, layout: CensusLayout) -> None:
    """A header naming another DfE collection (SEN2, CSWW...) means this is not a census return."""
    collection = root.findtext("/".join(namespace + name for name in (layout.header, *layout.collection_path)))
    if collection and collection.strip().upper() != layout.collection:
        raise _NotCensus(f"its header names the {collection.strip()!r} collection, not {layout.collection!r}")


def _stop_events(parser: ET.XMLPullParser) -> bool:
    """Stop the parser reporting events (the children are taken from <Children> instead).

    XMLPullParser sets its events with the C parser's _setevents; without it, events are read and
    dropped each block, which is slower but the same.
    """
    setevents = getattr(getattr(parser, "_parser", None), "_setevents", None)
    if setevents is None:
        return False
    setevents(getattr(parser, "_events_queue"), ())  # noqa: B009 - a private attribute, read as such
    for _ in parser.read_events():  # events already queued in this block
        pass
    return True


def read_cin_census(path: Path, contract: Contract, *, scan: bool = True) -> dict[str, RawTable]:
    """A CIN census return: one RawTable per dataset with a `cin_census` mapping (referrals, cp_plans).

    The scanner reads it when it can (sscp_lib.ingest.cin_census_scan says when), else the element tree does;
    `scan=False` reads it with the tree only, the reference the scanner is tested against.
    """
    path = Path(path)
    head = _check_signature(path)
    layout = CensusLayout.from_contract(contract)
    encoding = _declared_encoding(head)
    records: _Rows | ScannedReturn | None = _scan(path, layout, encoding) if scan else None
    if records is None:
        records = _read_tree(path, layout)
    tables = {}
    for name, paths in layout.headings.items():
        frame = pd.DataFrame(
            {i: pd.Series(values, dtype="str").fillna("").str.strip() for i, values in enumerate(records.columns(name))}
        )
        for i, heading in enumerate(paths):
            if heading in layout.date_headings[name] and (frame[i].str.len() > len("2023-04-01")).any():
                frame[i] = frame[i].str.replace(_ZONED_DATE, r"\1", regex=True)
        tag = layout.record_tags[name]
        tables[name] = RawTable(
            path=path,
            frame=frame,
            row_numbers=np.arange(1, len(frame) + 1, dtype=np.int64),
            headings=list(paths),
            header_row=1,
            format="xml",
            encoding=encoding,
            sheet=tag,
            locate_rows=partial(locate_record_lines, path, records.namespace + tag),
        )
    return tables


def _scan(path: Path, layout: CensusLayout, encoding: str) -> ScannedReturn | None:
    """The records as the scanner reads them; None when the tree must read the file.

    Expat checks the whole file is well-formed (in C, with no handlers: no Python call per element),
    so the scanner's values are used only for well-formed XML; a file that is not is read by the
    tree, which says where it goes wrong. For a large return the check runs in a second process
    while this one scans: the two take about the same time, so on a second core the check costs
    no wall time.
    """
    if encoding not in SCAN_ENCODINGS:
        return None
    try:
        if path.stat().st_size < CHECK_APART_BYTES:
            check_well_formed(path)
            return scan_return(path, layout, encoding)
        # Only its exit status is read: a file it finds wrong is read again by the tree, which says why.
        check_command = [sys.executable, "-m", "sscp_lib.ingest.xml_check", str(path)]
        with subprocess.Popen(
            check_command, cwd=PACKAGE_PARENT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ) as check:
            try:
                scanned = scan_return(path, layout, encoding)
            except BaseException:
                check.kill()
                raise
            return scanned if check.wait() == 0 else None
    except (xml.parsers.expat.ExpatError, CannotScan, OSError):
        return None


def _read_tree(path: Path, layout: CensusLayout) -> _Rows:
    """The records read with the element tree; one clear error when the file is not a census return."""
    enabled = gc.isenabled()
    gc.disable()  # millions of short-lived elements: the cyclic collector only slows the parse down
    try:
        rows = _stream_children(path, layout)
    except ET.ParseError as exc:
        raise _parse_error(path, exc) from None
    except _NotCensus as exc:
        raise InputFileError(path, f"this XML file is not a CIN census return: {exc}") from None
    except OSError as exc:
        raise InputFileError(path, f"the file cannot be read ({exc.strerror or exc})") from None
    finally:
        if enabled:
            gc.enable()
    if rows.children == 0:
        raise InputFileError(path, f"the CIN census return holds no <{layout.child}> records")
    if not any(rows.rows.values()):
        records = " or ".join(f"<{level.path}>" for level in layout.top.below)
        raise InputFileError(
            path,
            f"the CIN census return has no {records} record under any <{layout.child}> "
            "(element names are case-sensitive)",
        )
    return rows


class _Found(Exception):
    pass


def locate_record_lines(path: Path, tag: str, ordinals: np.ndarray) -> np.ndarray:
    """File line of the n-th <tag> start tag for each n of `ordinals` (1-based; 0 where not found).

    Read with expat (which counts lines) only when rows are reported, stopping after the last one.
    """
    wanted = np.asarray(ordinals, dtype=np.int64)
    if not len(wanted):
        return wanted
    last = int(wanted.max())
    lines: list[int] = []
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}") if tag.startswith("{") else None
    parser = parser or xml.parsers.expat.ParserCreate()
    target = tag[1:] if tag.startswith("{") else tag

    def start(name, _attributes):
        if name == target:
            lines.append(parser.CurrentLineNumber)
            if len(lines) >= last:
                raise _Found

    parser.StartElementHandler = start
    try:
        with open(path, "rb") as fh:
            parser.ParseFile(fh)
    except (_Found, xml.parsers.expat.ExpatError, OSError):
        pass
    found = np.array(lines + [0] * (last - len(lines)), dtype=np.int64)
    return found[wanted - 1]
