"""The README's `make` commands, as dry runs (`make -n`): what they would run, nothing run.

Each test copies the Makefile and the packaging files into an empty directory, so the
project's own .venv is never looked at or touched and nothing is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture
def checkout(tmp_path):
    for name in ("Makefile", "setup.py", "pyproject.toml"):
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def dry_run(cwd, *args):
    # Run from `make test`, the flags of the make around us would reach this one.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def set_up(checkout, python="/usr/bin/python3"):
    """Stamps as a finished `make install PYTHON=python` leaves them, newer than setup.py."""
    venv = checkout / ".venv"
    venv.mkdir()
    made = venv / (".made-with-" + python.replace("/", "_"))
    installed = venv / ".installed"
    made.touch()
    installed.touch()
    past = installed.stat().st_mtime - 100
    for name in ("setup.py", "pyproject.toml"):
        os.utime(checkout / name, (past, past))
    return installed


def test_a_fresh_checkout_makes_the_venv_with_the_chosen_python_and_installs_into_it(checkout):
    out = dry_run(checkout, "test", "PYTHON=/usr/bin/python3")
    assert "/usr/bin/python3 -m venv .venv" in out
    assert "import ensurepip" in out and "apt-get install -y -q python3-venv" in out
    assert (
        ".venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[example,test]'"
        in out
    )
    # pip only ever runs from the venv: nothing goes into the chosen (maybe Debian's) python
    pip_lines = [line for line in out.splitlines() if "pip install" in line]
    assert pip_lines and all(line.startswith(".venv/bin/python -m pip") for line in pip_lines)
    assert ".venv/bin/python -m ruff check ." in out
    assert out.rstrip().splitlines()[-1].endswith(".venv/bin/python -m pytest -q")
    assert "apt-get install -y -q $missing" in out
    for package in ("chromium", "chromium-driver", "redis-server", "postgresql"):
        assert f'missing="$missing {package}"' in out


def test_bdd_runs_the_example_suite_on_four_workers_from_the_venv(checkout):
    out = dry_run(checkout, "bdd")
    assert "python3 -m venv .venv" in out
    assert (
        out.rstrip()
        .splitlines()[-1]
        .endswith(".venv/bin/python -m parallel_bdd features -p 4 -v 2")
    )


def test_bdd_postgres_runs_the_same_suite_on_postgresql_and_bdd_stays_on_sqlite(checkout):
    last = dry_run(checkout, "bdd-postgres").rstrip().replace("\\\n", " ")
    assert "STORE_DATABASE=postgres .venv/bin/python examples/with_postgres.py --" in last
    assert last.endswith(".venv/bin/python -m parallel_bdd features -p 4 -v 2")
    assert "STORE_DATABASE" not in dry_run(checkout, "bdd")


def test_an_installed_venv_is_used_as_it_is(checkout):
    set_up(checkout)
    out = dry_run(checkout, "test", "PYTHON=/usr/bin/python3")
    assert "-m venv" not in out
    assert "pip install" not in out
    assert ".venv/bin/python -m pytest -q" in out


def test_a_changed_setup_py_reinstalls_into_the_same_venv(checkout):
    installed = set_up(checkout)
    later = installed.stat().st_mtime + 100
    os.utime(checkout / "setup.py", (later, later))
    out = dry_run(checkout, "test", "PYTHON=/usr/bin/python3")
    assert "-m venv" not in out
    assert ".venv/bin/python -m pip install" in out


def test_another_python_remakes_the_venv(checkout):
    set_up(checkout, "/usr/bin/python3")
    out = dry_run(checkout, "test", "PYTHON=/opt/python3.12/bin/python3")
    assert "rm -rf .venv" in out
    assert "/opt/python3.12/bin/python3 -m venv .venv" in out
    assert ".venv/bin/python -m pip install" in out


def test_clean_keeps_the_venv_and_distclean_removes_it(checkout):
    assert ".venv" not in dry_run(checkout, "clean")
    assert "rm -rf .venv" in dry_run(checkout, "distclean")


def test_test_all_runs_the_suite_then_the_other_pythons_through_nox(checkout):
    set_up(checkout)
    out = dry_run(checkout, "test-all", "PYTHON=/usr/bin/python3").rstrip().splitlines()
    suite = next(i for i, line in enumerate(out) if line.endswith(".venv/bin/python -m pytest -q"))
    assert out[-1].endswith(".venv/bin/python -m nox")
    assert suite < len(out) - 1


def test_nox_leaves_out_the_python_that_make_test_covers():
    import runpy
    import sys

    found = runpy.run_path(str(REPO / "noxfile.py"))["other_interpreters"]()
    this = f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert not any(path.endswith(this) for path in found)
    assert all(os.path.exists(path) for path in found)
