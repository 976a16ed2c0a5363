"""The habits the codebase keeps: lint, format, types, output-free notebooks, declared packages,
and each stage declared in one place."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from sscp_lib.stages import STAGES

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("sscp_lib", "benchmarks", "tests")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing_to_lint():
    result = _run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_would_change_nothing():
    result = _run("ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_passes_over_the_library():
    result = _run("mypy", "--no-incremental")  # files and settings: [tool.mypy] in pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr


def _committed(pattern: str) -> list[Path]:
    listed = subprocess.run(["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:  # not a checkout (an unpacked source archive): every file counts
        return sorted(ROOT.rglob(pattern.lstrip("*/")))
    return [ROOT / line for line in listed.stdout.splitlines()]


def test_every_committed_notebook_carries_no_outputs():
    notebooks = _committed("*.ipynb")
    assert len(notebooks) >= len(STAGES)
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{path.name}: a cell has outputs (strip them)"
                assert cell.get("execution_count") is None, f"{path.name}: a cell has an execution count"


def _imported_top_level_modules() -> set[str]:
    found = set()
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found


def test_every_imported_package_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        req.split("==")[0].strip().lower().replace("_", "-")
        for req in project["dependencies"] + project["optional-dependencies"]["test"]
    }
    local = {"sscp_lib", "benchmarks", "conftest", "render_fixtures", "bad_inputs"} | {
        p.stem for p in (ROOT / "tests").glob("*.py")
    }
    distributions = metadata.packages_distributions()
    undeclared = {}
    for module in sorted(_imported_top_level_modules() - local - set(sys.stdlib_module_names)):
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not names & declared:
            undeclared[module] = sorted(names)
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_a_stage_is_described_in_the_registry_only(stage):
    """Its notebook file and title appear in no other module of the library or the benchmark."""
    registry = ROOT / "sscp_lib" / "stages" / "registry.py"
    for folder in ("sscp_lib", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == registry:
                continue
            text = path.read_text(encoding="utf-8")
            assert stage.notebook not in text, f"{path.relative_to(ROOT)} names {stage.notebook}"
            assert stage.title not in text, f"{path.relative_to(ROOT)} repeats the title of {stage.name}"


def test_no_notebook_builds_paths_or_parses_the_year():
    for stage in STAGES:
        source = "\n".join(
            "".join(cell["source"])
            for cell in json.loads(stage.notebook_path.read_text(encoding="utf-8"))["cells"]
            if cell["cell_type"] == "code"
        )
        for wiring in ("Paths", "ReportingYear", "load_config", "report_paths", "is_synthetic", "Path("):
            assert wiring not in source, f"{stage.notebook} builds its own {wiring}"
        assert source.count("run_stage(") == 1, f"{stage.notebook} should run its stage with one call"


def test_architecture_doc_generated_parts_are_current():
    """The stage table (from the registry) and the layers picture (from the import-linter contracts)."""
    from sscp_lib.stages.docs import ARCHITECTURE_DOC, render_architecture_doc

    text = ARCHITECTURE_DOC.read_text(encoding="utf-8")
    assert render_architecture_doc(text) == text, "docs/ARCHITECTURE.md is stale: run `sscp stage-docs`"
