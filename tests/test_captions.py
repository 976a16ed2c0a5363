"""Charts as saved: figure captions add to the chart's title, end with a full stop, and carry the
source note as a sentence of its own; the PNG is opaque RGB with matplotlib's pixels."""

from __future__ import annotations

import html
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from sscp_lib.publishing import charts


def _figure(title="Referrals rose in the autumn"):
    fig, ax = charts.new_chart(title, "Month", "Referrals", figsize=(3, 2))
    ax.bar(["Sep", "Oct"], [10, 14])
    return fig


def _save(figure, folder, name="referrals_by_month", **given):
    """save_chart with a title, caption, alt text and source that pass its checks, unless given."""
    chart = {
        "title": "Referrals rose in the autumn",
        "caption": "Referrals counted by the month they arrived.",
        "alt": "Bar chart: September 10, October 14.",
        "source": "MASH case system",
        "synthetic": False,
    }
    charts.save_chart(figure, folder, name, **(chart | given))


def test_a_caption_is_saved_beside_the_title(tmp_path):
    _save(_figure(), tmp_path)
    entry = json.loads((tmp_path / "charts.json").read_text())["referrals_by_month"]
    assert entry["caption"] == "Referrals counted by the month they arrived."
    assert entry["source"] == "Source: MASH case system."


def test_a_chart_is_saved_as_an_rgb_png_with_matplotlibs_pixels(tmp_path):
    """No alpha channel (the PDF then has no soft mask to encode per chart), and the colours are
    those of matplotlib's own PNG at the same resolution; a see-through figure is shown on white."""
    figure = _figure()
    _save(figure, tmp_path)
    own = io.BytesIO()
    figure.savefig(own, dpi=charts.CHART_DPI)  # matplotlib's PNG of the same figure, note and all
    saved = Image.open(tmp_path / "referrals_by_month.png")
    assert saved.mode == "RGB" and saved.info["dpi"] == pytest.approx((charts.CHART_DPI,) * 2, abs=0.02)
    assert np.array_equal(np.asarray(saved), np.asarray(Image.open(own))[..., :3])

    clear = _figure()
    clear.patch.set_alpha(0.0)
    _save(
        clear,
        tmp_path,
        "referrals_by_category",
        title="Most referrals were about neglect",
        caption="Referrals counted by their main category.",
    )
    assert Image.open(tmp_path / "referrals_by_category.png").getpixel((0, 0)) == (255, 255, 255)


@pytest.mark.parametrize(
    "caption",
    ["Referrals counted by the month they arrived", "Referrals rose in the autumn.", "referrals rose in the autumn"],
)
def test_a_caption_that_repeats_the_title_or_lacks_a_full_stop_is_refused(tmp_path, caption):
    with pytest.raises(ValueError, match="adds to the title"):
        _save(_figure(), tmp_path, caption=caption)


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", fragment))).strip()


@pytest.mark.slow
def test_every_caption_in_the_statement_adds_to_its_title_and_ends_each_sentence(chain_run):
    page = (chain_run.report / "assurance-statement.html").read_text(encoding="utf-8")
    index = json.loads((chain_run.report / "charts" / "charts.json").read_text(encoding="utf-8"))
    figures = re.findall(r'<figure class="chart" id="chart-([^"]+)">(.*?)</figure>', page, re.S)
    assert len(figures) == len(index) == 12
    for name, figure in figures:
        title = index[name]["title"]
        caption = _text(re.search(r"<figcaption>(.*?)</figcaption>", figure, re.S).group(1))
        alt = html.unescape(re.search(r'<img [^>]*alt="([^"]*)"', figure).group(1))
        assert alt.startswith(title + ". "), name
        assert title not in caption, name
        source = _text(re.search(r'<span class="source">(.*?)</span>', figure, re.S).group(1))
        assert re.search(r"\. " + re.escape(source), caption), f"{name}: the source note runs into the caption"
        assert caption.endswith("."), name
        assert re.fullmatch(r"Source: .+\.( Synthetic sample data: not real children's records\.)?", source), source
