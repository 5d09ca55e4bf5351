"""The example store's scenarios on PostgreSQL (``STORE_DATABASE=postgres``), at ``-p 2``.

A copy of ``features/``, ``terrain.py`` and ``store/`` runs against the session's own
PostgreSQL (``postgres_server.py``): each worker's store on its own database cloned from a
template by ``parallel_bdd.contrib.postgres``, and nothing left on the server afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from postgres_server import PostgresServer, postgres_fixture  # noqa: F401
from suite_helpers import free_base_port

from parallel_bdd.contrib.selenium import BrowserNotInstalled, find_executables

REPO = Path(__file__).resolve().parent.parent

try:
    find_executables()
    HAVE_CHROMIUM = True
except BrowserNotInstalled:
    HAVE_CHROMIUM = False

pytestmark = [
    pytest.mark.slow,
    # the terrain opens a browser in every worker, even for @api scenarios
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium/chromedriver not installed"),
]


PROBE = """
import os
from pathlib import Path

from parallel_bdd import after, world


@after.each_scenario
def where_the_store_keeps_its_rows(scenario):
    database = world.store.database
    name = world.database_url.rsplit("/", 1)[-1]
    with open(Path(os.environ["PROBE_DIR"]) / f"{os.getpid()}.txt", "a") as probe:
        probe.write(f"{type(database).__name__} {name}\\n")
"""


def test_store_scenarios_run_on_postgresql_one_database_per_worker(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(REPO / "features", project / "features")
    shutil.copytree(REPO / "store", project / "store", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "terrain.py", project / "terrain.py")
    (project / "features" / "steps" / "where_probe.py").write_text(PROBE)
    probes = tmp_path / "probes"
    probes.mkdir()
    env = {
        **os.environ,
        "PROBE_DIR": str(probes),
        "PYTHONPATH": str(REPO),
        "STORE_DATABASE": "postgres",
        "PBDD_POSTGRES_DSN": postgres.dsn(password="store-s3cret"),
        "STORE_REPORT_SECONDS": "0.2",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "parallel_bdd",
            "features/exchanges.feature",
            "features/partial_refunds.feature",
            "-t",
            "api",
            "-p",
            "2",
            "-v",
            "2",
            "--no-history",
            "--base-port",
            str(free_base_port(3)),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "12 scenarios (12 passed)" in done.stdout, output
    assert ", worker 0)" in done.stdout and ", worker 1)" in done.stdout, output
    assert "store-s3cret" not in output
    seen = {line for probe in probes.iterdir() for line in probe.read_text().splitlines()}
    assert {line.split()[0] for line in seen} == {"PostgresDatabase"}, seen
    assert len({line.split()[1] for line in seen}) == 2, seen  # a database per worker
    assert postgres.databases("store") == []
