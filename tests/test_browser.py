"""The statement in a real browser: it draws, and it asks nothing of the network."""

import struct
import zlib

import pytest
from render_fixtures import CHROMIUM, chromium_visit, render_fixture_statement

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="headless Chromium not installed (Debian package 'chromium' gives /usr/bin/chromium)",
    ),
]


def _png_pixels(path):
    """Width, height and the set of distinct row payloads of an 8-bit RGB(A) PNG (enough to tell blank from drawn)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    return width, height, raw


def test_statement_draws_and_requests_nothing_from_the_network(tmp_path):
    html_path = render_fixture_statement(tmp_path / "site")
    shot, requests = chromium_visit(html_path, tmp_path / "browser")
    width, height, raw = _png_pixels(shot)
    assert (width, height) == (1200, 2400)
    # A blank page decompresses to a handful of distinct bytes; a drawn one to many.
    assert len(set(raw[: len(raw) // 2])) > 50
    assert requests == []


def test_the_network_check_catches_a_page_that_reaches_out(tmp_path):
    page = tmp_path / "reaches-out.html"
    page.write_text('<!DOCTYPE html><html><body><p>x</p><img src="http://198.51.100.7/pixel.png" alt=""></body></html>')
    _, requests = chromium_visit(page, tmp_path / "browser", width=400, height=300)
    assert requests == ["http://198.51.100.7/pixel.png"]
