"""Rendering: the statement's HTML, notebooks as self-contained pages, the index, a second partnership."""

import html
import re
from pathlib import Path

import nbformat
import pytest
from render_fixtures import (
    YEAR,
    eastmoor_config,
    fixture_metrics,
    page_text,
    render_fixture_statement,
    write_fixture_charts,
    write_fixture_fragments,
)

from sscp_lib.config import NOTEBOOK_DIR, PROJECT_ROOT, ReportPaths
from sscp_lib.errors import UserError
from sscp_lib.publishing.render import (
    add_table_of_contents,
    external_references,
    images_without_alt,
    notebook_to_html,
    unlink_external,
    write_index,
)


@pytest.fixture(scope="module")
def statement_page(tmp_path_factory) -> str:
    return render_fixture_statement(tmp_path_factory.mktemp("statement")).read_text(encoding="utf-8")


def _images(page: str) -> list[dict]:
    from html.parser import HTMLParser

    found = []

    class Images(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img":
                found.append(dict(attrs))

    Images().feed(page)
    return found


def test_statement_page_is_self_contained(statement_page):
    assert external_references(statement_page) == []
    assert "<script" not in statement_page.lower()
    assert "mathjax" not in statement_page.lower() and "require.js" not in statement_page.lower()
    assert "<link" not in statement_page.lower()  # CSS is inline


def test_statement_page_has_every_part_of_the_statement(statement_page):
    from render_fixtures import solihull_config

    text = page_text(statement_page)
    config = solihull_config()
    assert "Solihull Safeguarding Children Partnership" in text
    assert "assurance statement 2023-24" in text
    for number, title in config["headings"].items():
        assert f"{number}. {title}" in text
    for part in (
        "Background",
        "Our multi-agency principles",
        "Summary of judgements",
        "assurance opinion",
        "lead partners' review",
        "About the data",
    ):
        assert part in text
    for signatory in config["signatories"]["delegated"] + config["signatories"]["lead"]:
        assert signatory["role"] in text and signatory["organisation"] in text
    # figures come from the metrics, formatted one way
    for figure in ("92%", "2,407", "£312,456", "41.2", "18 December 2023", "October 2023 and November 2023"):
        assert figure in text
    assert "Green" in text and "Amber" in text and "rag-green" in statement_page  # text and colour
    assert "Synthetic data" in text and "synthetic-watermark" in statement_page
    assert 'class="marking' in statement_page and "OFFICIAL" in text


def test_statement_page_has_a_contents_list_linking_every_section(statement_page):
    nav = re.search(r'<nav class="toc".*?</nav>', statement_page, re.S).group(0)
    targets = re.findall(r'href="#([^"]+)"', nav)
    assert len(targets) >= 15
    for target in targets:
        assert f'id="{target}"' in statement_page
    assert statement_page.index("<nav") > statement_page.index("statement-cover")


def test_charts_are_embedded_with_alt_text_and_caption(statement_page):
    images = _images(statement_page)
    assert len(images) == 2
    assert all(img["src"].startswith("data:image/png;base64,") for img in images)
    assert any("lowest in August" in img["alt"] for img in images)
    # The title drawn on the chart opens its alt text; the caption adds to it.
    assert any(img["alt"].startswith("IPBP actions complete by workstream. Bar chart:") for img in images)
    assert "Figure 1.</strong> Share of each workstream's actions complete at 31 March" in html.unescape(statement_page)


def test_key_figures_show_previous_year_and_tables_are_formatted(statement_page):
    text = page_text(statement_page)
    assert "IPBP actions complete at year end 81% 92%" in text  # oldest first, as the other tables
    assert "2022-23" in text
    assert "(config)" not in text and "(yes/no)" not in text
    assert "Physical abuse c" in text  # suppressed cell stays c


def test_eastmoor_renders_from_the_same_metrics_with_no_code_change(tmp_path):
    page = render_fixture_statement(tmp_path, eastmoor_config()).read_text(encoding="utf-8")
    text = page_text(page)
    for name in (
        "Eastmoor Safeguarding Children Partnership",
        "Northvale Constabulary",
        "Aisha Okonkwo-Reid",
        "Priya Lindqvist",
        "OFFICIAL-SENSITIVE",
    ):
        assert name in text
    for other in ("Solihull", "West Midlands", "Birmingham", "SSCP"):
        assert other not in text
    assert "from 1 to 9 are shown" in text  # Eastmoor's own suppression threshold


def test_external_reference_check_finds_what_would_load_from_the_network():
    page = """<html><head><link rel="stylesheet" href="https://cdn.example.org/x.css">
    <script src="/local.js"></script><style>body { background: url(//cdn.example.org/bg.png) }</style></head>
    <body><img src="http://example.org/a.png" alt=""><img srcset="a.png 1x, https://example.org/b.png 2x" alt="">
    <div style="background-image: url('https://example.org/c.png')"></div><img src="data:image/png;base64,AA" alt=""></body></html>"""
    found = " ".join(external_references(page))
    for needle in (
        "cdn.example.org/x.css",
        "/local.js",
        "//cdn.example.org/bg.png",
        "example.org/a.png",
        "example.org/b.png",
        "example.org/c.png",
    ):
        assert needle in found
    assert "data:image" not in found
    assert external_references('<a href="#s-1">x</a><img src="data:image/png;base64,AA" alt="">') == []


def test_web_links_become_their_text():
    assert unlink_external('See <a href="https://example.org/x">the site</a> and <a href="#s-1">below</a>.') == (
        'See the site and <a href="#s-1">below</a>.'
    )


def test_table_of_contents_gives_headings_ids_without_clashes():
    page = add_table_of_contents("<!--sscp:toc--><h2>Data</h2><h2>Data</h2><h2 id='x'>Other</h2><h3>Deep</h3>")
    assert 'id="s-data"' in page and 'id="s-data-2"' in page
    assert page.count("<li>") == 3 and 'href="#x"' in page and page.count("id=") == 3
    assert "Deep</a>" not in page
    assert add_table_of_contents("<!--sscp:toc--><h2>Only one</h2>").startswith("<h2")


def _report_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("secret_code_line = 1\nprint('hello')")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="rows read: 1,401\n"),
        nbformat.v4.new_output(
            "display_data", data={"text/html": "<table class='dataframe'><tr><td>7</td></tr></table>"}
        ),
        nbformat.v4.new_output("display_data", data={"application/javascript": "alert(1)", "text/plain": "js"}),
    ]
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# Cleaning\n\n## Files read\n\nText with [a link](https://example.org/docs) and $x$.\n\n## Rows rejected\n\nMore."
        ),
        code,
    ]
    nbformat.write(nb, str(path))
    return path


