"""End-to-end: --coverage records in every process and gives the same lines at -p 1 and -p 2."""

from __future__ import annotations

import json
import subprocess
import sys

FEATURE = """
Feature: Calculator
  Scenario: add
    When I add 2 and 3
  Scenario: subtract
    When I subtract 3 from 5
  Scenario: divide
    When I divide 6 by 3
  Scenario: add again
    When I add 4 and 5
"""

CALC = """
def add(a, b):
    return a + b


def subtract(a, b):
    return a - b


def divide(a, b):
    if b == 0:
        raise ZeroDivisionError("never reached by the suite")
    return a / b


def unused():
    return "never called"
"""

STEPS = """
from parallel_bdd import step
import calc

@step(r"I add (\\d+) and (\\d+)")
def add(step, a, b):
    assert calc.add(int(a), int(b)) == int(a) + int(b)

@step(r"I subtract (\\d+) from (\\d+)")
def subtract(step, a, b):
    calc.subtract(int(b), int(a))

@step(r"I divide (\\d+) by (\\d+)")
def divide(step, a, b):
    calc.divide(int(a), int(b))
"""


def covered_lines(suite) -> dict[str, list[int]]:
    subprocess.run(
        [sys.executable, "-m", "coverage", "json", "-o", "cov.json", "--include", "*calc.py"],
        cwd=suite.root,
        check=True,
        capture_output=True,
    )
    data = json.loads((suite.root / "cov.json").read_text())
    return {name.rsplit("/", 1)[-1]: info["executed_lines"] for name, info in data["files"].items()}


def test_coverage_is_the_same_with_one_and_four_processes(suite):
    suite.feature("calc.feature", FEATURE)
    suite.write("lib/calc.py", CALC)
    suite.steps("import sys, os\nsys.path.insert(0, os.path.abspath('lib'))\n" + STEPS)
    serial = suite.run("features", "--coverage", "--coverage-source", "lib", "--no-history")
    assert serial.returncode == 0, serial.output
    assert "calc.py" in serial.stdout and "TOTAL" in serial.stdout
    serial_lines = covered_lines(suite)
    parallel = suite.run(
        "features",
        "-p",
        "4",
        "--coverage-source",
        "lib",
        "--coverage-html",
        "htmlcov",
        "--no-history",
    )
    assert parallel.returncode == 0, parallel.output
    assert "on 4 workers" in parallel.stdout
    parallel_lines = covered_lines(suite)
    assert serial_lines == parallel_lines
    executed = parallel_lines["calc.py"]
    assert 12 in executed  # divide's return line: only a worker ran it
    assert 11 not in executed and 16 not in executed  # the raise and unused()'s body
    assert (suite.root / "htmlcov" / "index.html").exists()
    assert not list(suite.root.glob(".coverage.*"))  # per-process files were combined


def test_a_parent_that_imports_none_of_the_measured_code_prints_no_coverage_warning(suite):
    suite.feature("calc.feature", FEATURE)
    suite.write("lib/calc.py", CALC)
    # the measured module is imported by the steps only, so only the workers record it
    lazy_steps = STEPS.replace("import calc\n", "").replace(
        "def add(step, a, b):\n", "def add(step, a, b):\n    import calc\n"
    )
    lazy_steps = lazy_steps.replace(
        "def subtract(step, a, b):\n", "def subtract(step, a, b):\n    import calc\n"
    ).replace("def divide(step, a, b):\n", "def divide(step, a, b):\n    import calc\n")
    suite.steps("import sys, os\nsys.path.insert(0, os.path.abspath('lib'))\n" + lazy_steps)
    run = suite.run("features", "-p", "2", "--coverage-source", "calc", "--no-history")
    assert run.returncode == 0, run.output
    assert "Warning" not in run.output, run.output
    assert "calc.py" in run.stdout and "TOTAL" in run.stdout
    assert 12 in covered_lines(suite)["calc.py"]
