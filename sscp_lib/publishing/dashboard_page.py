"""The Partnership Dashboard as one self-contained HTML page (and, from it, the A4-landscape
tagged PDF made by sscp_lib.publishing.pdf), from dataset.json, the dashboard's charts.json and
the quarter's commentary.

Like every page the project publishes: CSS inline, charts as data URIs with alt text, no
scripts, nothing fetched (`render._refuse_external` checks), the protective marking at the top
and foot, the synthetic-data note when it is the sample, DRAFT until approved.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

from sscp_lib.config import PartnershipConfig, ReportPaths
from sscp_lib.publishing.dashboard import (
    NO_COMPARATOR_TEXT,
    NO_DFE_COMPARATOR_TEXT,
    Dashboard,
    Verdict,
    build_dashboard,
    period_quarter,
)
from sscp_lib.publishing.dashboard_commentary import commentary
from sscp_lib.publishing.render import (
    TEMPLATES_DIR,
    _css_string,
    _fragment_env,
    _refuse_external,
    add_table_of_contents,
)

PAGE_CSS = ("sscp/sscp-page.css", "sscp/sscp-review.css", "dashboard/dashboard.css", "dashboard/dashboard-print.css")

# The key of icons, in the order it is read, with what each means.
KEY: list[tuple[str, Verdict, str]] = [
    ("variation", Verdict("improving", "", "Special cause: improving"),
     "The monthly figures have changed significantly, in the direction the partnership wants."),
    ("variation", Verdict("concerning", "", "Special cause: concerning"),
     "The monthly figures have changed significantly, in the direction the partnership does not want."),
    ("variation", Verdict("special", "", "Special cause"),
     "A significant change in an indicator where neither direction is better (higher or lower is said)."),
    ("variation", Verdict("common", "", "Common cause: no significant change"),
     "The monthly figures vary only as much as they usually do."),
    ("variation", Verdict("none", "", "Too few months to judge"),
     "Fewer months are held than the rules need."),
    ("assurance", Verdict("pass", "", "Consistently passing the target"),
     "The process limits are all on the right side of the target: it will be met if nothing changes."),
    ("assurance", Verdict("fail", "", "Consistently failing the target"),
     "The process limits are all on the wrong side of the target: it will not be met unless something changes."),
    ("assurance", Verdict("hitmiss", "", "Hit and miss: the target may or may not be met"),
     "The target lies between the process limits: some months will meet it, some will not."),
    ("assurance", Verdict("unknown", "", "Too few months to judge"), "Fewer months are held than the rules need."),
    ("assurance", Verdict("none", "", "No target set"), "The partnership has set no target for this indicator."),
    ("rag", Verdict("green", "", "Green"), "Within the partnership's threshold for the quarter."),
    ("rag", Verdict("amber", "", "Amber"), "Near the threshold: watch."),
    ("rag", Verdict("red", "", "Red"), "Beyond the threshold: the lead partners are asked to act."),
    ("rag", Verdict("none", "", "Not rated"), "The partnership config sets no threshold for this indicator."),
]  # fmt: skip


def _page_css() -> str:
    return "\n".join((TEMPLATES_DIR / name).read_text(encoding="utf-8") for name in PAGE_CSS)


def charts_with_images(charts_dir: Path) -> dict[str, dict]:
    """The dashboard's charts.json, each entry with its PNG as a data URI."""
    index_path = Path(charts_dir) / "charts.json"
    charts = json.loads(index_path.read_text(encoding="utf-8")) if index_path.is_file() else {}
    for entry in charts.values():
        png = (Path(charts_dir) / entry["file"]).read_bytes()
        entry["data_uri"] = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return charts


def render_dashboard_page(dashboard: Dashboard, marking: str) -> str:
    page = (
        _fragment_env()
        .get_template("dashboard/page.html.j2")
        .render(
            d=dashboard,
            marking=marking,
            marking_css=_css_string(marking),
            page_css=_page_css(),
            no_comparator=(NO_COMPARATOR_TEXT, NO_DFE_COMPARATOR_TEXT),
            key=[(kind, verdict) for kind, verdict, _ in KEY],
            key_text={f"{kind}-{verdict.code}": text for kind, verdict, text in KEY},
            generated=datetime.now(UTC).strftime("%d %B %Y at %H:%M UTC").lstrip("0"),
        )
    )
    return add_table_of_contents(page, heading_level=2)


def write_dashboard_html(
    report: ReportPaths,
    config: PartnershipConfig,
    *,
    synthetic: bool,
    marking: str,
    status: dict | None,
) -> Path:
    """report.dashboard_html from the report's dataset.json and dashboard charts; returns its path."""
    dataset = json.loads(report.dataset_json.read_text(encoding="utf-8"))
    quarter = period_quarter(dataset["period"])
    commentary_html, note = commentary(config, dataset, quarter)
    dashboard = build_dashboard(
        dataset,
        charts_with_images(report.dashboard_charts),
        partnership=config["partnership"]["name"],
        commentary_html=commentary_html,
        commentary_note=note,
        synthetic=synthetic,
        marking=marking,
        status=status,
        suppress_up_to=config.suppression_threshold,
    )
    page = render_dashboard_page(dashboard, marking)
    _refuse_external(page, report.dashboard_html, alt_text=True)
    report.dashboard_html.parent.mkdir(parents=True, exist_ok=True)
    report.dashboard_html.write_text(page, encoding="utf-8")
    return report.dashboard_html
