"""Red/amber/green ratings: each heading judged on one metric against the thresholds in the
partnership configuration's `rag` rules, with a reason a reader can check."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

from sscp_lib.config import rating
from sscp_lib.errors import UserError
from sscp_lib.formatting import format_value, public_label

RAG_LABELS = {"green": "Green", "amber": "Amber", "red": "Red", "not rated": "Not rated"}


@dataclass(frozen=True)
class Judgement:
    """A heading's red/amber/green rating, with the reason a reader can check."""

    status: str  # green | amber | red | not rated
    reason: str
    metric: str | None = None

    @property
    def label(self) -> str:
        return RAG_LABELS[self.status]


def judge(rule: dict | None, metrics: dict) -> Judgement:
    """Rate one heading by its rule: green when the metric meets `green`, amber when it meets
    `amber`, otherwise red. direction "higher" means bigger is better; "lower" smaller is better;
    `absolute` judges the size of the value whichever its sign (e.g. a budget variance)."""
    if not rule:
        return Judgement("not rated", "no rating rule is configured for this heading")
    name = rule["metric"]
    direction = rule.get("direction", "higher")
    if direction not in ("higher", "lower"):
        raise UserError(f"RAG rule for {name}: direction must be 'higher' or 'lower', not {direction!r}")
    entry = metrics.get(name)
    if entry is None:
        return Judgement("not rated", f"the figure it is judged on ({name}) is not available", name)
    label = public_label(entry.get("label", name))
    value = entry.get("value")
    if value == "c":
        return Judgement("not rated", f"{label} is suppressed because it concerns very few children", name)
    if value is None or isinstance(value, bool) or not isinstance(value, Real):
        return Judgement("not rated", f"{label} has no numeric value this year", name)
    unit = entry["unit"]
    measured = abs(float(value)) if rule.get("absolute") else float(value)
    green, amber = rule["green"], rule["amber"]
    status, test = rating(measured, green, amber, direction == "higher")
    either_way = " either way" if rule.get("absolute") else ""
    reason = (
        f"{label}: {format_value(value, unit)} (green at {format_value(green, unit)} {test}{either_way}, "
        f"amber at {format_value(amber, unit)} {test}{either_way})"
    )
    return Judgement(status, reason, name)
