"""Helpers for end-to-end tests: write a temporary suite, run ``pbdd`` on it as a user would."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Suite:
    """A suite in a temp directory: ``features/`` plus step files, ``terrain.py`` beside it."""

    def __init__(self, root: Path, console_script: bool = False) -> None:
        self.root = root
        self.console_script = console_script  # run as the ``pbdd`` script, not ``python -m``
        (root / "features").mkdir(parents=True, exist_ok=True)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def feature(self, name: str, text: str) -> Path:
        return self.write(f"features/{name}", text)

    def steps(self, text: str, name: str = "steps.py") -> Path:
        return self.write(f"features/{name}", text)

    def terrain(self, text: str) -> Path:
        return self.write("terrain.py", text)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env.pop("NO_COLOR", None)
        return env

    def command(self, *args: str) -> list[str]:
        if self.console_script:
            return [sys.executable, str(self._console_script()), *args]
        return [sys.executable, "-m", "parallel_bdd", *args]

    def _console_script(self) -> Path:
        """A script like the one pip writes for ``pbdd``: sys.path[0] is its own directory,
        not the current one (which ``python -m`` puts there)."""
        script = self.root.parent / "bin" / "pbdd"
        script.parent.mkdir(exist_ok=True)
        script.write_text(
            "import sys\nfrom parallel_bdd.__main__ import main\n"
            "if __name__ == '__main__':\n    sys.exit(main())\n",
            encoding="utf-8",
        )
        return script

    def run(self, *args: str, timeout: float = 120, **popen: Any) -> Run:
        """``popen``: more ``subprocess.run`` arguments (``preexec_fn``, ``env``, say)."""
        popen.setdefault("env", self.env())
        completed = subprocess.run(
            self.command(*args),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            **popen,
        )
        return Run(completed.returncode, completed.stdout, completed.stderr)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """Start pbdd in its own session, so a test can signal its process group like a TTY."""
        return subprocess.Popen(
            self.command(*args),
            cwd=self.root,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_base_port(workers: int) -> int:
    """A base port whose serial and worker ports (base, base+1, ...) are all free now."""
    for _ in range(50):
        base = random.randrange(20000, 50000)
        try:
            for port in range(base, base + workers + 1):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free run of ports found")


def finish(process: subprocess.Popen[str], timeout: float = 60) -> Run:
    """Wait for a pbdd started with ``Suite.popen``; kill its group if it does not end."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        raise AssertionError(f"pbdd did not exit in {timeout} s:\n{stdout}\n{stderr}") from None
    return Run(process.returncode, stdout, stderr)
