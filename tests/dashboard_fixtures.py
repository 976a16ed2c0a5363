"""A made-up partnership dataset in the dataset.json shape (sscp_lib/analysis/indicators.py's
docstring), for tests of the dashboard's wording and page that should not need a chain run.
Every figure here is invented."""

from __future__ import annotations

import math

from sscp_lib.config import Quarter, ReportingYear

THEMES = {
    "front_door": "Contacts and referrals",
    "child_protection": "Child protection",
    "partnership": "Partnership business",
}


def _months(end: Quarter, first_year: int = 2021) -> list[str]:
    months, year, month = [], first_year, 4
    last = end.months[-1]
    while True:
        key = f"{year}-{month:02d}"
        months.append(key)
        if key == last:
            return months
        month += 1
        if month > 12:
            year, month = year + 1, 1


def _quarters(end: Quarter, first_year: int = 2021) -> list[Quarter]:
    quarters, q = [], ReportingYear(first_year).quarter(1)
    while q <= end:
        quarters.append(q)
        q = q.next
    return quarters


def _spc(months: list[str], values: list[float], shift_from: str | None) -> dict:
    mean = sum(values) / len(values)
    mr = sum(abs(a - b) for a, b in zip(values, values[1:])) / (len(values) - 1)
    points = [
        {"month": m, "value": v, "special": bool(shift_from and m >= shift_from), "rules": ["run"] if shift_from and m >= shift_from else [],
         "direction": "higher" if shift_from and m >= shift_from else None}
        for m, v in zip(months, values)
    ]  # fmt: skip
    return {"mean": mean, "lower": mean - 2.66 * mr, "upper": mean + 2.66 * mr, "sigma": mr / 1.128, "points": points}


def indicator(
    id: str, label: str, theme: str, unit: str, end: Quarter, *, base: float, shift_from: str | None = None,
    polarity: str = "neither", not_received: tuple[str, ...] = (), rag: str | None = None, assurance: str | None = None,
    comparator: dict | None = None,
) -> dict:  # fmt: skip
    months = _months(end)
    values = [
        round(base + base * 0.08 * math.sin(i * 1.7) + (base * 0.3 if shift_from and m >= shift_from else 0), 1)
        for i, m in enumerate(months)
    ]
    monthly = dict(zip(months, values))
    quarter_values: dict = {}
    reasons: dict = {}
    for q in _quarters(end):
        if q.label in not_received:
            quarter_values[q.label] = None
            reasons[q.label] = "not yet received"
            for m in q.months:
                monthly[m] = None
                reasons[m] = "not yet received"
            continue
        vs = [monthly[m] for m in q.months]
        quarter_values[q.label] = round(sum(vs) if unit == "count" else sum(vs) / 3, 1)
    held = [m for m in months if monthly[m] is not None]
    variation = "common_cause"
    if shift_from:
        variation = {"higher_is_better": "improving", "lower_is_better": "concerning"}.get(polarity, "neither")
    return {
        "id": id,
        "label": label,
        "theme": theme,
        "agency": "COUNCIL",
        "definition": f"{label} in the period (made up).",
        "note": None,
        "unit": unit,
        "polarity": polarity,
        "values": quarter_values,
        "monthly": monthly,
        "reasons": reasons,
        "received": end.label not in not_received,
        "target": None,
        "rag": {"status": rag, "text": rag} if rag else None,
        "variation": {"code": variation, "direction": "higher" if shift_from else None, "text": variation},
        "assurance": {"code": assurance, "text": assurance} if assurance else None,
        "comparator": comparator or {"status": "not_supplied", "text": "comparator not supplied", "measure": None},
        "spc": _spc(held, [monthly[m] for m in held], shift_from),
    }


def sample_dataset(period: str = "2023-24-Q3", *, comparators: bool = False, health_missing: bool = True) -> dict:
    year, _, number = period.partition("-Q")
    end = ReportingYear.parse(year).quarter(int(number))
    comparator = (
        {"status": "supplied", "measure": "referral_rate", "england": 544.5, "region": 601.2,
         "statistical_neighbours": 570.0, "time_period": "2022-23"}
        if comparators else None
    )  # fmt: skip
    indicators = [
        indicator("contacts", "MASH contacts", "front_door", "count", end, base=900),
        indicator("referral_rate", "Referral rate", "front_door", "rate", end, base=45, comparator=comparator),
        indicator(
            "re_referral_pct", "Re-referrals within 12 months", "front_door", "percent", end, base=18,
            shift_from="2023-04", polarity="lower_is_better", rag="red", assurance="failing",
        ),
        indicator(
            "health_referrals", "Health referrals", "front_door", "count", end, base=60,
            not_received=(end.label,) if health_missing else (),
        ),
        indicator("cp_plan_starts", "Child protection plans started", "child_protection", "count", end, base=30),
        indicator(
            "audit_actions_on_time_pct", "Audit actions completed on time", "partnership", "percent", end, base=82,
            polarity="higher_is_better", rag="green", assurance="hit_and_miss",
        ),
    ]  # fmt: skip
    return {
        "period": end.label,
        "year": end.year.label,
        "quarter": end.number,
        "period_end": end.end.isoformat(),
        "themes": THEMES,
        "synthetic": True,
        "suppress_up_to": 5,
        "protective_marking": "OFFICIAL",
        "partnership": "Made-up Safeguarding Children Partnership",
        "comparators_supplied": comparators,
        "indicators": indicators,
    }
