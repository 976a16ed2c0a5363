"""Warm kernels: started ahead, forked from the chain's kernel zygote, used once, never left running."""

import os
import subprocess
import sys
import time

import pytest
from jupyter_client.utils import run_sync

from sscp_lib.chain.kernels import KernelPool, KernelZygote, ReadyKernelClient, ZygoteProvisioner, shutdown
from sscp_lib.config import NOTEBOOK_DIR


def test_a_warm_kernel_has_imported_its_stage_module_and_is_shut_down_after_use():
    pool = KernelPool(cwd=NOTEBOOK_DIR)
    pool.warm("statement")
    manager = pool.take("statement")
    try:
        assert manager is not None and run_sync(manager.is_alive)()
        client = manager.blocking_client()
        client.start_channels()
        reply = client.execute_interactive(
            "import sys; print('sscp_lib.publishing.narrative' in sys.modules)", timeout=60
        )
        assert reply["content"]["status"] == "ok"
        client.stop_channels()
    finally:
        shutdown(manager)
    assert not run_sync(manager.is_alive)()
    pool.close()


def test_kernels_not_taken_are_shut_down_on_close():
    pool = KernelPool(cwd=NOTEBOOK_DIR)
    pool.warm("statement")
    future = pool._pending["statement"]
    manager = future.result(timeout=120)
    pool.close()
    assert not run_sync(manager.is_alive)()


def test_a_stage_never_warmed_gets_none():
    pool = KernelPool(cwd=NOTEBOOK_DIR)
    assert pool.take("clean") is None
    pool.close()


def _kernel_says(manager, code: str) -> str:
    client = manager.blocking_client()
    client.start_channels()
    said: list[str] = []
    try:
        reply = client.execute_interactive(
            code, timeout=60, output_hook=lambda m: said.append(m["content"].get("text", ""))
        )
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
    return "".join(said).strip()


def test_kernels_are_forked_from_one_zygote_with_a_fresh_namespace():
    pool = KernelPool(cwd=NOTEBOOK_DIR)
    pool.warm("validate")
    pool.warm("statement")
    managers = [pool.take("validate"), pool.take("statement")]
    zygote = pool._zygote_or_none()
    try:
        assert zygote is not None and all(isinstance(m.provisioner, ZygoteProvisioner) for m in managers)
        probe = (
            "import os, sys, types; print(os.getppid(), os.getcwd(), 'great_expectations' in sys.modules, "
            "[n for n in globals() if not n.startswith('_') and n not in ('In', 'Out', 'exit', 'quit', 'get_ipython', 'open', 'os', 'sys', 'types')], "
            "type(sys.modules['scipy.stats']) is types.ModuleType)"
        )
        for manager in managers:
            # The zygote's child, in the notebooks' folder, GX imported once for every kernel, a
            # namespace as empty as a new kernel's, and GX's deferred imports still deferred.
            assert _kernel_says(manager, probe) == f"{zygote.process.pid} {NOTEBOOK_DIR} True [] False"
        pids = [m.provisioner.pid for m in managers]
        assert len(set(pids)) == 2
    finally:
        for manager in managers:
            shutdown(manager)
    for pid in pids:
        with pytest.raises(ProcessLookupError):  # ended and reaped, not a zombie
            os.kill(pid, 0)
    pool.close()
    assert zygote.process.poll() == 0


def test_a_kernel_ends_when_its_zygote_does():
    pool = KernelPool(cwd=NOTEBOOK_DIR)
    pool.warm("statement")
    manager = pool.take("statement")
    zygote = pool._zygote_or_none()
    assert manager is not None and zygote is not None
    zygote.process.kill()
    zygote.process.wait()
    deadline = time.monotonic() + 30
    while run_sync(manager.is_alive)() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not run_sync(manager.is_alive)()
    shutdown(manager)
    pool.close()


def test_without_a_zygote_kernels_start_afresh_and_say_so(capfd):
    pool = KernelPool(cwd=NOTEBOOK_DIR)
    zygote = pool._zygote_or_none()
    assert zygote is not None
    zygote.close()  # gone before the first kernel is asked for
    pool.warm("statement")
    manager = pool.take("statement")
    try:
        assert manager is not None and not isinstance(manager.provisioner, ZygoteProvisioner)
        assert _kernel_says(manager, "print(1 + 1)") == "2"
    finally:
        shutdown(manager)
        pool.close()
    assert "sscp: kernel for statement started afresh (the kernel zygote: " in capfd.readouterr().err


def test_a_kernel_specification_not_run_by_ipykernel_launcher_gets_no_zygote():
    with pytest.raises(ValueError, match="not started with -m ipykernel_launcher"):
        KernelZygote(["/usr/bin/env", "some-kernel", "-f", "{connection_file}"], NOTEBOOK_DIR)


def test_a_released_kernel_is_shut_down_by_close():
    pool = KernelPool(cwd=NOTEBOOK_DIR)
    pool.warm("statement")
    manager = pool.take("statement")
    assert manager is not None
    pool.release(manager)
    pool.close()
    assert not run_sync(manager.is_alive)()


def test_a_kernel_command_for_another_interpreter_is_not_forked(capfd):
    """A kernel registered for another Python must not be forked from this one's zygote."""
    pool = KernelPool(cwd=NOTEBOOK_DIR)
    zygote = pool._zygote_or_none()
    assert zygote is not None
    zygote.interpreter_argv = ["/opt/other/bin/python"]
    pool.warm("statement")
    manager = pool.take("statement")
    try:
        assert manager is not None and not isinstance(manager.provisioner, ZygoteProvisioner)
    finally:
        shutdown(manager)
        pool.close()
    assert "the kernel command is not the zygote's interpreter and ipykernel" in capfd.readouterr().err


def test_papermill_s_client_is_ready_with_nothing_left_on_iopub():
    """The pool's kernels give ReadyKernelClient, whose wait ends on the kernel_info answer's idle
    status: the first iopub message after it is the next request's own."""
    pool = KernelPool(cwd=NOTEBOOK_DIR)
    pool.warm("statement")
    manager = pool.take("statement")
    try:
        client = manager.client()
        assert isinstance(client, ReadyKernelClient)

        async def first_message_after_ready():
            client.start_channels()
            try:
                await client.wait_for_ready(timeout=60)
                msg_id = client.execute("print('ready')")
                return await client.get_iopub_msg(timeout=60), msg_id
            finally:
                client.stop_channels()

        message, msg_id = run_sync(first_message_after_ready)()
        assert message["parent_header"]["msg_id"] == msg_id
        assert (message["msg_type"], message["content"].get("execution_state")) == ("status", "busy")
    finally:
        shutdown(manager)
        pool.close()


def test_the_command_line_reads_the_stage_names_without_pandas():
    """`sscp run` starts the kernel zygote before it loads pandas (half a second it need not wait)."""
    probe = "import sys, sscp_lib.cli; sscp_lib.cli.build_parser(); print('pandas' in sys.modules)"
    said = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert said.stdout.strip() == "False"
