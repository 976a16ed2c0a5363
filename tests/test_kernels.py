"""Warm kernels: started ahead, used once, never left running."""

from jupyter_client.utils import run_sync

from sscp_lib.config import NOTEBOOK_DIR
from sscp_lib.kernels import KernelPool, shutdown


def test_a_warm_kernel_has_imported_its_stage_module_and_is_shut_down_after_use():
    pool = KernelPool(cwd=NOTEBOOK_DIR)
    pool.warm("statement")
    manager = pool.take("statement")
    try:
        assert manager is not None and run_sync(manager.is_alive)()
        client = manager.blocking_client()
        client.start_channels()
        reply = client.execute_interactive("import sys; print('sscp_lib.narrative' in sys.modules)", timeout=60)
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
