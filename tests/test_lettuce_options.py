"""The rest of lettuce's command line, end to end: ``--pdb``, ``--with-subunit`` /
``--subunit-file``, ``--root-dir`` and ``-r``.

Each test writes a small suite and runs pbdd on it as a subprocess. pdb is driven through
a pipe; the subunit streams are read back with python-subunit's and testtools' own tools
(``subunit2csv``, ``subunit-stats``, ``ByteStreamToStreamResult`` into ``StreamSummary``).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import subunit
import testtools
from suite_helpers import Suite

ARITHMETIC = """
    Feature: Arithmetic
      Scenario: Adding
        Given I add 2 and 2
        Then I see the sum

      Scenario: Doubling
        Given I add 3 and 3
    """
ARITHMETIC_STEPS = """
    from parallel_bdd import step


    @step(r"I add (\\d+) and (\\d+)")
    def add(step, a, b):
        print("said inside the step")
        total_seen = int(a) + int(b) + 1000
        assert total_seen == int(a) + int(b), "the sum is off"


    @step(r"I see the sum")
    def see(step):
        pass
    """


def _no_traceback(output: str) -> None:
    assert "Traceback" not in output, output


# -- --pdb -----------------------------------------------------------------------------
def test_pdb_stops_at_the_failing_step_where_its_locals_can_be_printed(suite: Suite) -> None:
    suite.feature("arithmetic.feature", ARITHMETIC)
    suite.steps(ARITHMETIC_STEPS)
    run = suite.run("features", "--pdb", "--no-history", input="p total_seen\nc\np total_seen\nc\n")
    assert run.returncode == 1, run.output
    assert run.stdout.count("(Pdb)") >= 2, run.output
    # the failing step's own local, in each of the two failing scenarios
    assert "1004" in run.stdout and "1006" in run.stdout, run.stdout
    assert "--pdb: Given I add 2 and 2  # features/arithmetic.feature:3" in run.stdout
    # the step's output is still captured into the report, not lost to pdb's terminal
    assert run.stdout.count("said inside the step") == 2, run.stdout
    assert "--- Captured stdout ---" in run.stdout
    assert "2 scenarios (2 failed, 0 passed)" in run.stdout


def test_pdb_leaves_passing_runs_alone(suite: Suite) -> None:
    suite.feature("ok.feature", "Feature: Ok\n  Scenario: Fine\n    Then I see the sum\n")
    suite.steps(ARITHMETIC_STEPS)
    run = suite.run("features", "--pdb", "--no-history", input="")
    assert run.returncode == 0, run.output
    assert "(Pdb)" not in run.output


def test_pdb_with_several_processes_is_a_clear_usage_error(suite: Suite) -> None:
    suite.feature("arithmetic.feature", ARITHMETIC)
    suite.steps(ARITHMETIC_STEPS)
    run = suite.run("features", "--pdb", "-p", "2", "--no-history")
    assert run.returncode == 2, run.output
    assert "Error: --pdb needs one process: run with -p 1, or drop --pdb" in run.stderr
    assert "(asked for: -p 2)" in run.stderr
    assert "Running" not in run.output  # nothing ran
    _no_traceback(run.output)


def test_pdb_error_names_the_pyproject_setting_that_asked_for_workers(suite: Suite) -> None:
    suite.feature("arithmetic.feature", ARITHMETIC)
    suite.steps(ARITHMETIC_STEPS)
    suite.write("pyproject.toml", "[tool.pbdd]\nprocesses = 3\n")
    run = suite.run("features", "--pdb", "--no-history")
    assert run.returncode == 2, run.output
    assert "processes = 3 in [tool.pbdd] of pyproject.toml" in run.stderr
    _no_traceback(run.output)


def test_pdb_from_pyproject_and_timeout_switched_off_while_debugging(suite: Suite) -> None:
    suite.feature("arithmetic.feature", ARITHMETIC)
    suite.steps(ARITHMETIC_STEPS)
    suite.write("pyproject.toml", "[tool.pbdd]\npdb = true\n")
    run = suite.run("features", "-s", "1", "--timeout", "30", "--no-history", input="c\n")
    assert run.returncode == 1, run.output
    assert "(Pdb)" in run.stdout
    assert "--pdb: --timeout 30 is off for this run" in run.output


# -- --with-subunit / --subunit-file ---------------------------------------------------
SHOP = """
    @shop
    Feature: Shop
      Scenario: Passing
        Given a passing step

      Scenario: Failing
        Given a failing step

      Scenario: Undefined
        Given a step nobody wrote

      Scenario Outline: Rows
        Given row <n> passes

        Examples:
          | n |
          | 1 |
          | 2 |
    """
SHOP_STEPS = """
    from parallel_bdd import step


    @step(r"a passing step")
    def passing(step):
        print("passing output")


    @step(r"a failing step")
    def failing(step):
        raise AssertionError("sentinel-boom")


    @step(r"row (\\d) passes")
    def row(step, n):
        pass
    """
SHOP_IDS = {
    "features/shop.feature::Passing": "success",
    "features/shop.feature::Failing": "fail",
    "features/shop.feature::Undefined": "fail",
}


def read_stream(path: Path) -> tuple[Any, dict[str, dict[str, Any]]]:
    """The stream through subunit's parser into testtools' StreamSummary, and each test as
    testtools' StreamToDict sees it, by id."""
    summary = testtools.StreamSummary()
    tests: dict[str, dict[str, Any]] = {}
    result = testtools.CopyStreamResult(
        [summary, testtools.StreamToDict(lambda test: tests.__setitem__(test["id"], test))]
    )
    result.startTestRun()
    with path.open("rb") as stream:
        subunit.ByteStreamToStreamResult(stream, non_subunit_name="stdout").run(result)
    result.stopTestRun()
    return summary, tests


