"""The example store suite, run by pbdd as a user would, with one step broken on purpose.

Copies features/, terrain.py and store/ to a temporary directory, breaks the assertion of
one step that only one (``@browser``) scenario uses, runs ``python -m parallel_bdd features
-p 2`` there and checks: exit code 1, exactly that scenario failed, its screenshot is a
real PNG named in the output, and nothing the run started (workers with their store
servers, chromedriver, Chromium and its helpers) is left running afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from suite_helpers import free_base_port

from parallel_bdd.contrib.selenium import BrowserNotInstalled, find_executables

REPO = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BROKEN_STEP_FILE = "features/steps/stock_steps.py"
CORRECT_LINE = "    assert not button.is_enabled(), "
BROKEN_LINE = "    assert button.is_enabled(), "
BROKEN_SCENARIO = "A sold-out product cannot be bought in the shop"
MARKER = "PBDD_EXAMPLE_SUITE_RUN"

try:
    find_executables()
    HAVE_CHROMIUM = True
except BrowserNotInstalled:
    HAVE_CHROMIUM = False

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium/chromedriver not installed"),
]


def processes_with_marker(token: str) -> dict[int, str]:
    """pid → command line of every live (non-zombie) process whose environment has the token."""
    wanted = f"{MARKER}={token}".encode()
    found: dict[int, str] = {}
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        for process in psutil.process_iter(["pid", "cmdline", "status"]):
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            try:
                if process.environ().get(MARKER) == token:
                    found[process.info["pid"]] = " ".join(process.info["cmdline"] or ())
            except (psutil.Error, OSError):
                continue
        return found
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if stat[stat.rfind(")") + 2 :].startswith("Z"):
                continue
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found[int(entry.name)] = command
        except OSError:
            continue
    return found


def port_is_listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def example_suite(tmp_path: Path) -> Path:
    root = tmp_path / "example"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "features", root / "features", ignore=ignore)
    shutil.copytree(REPO / "store", root / "store", ignore=ignore)
    shutil.copy2(REPO / "terrain.py", root / "terrain.py")
    return root


def test_one_broken_step_fails_one_scenario_with_a_screenshot(example_suite: Path) -> None:
    steps = example_suite / BROKEN_STEP_FILE
    source = steps.read_text(encoding="utf-8")
    assert source.count(CORRECT_LINE) == 1, "the step this test breaks has changed"
    steps.write_text(source.replace(CORRECT_LINE, BROKEN_LINE), encoding="utf-8")

    token = uuid.uuid4().hex
    env = dict(os.environ)
    env[MARKER] = token
    # The copied suite comes first (python -m puts the cwd first); the repository gives pbdd.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("NO_COLOR", None)
    base_port = free_base_port(workers=2)
    history = example_suite / "h.json"

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "parallel_bdd",
            "features",
            "-p",
            "2",
            "-v",
            "2",
            "--history",
            str(history),
            "--base-port",
            str(base_port),
            "--no-color",
        ],
        check=False,
        cwd=example_suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = completed.stdout + completed.stderr

    assert completed.returncode == 1, output

    # Exactly the scenario that uses the broken step failed.
    summary = re.search(r"^(\d+) scenarios \((.*)\)$", output, re.MULTILINE)
    assert summary, output
    total = int(summary.group(1))
    found = re.findall(r"(\d+) (\w+)", summary.group(2))
    counts = {status: int(number) for number, status in found}
    assert counts == {"passed": total - 1, "failed": 1}, output
    assert total >= 30
    failed_lines = [line for line in output.splitlines() if re.search(r"\.\.\. FAILED", line)]
    assert len(failed_lines) == 1, output
    assert BROKEN_SCENARIO in failed_lines[0]
    assert "the Buy button can be clicked although nothing is in stock" in output

    # Its screenshot is named in the output, exists, and is a PNG.
    screenshots = sorted(set(re.findall(r"(\S+\.png)\b", output)))
    assert len(screenshots) == 1, output
    screenshot = Path(screenshots[0])
    if not screenshot.is_absolute():
        screenshot = example_suite / screenshot
    assert screenshot.is_file(), output
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
    assert "sold-out-product" in screenshot.name
    assert history.is_file()

    # Nothing the run started lives on: workers (and the store servers in them),
    # chromedriver, Chromium and its helpers all carry the marker in their environment.
    deadline = time.monotonic() + 10
    while (left := processes_with_marker(token)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == {}, f"processes left behind: {left}"
    for port in (base_port + 1, base_port + 2):
        assert not port_is_listening(port), f"a store server still listens on {port}"
