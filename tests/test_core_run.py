"""End-to-end: pbdd runs lettuce suites serially and in parallel, as a user runs it."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

APPLES = """
@fruit
Feature: Apples
  In order to eat
  As a person

  Background:
    Given I have 3 apples

  Scenario: Eat one
    When I eat 1 apple
    Then I have 2 apples left

  Scenario: Eat too many
    When I eat 5 apples
    Then I have -2 apples left

  Scenario Outline: Eat <n>
    When I eat <n> apples
    Then I have <left> apples left
    Examples:
      | n | left |
      | 1 | 2    |
      | 2 | 1    |
"""

APPLE_STEPS = """
from lettuce import step, world, before, after
from parallel_bdd import scenario

@step(r'I have (\\d+) apples$')
def have(step, n):
    scenario.apples = int(n)

@step(r'I eat (\\d+) apples?')
def eat(step, n):
    print("eating", n)
    scenario.apples -= int(n)

@step(r'I have (-?\\d+) apples left')
def left(step, n):
    assert scenario.apples >= 0, f"cannot have {scenario.apples} apples"
    assert scenario.apples == int(n)
"""


def test_serial_run_reports_lettuce_summary_and_exits_1_on_failure(suite):
    suite.feature("apples.feature", APPLES)
    suite.steps(APPLE_STEPS)
    run = suite.run("features", "-v", "3", "--no-history")
    assert run.returncode == 1, run.output
    assert "1 feature (0 passed)" in run.stdout
    assert "4 scenarios (1 failed, 3 passed)" in run.stdout
    # background steps count, as in the compat notes: 4 scenarios x (1 + 2) steps
    assert "12 steps (1 failed, 11 passed)" in run.stdout
    assert "AssertionError: cannot have -2 apples" in run.stdout
    assert "List of failed scenarios:" in run.stdout
    assert "Scenario: Eat too many  # features/apples.feature:13" in run.stdout
    # runner frames are trimmed from the user's traceback
    assert "parallel_bdd" not in run.stdout.split("Eat too many", 1)[1].split("--- Captured")[0]
    assert "eating 5" in run.stdout  # captured stdout of the failing scenario


def test_passing_suite_exits_0_and_parallel_matches_serial(suite):
    suite.feature(
        "apples.feature",
        APPLES.replace("Then I have -2 apples left", "Then I have 0 apples left").replace(
            "I eat 5 apples", "I eat 3 apples"
        ),
    )
    suite.steps(APPLE_STEPS)
    serial = suite.run("features", "--no-history", "-v", "2")
    parallel = suite.run("features", "--no-history", "-v", "2", "-p", "2")
    four = suite.run("features", "--no-history", "-v", "2", "-p", "4")
    auto = suite.run("features", "--no-history", "-v", "2", "-p", "auto")
    for run in (serial, parallel, four, auto):
        assert run.returncode == 0, run.output
        assert "4 scenarios (4 passed)" in run.stdout
        assert "12 steps (12 passed)" in run.stdout
    assert "on 2 workers" in parallel.stdout
    assert "on 4 workers" in four.stdout
    cores = min(os.cpu_count() or 1, 4)
    assert (f"on {cores} workers" if cores > 1 else "on 1 process") in auto.stdout
    assert re.search(r"Eat one \.\.\. OK \(\d+\.\d\d s, worker [01]\)", parallel.stdout)


def test_workers_get_own_port_and_run_batch_hooks_once_each(suite):
    suite.feature(
        "many.feature",
        "Feature: Many\n"
        + "".join(f"  Scenario: s{i}\n    Given I record my worker\n" for i in range(6)),
    )
    suite.steps(
        """
        import json, os, time
        from parallel_bdd import step, world, before, after

        @before.batch
        def open_batch():
            with open(f"batch-{os.getpid()}.json", "w") as f:
                json.dump({"worker": world.worker_id, "port": world.port_number,
                           "run_id": world.run_id, "lock": world.lock.acquire(False)}, f)

        @after.batch
        def close_batch():
            open(f"closed-{os.getpid()}", "w").close()

        @step("I record my worker")
        def record(step):
            time.sleep(0.05)
            with open(f"ran-{world.worker_id}.txt", "a") as f:
                f.write(step.scenario.name + "\\n")
        """
    )
    suite.terrain(
        """
        import threading
        from parallel_bdd import before, world

        @before.all
        def setup():
            world.run_id = "run-42"      # picklable: copied into every worker
            world.lock = threading.Lock()  # not picklable: made again in each worker
        """
    )
    run = suite.run("features", "-p", "3", "--no-history", "--base-port", "9000")
    assert run.returncode == 0, run.output
    batches = [json.loads(p.read_text()) for p in suite.root.glob("batch-*.json")]
    assert sorted(b["worker"] for b in batches) == [0, 1, 2]
    assert sorted(b["port"] for b in batches) == [9001, 9002, 9003]  # serial run uses 9000
    assert {b["run_id"] for b in batches} == {"run-42"}
    assert len(list(suite.root.glob("closed-*"))) == 3
    ran = sorted(line for p in suite.root.glob("ran-*.txt") for line in p.read_text().split())
    assert ran == [f"s{i}" for i in range(6)]  # each scenario exactly once
    assert {b["lock"] for b in batches} == {True}  # each worker's own, unlocked lock
    assert "Warning" not in run.output


def test_serial_run_uses_base_port_and_worker_zero(suite):
    suite.feature("one.feature", "Feature: One\n  Scenario: s\n    Given I note the port\n")
    suite.steps(
        """
        from parallel_bdd import step, world
        @step("I note the port")
        def note(step):
            open("port.txt", "w").write(f"{world.worker_id} {world.port_number}")
        """
    )
    run = suite.run("features", "--no-history", "--base-port", "9100")
    assert run.returncode == 0, run.output
    assert (suite.root / "port.txt").read_text() == "0 9100"


def test_more_processes_than_scenarios_starts_no_idle_workers(suite):
    suite.feature(
        "two.feature", "Feature: Two\n  Scenario: a\n    Given ok\n  Scenario: b\n    Given ok\n"
    )
    suite.steps(
        """
        import os
        from parallel_bdd import step, before
        @before.batch
        def b():
            open(f"batch-{os.getpid()}", "w").close()
        @step("ok")
        def ok(step):
            pass
        """
    )
    run = suite.run("features", "-p", "8", "--no-history")
    assert run.returncode == 0, run.output
    assert len(list(suite.root.glob("batch-*"))) == 2
    assert "on 2 workers" in run.stdout


def test_history_orders_longest_first_on_next_run(suite):
    suite.feature(
        "timed.feature",
        """
        Feature: Timed
          Scenario: short
            Given I wait 0.01 seconds
          Scenario: long
            Given I wait 0.4 seconds
          Scenario: medium
            Given I wait 0.2 seconds
          Scenario: new one
            Given I wait 0.01 seconds
        """,
    )
    suite.steps(
        """
        import time
        from parallel_bdd import step
        @step(r"I wait ([\\d.]+) seconds")
        def wait(step, seconds):
            time.sleep(float(seconds))
        """
    )
    first = suite.run("features", "-n", "short|long|medium", "-p", "2")
    assert first.returncode == 0, first.output
    history = json.loads((suite.root / ".scenarios").read_text())["scenarios"]
    assert set(history) == {
        "features/timed.feature::short",
        "features/timed.feature::long",
        "features/timed.feature::medium",
    }
    assert history["features/timed.feature::long"]["duration"] > 0.3
    assert history["features/timed.feature::long"]["status"] == "passed"
    listing = suite.run("features", "--dry-run", "-p", "2")  # a pool's order
    assert listing.returncode == 0, listing.output
    order = re.findall(
        r"^\s+\d+\.\s+[\d.]+\s+features/timed.feature::(.+?)  #", listing.stdout, re.M
    )
    # unknown scenarios get the median estimate (medium's), ties keep file order
    assert order == ["long", "medium", "new one", "short"]
    # nothing ran in the dry run: the history is unchanged
    again = json.loads((suite.root / ".scenarios").read_text())["scenarios"]
    assert again == history


def test_outline_rows_are_separate_scheduling_units(suite):
    suite.feature("apples.feature", APPLES)
    suite.steps(APPLE_STEPS)
    listing = suite.run("features", "--list", "--no-history")
    ids = re.findall(r"features/apples.feature::\S.*?(?=  #)", listing.stdout)
    assert "features/apples.feature::Eat <n>::1" in ids
    assert "features/apples.feature::Eat <n>::2" in ids
    assert len(ids) == 4


def test_undefined_step_prints_snippet_and_exits_1(suite):
    suite.feature(
        "u.feature",
        "Feature: U\n  Scenario: juggling\n    When I juggle \"three\" balls and 'two' pins\n",
    )
    suite.steps("from parallel_bdd import step\n")
    run = suite.run("features", "--no-history")
    assert run.returncode == 1
    assert "1 scenario (1 undefined, 0 passed)" in run.stdout
    assert "1 step (1 undefined, 0 passed)" in run.stdout
    assert "@step(u'When I juggle \"([^\"]*)\" balls and \\'([^\\']*)\\' pins')" in run.stdout
    assert "def when_i_juggle_group1_balls_and_group2_pins(step, group1, group2):" in run.stdout


def test_nothing_selected_exits_1(suite):
    suite.feature("apples.feature", APPLES)
    suite.steps(APPLE_STEPS)
    run = suite.run("features", "-t", "nosuchtag", "--no-history")
    assert run.returncode == 1
    assert "No scenario selected" in run.stderr


def test_python_m_and_console_script_both_work(suite):
    import shutil
    import subprocess

    suite.feature("one.feature", "Feature: One\n  Scenario: s\n    Given ok\n")
    suite.steps("from parallel_bdd import step\n@step('ok')\ndef ok(step):\n    pass\n")
    # The script installed beside this interpreter (.venv/bin/pbdd), else the one on PATH.
    beside = Path(sys.executable).with_name("pbdd")
    pbdd = str(beside) if beside.is_file() else shutil.which("pbdd")
    if pbdd is None:
        pytest.skip("the pbdd console script is not installed (run `make install`)")
    done = subprocess.run(
        [pbdd, "features", "--no-history"],
        cwd=suite.root,
        capture_output=True,
        text=True,
        env=suite.env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 scenario (1 passed)" in done.stdout
    version = subprocess.run([pbdd, "--version"], capture_output=True, text=True, timeout=30)
    assert version.stdout.startswith("pbdd, version ")


def test_output_blocks_never_interleave_in_parallel(suite):
    scenarios = "".join(
        f"  Scenario: s{i}\n    Given I print {i}\n    And I print {i}\n    And I print {i}\n"
        for i in range(12)
    )
    suite.feature("p.feature", "Feature: P\n" + scenarios)
    suite.steps(
        """
        import time
        from parallel_bdd import step
        @step(r"I print (\\d+)")
        def p(step, n):
            for _ in range(50):
                print("line from", n)
            time.sleep(0.02)
            assert n != "5", "five fails"
        """
    )
    run = suite.run("features", "-p", "4", "-v", "3", "--no-history")
    assert run.returncode == 1
    assert "on 4 workers" in run.stdout
    blocks = [b for b in run.stdout.split("\n\n") if "Scenario: s" in b and "I print" in b]
    assert len(blocks) == 12
    for block in blocks:
        number = re.search(r"Scenario: s(\d+)", block).group(1)
        steps = re.findall(r"I print (\d+)", block)
        assert steps == [number] * 3, block
        assert set(re.findall(r"line from (\d+)", block)) <= {number}


def test_a_serial_run_keeps_the_files_order_whatever_the_history(suite):
    for name in ("a", "b"):
        suite.feature(
            f"{name}.feature",
            f"""
            Feature: {name.upper()}
              Scenario: {name} quick
                Given I wait 0.01 seconds
              Scenario: {name} slow
                Given I wait {0.3 if name == "b" else 0.01} seconds
            """,
        )
    suite.steps(
        """
        import time
        from parallel_bdd import step
        @step(r"I wait ([\\d.]+) seconds")
        def wait(step, seconds):
            time.sleep(float(seconds))
        """
    )
    assert suite.run("features").returncode == 0  # records b slow as the longest
    pooled = suite.run("features", "--dry-run", "-p", "2")
    assert re.findall(r"::(\w+ \w+)  #", pooled.stdout)[0] == "b slow"
    serial = suite.run("features", "-v", "3", "--no-color")
    assert serial.returncode == 0, serial.output
    headers = re.findall(r"^Feature: (\w)", serial.stdout, re.M)
    assert headers == ["A", "B"]  # each feature's header once, in file order
    scenarios = re.findall(r"^  Scenario: (\w+ \w+)", serial.stdout, re.M)
    assert scenarios == ["a quick", "a slow", "b quick", "b slow"]
