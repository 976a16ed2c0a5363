"""axe-core in headless Chromium over the reviewer pack of a chain run (the statement, the index,
every rendered stage notebook, the clean log and validation report among them, and the changes page), each opened
320, 800 and 1,280 CSS pixels wide (WCAG's reflow width, about Chromium's default window, a laptop): no WCAG
2.0/2.1/2.2 A or AA violation, one h1 per page and no skipped heading level. The check is shown to fail on a
missing alt text, on low contrast and on a scrolling table a keyboard cannot reach.

axe-core comes from the npm registry through package-lock.json (`npm ci`; `make test` runs it)."""

from __future__ import annotations

import re

import pytest
from chromium_cdp import AXE_SOURCE, CHROMIUM, Chromium

from sscp_lib.review.changes_report import CHANGES_PAGE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="headless Chromium not installed (Debian package 'chromium' gives /usr/bin/chromium)",
    ),
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not AXE_SOURCE.exists():
        pytest.fail(f"axe-core is not installed ({AXE_SOURCE}): run `npm ci` in the repository (make test does)")
    chromium = Chromium(tmp_path_factory.mktemp("chromium"))
    yield chromium
    chromium.close()


WIDTHS = (320, 800, 1280)  # CSS pixels


def reviewer_pack_pages(report):
    pages = [report / "assurance-statement.html", report / "index.html", *sorted((report / "notebooks").glob("*.html"))]
    pages.append(report / CHANGES_PAGE)
    assert all(p.exists() for p in pages) and len(pages) >= 8
    return pages


def _described(violations: list[dict]) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['nodes'][:3])}" for v in violations]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_reviewer_pack_has_no_wcag_violations(chain_run, browser, width):
    found = {page.name: _described(browser.axe(page, width=width)) for page in reviewer_pack_pages(chain_run.report)}
    assert {name: problems for name, problems in found.items() if problems} == {}


def test_every_scrolling_table_is_focusable_and_named(chain_run):
    for page in reviewer_pack_pages(chain_run.report):
        wraps = re.findall(r'<div class="table-wrap"[^>]*>', page.read_text(encoding="utf-8"))
        for wrap in wraps:
            assert 'role="region"' in wrap and 'tabindex="0"' in wrap, (page.name, wrap)
            assert re.search(r'aria-label="[^"]{4,}"', wrap), (page.name, wrap)


def test_every_page_has_one_title_and_skips_no_heading_level(chain_run):
    for page in reviewer_pack_pages(chain_run.report):
        levels = [int(n) for n in re.findall(r"<h([1-6])[\s>]", page.read_text(encoding="utf-8"))]
        assert levels[0] == 1 and levels.count(1) == 1, (page.name, levels)
        for before, after in zip(levels, levels[1:]):
            assert after <= before + 1, (page.name, levels)


def test_the_validation_summary_fits_the_page_at_1280_px(chain_run, browser):
    """Every column of the validation report's table by dataset is in view at 1,280 px: one table, no scrolling."""
    script = (
        "[...document.querySelectorAll('div.table-wrap')].filter(w => [...w.querySelectorAll('th')]"
        ".some(th => th.textContent === 'Outcome')).map(w => [w.scrollWidth, w.clientWidth])"
    )
    sizes = browser.evaluate_on(chain_run.report / "notebooks" / "02_validate.html", script, width=1280)
    assert len(sizes) == 1, sizes  # not split into parts
    assert sizes[0][0] <= sizes[0][1], sizes  # nothing to scroll to


def _page(tmp_path, name: str, body: str):
    path = tmp_path / name
    path.write_text(
        f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{name}</title></head>'
        f"<body><main><h1>Check</h1>{body}</main></body></html>",
        encoding="utf-8",
    )
    return path


PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def test_the_check_fails_on_an_image_without_alt_text(browser, tmp_path):
    violations = browser.axe(
        _page(tmp_path, "no-alt.html", f'<p>A chart:</p><img src="{PIXEL}" width="40" height="40">')
    )
    assert [v["id"] for v in violations] == ["image-alt"]


def test_the_check_fails_on_low_contrast_text(browser, tmp_path):
    body = '<p style="color: #b0b0b0; background: #ffffff">Grey text on white is hard to read.</p>'
    violations = browser.axe(_page(tmp_path, "low-contrast.html", body))
    assert [v["id"] for v in violations] == ["color-contrast"]


def test_the_check_fails_on_a_scrolling_table_a_keyboard_cannot_reach(browser, tmp_path):
    cells = "".join(f"<td>column {i} of a table far wider than a phone</td>" for i in range(12))
    body = f'<div style="overflow-x: auto"><table><tr>{cells}</tr></table></div>'
    violations = browser.axe(_page(tmp_path, "scrolls.html", body), width=320)
    assert [v["id"] for v in violations] == ["scrollable-region-focusable"]


def test_a_clean_page_passes(browser, tmp_path):
    body = f'<p>A chart:</p><img src="{PIXEL}" width="40" height="40" alt="One grey pixel">'
    assert browser.axe(_page(tmp_path, "clean.html", body)) == []
