"""End-to-end: lettuce's verbosity levels and the live progress line on a terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

FEATURE = """
Feature: Levels
  Scenario: passes
    Given ok
  Scenario: fails
    Given broken
"""
STEPS = """
from parallel_bdd import step
@step("ok$")
def ok(step):
    pass
@step("broken")
def broken(step):
    assert False, "broken on purpose"
"""


def test_verbosity_levels(suite):
    suite.feature("l.feature", FEATURE)
    suite.steps(STEPS)
    quiet = suite.run("features", "-v", "0", "--no-history")
    assert "passes" not in quiet.stdout.split("FAILED")[0]
    assert "2 scenarios (1 failed, 1 passed)" in quiet.stdout
    dots = suite.run("features", "-v", "1", "--no-history")
    assert dots.stdout.startswith(".F\n") or dots.stdout.startswith("F.\n"), dots.stdout
    assert "broken on purpose" in dots.stdout  # tracebacks after the dots, as lettuce
    names = suite.run("features", "-v", "2", "--no-history")
    assert "passes ... OK (" in names.stdout
    assert "fails ... FAILED (" in names.stdout
    steps = suite.run("features", "-v", "3", "--no-history")
    assert "Feature: Levels  # features/l.feature:1" in steps.stdout
    assert "    Given ok  # features/steps.py:2" in steps.stdout
    assert "\x1b[" not in steps.stdout


PRINTING = """
Feature: Printing
  Scenario: first prints
    Given I print "hello from step" 3 times
  Scenario: second prints
    Given I print "second says hi" 2 times
"""
PRINTING_STEPS = """
from parallel_bdd import step
@step(r'I print "(.*)" (\\d+) times')
def prints(step, text, times):
    for number in range(int(times)):
        print(text, number)
"""


def test_what_a_passing_step_prints_is_shown_under_its_scenario_at_v3(suite):
    suite.feature("p.feature", PRINTING)
    suite.steps(PRINTING_STEPS)
    for args in [("-p", "1"), ("-p", "2")]:
        for verbosity in ("3", "4"):
            run = suite.run("features", "-v", verbosity, "--no-history", "--no-color", *args)
            assert run.returncode == 0, run.output
            blocks = run.stdout.split("  Scenario: ")[1:]
            by_name = {block.split("  #")[0]: block for block in blocks}
            first, second = by_name["first prints"], by_name["second prints"]
            assert "--- Captured stdout ---\n" in first
            assert "hello from step 0\n    hello from step 1\n    hello from step 2" in first
            assert "second says" not in first
            assert "second says hi 0\n    second says hi 1" in second
            assert "hello from step" not in second
        quiet = suite.run("features", "-v", "2", "--no-history", *args)
        assert quiet.returncode == 0, quiet.output
        assert "hello from step" not in quiet.output
        assert "Captured" not in quiet.output


def _run_on_a_terminal(suite, *args: str) -> str:
    leader, follower = pty.openpty()
    env = suite.env()
    env.pop("CI", None)
    process = subprocess.Popen(
        suite.command(*args), cwd=suite.root, env=env, stdout=follower, stderr=follower
    )
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    process.wait(10)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_live_progress_line_on_a_terminal_only(suite):
    suite.feature("l.feature", FEATURE)
    suite.steps(STEPS)
    on_terminal = _run_on_a_terminal(suite, "features", "-v", "2", "--no-history")
    assert "[1/2" in on_terminal and "[2/2, 1 failed]" in on_terminal
    assert "elapsed" in on_terminal
    piped = suite.run("features", "-v", "2", "--no-history")
    assert "elapsed" not in piped.stdout
    no_color = _run_on_a_terminal(suite, "features", "-v", "2", "--no-history", "--no-color")
    assert "\x1b[3" not in no_color  # no colour codes, only the line's cursor movements
