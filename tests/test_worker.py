"""Calls in a fresh process (sscp_lib.worker) and the statement's PDF made in one (sscp_lib.publishing.pdf):
the PDF it writes, one line for a PDF it cannot make, no process left behind, an outcome that
what the call prints cannot spoil."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pikepdf
import pytest

from sscp_lib.publishing.pdf import PdfFailed, PdfProcess
from sscp_lib.worker import FreshProcess, WorkerFailed

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


def test_a_pdf_it_cannot_make_is_one_line_naming_the_files(tmp_path):
    maker = PdfProcess()
    try:
        maker.start(tmp_path / "missing.html", tmp_path / "statement.pdf")
        with pytest.raises(PdfFailed) as failed:
            maker.result()
    finally:
        maker.close()
    message = str(failed.value)
    assert "\n" not in message and "statement.pdf" in message and "missing.html" in message
    # The process's own traceback travels with the exception the one line chains, for whoever mends it.
    assert "in the worker process:\nTraceback" in "\n".join(failed.value.__cause__.__notes__)
    assert not (tmp_path / "statement.pdf").exists()


def test_closing_before_asking_ends_the_process():
    maker = PdfProcess()
    maker.close()  # still importing WeasyPrint: it is killed, not left to wait for a request
    assert maker.process.returncode == -signal.SIGKILL
    with pytest.raises(ProcessLookupError):
        os.kill(maker.process.pid, 0)  # reaped, not a zombie


def test_a_worker_that_ends_without_an_outcome_says_so():
    maker = FreshProcess()
    try:
        maker.submit(os._exit, 3)
        with pytest.raises(WorkerFailed, match="exit code 3 and no outcome"):
            maker.result()
    finally:
        maker.close()


def test_what_the_call_prints_does_not_spoil_its_outcome(capfd):
    maker = FreshProcess()
    try:
        maker.submit(print, "said on the way")
        assert maker.result() is None
    finally:
        maker.close()
    assert "said on the way" in capfd.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the library search is skipped on Linux only")
def test_weasyprint_is_imported_without_starting_a_process():
    """ctypes' library search runs ldconfig, gcc and ld for each name WeasyPrint tries (about 200
    processes); the PDF process imports WeasyPrint through sscp_lib.publishing.pdf_engine without it."""
    code = (
        "import ctypes.util, subprocess\n"
        "started = []\n"
        "popen_init = subprocess.Popen.__init__\n"
        "def counted(self, args, *a, **k):\n"
        "    started.append(args)\n"
        "    popen_init(self, args, *a, **k)\n"
        "subprocess.Popen.__init__ = counted\n"
        "find_library = ctypes.util.find_library\n"
        "from sscp_lib.publishing.pdf_engine import weasyprint\n"
        "assert weasyprint.HTML and ctypes.util.find_library is find_library\n"
        "print(len(started))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0", out.stderr
