"""What the chain runs beside its stages, so that little waits on one core while the other idles:
the next group's kernels started (and importing) while the current group runs, the PDF's process
started (importing WeasyPrint) while the last stage runs, and each stage's report rendered on a
second thread while the next stage's kernel works. Stages of one group run side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, closing
from typing import TypeVar

from sscp_lib.chain.kernels import KernelPool
from sscp_lib.chain.run import StageRecord
from sscp_lib.publishing.pdf import PdfProcess

Item = TypeVar("Item")


class Schedule:
    """The run's groups of stages in order, with the work that goes on beside them. Use it as a
    context manager: leaving it ends the PDF's process if it was not asked for its PDF, and waits
    for the stage reports being rendered."""

    def __init__(self, kernels: KernelPool, groups: Sequence[Sequence[StageRecord]], pdf: bool):
        self.kernels = kernels
        self._groups = groups
        self._pdf = pdf
        self._rendering: list[Future] = []
        self._finishing = ExitStack()
        self.pdf_process: PdfProcess | None = None

    def __enter__(self) -> Schedule:
        renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")
        self._renderer = self._finishing.enter_context(renderer)
        return self

    def __exit__(self, *exc) -> None:
        self._finishing.close()

    def groups(self) -> Iterator[Sequence[StageRecord]]:
        """Each group in turn; before it runs, the next group's kernels are asked for and, before
        the last, the PDF's process is started."""
        for number, group in enumerate(self._groups):
            for record in self._groups[number + 1] if number + 1 < len(self._groups) else []:
                self.kernels.warm(record.name)
            if self._pdf and number == len(self._groups) - 1:
                self.pdf_process = self._finishing.enter_context(closing(PdfProcess()))
            yield group

    def render(self, function: Callable, *args) -> None:
        """Call function(*args) on the rendering thread, after what was asked before it."""
        self._rendering.append(self._renderer.submit(function, *args))

    def rendered(self) -> None:
        """Wait for every rendering asked for; re-raises the first that failed."""
        for job in self._rendering:
            job.result()

    def finish(self) -> None:
        """Wait for the renderings and the PDF; re-raises the first rendering that failed, or
        PdfFailed."""
        self.rendered()
        if self.pdf_process is not None:
            self.pdf_process.result()


def side_by_side(function: Callable[[Item], object], items: Sequence[Item]) -> None:
    """function(item) for each item, each on its own thread when there are several."""
    if len(items) == 1:
        function(items[0])
        return
    with ThreadPoolExecutor(max_workers=len(items), thread_name_prefix="stage") as together:
        for job in [together.submit(function, item) for item in items]:
            job.result()
