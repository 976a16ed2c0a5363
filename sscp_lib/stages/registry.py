"""The chain's stages, each declared once: the pipeline, the warm kernels, the in-process runner,
the benchmark, the index and the docs all read this list, and nothing else lists stages.

A stage's `reads` and `writes` name locations in the dataset catalogue (`stages.context.LOCATIONS`).
Stages that share a `group` read the same inputs and write disjoint outputs, so the chain runs
neighbours of one group side by side. A stage's `runs_for` says which runs need it: a year's run
(the statement, with the Q4 dashboard beside it) runs them all; a quarter's run only those its
dashboard needs (`stages_for`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sscp_lib.config import NOTEBOOK_DIR
from sscp_lib.errors import UserError

# A year's run makes the statement and the Q4 dashboard; a quarter's run, that quarter's dashboard.
RUN_KINDS: tuple[str, ...] = ("year", "quarter")


@dataclass(frozen=True)
class Stage:
    name: str
    notebook: str  # file in notebooks/
    title: str  # as the reviewer index and the rendered report show it
    module: str  # the module whose run(ctx) does the work; the warm kernel imports it
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    group: str | None = None  # neighbours in one group run side by side
    runs_for: tuple[str, ...] = RUN_KINDS  # "year", "quarter": the runs that need this stage

    @property
    def notebook_path(self) -> Path:
        return NOTEBOOK_DIR / self.notebook


STAGES: tuple[Stage, ...] = (
    Stage(
        name="clean",
        notebook="01_clean.ipynb",
        title="Clean: agency files to pseudonymous tables (clean log)",
        module="sscp_lib.stages.clean",
        reads=("raw",),
        writes=("clean", "metric_fragments"),
    ),
    Stage(
        name="validate",
        notebook="02_validate.ipynb",
        title="Validate: data-quality checks (validation report)",
        module="sscp_lib.stages.validate",
        reads=("clean",),
        writes=("validated", "quarantine", "validation_report", "metric_fragments"),
    ),
    Stage(
        name="analyse_referrals",
        notebook="03_analyse_referrals.ipynb",
        title="Analyse: referrals, child protection and MASH data",
        module="sscp_lib.stages.analyse_referrals",
        reads=("validated",),
        writes=("metric_fragments", "charts"),
        group="analyse",
        runs_for=("year",),
    ),
    Stage(
        name="analyse_assurance",
        notebook="04_analyse_assurance.ipynb",
        title="Analyse: partnership assurance evidence",
        module="sscp_lib.stages.analyse_assurance",
        reads=("validated",),
        writes=("metric_fragments", "charts"),
        group="analyse",
        runs_for=("year",),
    ),
    Stage(
        name="analyse_linked",
        notebook="05_analyse_linked.ipynb",
        title="Analyse: early help, schools and mental health, children linked across agencies",
        module="sscp_lib.stages.analyse_linked",
        reads=("validated",),
        writes=("metric_fragments",),
        group="analyse",
        runs_for=("year",),
    ),
    Stage(
        name="dashboard",
        notebook="06_dashboard.ipynb",
        title="Dashboard: the partnership dataset and its indicators by quarter",
        module="sscp_lib.stages.dashboard",
        reads=("validated",),
        writes=("dataset", "dashboard_charts"),
        group="analyse",
    ),
    Stage(
        name="statement",
        notebook="07_statement.ipynb",
        title="Statement: the assurance statement notebook",
        module="sscp_lib.stages.statement",
        reads=("metric_fragments", "charts"),
        writes=("metrics",),
        runs_for=("year",),
    ),
)

STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
# The stage whose notebook the chain renders as the published statement (HTML and PDF).
STATEMENT_STAGE: Stage = STAGES[-1]


def get_stage(name: str) -> Stage:
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise UserError(f"no stage named {name!r}; the stages are {', '.join(STAGE_NAMES)}")


def stages_for(kind: str) -> tuple[Stage, ...]:
    """The stages a run of this kind ("year" or "quarter") runs, in order."""
    if kind not in RUN_KINDS:
        raise ValueError(f"a run is one of {', '.join(RUN_KINDS)}, not {kind!r}")
    return tuple(stage for stage in STAGES if kind in stage.runs_for)


def stage_groups(start: int = 0, stages: tuple[Stage, ...] = STAGES) -> list[list[Stage]]:
    """Stages from index `start` on, neighbours of one group together (the chain runs each list at once)."""
    groups: list[list[Stage]] = []
    for stage in stages[start:]:
        if groups and stage.group is not None and groups[-1][-1].group == stage.group:
            groups[-1].append(stage)
        else:
            groups.append([stage])
    return groups
