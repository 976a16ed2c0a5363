"""The exploration helpers answer ad-hoc questions the way a plain pandas count would."""

from __future__ import annotations

import pandas as pd
import pytest
from test_analysis_referrals import referrals_frame

from sscp_lib import explore
from sscp_lib.config import Paths, ReportingYear
from sscp_lib.disclosure import recoverable_cells

YEAR = ReportingYear.parse("2023-24")


@pytest.fixture(scope="module")
def referrals():
    records = (
        [
            {
                "referral_date": "2023-10-03",
                "referral_source": "6",
                "recorded_outcome": "ASSESSMENT",
                "abuse_category": "NEG",
            }
        ]
        * 12
        + [{"referral_date": "2023-10-04", "referral_source": "10", "recorded_outcome": "ADVICE_INFO"}] * 9
        + [{"referral_date": "2023-11-20", "referral_source": "10", "recorded_outcome": "S47", "abuse_category": "SAB"}]
        * 3
        + [
            {
                "referral_date": "2023-11-21",
                "referral_source": "2A",
                "recorded_outcome": "ASSESSMENT",
                "abuse_category": "EMO",
            }
        ]
        * 20
        + [
            {
                "referral_date": "2024-01-15",
                "referral_source": "3A",
                "recorded_outcome": "ASSESSMENT",
                "abuse_category": "NEG",
            }
        ]
        * 7
        + [{"referral_date": "2023-09-15", "referral_source": "6", "recorded_outcome": "NFA"}] * 4
    )
    return referrals_frame(records)


def test_filter_by_months_agency_outcome_and_category(referrals):
    unknown = explore.filter_referrals(referrals, months=["2023-10", "2023-11"], agency="UNKNOWN")
    assert len(unknown) == 12
    assert len(explore.filter_referrals(referrals, agency="Unknown", outcome="S47")) == 3
    # Labels work as well as codes; NFA recorded after the changeover counts as Advice and information.
    assert len(explore.filter_referrals(referrals, outcome="Advice and information")) == 13
    assert len(explore.filter_referrals(referrals, category=["NEG", "sexual abuse"])) == 22
    assert len(explore.filter_referrals(referrals, months="2024-01")) == 7
    assert len(explore.filter_referrals(referrals)) == len(referrals)
    with pytest.raises(ValueError, match="not a code or label"):
        explore.filter_referrals(referrals, agency="Martians")


def test_monthly_series_fills_empty_months(referrals):
    series = explore.monthly_series(referrals)
    assert list(series.index) == [f"2023-{m:02d}" for m in range(9, 13)] + ["2024-01"]
    assert series["2023-12"] == 0
    assert series["2023-11"] == 23
    assert series.sum() == len(referrals)
    by_group = explore.monthly_series(referrals, by="referral_source_group")
    assert by_group.loc["2023-10", "UNKNOWN"] == 9
    assert by_group.loc["2023-10", "POLICE"] == 12
    assert by_group.to_numpy().sum() == len(referrals)


def test_crosstab_totals_and_suppression(referrals):
    raw = explore.crosstab(referrals, "referral_source_group", "referral_outcome", suppress=False)
    assert raw.loc["UNKNOWN", "S47"] == 3
    assert raw.loc["POLICE", "Total"] == 16
    assert raw.loc["Total", "Total"] == len(referrals)
    table = explore.crosstab(referrals, "referral_source_group", "referral_outcome", threshold=5)
    assert table.loc["UNKNOWN", "S47"] == "c"
    assert table.loc["POLICE", "ADVICE_INFO"] == "c"  # 4 NFA after the changeover, recoded
    assert table.loc["Total", "ASSESSMENT"] == 39
    # Sparse: row totals that would give a hidden cell away are hidden themselves.
    assert table.loc["UNKNOWN", "Total"] == "c"
    assert recoverable_cells(table, row_total="Total", col_total="Total") == set()
    for label, column in table.drop(index="Total").items():
        assert (column == "c").sum() != 1 or table.loc["Total", label] == "c", label


def test_crosstab_keeps_row_totals_when_safe():
    records = (
        [{"referral_date": "2023-10-03", "referral_source": "6", "recorded_outcome": "ASSESSMENT"}] * 30
        + [{"referral_date": "2023-10-03", "referral_source": "6", "recorded_outcome": "S47"}] * 3
        + [{"referral_date": "2023-10-03", "referral_source": "6", "recorded_outcome": "EARLY_HELP"}] * 12
        + [{"referral_date": "2023-10-03", "referral_source": "2A", "recorded_outcome": "ASSESSMENT"}] * 25
        + [{"referral_date": "2023-10-03", "referral_source": "2A", "recorded_outcome": "S47"}] * 8
        + [{"referral_date": "2023-10-03", "referral_source": "2A", "recorded_outcome": "EARLY_HELP"}] * 14
    )
    table = explore.crosstab(referrals_frame(records), "referral_source_group", "referral_outcome", threshold=5)
    assert table.loc["POLICE", "Total"] == 45 and table.loc["Total", "Total"] == 92
    assert table.loc["POLICE", "S47"] == "c"
    assert (table.loc["POLICE"] == "c").sum() == 2 and (table["S47"] == "c").sum() == 2
    assert recoverable_cells(table, row_total="Total", col_total="Total") == set()


def test_load_referrals_reads_the_validated_table(referrals, tmp_path):
    paths = Paths(raw=tmp_path / "raw", processed=tmp_path, reports=tmp_path / "reports")
    paths.validated_dir(YEAR).mkdir(parents=True)
    referrals.to_parquet(paths.validated_dir(YEAR) / "referrals.parquet")
    loaded = explore.load_referrals("2023-24", processed_dir=tmp_path)
    pd.testing.assert_frame_equal(loaded, referrals)
