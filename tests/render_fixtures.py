"""Fixtures for the rendering tests: a complete set of metrics generated from the catalogue
(so it stays complete as the catalogue grows), two small charts, and the statement built from
them. Values are plausible for their unit and fixed, so tests can look for them."""

from __future__ import annotations

import html
import re
import zlib
from pathlib import Path

from sscp_lib.catalogue import load_catalogue
from sscp_lib.config import DEFAULT_CONFIG, load_config
from sscp_lib.files import write_json_atomic

YEAR = "2023-24"


def page_text(page: str) -> str:
    """What a reader sees: the page without its style sheet and tags, entities read as characters."""
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


# Values the tests look for in the rendered statement.
KNOWN = {
    "business_plan.ipbp_complete_pct": {"value": 92.0, "previous": 81.0},
    "learning.newsletter_opens_total": {"value": 2407},
    "budget.expenditure_actual": {"value": 312456.0, "previous": 298000.0},
    "challenges.cp_plan_rate_per_10k": {"value": 41.23, "previous": 38.0},
    "data.dara_correction_date": {"value": "2023-12-18"},
    "data.unknown_source_spike_months": {"value": ["2023-10", "2023-11"]},
    "challenges.cspr_published": {"value": "c"},  # a suppressed child-level count
    "escalations.open": {"value": 1, "previous": None},
    "budget.variance_pct": {"value": -3.4},
    "run.synthetic": {"value": True},
    "learning.event_title": {"value": "Learning from a local practice review"},
    "learning.newsletter_campaign": {"value": "Who's in Charge?"},
    "support_hub.training_quarters_reported": {"value": "Q1-Q3"},
}


