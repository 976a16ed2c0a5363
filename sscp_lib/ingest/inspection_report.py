"""`sscp inspect` as text: the findings of sscp_lib.ingest.inspection, and the mapping block to paste.

Only what the inspection kept is printed: headings, counts, shapes, spellings of code and yes/no
columns that look like codes. Nothing here reads a file.
"""

from __future__ import annotations

import json
import re
import shlex

from sscp_lib.ingest.inspection import HOW_LABELS, HOW_SUGGESTED, ColumnFinding, FileInspection, Inspection
from sscp_lib.ingest.sources import SOURCES_KEY

# Words YAML 1.1 reads as something other than text: always quoted in the block.
_YAML_WORDS = {"yes", "no", "y", "n", "true", "false", "on", "off", "null", "~"}
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
UNKNOWN_SHOWN = 12


def _n(count: int) -> str:
    return f"{count:,}"


def _counts(pairs, limit: int = UNKNOWN_SHOWN) -> str:
    shown = ", ".join(f"'{value}' ({_n(count)})" for value, count in pairs[:limit])
    return shown + (f", and {len(pairs) - limit} more" if len(pairs) > limit else "")


def _column_line(finding: ColumnFinding, year_end: str | None) -> str | None:
    column = finding.column
    if not finding.found:
        return None
    label = f"  {finding.name:<24}"
    label += "" if label.endswith(" ") else " "  # a name of 24 characters or more
    filled = f"{_n(finding.filled)} filled"
    if column.role == "drop":
        return f"{label}{filled} (personal data: dropped at cleaning; values not shown)"
    if column.is_identifier:
        examples = ", ".join(f"{s} ({_n(c)})" for s, c in finding.shapes)
        return f"{label}{filled}, {_n(finding.distinct)} distinct; shapes: {examples or 'none'}"
    if column.type == "date":
        if not finding.filled:
            return f"{label}dates: all empty"
        spelled = ", ".join(f"{name} {_n(count)}" for name, count in finding.spellings.items()) or "none read"
        line = f"{label}dates: {spelled}"
        if finding.date_failures:
            shapes = ", ".join(f"{s} ({_n(c)})" for s, c in finding.failure_shapes)
            line += f"; unreadable {_n(finding.date_failures)} (shapes: {shapes})"
        if year_end and finding.after_year:
            line += f"; after {year_end}: {_n(finding.after_year)}"
        return line
    if column.type == "bool":
        line = f"{label}yes {_n(finding.yes_rows)}, no {_n(finding.no_rows)}"
        if finding.unknown:
            line += f"; not yes/no words: {_counts(finding.unknown)}"
        if finding.unknown_shapes:
            line += f"; {_n(sum(c for _, c in finding.unknown_shapes))} more rows not shown (not yes/no-like)"
        return line
    if column.type == "code":
        line = f"{label}{_n(finding.known_rows)} rows with a code"
        if finding.unknown:
            listed = ", ".join(
                f"'{value}' ({_n(count)})"
                + (f" -> {finding.suggested_values[value]}?" if value in finding.suggested_values else "")
                for value, count in finding.unknown[:UNKNOWN_SHOWN]
            )
            more = f", and {len(finding.unknown) - UNKNOWN_SHOWN} more" if len(finding.unknown) > UNKNOWN_SHOWN else ""
            line += f"; no code for: {listed}{more}"
        if finding.unknown_shapes:
            hidden = sum(c for _, c in finding.unknown_shapes)
            shapes = ", ".join(f"{s} ({_n(c)})" for s, c in finding.unknown_shapes)
            line += (
                f"; {_n(hidden)}+ rows with values that do not look like codes, not shown (shapes: {shapes}): "
                "is the right heading mapped to this column?"
            )
        return line
    return f"{label}{filled}"


def format_file(finding: FileInspection, year_end: str | None) -> list[str]:
    lines = [f"== {finding.shown_as} =="]
    if finding.error:
        if not finding.claimed and finding.dataset is None:
            return lines + [f"Not taken by any source mapping, and cannot be inspected: {finding.error}", ""]
        return lines + [f"cannot be read: {finding.error}", ""]
    lines.append(f"Taken for: {finding.dataset or 'no dataset'}: {finding.taken_by}")
    if not finding.claimed:
        lines.append("Not taken by any source mapping: the clean stage would not read this file.")
    if finding.dataset is None and finding.fits:
        lines.append("  closest datasets: " + ", ".join(f"{name} (fit {fit:.2f})" for name, fit in finding.fits))
    table = finding.table
    if table is not None and table.format == "xml":  # a CIN census return: one row per record element
        lines.append(f"Read as a CIN census return ({table.encoding}): {_n(len(table.frame))} <{table.sheet}> records")
    elif table is not None:
        how = f"CSV ({table.encoding}, delimiter {table.delimiter!r})" if table.format == "csv" else "XLSX"
        sheet = f", sheet '{table.sheet}'" if table.sheet else ""
        others = [s for s in finding.sheets if s != table.sheet]
        if others:
            sheet += f" (other sheets: {', '.join(others)})"
        lines.append(
            f"Read as {how}{sheet}, heading row {table.header_row}; {_n(len(table.frame))} rows "
            f"(skipped {_n(table.blank_rows_skipped)} blank, {_n(table.header_rows_skipped)} repeated heading rows)"
        )
    if finding.headings:
        lines.append("Headings:")
        width = min(max((len(h.heading) for h in finding.headings), default=0), 40)
        for heading in finding.headings:
            name = heading.heading or f"(unnamed column {heading.position + 1})"
            if heading.column is None and heading.how is None:
                target = "not used"
            else:
                how = HOW_LABELS.get(heading.how or "", heading.how or "")
                if heading.how == HOW_SUGGESTED and heading.score is not None:
                    how += f" ({heading.score:.2f})"
                target = f"{heading.column or '-'}  [{how}]"
            lines.append(f"  {name:<{width}}  -> {target}")
    missing = [c for c in finding.columns if not c.found and c.column.required]
    if missing:
        lines.append("Required columns with no heading:")
        for column in missing:
            closest = ", ".join(f"'{h}' ({s:.2f})" for h, s in column.alternatives) or "no similar heading"
            lines.append(f"  {column.name}: closest {closest}")
    described = [line for c in finding.columns if (line := _column_line(c, year_end))]
    if described:
        lines.append("Values:")
        lines += described
    if finding.problems:
        lines.append("Would stop the clean stage now:")
        lines += [f"  {problem}" for problem in finding.problems]
    if finding.dataset and not finding.ready:
        if finding.still_missing:
            lines.append("With the suggested mapping, still to fix: " + "; ".join(finding.still_missing))
        else:
            lines.append("With the suggested mapping: every required column found")
    elif finding.ready:
        lines.append("Ready: the clean stage reads this file with the current mapping")
    return lines + [""]


