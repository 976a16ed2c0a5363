"""The generated parts of docs/ARCHITECTURE.md (`sscp stage-docs`): the stage table, from the
registry, and the picture of the library's layers, from the import-linter contracts in pyproject.toml
(the one place the layers are declared; `lint-imports` in `make test` enforces them)."""

from __future__ import annotations

import ast
import re
import textwrap
import tomllib
from pathlib import Path

from sscp_lib.config import PROJECT_ROOT
from sscp_lib.stages.context import LOCATIONS
from sscp_lib.stages.registry import STAGES

ARCHITECTURE_DOC = PROJECT_ROOT / "docs" / "ARCHITECTURE.md"
BEGIN = "<!-- stage table: generated from sscp_lib/stages/registry.py by `sscp stage-docs` -->"
END = "<!-- end of stage table -->"
_BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
LAYERS_BEGIN = "<!-- layers: generated from pyproject.toml's import-linter contracts by `sscp stage-docs` -->"
LAYERS_END = "<!-- end of layers -->"
_LAYERS_BLOCK = re.compile(re.escape(LAYERS_BEGIN) + r".*?" + re.escape(LAYERS_END), re.S)
PYPROJECT = PROJECT_ROOT / "pyproject.toml"
PACKAGE = PROJECT_ROOT / "sscp_lib"


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


def _summary(module: str) -> str:
    """The first sentence of a module's or package's docstring."""
    path = PACKAGE / module.replace(".", "/")
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    return first.split(". ")[0].rstrip(".")


def layers_picture(pyproject: Path = PYPROJECT) -> str:
    """Markdown: the layers contract drawn top to bottom, each layer's modules with what they are for,
    then the independence contracts."""
    contracts = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")
    lines = [LAYERS_BEGIN, "", "```"]
    rows: list[tuple[str, str]] = []
    for number, layer in enumerate(layers["layers"]):
        independent = "|" in layer
        members = [m.strip() for m in re.split(r"[|:]", layer)]
        if number:
            lines.append("   │")
        joiner = " | " if independent else " : "
        lines += textwrap.wrap(
            joiner.join(members), 96, initial_indent="▼  " if number else "   ", subsequent_indent="   "
        )
        rows += [(m, _summary(m)) for m in members]
    lines += [
        "```",
        "",
        f"{layers['name']}.",
        "A module imports only from the layers below its own. `|` separates packages of one layer that must not",
        "import each other; `:` separates modules of one layer that may.",
        "",
        "| module | what it is for |",
        "| --- | --- |",
    ]
    lines += [f"| `{module}` | {summary} |" for module, summary in rows]
    others = [c for c in contracts if c["type"] == "independence"]
    if others:
        lines += ["", "Independent of each other:", ""]
        lines += [f"- {c['name']}: " + ", ".join(f"`{m}`" for m in c["modules"]) for c in others]
    lines += ["", LAYERS_END]
    return "\n".join(lines)


def render_architecture_doc(text: str) -> str:
    """The document with its generated blocks replaced: the stage table and the layers picture."""
    for pattern, begin, end in ((_BLOCK, BEGIN, END), (_LAYERS_BLOCK, LAYERS_BEGIN, LAYERS_END)):
        if not pattern.search(text):
            raise ValueError(f"{ARCHITECTURE_DOC}: no generated block ({begin!r} ... {end!r})")
    text = _BLOCK.sub(lambda _: stage_table(), text)
    return _LAYERS_BLOCK.sub(lambda _: layers_picture(), text)


def write_architecture_doc(path: Path = ARCHITECTURE_DOC) -> Path:
    path.write_text(render_architecture_doc(path.read_text(encoding="utf-8")), encoding="utf-8")
    return path
