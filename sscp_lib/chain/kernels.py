"""Kernels started ahead of their stage, so start-up and heavy imports overlap the stage before.

The chain asks for the next stage's kernel while the current stage runs: it is started on a
background thread and imports the stage's library module (for validate that is Great
Expectations, 3-5 s). Papermill then executes the notebook on it. Imports only: the kernel's
namespace is left as a fresh kernel's, and the notebook still imports what it uses.

Kernels are forked from the chain's kernel zygote (`kernel_zygote`), which has imported ipykernel
and the stage modules once, instead of each importing them afresh. Should the zygote fail, a
kernel is started the usual way.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from jupyter_client.utils import run_sync

from sscp_lib.config import KERNEL_NAME, NOTEBOOK_DIR

WARM_TIMEOUT = 120  # seconds for a kernel to start and import
IOPUB_WAIT = 0.2  # seconds to wait for iopub's first message before asking again (jupyter_client's figure)


KERNEL_QUIET_FLAG = "--IPKernelApp.log_level=ERROR"  # hides ipykernel's start-up warnings in the chain's output


def install_kernel() -> Path:
    """Register this interpreter as the Jupyter kernel 'sscp' inside its own prefix."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ipykernel",
            "install",
            "--prefix",
            sys.prefix,
            "--name",
            KERNEL_NAME,
            "--display-name",
            "SSCP (.venv)",
        ],
        check=True,
        capture_output=True,
    )
    spec_file = Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME / "kernel.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    if KERNEL_QUIET_FLAG not in spec["argv"]:
        spec["argv"].append(KERNEL_QUIET_FLAG)
    spec_file.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return spec_file


def ensure_kernel() -> None:
    """Register the kernel if it is missing or points at another interpreter."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        if Path(spec.argv[0]).parent == Path(sys.executable).parent and KERNEL_QUIET_FLAG in spec.argv:
            return
    except NoSuchKernel:
        pass
    install_kernel()


def _stage_module(stage: str) -> str:
    from sscp_lib.stages import get_stage  # imported when a kernel is asked for: the pool starts before pandas loads

    return get_stage(stage).module


def chain_kernel_pool() -> KernelPool:
    """The chain's kernel pool: the kernel `sscp` registered for this interpreter, its zygote started."""
    ensure_kernel()
    return KernelPool(cwd=NOTEBOOK_DIR)


LAUNCHER = ("-m", "ipykernel_launcher")  # how the kernel specification starts a kernel


def _launcher_at(argv: list[str]) -> int | None:
    """Where `-m ipykernel_launcher` starts in a kernel command (what precedes it is the
    interpreter and its flags, what follows is ipykernel's arguments), or None."""
    return next((i for i in range(len(argv) - 1) if tuple(argv[i : i + 2]) == LAUNCHER), None)


class KernelZygote:
    """The `kernel_zygote` process for one chain run (so it imports the library as it is now)."""

    def __init__(self, spec_argv: list[str], cwd: Path):
        """spec_argv: the kernel specification's command; it must run `-m ipykernel_launcher`
        (ValueError otherwise), whose interpreter and flags the zygote runs with."""
        at = _launcher_at(spec_argv)
        if at is None:
            raise ValueError(f"the kernel is not started with {' '.join(LAUNCHER)}: {spec_argv}")
        self.interpreter_argv = spec_argv[:at]
        self.cwd = cwd
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            [*self.interpreter_argv, "-m", "sscp_lib.chain.kernel_zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=str(cwd),
            text=True,
        )

    def fork_kernel(self, module: str, args: list[str], env: dict[str, str], cwd: str) -> int:
        """A kernel forked once `module` is imported; its process id. RuntimeError if the zygote
        does not answer within WARM_TIMEOUT or says it could not."""
        request = {"module": module, "args": args, "env": env, "cwd": cwd}
        with self._lock:
            stdin, stdout = self.process.stdin, self.process.stdout
            assert stdin is not None and stdout is not None
            try:
                stdin.write(json.dumps(request) + "\n")
                stdin.flush()
            except OSError as exc:
                raise RuntimeError(f"the kernel zygote has gone: {exc}") from None
            ready, _, _ = select.select([stdout], [], [], WARM_TIMEOUT)
            line = stdout.readline() if ready else ""
        reply = json.loads(line) if line.strip() else {"error": "no answer from the kernel zygote"}
        if "pid" not in reply:
            raise RuntimeError(reply.get("error", "the kernel zygote could not fork"))
        return int(reply["pid"])

    def close(self) -> None:
        """End the zygote (its kernels are shut down by their managers)."""
        if self.process.stdin:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