def subunit_tool(tool: str, path: Path) -> str:
    executable = shutil.which(tool) or str(Path(sys.executable).parent / tool)
    with path.open("rb") as stream:
        done = subprocess.run([executable], stdin=stream, capture_output=True, timeout=60)
    return done.stdout.decode()


def test_with_subunit_writes_one_test_per_scenario_to_subunit_bin(suite: Suite) -> None:
    suite.feature("shop.feature", SHOP)
    suite.steps(SHOP_STEPS)
    run = suite.run("features", "--with-subunit", "--no-history")
    assert run.returncode == 1, run.output
    stream = suite.root / "subunit.bin"
    summary, tests = read_stream(stream)
    assert summary.testsRun == 5
    # testtools files a subunit 'fail' under errors, as unittest's TestResult would
    assert len(summary.errors) == 2 and not summary.failures and not summary.skipped
    assert not summary.wasSuccessful()
    rows = [test_id for test_id in tests if test_id.startswith("features/shop.feature::Rows")]
    assert len(rows) == 2
    assert {test_id: tests[test_id]["status"] for test_id in SHOP_IDS} == SHOP_IDS
    for test_id in rows:
        assert tests[test_id]["status"] == "success"
    failing = tests["features/shop.feature::Failing"]
    assert "shop" in failing["tags"]
    assert "sentinel-boom" in failing["details"]["traceback"].as_text()
    assert "❌ Given a failing step" in failing["details"]["steps"].as_text()
    undefined = tests["features/shop.feature::Undefined"]["details"]["traceback"].as_text()
    assert "No step definition matches" in undefined
    passing = tests["features/shop.feature::Passing"]
    assert passing["details"]["stdout"].as_text() == "passing output\n"
    start, end = passing["timestamps"]
    assert start is not None and end is not None and start <= end

    table = list(csv.DictReader(io.StringIO(subunit_tool("subunit2csv", stream))))
    assert {row["test"]: row["status"] for row in table} == {
        **{test_id: ("failure" if s == "fail" else s) for test_id, s in SHOP_IDS.items()},
        **dict.fromkeys(rows, "success"),
    }
    stats = subunit_tool("subunit-stats", stream)
    assert re.search(r"Total tests:\s+5\b", stats), stats
    assert re.search(r"Failed tests:\s+2\b", stats), stats


def test_subunit_file_from_pyproject_in_a_parallel_run_tags_the_worker(suite: Suite) -> None:
    suite.feature("shop.feature", SHOP)
    suite.steps(SHOP_STEPS)
    suite.write("pyproject.toml", '[tool.pbdd]\nsubunit-file = "reports/run.subunit"\n')
    (suite.root / "reports").mkdir()
    run = suite.run("features", "-p", "2", "--no-history")
    assert run.returncode == 1, run.output
    summary, tests = read_stream(suite.root / "reports" / "run.subunit")
    assert summary.testsRun == 5 and len(summary.errors) == 2
    for test in tests.values():
        assert any(re.fullmatch(r"worker-\d+", tag) for tag in test["tags"]), test["tags"]
    assert not (suite.root / "subunit.bin").exists()


def test_subunit_reports_a_scenario_that_did_not_run_as_skipped(suite: Suite) -> None:
    suite.feature("shop.feature", SHOP)
    suite.steps(SHOP_STEPS)
    run = suite.run("features", "--failfast", "--subunit-file", "out.bin", "--no-history")
    assert run.returncode == 1, run.output
    summary, tests = read_stream(suite.root / "out.bin")
    assert summary.testsRun == 5
    assert [tests[i]["status"] for i in tests] == ["success", "fail", "skip", "skip", "skip"]


def test_subunit_keeps_a_retried_scenario_as_one_test_with_its_earlier_attempt(
    suite: Suite,
) -> None:
    suite.feature(
        "flaky.feature", "Feature: Flaky\n  Scenario: Second time lucky\n    Given luck\n"
    )
    suite.steps(
        """
        from pathlib import Path
        from parallel_bdd import step


        @step(r"luck")
        def luck(step):
            marker = Path("tried-once")
            if not marker.exists():
                marker.write_text("")
                raise AssertionError("first try fails")
        """
    )
    run = suite.run("features", "--retry", "1", "--with-subunit", "--no-history")
    assert run.returncode == 0, run.output
    summary, tests = read_stream(suite.root / "subunit.bin")
    assert summary.testsRun == 1 and summary.wasSuccessful()
    (test,) = tests.values()
    assert test["status"] == "success"
    assert "first try fails" in test["details"]["attempt-1"].as_text()