def test_report_notebook_renders_without_code_prompts_or_scripts(tmp_path):
    html_path = notebook_to_html(
        _report_notebook(tmp_path / "01_clean.ipynb"),
        tmp_path / "out" / "01_clean.html",
        title="Cleaning the data",
        synthetic=True,
    )
    page = html_path.read_text(encoding="utf-8")
    assert "secret_code_line" not in page and "In&nbsp;[" not in page and "In [" not in page
    assert "rows read: 1,401" in page and "<td>7</td>" in page
    assert "<script" not in page and "alert(1)" not in page
    assert external_references(page) == [] and "a link" in page and "example.org" not in page
    assert "Synthetic data." in page and '<nav class="toc"' in page and "Files read</a>" in page
    assert "<title>Cleaning the data</title>" in page
    assert page.count("<h1") == 1  # the notebook's own title, not a second one from the page


def test_report_without_synthetic_flag_has_no_banner(tmp_path):
    html_path = notebook_to_html(
        _report_notebook(tmp_path / "n.ipynb"), tmp_path / "n.html", title="T", synthetic=False
    )
    page = html_path.read_text(encoding="utf-8")
    assert "Synthetic data" not in page_text(page) and 'class="synthetic-watermark"' not in page


def _notebook_showing(path: Path, *outputs: dict) -> Path:
    """A notebook of one code cell whose outputs carry these data bundles, written to path."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data) for data in outputs]
    nb.cells = [cell]
    nbformat.write(nb, str(path))
    return path


def test_rendering_refuses_a_page_that_would_load_from_the_network(tmp_path):
    _notebook_showing(tmp_path / "bad.ipynb", {"text/html": '<img src="https://example.org/x.png" alt="">'})
    with pytest.raises(UserError, match="example.org/x.png"):
        notebook_to_html(tmp_path / "bad.ipynb", tmp_path / "bad.html", title="Bad", synthetic=False)
    assert not (tmp_path / "bad.html").exists()


def test_rendering_refuses_an_image_without_alt_text(tmp_path):
    """A screen reader has nothing to read for an image without alt: the page is refused, not
    given nbconvert's stock "No description" text. A decorative image (alt="") and an image
    output (given its alt by the template) pass."""
    _notebook_showing(tmp_path / "bad.ipynb", {"text/html": '<p>Chart</p><img src="data:image/png;base64,AA">'})
    with pytest.raises(UserError, match="bad.html: images without alt text: <img src='data:image/png;base64,AA'>"):
        notebook_to_html(tmp_path / "bad.ipynb", tmp_path / "bad.html", title="Bad", synthetic=False)
    assert not (tmp_path / "bad.html").exists()

    good = _notebook_showing(
        tmp_path / "good.ipynb", {"text/html": '<img src="data:image/png;base64,AA" alt="">'}, {"image/png": "AA"}
    )
    page = notebook_to_html(good, tmp_path / "good.html", title="Good", synthetic=False).read_text()
    assert page.count("<img") == 2 and images_without_alt(page) == []


def test_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        notebook_to_html(
            _report_notebook(tmp_path / "n.ipynb"), tmp_path / "n.html", title="T", synthetic=False, kind="poster"
        )


def test_index_lists_the_statement_stages_and_the_files_to_check_first(tmp_path):
    root = tmp_path / "2023-24"
    (root / "notebooks").mkdir(parents=True)
    for name in (
        "assurance-statement.html",
        "assurance-statement.pdf",
        "metrics.json",
        "manifest.json",
        "notebooks/01_clean.html",
        "notebooks/01_clean.ipynb",
        "notebooks/02_validate.html",
    ):
        (root / name).write_text("x")
    stages = [
        {
            "name": "clean",
            "title": "Cleaning",
            "html": "notebooks/01_clean.html",
            "ipynb": "notebooks/01_clean.ipynb",
            "outcome": "ok",
            "seconds": 12.34,
        },
        {
            "name": "validate",
            "title": "Validation",
            "html": "notebooks/02_validate.html",
            "ipynb": "notebooks/02_validate.ipynb",
            "outcome": "failed",
            "seconds": 3,
        },
    ]
    page = write_index(
        root, year="2023-24", partnership="Solihull Safeguarding Children Partnership", stages=stages, synthetic=True
    ).read_text()
    for href in (
        "assurance-statement.html",
        "assurance-statement.pdf",
        "metrics.json",
        "manifest.json",
        "notebooks/01_clean.html",
        "notebooks/02_validate.html",
        "notebooks/01_clean.ipynb",
    ):
        assert f'href="{href}"' in page
    assert 'href="notebooks/02_validate.ipynb"' not in page  # not on disk, so not linked
    assert "Validation report" in page and "Clean log" in page
    assert "12.3 seconds" in page and "outcome-failed" in page
    assert "Synthetic data." in page and external_references(page) == [] and "<script" not in page


def test_index_says_what_is_missing(tmp_path):
    page = write_index(tmp_path, year="2023-24", partnership="P", stages=[], synthetic=False).read_text()
    assert "No PDF was produced" in page and "metrics.json was not written" in page
    assert "Synthetic" not in page


@pytest.mark.slow
def test_statement_notebook_runs_under_papermill_and_renders(tmp_path):
    import papermill

    processed, report = tmp_path / "processed", tmp_path / "reports" / YEAR
    write_fixture_fragments(processed / YEAR / "metrics", fixture_metrics())
    write_fixture_charts(ReportPaths(report).charts)
    executed = tmp_path / "07_statement.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK_DIR / "07_statement.ipynb"),
        str(executed),
        kernel_name="sscp",
        progress_bar=False,
        parameters={"year": YEAR, "processed_dir": str(processed), "report_dir": str(report)},
        cwd=str(PROJECT_ROOT),
    )
    html_path = notebook_to_html(
        executed, ReportPaths(report).statement_html, title="Statement", synthetic=True, kind="statement"
    )
    page = html_path.read_text(encoding="utf-8")
    assert "Solihull Safeguarding Children Partnership" in page and "92%" in page
    assert "load_statement" not in page and "Reviewers:" not in page  # no code, no reviewer notes
    assert external_references(page) == []


def test_committed_statement_notebook_has_no_outputs_and_the_right_kernel():
    nb = nbformat.read(str(NOTEBOOK_DIR / "07_statement.ipynb"), as_version=4)
    assert nb.metadata.kernelspec.name == "sscp" and nb.metadata.kernelspec.display_name == "SSCP (.venv)"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for name in ("year", "raw_dir", "processed_dir", "reports_dir", "config_path"):
        assert re.search(rf"^{name} = ", tagged[0].source, re.M)
