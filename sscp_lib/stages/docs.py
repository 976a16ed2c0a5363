"""The stage table in docs/ARCHITECTURE.md, generated from the registry (`sscp stage-docs`)."""

from __future__ import annotations

import re
from pathlib import Path

from sscp_lib.config import PROJECT_ROOT
from sscp_lib.stages.context import LOCATIONS
from sscp_lib.stages.registry import STAGES

ARCHITECTURE_DOC = PROJECT_ROOT / "docs" / "ARCHITECTURE.md"
BEGIN = "<!-- stage table: generated from sscp_lib/stages/registry.py by `sscp stage-docs` -->"
END = "<!-- end of stage table -->"
_BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)


def stage_table() -> str:
    """Markdown: each stage with its notebook, module, what it reads and writes, and its group."""
    lines = [
        BEGIN,
        "",
        "| # | stage | notebook | runs | reads | writes | runs beside | in a run of |",
        "| ---: | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for number, stage in enumerate(STAGES, start=1):
        together = [s.name for s in STAGES if s.group is not None and s.group == stage.group and s is not stage]
        lines.append(
            f"| {number} | `{stage.name}`: {stage.title} | `notebooks/{stage.notebook}` | `{stage.module}.run` | "
            + ", ".join(f"`{name}`" for name in stage.reads)
            + " | "
            + ", ".join(f"`{name}`" for name in stage.writes)
            + " | "
            + (", ".join(f"`{name}`" for name in together) or "")
            + " | "
            + " and ".join(f"a {kind}" for kind in stage.runs_for)
            + " |"
        )
    lines += ["", "| location | what it holds |", "| --- | --- |"]
    lines += [f"| `{name}` | {description} |" for name, (description, _) in LOCATIONS.items()]
    lines += ["", END]
    return "\n".join(lines)


def render_architecture_doc(text: str) -> str:
    """The document with its stage table block replaced by the registry's."""
    if not _BLOCK.search(text):
        raise ValueError(f"{ARCHITECTURE_DOC}: no stage table block ({BEGIN!r} ... {END!r})")
    return _BLOCK.sub(lambda _: stage_table(), text)


def write_architecture_doc(path: Path = ARCHITECTURE_DOC) -> Path:
    path.write_text(render_architecture_doc(path.read_text(encoding="utf-8")), encoding="utf-8")
    return path
