"""DfE comparators from the Explore Education Statistics (EES) CSV files a partnership downloads.

An EES file has the standard geography columns (`time_period`, `time_identifier`,
`geographic_level`, `country_code`, `region_code`, `region_name`, `new_la_code`, `old_la_code`,
`la_name`) and one column per measure. The partnership config names, under
`dashboard.comparators`, the folder holding the files, its own local authority code (new or old),
its statistical neighbours and, for each comparator measure, the file and column (and optional
`where` filters on other columns, e.g. a characteristic). `read_comparators(config)` returns, for
each measure, England's, the region's and the statistical neighbours' (their mean) values in the
chosen (or latest) time period: plain values the analysis layer reads without knowing files.

No `comparators` section: None, and every indicator says "comparator not supplied"; a figure is
never typed into the code or the config. A file or column the config names that is missing or
unreadable stops the run with one message naming the file, the row and the column.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path

from sscp_lib.config import PartnershipConfig
from sscp_lib.errors import UserError
from sscp_lib.files import display_path

GEOGRAPHY_COLUMNS = (
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "region_code",
    "region_name",
    "new_la_code",
    "old_la_code",
    "la_name",
)
NATIONAL, REGIONAL, LOCAL_AUTHORITY = "National", "Regional", "Local authority"
# EES symbols for a value that is not published: suppressed, not available, not applicable,
# low (rounds to 0), and the older ':' and '..'.
NOT_A_VALUE = {"c", "x", "z", "low", "u", ":", "..", ""}
SEXUAL_ABUSE_MEASURE = "sexual_abuse_share"


class ComparatorFileError(UserError):
    """A comparator file the config names that is missing or cannot be read."""


def period_label(time_period: str) -> str:
    """EES writes a financial or academic year as 202223: shown as 2022-23."""
    text = str(time_period).strip()
    if len(text) == 6 and text.isdigit():
        return f"{text[:4]}-{text[4:]}"
    return text


def _read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise ComparatorFileError(f"{display_path(path)}: comparator file not found (named in dashboard.comparators)")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in GEOGRAPHY_COLUMNS if c not in header]
            if missing:
                raise ComparatorFileError(
                    f"{display_path(path)}: row 1 (the header): missing the Explore Education Statistics "
                    f"geography column(s) {', '.join(missing)}"
                )
            reader.fieldnames = header
            return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    except UnicodeDecodeError as exc:
        raise ComparatorFileError(f"{display_path(path)}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise ComparatorFileError(f"{display_path(path)}: not a readable CSV file ({exc})") from None


def _number(text: str, path: Path, row: int, column: str) -> float | None:
    if text.lower() in NOT_A_VALUE:
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise ComparatorFileError(
            f"{display_path(path)}: row {row}, column {column}: {text!r} is not a number "
            f"(or an EES symbol: {', '.join(sorted(s for s in NOT_A_VALUE if s))})"
        ) from None
    if not math.isfinite(value):
        raise ComparatorFileError(f"{display_path(path)}: row {row}, column {column}: {text!r} is not a number")
    return value


def _first(rows: list[tuple[int, dict]], level: str, test=lambda row: True) -> tuple[int, dict] | None:
    """The first (row number, row) of a geographic level that passes `test`."""
    for row_number, row in rows:
        if row["geographic_level"] == level and test(row):
            return row_number, row
    return None


def read_comparators(config: PartnershipConfig) -> dict[str, dict] | None:
    """Every configured comparator measure: {england, region, region_name, statistical_neighbours,
    local_authority, time_period, source, text}; None when the config names no comparators."""
    section = (config.get("dashboard") or {}).get("comparators")
    if not section:
        return None
    folder = Path(config.path).parent / section.get("folder", ".")
    la_code = str(section["local_authority"])
    neighbours = [str(c) for c in section.get("statistical_neighbours") or []]
    files: dict[str, list[dict[str, str]]] = {}
    out: dict[str, dict] = {}
    for name, measure in section["measures"].items():
        path = folder / measure["file"]
        if measure["file"] not in files:
            files[measure["file"]] = _read(path)
        rows = files[measure["file"]]
        column = measure["column"]
        where = {str(k): str(v) for k, v in (measure.get("where") or {}).items()}
        header = set(rows[0]) if rows else set()
        for wanted in [column, *where]:
            if rows and wanted not in header:
                raise ComparatorFileError(
                    f"{display_path(path)}: row 1 (the header), column {wanted}: not in the file "
                    f"(named by dashboard.comparators.measures.{name})"
                )
        chosen = [(i + 2, r) for i, r in enumerate(rows) if all(r.get(k) == v for k, v in where.items())]
        periods = sorted({r["time_period"] for _, r in chosen})
        wanted_period = str(section.get("time_period") or (periods[-1] if periods else ""))
        chosen = [(n, r) for n, r in chosen if r["time_period"] == wanted_period]
        scale = float(measure.get("scale", 1))

        def value(row_number: int, row: dict, column: str = column, path: Path = path, scale: float = scale):
            number = _number(row[column], path, row_number, column)
            return None if number is None else round(number * scale, 1)

        own = _first(chosen, LOCAL_AUTHORITY, lambda r: la_code in (r["new_la_code"], r["old_la_code"]))
        england = _first(chosen, NATIONAL)
        region_code = own[1]["region_code"] if own else None
        region = _first(chosen, REGIONAL, lambda r, code=region_code: r["region_code"] == code) if own else None
        neighbour_values = [
            v
            for row_number, row in chosen
            if row["geographic_level"] == LOCAL_AUTHORITY
            and ({row["new_la_code"], row["old_la_code"]} & set(neighbours))
            and (v := value(row_number, row)) is not None
        ]
        entry = {
            "england": value(*england) if england else None,
            "region": value(*region) if region else None,
            "region_name": region[1]["region_name"] if region else None,
            "statistical_neighbours": round(sum(neighbour_values) / len(neighbour_values), 1)
            if neighbour_values
            else None,
            "statistical_neighbours_count": len(neighbour_values),
            "local_authority": value(*own) if own else None,
            "time_period": period_label(wanted_period),
            "source": measure["file"],
        }
        parts = [
            f"England {entry['england']:g}" if entry["england"] is not None else None,
            f"{entry['region_name']} {entry['region']:g}" if entry["region"] is not None else None,
            f"statistical neighbours {entry['statistical_neighbours']:g}"
            if entry["statistical_neighbours"] is not None
            else None,
        ]
        shown = [p for p in parts if p]
        entry["text"] = (
            f"{'; '.join(shown)} ({entry['time_period']}, DfE)" if shown else f"no values in {measure['file']}"
        )
        out[name] = entry
    return out


def sexual_abuse_comparator_share(config: PartnershipConfig, comparators: Mapping[str, dict] | None) -> float:
    """The statement's comparator share (0-1) for sexual abuse: England's value from the DfE file
    when the config names the measure `sexual_abuse_share`, else the config's own setting."""
    found = (comparators or {}).get(SEXUAL_ABUSE_MEASURE)
    if found and found.get("england") is not None:
        return float(found["england"]) / 100
    return float(config["analysis"]["sexual_abuse_comparator_share"])