def test_subunit_file_that_is_a_directory_is_refused_with_its_name(suite: Suite) -> None:
    suite.feature("shop.feature", SHOP)
    suite.steps(SHOP_STEPS)
    run = suite.run("features", "--subunit-file", "features", "--no-history")
    assert run.returncode == 2, run.output
    assert "'features'" in run.stderr and "--subunit-file" in run.stderr
    _no_traceback(run.output)


def test_a_format_whose_package_is_missing_says_which_extra_to_install() -> None:
    from parallel_bdd.errors import UsageError
    from parallel_bdd.reporting.registry import ReportFormat

    missing = ReportFormat("x-file", "subunit", "", requires="no_such_pbdd_module", extra="x")
    with pytest.raises(UsageError) as raised:
        missing.check_installed()
    assert "--x-file needs the 'no_such_pbdd_module' package" in raised.value.format_message()
    assert "pip install 'parallel-bdd[x]'" in raised.value.format_message()


# -- --root-dir ------------------------------------------------------------------------
ONE_STEP = "Feature: Borrowed\n  Scenario: Uses a step from above\n    Given a borrowed step\n"
BORROWED_STEP = """
    from parallel_bdd import step


    @step(r"a borrowed step")
    def borrowed(step):
        pass
    """


def test_root_dir_lets_a_suite_borrow_step_files_up_to_and_including_it(suite: Suite) -> None:
    suite.feature("borrowed.feature", ONE_STEP)
    suite.write("steps_here.py", BORROWED_STEP)  # beside features/, in the current directory
    without = suite.run("features", "--no-history")
    assert without.returncode == 1, without.output  # pbdd never climbs into the cwd itself
    assert "1 undefined" in without.output
    run = suite.run("features", "--root-dir", ".", "--no-history")
    assert run.returncode == 0, run.output
    assert "1 scenario (1 passed)" in run.output


def test_root_dir_stops_the_search_for_step_files_below_it(suite: Suite) -> None:
    suite.write("acceptance/features/borrowed.feature", ONE_STEP)
    suite.write("acceptance/steps.py", BORROWED_STEP)
    climbed = suite.run("acceptance/features", "--no-history")
    assert climbed.returncode == 0, climbed.output
    suite.write("pyproject.toml", '[tool.pbdd]\nroot-dir = "acceptance/features"\n')
    run = suite.run("acceptance/features", "--no-history")
    assert run.returncode == 1, run.output
    assert "1 undefined" in run.output


def test_root_dir_that_is_not_a_directory_is_refused_with_its_name(suite: Suite) -> None:
    suite.feature("borrowed.feature", ONE_STEP)
    run = suite.run("features", "--root-dir", "no/such/dir")
    assert run.returncode == 2, run.output
    assert "'no/such/dir'" in run.stderr and "--root-dir" in run.stderr
    _no_traceback(run.output)


# -- -r --------------------------------------------------------------------------------
def test_r_is_random_order_with_its_seed_printed(suite: Suite) -> None:
    suite.feature(
        "many.feature",
        "Feature: Many\n"
        + "".join(f"  Scenario: Number {i}\n    Then I see the sum\n\n" for i in range(12)),
    )
    suite.steps(ARITHMETIC_STEPS)
    short = suite.run("features", "-r", "--seed", "7", "--no-history")
    long = suite.run("features", "--random", "--seed", "7", "--no-history")
    assert short.returncode == 0, short.output
    assert "(random order, --seed 7)" in short.stdout

    def order(output: str) -> list[str]:
        return re.findall(r"Number \d+", output)

    assert order(short.stdout) == order(long.stdout)
    assert order(short.stdout) != sorted(order(short.stdout), key=lambda n: int(n.split()[1]))
    seeded = suite.run("features", "-r", "--no-history")
    assert re.search(r"\(random order, --seed \d+\)", seeded.stdout), seeded.stdout


def test_help_describes_each_lettuce_option(suite: Suite) -> None:
    shown = suite.run("--help")
    assert shown.returncode == 0, shown.output
    text = " ".join(shown.stdout.split())
    for option in (
        "--pdb",
        "--with-subunit",
        "--subunit-file FILE",
        "--root-dir DIR",
        "-r, --random",
    ):
        assert option in text, option


def test_a_path_in_pyproject_that_is_no_text_is_refused_with_its_value(suite: Suite) -> None:
    suite.feature("borrowed.feature", ONE_STEP)
    suite.write("pyproject.toml", "[tool.pbdd]\nroot-dir = 3\n")
    run = suite.run("features")
    assert run.returncode == 2, run.output
    assert "Invalid value for '--root-dir': 3 is not a path" in run.stderr
    _no_traceback(run.output)
