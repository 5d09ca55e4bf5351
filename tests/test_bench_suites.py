"""The benchmark's own pieces, at a tiny scale: its suites run whole under pbdd and under
the floor (both queue kinds), so a benchmark run that counts scenarios counts real ones.

Correctness only (counts, exit codes), never time: the timings live in bench/RESULTS.md.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from suite_helpers import Suite

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _generate(profile: str, dest: Path) -> dict:
    subprocess.run(
        [
            sys.executable,
            str(BENCH / "generate.py"),
            profile,
            "--scale",
            "0.02",
            "--out",
            str(dest),
        ],
        check=True,
        capture_output=True,
    )
    return json.loads((dest / "manifest.json").read_text())


def _testcases(junit: Path) -> int:
    return len(re.findall(r"<testcase\b", junit.read_text()))


@pytest.mark.parametrize("queues", ["pipe", "manager"])
def test_the_floor_runs_every_scenario_of_a_generated_suite(tmp_path, queues):
    manifest = _generate("cpu", tmp_path / "cpu")
    junit = tmp_path / "floor.xml"
    done = subprocess.run(
        [sys.executable, str(BENCH / "floor.py"), str(tmp_path / "cpu"), "-p", "2"]
        + ["--queues", queues, "--junit-xml", str(junit)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert _testcases(junit) == manifest["scenarios"] > 1
    assert f"{manifest['scenarios']} scenarios on 2 processes (spawn, {queues})" in done.stdout
    # the manager's cost is what this variant is for: it is measured, and it is not nothing
    cpu = re.search(r"manager process CPU ([0-9.]+) s", done.stdout)
    assert (cpu is not None and float(cpu.group(1)) > 0) == (queues == "manager")


def test_pbdd_runs_every_scenario_of_a_generated_suite(tmp_path):
    manifest = _generate("skewed", tmp_path / "skewed")
    junit = tmp_path / "pbdd.xml"
    done = Suite(tmp_path / "skewed" / "pbdd").run(
        "features", "-p", "2", "-v", "0", "--no-history", "--junit-xml", str(junit)
    )
    assert done.returncode == 0, done.output
    assert _testcases(junit) == manifest["scenarios"] > 1
    assert f"{manifest['scenarios']} scenarios ({manifest['scenarios']} passed)" in done.stdout