def _seed(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def plausible_value(name: str, spec: dict):
    """A fixed, believable value for a catalogue metric, by its unit."""
    seed = _seed(name)
    unit = spec["unit"]
    if unit == "count":
        return 20 + seed % 900
    if unit == "percent":
        return float(55 + seed % 44)
    if unit == "gbp":
        return float(10_000 + (seed % 250) * 1_000)
    if unit == "days":
        return float(5 + seed % 30)
    if unit == "rate":
        return round(20 + (seed % 400) / 10, 1)
    if unit == "date":
        return f"2023-{4 + seed % 9:02d}-{1 + seed % 28:02d}"
    if unit == "flag":
        return seed % 2 == 0
    if unit == "text":
        return f"{spec['label']} (sample)"
    if unit == "list":
        return ["neglect", "voice of the child", "exploitation"]
    if unit == "table":
        return {
            "columns": ["category", "count", "share_pct"],
            "rows": [["Neglect", 120 + seed % 50, 48.5], ["Emotional abuse", 90, 36.0], ["Physical abuse", "c", 15.5]],
        }
    raise ValueError(f"no fixture value for unit {unit}")


def fixture_metrics() -> dict:
    """Every catalogue metric as the merged metrics.json holds it."""
    metrics = {}
    for name, spec in load_catalogue()["metrics"].items():
        entry = {
            "value": plausible_value(name, spec),
            "unit": spec["unit"],
            "label": spec["label"],
            "heading": spec.get("heading"),
        }
        if spec.get("previous"):
            previous = plausible_value(name + ".previous", spec)
            entry["previous"] = previous
        entry.update({k: v for k, v in KNOWN.get(name, {}).items()})
        if entry.get("previous", "absent") is None:
            del entry["previous"]
        metrics[name] = entry
    return metrics


def write_fixture_fragments(metrics_dir: Path, metrics: dict | None = None) -> Path:
    """The metrics as metric fragments, split in two the way two stages would write them."""
    metrics = metrics or fixture_metrics()
    names = sorted(metrics)
    half = len(names) // 2
    for stage, part in (("first", names[:half]), ("second", names[half:])):
        write_json_atomic(Path(metrics_dir) / f"{stage}.json", {name: metrics[name] for name in part})
    return Path(metrics_dir)


def write_fixture_charts(charts_dir: Path) -> dict:
    """Two small charts saved the way the analysis stages save them (PNG + charts.json)."""
    from sscp_lib.publishing import charts

    fig, ax = charts.new_chart(
        "Most IPBP workstreams finished nearly all their actions", "Workstream", "Actions complete (%)", figsize=(6, 3)
    )
    ax.bar(["Neglect", "Early help", "Inspection", "Voice"], [95, 88, 91, 70])
    charts.save_chart(
        fig,
        charts_dir,
        "ipbp_workstreams",
        title="IPBP actions complete by workstream",
        caption="Share of each workstream's actions complete at 31 March; voice is furthest behind.",
        alt="Bar chart: neglect 95%, early help 88%, inspection 91% and voice 70% of actions complete.",
        source="IPBP tracker",
        synthetic=True,
    )
    fig, ax = charts.new_chart("Referrals dipped in the summer", "Month", "Referrals", figsize=(6, 3))
    ax.plot(["Apr", "May", "Jun", "Jul", "Aug", "Sep"], [210, 220, 190, 160, 150, 205], marker="o")
    charts.save_chart(
        fig,
        charts_dir,
        "referrals_by_month",
        title="Referrals by month",
        caption="Referrals counted by the month they arrived; the summer dip recovered by September.",
        alt="Line chart of monthly referrals, lowest in August at 150 and highest in May at 220.",
        source="MASH case system",
        synthetic=True,
    )
    import json

    return json.loads((Path(charts_dir) / "charts.json").read_text(encoding="utf-8"))


def solihull_config():
    return load_config(DEFAULT_CONFIG)


def eastmoor_config():
    return load_config(Path(DEFAULT_CONFIG).parent / "examples" / "eastmoor.yaml")


def build_fixture_statement(tmp_dir: Path, config=None):
    """The statement built from the fixture metrics and charts (Solihull's config by default)."""
    from sscp_lib.publishing.narrative import build_statement

    charts_dir = Path(tmp_dir) / "charts"
    charts = write_fixture_charts(charts_dir)
    return build_statement(YEAR, fixture_metrics(), config or solihull_config(), charts, charts_dir)


def render_fixture_statement(tmp_dir: Path, config=None) -> Path:
    """assurance-statement.html from the fixtures, through the same template the chain uses."""
    from sscp_lib.publishing.render import notebook_node_to_html, statement_notebook

    statement = build_fixture_statement(tmp_dir, config)
    return notebook_node_to_html(
        statement_notebook(statement),
        Path(tmp_dir) / "assurance-statement.html",
        title=statement.title,
        synthetic=statement.synthetic,
        kind="statement",
        marking=statement.marking,
    )


# --- Headless Chromium -----------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
# Headless and quiet: no background traffic of the browser's own to tell apart from the page's.
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--hide-scrollbars",
)


def chromium_visit(html_path: Path, work_dir: Path, *, width: int = 1200, height: int = 2400) -> tuple[Path, list[str]]:
    """Open a page in headless Chromium: its screenshot, and every http(s) URL the page asked
    for (from the NetLog; the browser's own background traffic is left out)."""
    import json
    import subprocess

    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    shot, net_log = work_dir / "screenshot.png", work_dir / "netlog.json"
    command = [
        str(CHROMIUM),
        *HEADLESS,
        f"--user-data-dir={work_dir / 'profile'}",
        f"--log-net-log={net_log}",
        f"--screenshot={shot}",
        f"--window-size={width},{height}",
        Path(html_path).resolve().as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=90)
    return shot, page_requests(json.loads(net_log.read_text(encoding="utf-8")))


def page_requests(net_log: dict) -> list[str]:
    """http(s) URLs requested on behalf of a page opened from a file (its network isolation key
    names file://); requests the browser makes for itself have no such key."""
    start_job = net_log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in net_log["events"]:
        params = event.get("params") or {}
        url = params.get("url", "")
        if (
            event["type"] == start_job
            and url.startswith(("http:", "https:"))
            and "file://" in params.get("network_isolation_key", "")
        ):
            urls.append(url)
    return urls
