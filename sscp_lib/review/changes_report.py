"""The comparison of two runs, rendered: the reviewer pack's changes page and `sscp diff`'s text."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

from sscp_lib.formatting import format_date
from sscp_lib.publishing.render import _fragment_env, _refuse_external, pack_page_css
from sscp_lib.review.changes import Comparison
from sscp_lib.review.history import describe_time

CHANGES_PAGE = "changes.html"
HASH_CHARS = 12  # of a SHA-256 shown on the page and in the terminal; manifest.json has all 64


def write_changes_page(
    comparison: Comparison, report_root: Path | str, *, partnership: str, synthetic: bool, marking: str
) -> Path:
    """report_root/changes.html: what changed since the last run, and the approval state."""
    root = Path(report_root)
    approval = comparison.approval
    page = (
        _fragment_env()
        .get_template("changes.html.j2")
        .render(
            title=f"{partnership}: changes to the {comparison.year} statement since the last run",
            heading=f"Changes since the last run: {comparison.year}",
            c=comparison,
            new_started=describe_time(comparison.new.started),
            approved_on=format_date(approval.earlier["date"]) if approval and approval.earlier else "",
            synthetic=synthetic,
            marking=marking,
            hash_chars=HASH_CHARS,
            generated=datetime.now(UTC).strftime("%d %B %Y at %H:%M UTC").lstrip("0"),
            page_css=pack_page_css(),
        )
    )
    path = root / CHANGES_PAGE
    _refuse_external(page, path)
    root.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def changes_text(comparison: Comparison, width: int = 100) -> str:
    """The changes page as plain text for the terminal (`sscp diff`)."""
    c = comparison
    out: list[str] = []

    def para(text: str, indent: str = "") -> None:
        out.extend(textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent + "  ") or [""])

    out.append(f"Changes: {c.year}, {c.new.label} against {c.old.label if c.old else 'no earlier run'}")
    out.append("")
    para(c.summary_line())
    if c.approval is not None:
        para(c.approval.line(c.new.started))
        for reason in c.approval.reasons:
            para(f"- {reason}", "  ")
    if c.first_run:
        return "\n".join(out) + "\n"
    out.append("")
    if not c.headings:
        out.append("No figures changed.")
    for heading in c.headings:
        out.append(f"{heading.number}. {heading.title}" if heading.number else heading.title)
        for f in heading.figures:
            para(f"- {f.label}: {f.before} -> {f.after}", "  ")
            if f.sentence:
                para(f'"{f.sentence}"', "      ")
        out.append("")
    for note in c.notes:
        para(note)
    out.append("Input files:" if c.inputs else "Input files: none added, removed or changed.")
    for i in c.inputs:
        before, after = (i.before or "-")[:HASH_CHARS], (i.after or "-")[:HASH_CHARS]
        para(f"- {i.file}: {i.change} (SHA-256 {before} -> {after})", "  ")
    out.append("")
    out.append("Configuration, narrative and code:" if c.settings else "Configuration, narrative and code: unchanged.")
    for s in c.settings:
        para(f"- {s}", "  ")
    return "\n".join(out) + "\n"
