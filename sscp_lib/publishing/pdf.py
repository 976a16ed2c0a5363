"""The statement's PDF: its HTML laid out by WeasyPrint as a tagged PDF (PDF/UA-1), made in a
process of its own when the chain asks (`PdfProcess`).

WeasyPrint lays the statement out on one core for about five seconds, the longest step left
once the stages are done. In its own process it does not share an interpreter lock with the
stage reports, which the chain renders meanwhile; the process starts, and imports WeasyPrint,
while the last stage runs (`sscp_lib.worker`).
"""

from __future__ import annotations

from pathlib import Path

from sscp_lib.worker import FreshProcess

PDF_VARIANT = "pdf/ua-1"


def html_to_pdf(html_path: Path | str, pdf_path: Path | str) -> Path:
    """The statement's HTML as an A4 tagged PDF meeting PDF/UA-1 as far as WeasyPrint allows
    (structure tree, language and title from the HTML; see docs/accessibility.md). Only data:
    and file: URLs are followed."""
    from sscp_lib.publishing.pdf_engine import weasyprint  # first: it imports WeasyPrint without the library search
    from sscp_lib.publishing.tagged_pdf import finish_tagged_pdf

    pdf_path = Path(pdf_path)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols={"data", "file"})
    weasyprint.HTML(filename=str(html_path), url_fetcher=fetcher).write_pdf(
        str(pdf_path), pdf_variant=PDF_VARIANT, finisher=finish_tagged_pdf
    )
    return pdf_path


class PdfFailed(RuntimeError):
    """The PDF could not be made; the message says why in one line (the exception it chains
    carries the PDF process's traceback)."""


class PdfProcess(FreshProcess):
    """A fresh process, started with WeasyPrint imported, for one PDF (html_to_pdf)."""

    def __init__(self) -> None:
        super().__init__(preload=("sscp_lib.publishing.pdf_engine", "sscp_lib.publishing.tagged_pdf"))
        self._asked: Path | None = None

    def start(self, html_path: Path | str, pdf_path: Path | str) -> None:
        """Ask for html_path as a PDF at pdf_path; `result` waits for it."""
        self._asked = Path(pdf_path)
        self.submit(html_to_pdf, Path(html_path), self._asked)

    def result(self) -> Path:
        """The PDF's path once it is written; PdfFailed if it was not."""
        try:
            return super().result()
        except Exception as exc:
            what = "dashboard's" if self._asked and "dashboard" in self._asked.name else "statement's"
            raise PdfFailed(f"the {what} PDF was not made ({self._asked}): {type(exc).__name__}: {exc}") from exc
