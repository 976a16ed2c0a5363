"""What makes a dataset's validated and quarantined tables, as a content key (sscp_lib.reuse).

A table's validation is made from its clean table (by the clean key the clean stage recorded),
the window of period dates (the earliest year, which the config sets or the earliest period date
of any clean table gives), the reporting year, the row-count warning share, the contract's part
for it (inside the clean key), the package and the validation layer's code, Great Expectations'
version, and the values it refers to in other tables: those are the validated rows of the
tables it references, so its key takes in theirs. A table with no recorded clean key is never
reused.
"""

from __future__ import annotations

from collections.abc import Mapping

import great_expectations as gx

from sscp_lib.config import ReportingYear
from sscp_lib.contract import Contract
from sscp_lib.reuse import code_digest, content_key, package_version

STAGE = "validate"
CODE = ("sscp_lib.validation", "sscp_lib.contract", "sscp_lib.config", "sscp_lib.files", "sscp_lib.metrics")


def validation_keys(
    order: list[str],
    contract: Contract,
    clean_keys: Mapping[str, str],
    year: ReportingYear,
    earliest: ReportingYear,
    row_count_change_share: float,
) -> dict[str, tuple[str, dict]]:
    """(key, parts) by dataset, for those whose key can be known: a recorded clean key, and a key
    for every table referred to. `order` puts referenced tables first."""
    keys: dict[str, tuple[str, dict]] = {}
    for name in order:
        if name not in clean_keys:
            continue
        targets = sorted(
            {col.references.split(".", 1)[0] for col in contract.dataset(name).output_columns if col.references}
        )
        if any(target not in keys for target in targets):
            continue
        parts = {
            "stage": STAGE,
            "package": package_version(),
            "code": code_digest(CODE),
            "great_expectations": gx.__version__,
            "clean": clean_keys[name],
            "year": year.label,
            "earliest_year": earliest.label,
            "row_count_change_share": row_count_change_share,
            "references": {target: keys[target][0] for target in targets},
        }
        keys[name] = (content_key(parts), parts)
    return keys
