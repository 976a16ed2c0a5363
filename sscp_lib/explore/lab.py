"""`sscp lab` (and `make lab`): JupyterLab at the repository root on the analyst's working copy.

The tracked notebooks/explore_referrals.ipynb is a clean template. The analyst works on a copy in
scratch/ (ignored by git), made when missing and never overwritten, so a saved notebook full of
figures never reaches git. Lab's root is the repository, so docs/, reports/ and the library are
in its file browser. --allow-root is passed only when running as root (containers), where Lab
refuses to start without it; a normal user's server keeps Jupyter's default.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from sscp_lib.config import NOTEBOOK_DIR, PROJECT_ROOT

TEMPLATE = NOTEBOOK_DIR / "explore_referrals.ipynb"
SCRATCH_DIR = PROJECT_ROOT / "scratch"


def working_copy(template: Path = TEMPLATE, folder: Path = SCRATCH_DIR) -> tuple[Path, bool]:
    """The analyst's copy of the template (made if missing, never overwritten) and whether it is
    older than the template."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / template.name
    if not copy.exists():
        shutil.copyfile(template, copy)
        return copy, False
    return copy, template.stat().st_mtime > copy.stat().st_mtime


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_command(notebook: Path, *, root: Path = PROJECT_ROOT, as_root: bool | None = None, extra=()) -> list[str]:
    """The command that starts JupyterLab with `root` as its root and `notebook` open."""
    as_root = running_as_root() if as_root is None else as_root
    command = [str(Path(sys.executable).with_name("jupyter-lab")), f"--ServerApp.root_dir={root}"]
    if as_root:
        command.append("--allow-root")
    return [*command, *extra, str(notebook)]


def main(extra: list[str] | None = None) -> int:
    copy, stale = working_copy()
    print(
        f"working copy: {copy.relative_to(PROJECT_ROOT)} (ignored by git; the template is {TEMPLATE.relative_to(PROJECT_ROOT)})"
    )
    if stale:
        print(f"  the template has changed since: delete {copy.relative_to(PROJECT_ROOT)} to start again from it")
    command = lab_command(copy, extra=extra or [])
    sys.stdout.flush()
    os.chdir(PROJECT_ROOT)
    os.execv(command[0], command)  # Lab replaces this process, so Ctrl-C and signals reach it directly


def briefing_folder(folder: Path | str | None = None) -> Path:
    """Where the notebook saves files for briefings: `folder`, or scratch/briefing (ignored by git)."""
    path = Path(folder) if folder else SCRATCH_DIR / "briefing"
    path.mkdir(parents=True, exist_ok=True)
    return path