# ---------------------------------------------------------------------------------------------
# The block


def yaml_scalar(value) -> str:
    if value is None:
        return "~"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


def _yaml_lines(value, indent: int) -> list[str]:
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and item:
                lines.append(f"{pad}{yaml_scalar(key)}:")
                lines += _yaml_lines(item, indent + 2)
            elif isinstance(item, list) and any(isinstance(i, dict) for i in item):
                lines.append(f"{pad}{yaml_scalar(key)}:")
                lines += _yaml_lines(item, indent + 2)
            else:
                lines.append(f"{pad}{yaml_scalar(key)}: {_flow(item)}")
    elif isinstance(value, list):
        for item in value:
            inner = _yaml_lines(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines += inner[1:]
    return lines


def _flow(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(yaml_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_scalar(k)}: {yaml_scalar(v)}" for k, v in value.items()) + "}"
    return yaml_scalar(value)


def _open_items(inspection: Inspection, dataset: str) -> list[str]:
    """Comment lines for what the block could not fill in for a dataset."""
    notes = []
    for finding in inspection.files:
        if finding.dataset != dataset:
            continue
        for column in finding.columns:
            if column.column.required and not column.found:
                closest = ", ".join(f"'{h}'" for h, _ in column.alternatives) or "none"
                notes.append(
                    f"# {finding.shown_as}: no heading found for required column {column.name} (closest: {closest})"
                )
            unmapped = [
                v for v, _ in column.unknown if v not in column.suggested_values and column.column.type == "code"
            ]
            if unmapped:
                notes.append(
                    f"# {finding.shown_as}: {column.name} values with no code: "
                    + ", ".join(json.dumps(v, ensure_ascii=False) for v in unmapped[:UNKNOWN_SHOWN])
                    + " (add them under values:, or leave them to be rejected)"
                )
    return list(dict.fromkeys(notes))


def format_block(inspection: Inspection) -> str:
    """The suggested `sources:` section (YAML), with comments for what is left to fill in."""
    lines = [f"{SOURCES_KEY}:"]
    for dataset, entry in inspection.block.items():
        lines.append(f"  {dataset}:")
        lines += _yaml_lines(entry, 4)
        lines += [f"    {note}" for note in _open_items(inspection, dataset)]
    return "\n".join(lines) + "\n"


def format_inspection(inspection: Inspection) -> str:
    year_end = inspection.year.end.strftime("%d/%m/%Y") if inspection.year else None
    lines = [*(f"note: {note}" for note in inspection.notes)]
    for finding in inspection.files:
        lines += format_file(finding, year_end)
    ready = sum(1 for f in inspection.files if f.ready)
    unused = [f.shown_as for f in inspection.files if not f.blocking and not f.ready]
    lines.append(f"Summary: {len(inspection.files)} file(s) inspected; {ready} ready as the mapping stands.")
    if unused:
        lines.append("Not read by the clean stage (no dataset fits them): " + ", ".join(unused))
    if inspection.missing_datasets:
        lines.append("No file is taken for: " + ", ".join(inspection.missing_datasets))
    config = inspection.config_file or "the partnership config"
    if inspection.block:
        lines += [
            "",
            f"Suggested source mapping for {config}: add it at the end (if the file already has a "
            f"`{SOURCES_KEY}:` section, put these entries under it instead; an entry for a dataset replaces the "
            "one there). Check each suggested heading and value first: they are guesses from similar names "
            "and from what the values look like.",
            "",
            format_block(inspection).rstrip("\n"),
        ]
    if not inspection.ok:
        target = shlex.quote(str(inspection.target))
        lines += [
            "",
            "Not ready: required columns or files are unmatched. Edit the mapping, then run "
            f"`sscp inspect {target}` again.",
        ]
    return "\n".join(lines) + "\n"
