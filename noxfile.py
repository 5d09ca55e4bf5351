"""The test suite on the other Pythons pbdd supports that this machine has: `make test-all`.

`make test` runs the suite on the project's `.venv`; `make test-all` runs it there and then,
through nox, on every other supported interpreter found on PATH or under pyenv (each in its
own virtual environment under `.nox/`). A version that is not installed is left out, not
downloaded.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

import nox

SUPPORTED = ("3.11", "3.12", "3.13", "3.14")
nox.options.sessions = ["tests"]


def _usable(python: str) -> bool:
    """It runs, and can make a virtual environment with pip in it."""
    try:
        check = subprocess.run([python, "-c", "import ensurepip, venv"], capture_output=True)
    except OSError:
        return False
    return check.returncode == 0


def _find(version: str) -> str | None:
    candidates = [shutil.which(f"python{version}"), f"/usr/bin/python{version}"]
    pattern = os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")
    candidates += sorted(glob.glob(pattern), reverse=True)
    return next((c for c in candidates if c and os.path.exists(c) and _usable(c)), None)


def other_interpreters() -> list[str]:
    """Every supported Python found here, but the one running nox (`make test` covers it)."""
    this = f"{sys.version_info.major}.{sys.version_info.minor}"
    found = [_find(version) for version in SUPPORTED if version != this]
    return [python for python in found if python is not None]


@nox.session(python=other_interpreters() or False)
def tests(session: nox.Session) -> None:
    session.install("--quiet", "--disable-pip-version-check", "-e", ".[example,test]")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs)
