"""The chain's kernel zygote: one process that imports ipykernel and each stage's module once, and
forks every stage's kernel from itself.

A kernel started the usual way is a new interpreter that imports ipykernel, pandas, matplotlib
and its stage's module: 1-2 s of CPU for each of the five stages, on a two-core machine busy with
the stage before. A forked kernel shares those imports with the zygote and is ready at once; it is
still one fresh kernel per notebook, with its own process and an empty namespace.

Run by `kernels.KernelZygote` as ``python -m sscp_lib.chain.kernel_zygote`` with the kernel
specification's interpreter flags, in the kernels' working folder. Each request is one JSON line
on standard input: {"module": stage module to import first, with the libraries it works with
(`stages.import_stage`), "args": ipykernel's arguments (the connection file), "env": the
kernel's environment, "cwd": its folder}. The reply is one JSON line, {"pid": ...} or
{"error": ...}. The zygote reaps its kernels and ends when its input closes.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import traceback
from pathlib import Path


def _reap(signum, frame) -> None:
    """Collect every kernel that has ended, so its process id goes (the chain polls it)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _become_kernel(request: dict) -> None:
    """In the forked child: take the kernel's folder and environment, then run ipykernel as
    `python -m ipykernel_launcher` would. Never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the kernel's own subprocesses are its to wait for
        os.setsid()  # its own process group, as jupyter_client gives a kernel (interrupts reach it alone)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = zygote = str(os.getppid())
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)  # the requests pipe is the zygote's, not the kernel's
        os.dup2(2, 1)  # and so is the replies pipe: the kernel's own output goes to standard error
        # ipykernel read JPY_PARENT_PID when the zygote imported it; the argument sets it now, so
        # the kernel ends if the zygote does and keeps quiet about its connection file.
        sys.argv = ["ipykernel_launcher", *request["args"], f"--IPKernelApp.parent_handle={zygote}"]
        gc.enable()
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except BaseException:  # noqa: BLE001 - a kernel that cannot start says why on standard error
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - nothing left to report to
                pass
        os._exit(code)


def serve(requests, replies) -> None:
    """Answer each request line with the forked kernel's process id."""
    from sscp_lib.stages import import_stage

    for line in requests:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            import_stage(request["module"])
        except Exception:  # noqa: BLE001 - the kernel imports it again and reports the error there
            pass
        gc.freeze()  # the imported objects stay shared: a collection in the kernel would copy them
        try:
            pid = os.fork()
        except OSError as exc:
            replies.write(json.dumps({"error": f"fork failed: {exc}"}) + "\n")
            replies.flush()
            continue
        if pid == 0:
            _become_kernel(request)
        replies.write(json.dumps({"pid": pid}) + "\n")
        replies.flush()


def main() -> None:
    # As ipykernel_launcher: the working folder is not on the import path while ipykernel loads
    # (IPython puts it back in the kernel), and matplotlib gets the backend ipykernel would set.
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    if not os.environ.get("MPLBACKEND"):
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    from sscp_lib.chain import lean_imports

    lean_imports.install()  # the kernels forked from here inherit it (GX's unused imports deferred)
    signal.signal(signal.SIGCHLD, _reap)
    gc.disable()  # nothing here makes cycles worth collecting; kernels collect as usual
    import ipykernel.kernelapp  # noqa: F401 - loaded once here, shared by every kernel

    # What every stage's module imports (pandas, the registry), loaded once here for every kernel.
    import sscp_lib.stages.context
    import sscp_lib.stages.result  # noqa: F401

    serve(sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
