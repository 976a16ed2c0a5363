"""Kernels started ahead of their stage, so start-up and heavy imports overlap the stage before.

The chain asks for the next stage's kernel while the current stage runs: it is started on a
background thread and imports the stage's library module (for validate that is Great
Expectations, 3-5 s). Papermill then executes the notebook on it. Imports only: the kernel's
namespace is left as a fresh kernel's, and the notebook still imports what it uses.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.utils import run_sync

from .config import KERNEL_NAME
from .stages import get_stage

WARM_TIMEOUT = 120  # seconds for a kernel to start and import


def _start_warm_kernel(stage: str, cwd: Path) -> AsyncKernelManager:
    manager = AsyncKernelManager(kernel_name=KERNEL_NAME)

    async def start_and_import():
        await manager.start_kernel(cwd=str(cwd))
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=WARM_TIMEOUT)
            # The stage module imports what the stage needs (for validate, Great Expectations).
            msg_id = client.execute(f"import {get_stage(stage).module}", silent=True, store_history=False)
            while (await client.get_shell_msg(timeout=WARM_TIMEOUT))["parent_header"].get("msg_id") != msg_id:
                pass
        finally:
            client.stop_channels()

    try:
        asyncio.run(start_and_import())
    except BaseException:
        shutdown(manager)
        raise
    return manager


def shutdown(manager: AsyncKernelManager | None) -> None:
    if manager is None:
        return
    try:
        if run_sync(manager.is_alive)():
            run_sync(manager.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - a kernel that is already gone needs no shutting down
        pass


class KernelPool:
    """Warm kernels by stage name; one background thread starts them in the order asked."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel")
        self._pending: dict[str, Future] = {}

    def warm(self, stage: str) -> None:
        if stage not in self._pending:
            self._pending[stage] = self._starter.submit(_start_warm_kernel, stage, self.cwd)

    def take(self, stage: str) -> AsyncKernelManager | None:
        """The stage's warm kernel, or None (papermill then starts one itself)."""
        future = self._pending.pop(stage, None)
        if future is None:
            return None
        try:
            return future.result()
        except Exception:  # noqa: BLE001 - warming is an optimisation; papermill reports real failures
            return None

    def close(self) -> None:
        """Shut down every kernel started and not taken (a failed or interrupted chain)."""
        for future in self._pending.values():
            future.cancel()
        self._starter.shutdown(wait=True)
        for future in self._pending.values():
            if future.done() and not future.cancelled() and future.exception() is None:
                shutdown(future.result())
        self._pending.clear()
