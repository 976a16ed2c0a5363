"""The statement's PDF: its HTML laid out by WeasyPrint as a tagged PDF (PDF/UA-1), made in a
process of its own when the chain asks (`PdfProcess`).

WeasyPrint lays the statement out on one core for about five seconds, the longest step left
once the stages are done. In its own process it does not share an interpreter lock with the
stage reports, which the chain renders meanwhile; the process starts, and imports WeasyPrint,
while the last stage runs. Run as ``python -m sscp_lib.pdf``, it reads one request line on
standard input, {"html": ..., "pdf": ...}, and answers one line, {"pdf": ...} or {"error": ...}.
"""

from __future__ import annotations

import json
import subprocess
import sys
import traceback
from pathlib import Path

PDF_VARIANT = "pdf/ua-1"


def html_to_pdf(html_path: Path | str, pdf_path: Path | str) -> Path:
    """The statement's HTML as an A4 tagged PDF meeting PDF/UA-1 as far as WeasyPrint allows
    (structure tree, language and title from the HTML; see docs/accessibility.md). Only data:
    and file: URLs are followed."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    from .tagged_pdf import finish_tagged_pdf

    pdf_path = Path(pdf_path)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    fetcher = URLFetcher(allowed_protocols={"data", "file"})
    weasyprint.HTML(filename=str(html_path), url_fetcher=fetcher).write_pdf(
        str(pdf_path), pdf_variant=PDF_VARIANT, finisher=finish_tagged_pdf
    )
    return pdf_path


class PdfFailed(RuntimeError):
    """The PDF process could not make the PDF; the message says why (the process printed the
    traceback on standard error)."""


class PdfProcess:
    """One `python -m sscp_lib.pdf` process, started ahead of its one PDF."""

    def __init__(self) -> None:
        # Standard error is the chain's own, so a crash in the process is seen where it happens.
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._asked: Path | None = None

    def start(self, html_path: Path | str, pdf_path: Path | str) -> None:
        """Ask for html_path as a PDF at pdf_path; `result` waits for it."""
        assert self.process.stdin is not None
        self._asked = Path(pdf_path)
        try:
            self.process.stdin.write(json.dumps({"html": str(html_path), "pdf": str(pdf_path)}) + "\n")
            self.process.stdin.close()
        except OSError:
            pass  # the process has gone: `result` says how it ended

    def result(self) -> Path:
        """The PDF's path once it is written; PdfFailed if it was not."""
        assert self.process.stdout is not None and self._asked is not None
        line = self.process.stdout.readline()
        code = self.process.wait()
        reply = json.loads(line) if line.strip() else {"error": f"the PDF process ended with exit code {code}"}
        if "pdf" not in reply:
            raise PdfFailed(f"the statement's PDF was not made ({self._asked}): {reply['error']}")
        return Path(reply["pdf"])

    def close(self) -> None:
        """End the process if it is still running (a chain that stopped before its PDF)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


def main() -> None:
    import weasyprint  # noqa: F401 - imported before the request comes: that is the point

    from . import tagged_pdf  # noqa: F401

    line = sys.stdin.readline()
    if not line.strip():
        return  # the chain stopped before asking
    request = json.loads(line)
    try:
        reply = {"pdf": str(html_to_pdf(request["html"], request["pdf"]))}
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the chain, which reports it
        traceback.print_exc()  # on the chain's standard error, for whoever mends it
        reply = {"error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
