"""Chart style and saving: one look for every chart in the statement.

Colours are the Government Analysis Function categorical palette (accessible, in this order).
Every chart states its finding in the title, labels its axes, carries a source note and is
saved with alt text in charts.json so the statement can place it with a description.
"""

from __future__ import annotations

import fcntl
import json
import os
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
from cycler import cycler
from matplotlib.ticker import MaxNLocator
from PIL import Image

matplotlib.use("Agg")  # no display in the kernel or CI
import matplotlib.pyplot as plt

from sscp_lib.catalogue import load_catalogue
from sscp_lib.config import charts_index
from sscp_lib.files import write_json_atomic

# Analysis Function categorical palette: dark blue, turquoise, dark pink, orange, dark grey, light purple.
PALETTE = ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"]
HIGHLIGHT = "#F46A25"
MUTED = "#BFBFBF"
SYNTHETIC_NOTE = "Synthetic sample data: not real children's records"

plt.rcParams.update(
    {
        "figure.figsize": (8, 4.2),
        "figure.dpi": 100,
        "font.size": 10,
        "font.family": "DejaVu Sans",
        "axes.prop_cycle": cycler(color=PALETTE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.grid": True,
        "axes.grid.axis": "y",
        "axes.axisbelow": True,
        "grid.color": "#E5E5E5",
        "svg.fonttype": "none",
    }
)


def new_chart(title: str, xlabel: str, ylabel: str, figsize=(8, 4.2)):
    """A figure and axes with the house style; the title should state the finding.

    The title is wrapped and set at the figure's left edge, not the axes', so a long finding
    stays inside the figure however long the category labels are.
    """
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    fig.suptitle(
        textwrap.fill(title, 70), x=0.01, ha="left", fontsize=plt.rcParams["axes.titlesize"], fontweight="bold"
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.margins(y=0.12)  # room for bar labels
    return fig, ax


def chart_heading(name: str) -> int:
    """The statement heading a chart is placed under (metrics_catalogue.yaml, `charts`)."""
    try:
        return int(load_catalogue()["charts"][name]["heading"])
    except KeyError:
        raise KeyError(f"chart {name!r} is not in sscp_lib/metrics_catalogue.yaml") from None


def count_axis(axis) -> None:
    """Whole-number ticks on an axis of counts (a chart of 5 actions must not read 2.5)."""
    axis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))  # 0, 5, 10, not 0, 3, 6


# 120 dpi: still ~140 dpi at A4 text width, with smaller PNGs to embed, base64 and lay out in the PDF.
CHART_DPI = 120


def _save_opaque_png(fig, path: Path) -> None:
    """The figure as an RGB PNG. Charts are drawn on white, so the alpha channel of matplotlib's
    own PNG is 255 everywhere; without it WeasyPrint has no soft mask to encode for each chart
    in the PDF (0.2-0.3 s of the PDF's CPU for the statement's charts)."""
    fig.set_dpi(CHART_DPI)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    image = Image.fromarray(rgba)
    if rgba[..., 3].min() < 255:  # something see-through: flattened onto white, as shown
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    image.convert("RGB").save(path, format="PNG", dpi=(CHART_DPI, CHART_DPI))


def save_chart(
    fig,
    charts_dir: Path | str,
    name: str,
    *,
    title: str,
    caption: str,
    alt: str,
    source: str,
    synthetic: bool,
) -> Path:
    """Write <charts_dir>/<name>.png with a source note, and record it in charts.json under the
    statement heading the catalogue gives the chart.

    The title states the finding and is drawn on the chart; the caption, printed under it, adds
    what is counted and what to notice, in sentences ending with a full stop; the source note is
    a sentence of its own.
    """
    if not caption.strip().endswith(".") or caption.strip().rstrip(".").lower() in title.lower():
        raise ValueError(f"chart {name}: a caption adds to the title and ends with a full stop: {caption!r}")
    heading = chart_heading(name)
    charts_dir = Path(charts_dir)
    charts_dir.mkdir(parents=True, exist_ok=True)
    note = f"Source: {source}." + (f" {SYNTHETIC_NOTE}." if synthetic else "")
    fig.text(0.01, 0.005, note, fontsize=8, color="#505050", ha="left", va="bottom")
    fig.get_layout_engine().set(h_pad=0.25)
    path = charts_dir / f"{name}.png"
    tmp = path.with_suffix(".tmp.png")
    _save_opaque_png(fig, tmp)
    plt.close(fig)
    tmp.replace(path)
    index_path = charts_index(charts_dir)
    # Two analysis stages may run at once: the lock keeps their read-modify-write apart.
    folder = os.open(charts_dir, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        index = json.loads(index_path.read_text(encoding="utf-8")) if index_path.exists() else {}
        index[name] = {
            "title": title,
            "caption": caption,
            "alt": alt,
            "source": note,
            "heading": heading,
            "file": path.name,
        }
        write_json_atomic(index_path, index)
    finally:
        os.close(folder)  # closing releases the lock
    return path
