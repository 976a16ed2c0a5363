"""`sscp lab` in a real browser: Lab starts (as root here, as in containers), at the repository root,
and opens the exploration notebook on the project's kernel, which comes up idle.

Lab listens on 127.0.0.1 with a token the test sets; every wait is bounded; the server is always
stopped. Debian's chromium and chromium-driver drive it through Selenium (.ci/run installs them).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from render_fixtures import CHROMIUM, HEADLESS
from test_browser import _png_pixels

from sscp_lib.config import KERNEL_NAME, PROJECT_ROOT
from sscp_lib.explore import lab

CHROMEDRIVER = Path("/usr/bin/chromedriver")
START_TIMEOUT = 90  # seconds for Lab to answer
KERNEL_TIMEOUT = 120  # seconds for the page to load and the kernel to be idle

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="headless Chromium and its driver not installed (Debian packages 'chromium', 'chromium-driver')",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


def _wait_for(what: str, check, timeout: float, process=None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"Lab exited with {process.returncode} while waiting for {what}")
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - not up yet: try again until the deadline
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last})")


@pytest.fixture()
def lab_server(tmp_path):
    """Lab started by the same command as `sscp lab`, on a throwaway copy of the template."""
    port, token = _free_port(), secrets.token_hex(24)
    notebook = lab.SCRATCH_DIR / f"browser-test-{secrets.token_hex(4)}.ipynb"
    lab.SCRATCH_DIR.mkdir(exist_ok=True)
    shutil.copyfile(lab.TEMPLATE, notebook)
    command = lab.lab_command(
        notebook,
        extra=[
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
            f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
    )
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    log = open(tmp_path / "lab.log", "wb")  # closed in the finally below
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for("Lab to answer", lambda: _get_json(f"{base}/api/status?token={token}"), START_TIMEOUT, process)
        yield {"base": base, "token": token, "notebook": notebook, "log": tmp_path / "lab.log", "command": command}
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)
        log.close()
        notebook.unlink(missing_ok=True)


def _browser(work_dir: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # Selenium drives the new headless mode; the other flags are the tests' usual ones.
    for flag in (
        "--headless=new",
        *(other for other in HEADLESS if other != "--headless"),
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={work_dir / 'profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    return driver


def test_lab_opens_the_notebook_at_the_repository_root_on_the_project_kernel(lab_server, tmp_path):
    base, token, notebook = lab_server["base"], lab_server["token"], lab_server["notebook"]
    # Started as root here (as in containers) only because the command allows it there.
    assert ("--allow-root" in lab_server["command"]) == lab.running_as_root()
    root = {item["name"] for item in _get_json(f"{base}/api/contents?token={token}")["content"]}
    assert {"docs", "notebooks", "sscp_lib", "scratch"} <= root, "Lab's root must be the repository"

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    relative = notebook.relative_to(PROJECT_ROOT).as_posix()
    driver = _browser(tmp_path)
    try:
        driver.get(f"{base}/lab/tree/{relative}?token={token}")
        wait = WebDriverWait(driver, KERNEL_TIMEOUT, poll_frequency=0.5)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-RenderedMarkdown h1"))
        heading = driver.find_element(By.CSS_SELECTOR, ".jp-Notebook .jp-RenderedMarkdown h1").text
        assert heading.startswith("Exploring referrals")

        def kernel_idle():
            sessions = _get_json(f"{base}/api/sessions?token={token}")
            mine = [s for s in sessions if s["path"].endswith(notebook.name)]
            return mine and mine[0]["kernel"]["name"] == KERNEL_NAME and mine[0]["kernel"]["execution_state"] == "idle"

        _wait_for("the notebook's kernel to be idle", kernel_idle, KERNEL_TIMEOUT)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator[data-status='idle']"))
        kernel_label = driver.find_element(By.CSS_SELECTOR, ".jp-KernelName").text
        assert "SSCP" in kernel_label, kernel_label
        shot = tmp_path / "lab.png"
        shot.write_bytes(driver.get_screenshot_as_png())
        width, height, raw = _png_pixels(shot)
        assert width == 1400 and height > 600  # the window less the (headless) browser frame
        # A blank page decompresses to a handful of distinct bytes; a drawn one to many.
        assert len(set(raw)) > 50, "the Lab page looks blank"
    finally:
        driver.quit()
