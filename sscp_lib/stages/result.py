"""What a stage hands back to its notebook: the tables, charts and metrics a reviewer reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sscp_lib.errors import UserError
from sscp_lib.metrics import MetricStore
from sscp_lib.report_tables import as_report_frame
from sscp_lib.stages.figures import figures_frame


@dataclass
class StageResult:
    stage: str
    summary: str  # one line: what came in and what went out
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    charts: dict[str, Path] = field(default_factory=dict)
    metrics: MetricStore | None = None
    # Headed tables shown one after another (e.g. expectations by table): name -> [(markdown, table)].
    sections: dict[str, list[tuple[str, pd.DataFrame | None]]] = field(default_factory=dict)
    detail: Any = None  # the stage's own computation, for notebooks that show more of it
    stop: UserError | None = None  # raised by raise_if_stopped(), after the report is shown

    def __post_init__(self) -> None:
        # Every table a reviewer reads is drawn for them (report_tables).
        self.tables = {name: as_report_frame(table) for name, table in self.tables.items()}
        self.sections = {
            name: [(text, None if table is None else as_report_frame(table)) for text, table in parts]
            for name, parts in self.sections.items()
        }

    def figures(self, heading: int | None = None) -> pd.DataFrame:
        """The stage's single-value figures as published, those of one statement heading if given."""
        frame = figures_frame(self.metrics, heading) if self.metrics else figures_frame(MetricStore(0), heading)
        return as_report_frame(frame)

    def chart(self, name: str):
        """A saved chart for display in the notebook."""
        from IPython.display import Image

        return Image(filename=str(self.charts[name]))

    def show_section(self, name: str) -> None:
        from IPython.display import Markdown, display

        for text, table in self.sections[name]:
            display(Markdown(text))
            if table is not None:
                display(table)

    def raise_if_stopped(self) -> None:
        """Stop the chain here when the stage found a problem it must not go past."""
        if self.stop is not None:
            raise self.stop
