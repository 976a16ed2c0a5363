"""The statement as an A4 PDF (WeasyPrint): every heading, the key figures, the marking."""

import re

import pytest
from pypdf import PdfReader
from render_fixtures import render_fixture_statement, solihull_config

from sscp_lib.publishing.pdf import html_to_pdf

A4_POINTS = (595.28, 841.89)


@pytest.mark.slow
def test_statement_pdf_is_a4_with_headings_figures_and_marking(tmp_path):
    html_path = render_fixture_statement(tmp_path)
    pdf_path = html_to_pdf(html_path, tmp_path / "assurance-statement.pdf")
    reader = PdfReader(str(pdf_path))
    pages = [page.extract_text() or "" for page in reader.pages]
    text = re.sub(r"\s+", " ", " ".join(pages))

    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width, 1), round(height, 1)) == (round(A4_POINTS[0], 1), round(A4_POINTS[1], 1))
    assert len(reader.pages) > 5

    for title in solihull_config()["headings"].values():
        assert title in text, title
    for figure in ("92%", "2,407", "£312,456", "18 December 2023", "Green", "Amber"):
        assert figure in text, figure
    # the marking and a page number on every page
    for number, page_text in enumerate(pages, start=1):
        assert "OFFICIAL" in page_text
        assert f"Page {number} of {len(pages)}" in re.sub(r"\s+", " ", page_text)
    assert "Synthetic data" in text
