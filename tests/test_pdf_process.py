"""The statement's PDF made in a process of its own (sscp_lib.pdf.PdfProcess): the PDF it writes,
one line for a PDF it cannot make, and no process left behind."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from sscp_lib.pdf import PdfFailed, PdfProcess

PAGE = (
    '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>A statement</title></head>'
    "<body><main><h1>A statement</h1><p>One paragraph.</p></main></body></html>"
)


def test_the_pdf_is_made_tagged_by_the_process(tmp_path):
    html_path = tmp_path / "statement.html"
    html_path.write_text(PAGE, encoding="utf-8")
    maker = PdfProcess()
    try:
        maker.start(html_path, tmp_path / "out" / "statement.pdf")
        made = maker.result()
    finally:
        maker.close()
    assert made == tmp_path / "out" / "statement.pdf"
    assert maker.process.returncode == 0
    with pikepdf.open(made) as pdf:
        assert "/StructTreeRoot" in pdf.Root and str(pdf.Root.Lang) == "en-GB"


def test_a_pdf_it_cannot_make_is_one_line_naming_the_files(tmp_path, capfd):
    maker = PdfProcess()
    try:
        maker.start(tmp_path / "missing.html", tmp_path / "statement.pdf")
        with pytest.raises(PdfFailed) as failed:
            maker.result()
    finally:
        maker.close()
    message = str(failed.value)
    assert "\n" not in message and "statement.pdf" in message and "missing.html" in message
    assert "Traceback" in capfd.readouterr().err  # the process's own account, for whoever mends it
    assert not (tmp_path / "statement.pdf").exists()


def test_closing_before_asking_ends_the_process(tmp_path):
    maker = PdfProcess()
    maker.close()
    assert maker.process.returncode is not None
    assert not any(Path(tmp_path).iterdir())