class _ForkedKernelProcess:
    """What jupyter_client's LocalProvisioner asks of its Popen, for a kernel that is the
    zygote's child (the zygote reaps it, so a process id that has gone means it has ended)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except (ProcessLookupError, PermissionError):  # gone, or its id now another user's
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.05)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ZygoteProvisioner(LocalProvisioner):
    """LocalProvisioner whose kernel is forked by the zygote instead of started by Popen."""

    zygote: KernelZygote | None = None
    module: str = ""

    async def launch_kernel(self, cmd: list[str], **kwargs):
        zygote = self.zygote
        assert zygote is not None
        at = _launcher_at(cmd)
        if at is None or cmd[:at] != zygote.interpreter_argv:
            raise RuntimeError(f"the kernel command is not the zygote's interpreter and ipykernel: {cmd}")
        cwd = str(kwargs.get("cwd") or zygote.cwd)
        env = dict(kwargs.get("env") or os.environ)
        pid = await asyncio.to_thread(zygote.fork_kernel, self.module, cmd[at + 2 :], env, cwd)
        self.process = _ForkedKernelProcess(pid)  # type: ignore[assignment]
        self.pid = self.pgid = pid  # the kernel leads its own process group (setsid)
        self.cwd = cwd
        return self.connection_info


class ReadyKernelClient(AsyncKernelClient):
    """jupyter_client's async client, ready as soon as the kernel has answered on both channels.

    jupyter_client's own wait ends only after 0.2 s without an iopub message, which papermill
    pays once per stage on a kernel already known to be ready. Here it ends on the iopub status
    'idle' that answers the kernel_info request: every message the kernel published before it
    has been read by then, since iopub keeps the kernel's order."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        timeout = WARM_TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        asked: set[str] = set()
        while True:
            asked.add(self.kernel_info())
            try:
                reply = await self.get_shell_msg(timeout=1)
            except Empty:
                reply = None
            # An iopub subscription misses what was published before it joined: ask again
            # until the answer is seen on iopub too.
            if reply is not None and reply["msg_type"] == "kernel_info_reply" and await self._idle_after(asked):
                self._handle_kernel_info_reply(reply)
                return
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    async def _idle_after(self, requests: set[str]) -> bool:
        """True once iopub shows the kernel idle after one of `requests`; False if iopub is
        silent for IOPUB_WAIT."""
        while True:
            try:
                msg = await self.get_iopub_msg(timeout=IOPUB_WAIT)
            except Empty:
                return False
            if (
                msg["msg_type"] == "status"
                and msg["content"].get("execution_state") == "idle"
                and msg["parent_header"].get("msg_id") in requests
            ):
                return True


def _start_warm_kernel(stage: str, cwd: Path, zygote: KernelZygote | None = None) -> AsyncKernelManager:
    manager = AsyncKernelManager(kernel_name=KERNEL_NAME, client_factory=ReadyKernelClient)
    if zygote is not None:
        manager.kernel_id = str(uuid.uuid4())
        provisioner = ZygoteProvisioner(kernel_id=manager.kernel_id, kernel_spec=manager.kernel_spec, parent=manager)
        provisioner.zygote, provisioner.module = zygote, _stage_module(stage)
        manager.provisioner = provisioner

    async def start_and_import():
        await manager.start_kernel(cwd=str(cwd))
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=WARM_TIMEOUT)
            # The stage module and what its run() works with (for validate, Great Expectations),
            # binding no name in the kernel's namespace.
            load = f"__import__('sscp_lib.stages', fromlist=['import_stage']).import_stage({_stage_module(stage)!r})"
            msg_id = client.execute(load, silent=True, store_history=False)
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


def _warm_kernel(stage: str, cwd: Path, zygote: KernelZygote | None) -> AsyncKernelManager:
    """The stage's kernel, forked by the zygote; started the usual way if that fails."""
    if zygote is not None:
        try:
            return _start_warm_kernel(stage, cwd, zygote)
        except Exception as exc:  # noqa: BLE001 - forking is an optimisation; say so and start one
            print(f"sscp: kernel for {stage} started afresh (the kernel zygote: {exc})", file=sys.stderr)
    return _start_warm_kernel(stage, cwd)


class KernelPool:
    """Warm kernels by stage name; one background thread starts them in the order asked, forked
    from the pool's kernel zygote."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel")
        self._stopper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel-stop")
        self._pending: dict[str, Future] = {}
        self._zygote: Future | None = self._starter.submit(_start_zygote, cwd)

    def _zygote_or_none(self) -> KernelZygote | None:
        return self._zygote.result() if self._zygote is not None else None

    def warm(self, stage: str) -> None:
        if stage not in self._pending:
            self._pending[stage] = self._starter.submit(lambda: _warm_kernel(stage, self.cwd, self._zygote_or_none()))

    def take(self, stage: str) -> AsyncKernelManager | None:
        """The stage's warm kernel, or None (papermill then starts one itself)."""
        future = self._pending.pop(stage, None)
        if future is None:
            return None
        try:
            return future.result()
        except Exception:  # noqa: BLE001 - warming is an optimisation; papermill reports real failures
            return None

    def release(self, manager: AsyncKernelManager | None) -> None:
        """Shut down a kernel that has served its notebook, on a background thread (it takes
        about 0.1 s, and the next stage need not wait for it)."""
        if manager is not None:
            self._stopper.submit(shutdown, manager)

    def close(self) -> None:
        """Shut down every kernel started and not taken (a failed or interrupted chain), and
        wait for the kernels released."""
        for future in self._pending.values():
            future.cancel()
        self._starter.shutdown(wait=True)
        self._stopper.shutdown(wait=True)
        for future in self._pending.values():
            if future.done() and not future.cancelled() and future.exception() is None:
                shutdown(future.result())
        self._pending.clear()
        zygote = self._zygote_or_none()
        if zygote is not None:
            zygote.close()
        self._zygote = None


def _start_zygote(cwd: Path) -> KernelZygote | None:
    """The zygote for the chain's kernel specification, or None (kernels then start afresh)."""
    from jupyter_client.kernelspec import KernelSpecManager

    try:
        return KernelZygote(KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv, cwd)
    except Exception as exc:  # noqa: BLE001 - an optimisation: say why and go on without it
        print(f"sscp: kernels will start afresh (no kernel zygote: {exc})", file=sys.stderr)
        return None
