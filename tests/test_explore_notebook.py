"""The tracked exploration notebook runs on the sample's validated tables (papermill, kernel sscp),
answers its four questions as labelled, suppressed tables with charts, and agrees with the statement.
"""

from __future__ import annotations

import hashlib
import json
import re

import papermill
import pytest
from conftest import YEAR

from sscp_lib import explore
from sscp_lib.config import KERNEL_NAME, load_config
from sscp_lib.disclosure import SUPPRESSED
from sscp_lib.explore import lab
from sscp_lib.explore.answers import WORKING_NOTE

pytestmark = pytest.mark.slow

QUESTIONS = (
    "q1-sources-last-six-months",
    "q2-police-da-dara-share",
    "q3-outcome-by-source-group",
    "q4-unknown-source-share",
)


@pytest.fixture(scope="module")
def executed(chain_run, tmp_path_factory):
    work = tmp_path_factory.mktemp("explore")
    before = hashlib.sha256(lab.TEMPLATE.read_bytes()).hexdigest()
    papermill.execute_notebook(
        str(lab.TEMPLATE),
        str(work / "explore_referrals.ipynb"),
        parameters={"year": YEAR, "processed_dir": str(chain_run.processed), "briefing_dir": str(work / "briefing")},
        kernel_name=KERNEL_NAME,
        cwd=str(work),
        progress_bar=False,
    )
    assert hashlib.sha256(lab.TEMPLATE.read_bytes()).hexdigest() == before, "running must not touch the template"
    notebook = json.loads((work / "explore_referrals.ipynb").read_text(encoding="utf-8"))
    return {cell["id"]: cell for cell in notebook["cells"]}, work


def _html(cell) -> str:
    return "".join("".join(out.get("data", {}).get("text/html", "")) for out in cell["outputs"])


def test_each_question_is_a_labelled_suppressed_table_with_a_chart(executed):
    cells, _ = executed
    for name in QUESTIONS:
        html = _html(cells[name])
        assert "<table" in html and "data:image/png;base64," in html, name
        assert WORKING_NOTE not in html, name
        # No count from 1 to the threshold is shown (shares are decimals, counts whole numbers).
        shown = {int(n) for n in re.findall(r"<td>(\d+)</td>", html)}
        assert not shown & set(range(1, load_config().suppression_threshold + 1)), name
    assert "Police" in _html(cells["q1-sources-last-six-months"])
    assert "Single assessment" in _html(cells["q3-outcome-by-source-group"])
    assert f">{SUPPRESSED}<" in _html(cells["q4-unknown-source-share"])  # the quiet months' small counts
    assert "ADVICE_INFO" not in "".join(_html(cells[name]) for name in QUESTIONS)


def test_briefing_files_are_written_where_asked(executed):
    _, work = executed
    assert {p.name for p in (work / "briefing").iterdir()} == {"unknown-source-share.xlsx", "unknown-source-share.png"}


def test_police_domestic_abuse_answer_is_the_statement_figure(chain_run):
    """Police domestic-abuse referrals come from the police referrals table, as in the statement."""
    metrics = json.loads(chain_run.report.joinpath("metrics.json").read_text(encoding="utf-8"))
    police = explore.load_police_referrals(processed_dir=chain_run.processed)
    answer = explore.monthly_share(explore.filter_rows(police, year=YEAR, domestic_abuse="yes"), "dara", "yes")
    assert answer.table.loc["Total", "Total"] == metrics["data.police_da_referrals"]["value"]
    referrals = explore.load_referrals(YEAR, processed_dir=chain_run.processed)
    assert len(referrals) == metrics["data.referrals"]["value"]
    last_six = explore.filter_rows(referrals, start="2023-10", end="2024-03")
    assert len(last_six) == len(explore.filter_rows(referrals, months="2023-10:2024-03"))
