"""A run reads its config once and hashes its inputs once (issue 24): the partnership config is
parsed and schema-checked once in the chain's own process and once in a process that runs the
stages (a kernel, or the in-process runner), and each raw file is hashed once per run."""

from __future__ import annotations

import importlib
import sys
from collections import Counter
from pathlib import Path

import pytest

from sscp_lib import config as config_module
from sscp_lib import files

YEAR = "2023-24"

# Everything that reads the config or hashes a file during a run, imported before the spies go in
# (a module imported later would bind the original functions).
RUN_MODULES = (
    "sscp_lib.chain.pipeline",
    "sscp_lib.chain.stage_report",
    "sscp_lib.review.workflow",
    "sscp_lib.stages.runner",
    "sscp_lib.stages.context",
)


class Spy:
    """Counts the calls of a function, by the path each call names."""

    def __init__(self, function, path_of):
        self.function, self.path_of = function, path_of
        self.calls: Counter[Path] = Counter()

    def __call__(self, *args, **kwargs):
        self.calls[Path(self.path_of(*args, **kwargs)).resolve()] += 1
        return self.function(*args, **kwargs)


def _spy_everywhere(monkeypatch, function, spy) -> None:
    """Replace `function` in every sscp_lib module that holds it."""
    for module in RUN_MODULES:
        importlib.import_module(module)
    for name, module in list(sys.modules.items()):
        if name.startswith("sscp_lib") and module is not None:
            for attribute, value in list(vars(module).items()):
                if value is function:
                    monkeypatch.setattr(module, attribute, spy)


@pytest.fixture()
def config_checks(monkeypatch) -> Spy:
    spy = Spy(config_module.check_config, lambda data, path, metrics: path)
    _spy_everywhere(monkeypatch, config_module.check_config, spy)
    return spy


@pytest.fixture()
def hashes(monkeypatch) -> Spy:
    spy = Spy(files.sha256_file, lambda path: path)
    _spy_everywhere(monkeypatch, files.sha256_file, spy)
    return spy


def _raw_files(raw: Path) -> list[Path]:
    return sorted(p.resolve() for p in raw.rglob("*") if p.is_file())


def test_the_chains_process_reads_the_config_once_and_hashes_each_raw_file_once(chain_copy, config_checks, hashes):
    from sscp_lib.chain.pipeline import run_chain

    code = run_chain(
        year=YEAR, raw=chain_copy.raw, processed=chain_copy.processed, reports=chain_copy.reports, pdf=False
    )
    assert code == 0
    assert list(config_checks.calls.values()) == [1], config_checks.calls
    raw = _raw_files(chain_copy.raw)
    assert {path: hashes.calls[path] for path in raw} == dict.fromkeys(raw, 1)
    # The config and the year's narrative, which every fingerprint and stage report holds: once too.
    (config,) = config_checks.calls
    narrative = next(path for path in hashes.calls if path.parent.name == "narrative")
    assert (hashes.calls[config], hashes.calls[narrative]) == (1, 1)


def test_a_process_running_the_stages_reads_the_config_once(chain_run, config_checks, tmp_path):
    """What each stage's kernel does, all five stages in one process (stages.runner)."""
    from sscp_lib.stages.runner import run_in_process

    runs = run_in_process(
        YEAR, raw_dir=chain_run.raw, processed_dir=tmp_path / "processed", reports_dir=tmp_path / "reports"
    )
    assert len(runs) == 5
    assert list(config_checks.calls.values()) == [1], config_checks.calls
