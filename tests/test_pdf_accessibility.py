"""The statement's PDF is tagged for PDF/UA-1 as far as a machine can check: pdfua finds nothing at
WARN or ERROR, and the structure tree (read with pikepdf) has the language, title, headings in
order, figures with their alt text, scoped header cells, the HTML's reading order, and page
margins as artifacts. docs/accessibility.md lists what no tool here checks."""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser
from pathlib import Path

import pikepdf
import pytest
from pdf_structure import artifact_text, read_structure
from pdfua import Severity, validate
from render_fixtures import render_fixture_statement

from sscp_lib.publishing.pdf import html_to_pdf

pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parent.parent / "docs" / "accessibility.md"
# pdfua rules that could not run on the statement; each is explained in docs/accessibility.md.
NOT_EVALUATED = {"UA-14-001"}


@pytest.fixture(scope="module")
def statement(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tagged")
    html_path = render_fixture_statement(folder)
    pdf_path = html_to_pdf(html_path, folder / "assurance-statement.pdf")
    return html_path, pdf_path, read_structure(pdf_path)


class _PageOrder(HTMLParser):
    """Headings, paragraphs and image alt texts of a page, in document order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, str]] = []
        self._open: list[list] = []
        self._hidden_depth = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "title":
            self._in_title = True
        if tag in ("style", "script"):
            self._hidden_depth += 1
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6", "p"):
            # The footer's copy of the marking is hidden on paper (the margins carry it).
            self._open.append(["hidden" if attrs.get("class") == "marking" else tag, ""])
        if tag == "img":
            self.items.append(("img", attrs.get("alt") or ""))

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag in ("style", "script"):
            self._hidden_depth -= 1
        if self._open and self._open[-1][0] in (tag, "hidden") and tag in ("h1", "h2", "h3", "h4", "h5", "h6", "p"):
            name, text = self._open.pop()
            text = re.sub(r"\s+", " ", text).strip()
            if text and name != "hidden":
                self.items.append((name, text))

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if not self._hidden_depth:
            for entry in self._open:
                entry[1] += data


def _unspaced(text: str) -> str:
    """Text without white space: a line broken after a hyphen reads "multi- agency" in the PDF."""
    return re.sub(r"\s+", "", text)


def page_order(html_path: Path) -> _PageOrder:
    parser = _PageOrder()
    parser.feed(Path(html_path).read_text(encoding="utf-8"))
    return parser


def test_pdfua_finds_nothing_at_warn_or_error(statement):
    _, pdf_path, _ = statement
    report = validate(str(pdf_path))
    serious = [
        f"{f.rule_id} {f.location.describe()}: {f.message}" for f in report.findings if f.severity >= Severity.WARNING
    ]
    assert serious == []
    skipped = {o.rule_id for o in report.skipped}
    assert skipped <= NOT_EVALUATED, f"pdfua could not run {skipped - NOT_EVALUATED}: explain in docs/accessibility.md"
    documented = DOCS.read_text(encoding="utf-8")
    assert all(rule in documented for rule in NOT_EVALUATED)


def test_catalog_says_tagged_language_title_and_pdfua(statement):
    html_path, pdf_path, _ = statement
    pdf = pikepdf.open(str(pdf_path))
    assert "/StructTreeRoot" in pdf.Root
    assert bool(pdf.Root.MarkInfo.Marked) is True  # what pdfinfo reports as "Tagged: yes"
    assert str(pdf.Root.Lang) == "en-GB"
    assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) is True
    title = html_lib.unescape(page_order(html_path).title).strip()
    assert str(pdf.docinfo["/Title"]) == title
    with pdf.open_metadata() as xmp:
        assert str(xmp.get("pdfuaid:part")) == "1"
        assert xmp.get("dc:title") == title


def test_headings_run_in_order_without_skipped_levels_and_none_is_empty(statement):
    html_path, _, structure = statement
    headings = [
        (int(structure.elements[i].role[1]), structure.text_of(i))
        for i, e in enumerate(structure.elements)
        if re.fullmatch(r"H[1-6]", e.role)
    ]
    assert headings[0][0] == 1 and [level for level, _ in headings].count(1) == 1
    for (before, _), (after, text) in zip(headings, headings[1:]):
        assert after <= before + 1, f"heading level skipped before {text!r}"
    assert all(text for _, text in headings), "an empty heading"
    # the same headings, in the same order, as the HTML
    html_headings = [text for tag, text in page_order(html_path).items if tag[0] == "h"]
    assert [_unspaced(text) for _, text in headings] == [_unspaced(text) for text in html_headings]


def test_every_figure_carries_its_html_alt_text(statement):
    html_path, _, structure = statement
    alts = [str(structure.elements[i].obj.get("/Alt", "")) for i in structure.roles("Figure")]
    html_alts = [alt for tag, alt in page_order(html_path).items if tag == "img"]
    assert alts and all(a.strip() for a in alts)
    assert alts == html_alts


def test_every_header_cell_has_a_scope(statement):
    _, _, structure = statement
    cells = [structure.elements[i] for i in structure.roles("TH")]
    assert cells
    scopes = {str(cell.attribute("/Scope")) for cell in cells}
    assert scopes == {"/Column", "/Row"}


def test_text_is_read_in_the_order_of_the_html(statement):
    html_path, _, structure = statement
    text = _unspaced(structure.reading_order_text())
    position = 0
    for tag, item in page_order(html_path).items:
        if tag == "img":
            continue
        item = _unspaced(item)
        found = text.find(item, position)
        assert found >= 0, f"{item[:80]!r} is missing from the reading order, or out of order"
        position = found + len(item)


def test_page_margins_are_artifacts_not_content(statement):
    _, pdf_path, structure = statement
    margins = artifact_text(pdf_path)
    pages = len(margins)
    for number, page_text in enumerate(margins, start=1):
        assert f"Page {number} of {pages}" in page_text
        assert "OFFICIAL" in page_text
    text = structure.reading_order_text()
    assert "Page 1 of" not in text and "not real children's records OFFICIAL" not in text
    assert text.startswith("OFFICIAL Solihull Safeguarding Children Partnership"), text[:80]
    # every marked-content id on every page belongs to an element in the tree
    parent_tree = structure.pdf.Root.StructTreeRoot.ParentTree.Nums
    in_tree = {e.obj.objgen for e in structure.elements}
    for page_refs in list(parent_tree)[1 : 2 * pages : 2]:
        assert all(ref is None or ref.objgen in in_tree for ref in page_refs)


def test_the_checks_catch_an_image_without_alt_text(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en-GB"><head><title>Bad</title></head><body><h1>Bad</h1>'
        '<h3>Skipped a level</h3><img src="data:image/png;base64,'
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
        '"></body></html>',
        encoding="utf-8",
    )
    pdf_path = html_to_pdf(page, tmp_path / "bad.pdf")
    report = validate(str(pdf_path))
    assert "UA-13-004" in {f.rule_id for f in report.findings if f.severity == Severity.ERROR}
    structure = read_structure(pdf_path)
    levels = [int(e.role[1]) for e in structure.elements if re.fullmatch(r"H[1-6]", e.role)]
    assert levels == [1, 3]  # what the heading-order test above rejects


def test_every_chart_links_to_the_table_of_its_figures(statement):
    html_path, _, structure = statement
    page = Path(html_path).read_text(encoding="utf-8")
    figures = re.findall(r'<figure class="chart".*?</figure>', page, re.S)
    assert len(figures) == 2
    for figure in figures:
        target = re.search(r'<a class="chart-data" href="#([^"]+)">', figure)
        assert target, figure[:200]
        assert re.search(rf'<div class="table-wrap" id="{re.escape(target.group(1))}"[^>]*>\s*<table', page)
    assert len(structure.roles("Link")) > len(figures)  # the links survive into the PDF
