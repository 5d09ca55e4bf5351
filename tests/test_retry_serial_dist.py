"""End-to-end: --retry and @retry(N), @serial scenarios, --dist feature, chunked dispatch."""

from __future__ import annotations

import json
import re

import pytest

COUNTING_STEPS = """
import os
from parallel_bdd import step

@step(r"I fail (\\d+) times")
def fail(step, n):
    path = "count-" + step.scenario.name.replace(" ", "_")
    count = int(open(path).read()) if os.path.exists(path) else 0
    open(path, "w").write(str(count + 1))
    assert count >= int(n), f"attempt {count + 1} fails"
"""


@pytest.mark.parametrize("processes", ["1", "2"])
def test_retry_reruns_failures_reports_each_attempt_and_flaky(suite, processes):
    junitparser = pytest.importorskip("junitparser")
    suite.feature(
        "r.feature",
        """
        Feature: Retries
          @retry(2)
          Scenario: flaky twice
            Given I fail 2 times
          Scenario: flaky once
            Given I fail 1 times
          Scenario: always fails
            Given I fail 9 times
          Scenario: passes
            Given I fail 0 times
        """,
    )
    suite.steps(COUNTING_STEPS)
    run = suite.run(
        "features", "-p", processes, "--retry", "1", "--junit-xml", "junit.xml", "-v", "2"
    )
    assert run.returncode == 1, run.output
    # --retry 1: two tries; @retry(2) wins for its scenario: three tries
    assert (suite.root / "count-flaky_twice").read_text() == "3"
    assert (suite.root / "count-flaky_once").read_text() == "2"
    assert (suite.root / "count-always_fails").read_text() == "2"
    assert (suite.root / "count-passes").read_text() == "1"
    assert "flaky twice [attempt 3] ... OK" in run.stdout
    assert "4 scenarios (1 failed, 3 passed)" in run.stdout
    assert "Flaky: 2 scenarios passed on a retry:" in run.stdout
    xml = junitparser.JUnitXml.fromfile(str(suite.root / "junit.xml"))
    cases = {case.name: case for suite_ in xml for case in suite_}
    assert len(cases) == 4
    assert not cases["always fails"].is_passed
    assert cases["flaky twice"].is_passed
    history = json.loads((suite.root / ".scenarios").read_text())["scenarios"]
    assert history["features/r.feature::flaky twice"]["status"] == "passed"
    assert history["features/r.feature::always fails"]["status"] == "failed"


def test_serial_scenarios_never_overlap_while_others_run(suite):
    scenarios = "".join(
        f"  @serial\n  Scenario: serial {i}\n    Given I hold the shared resource\n"
        for i in range(4)
    ) + "".join(f"  Scenario: other {i}\n    Given I work a little\n" for i in range(6))
    suite.feature("s.feature", "Feature: Shared resource\n" + scenarios)
    suite.steps(
        """
        import fcntl, json, os, time
        from parallel_bdd import step, world

        def log(event):
            with open("events.jsonl", "a") as f:
                f.write(json.dumps(event) + "\\n")

        @step("I hold the shared resource")
        def hold(step):
            fd = os.open("resource.lock", os.O_CREAT | os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise AssertionError("two @serial scenarios ran at the same time")
            log({"worker": world.worker_id, "what": "serial", "at": time.time()})
            time.sleep(0.25)
            os.close(fd)

        @step("I work a little")
        def work(step):
            log({"worker": world.worker_id, "what": "other", "at": time.time()})
            time.sleep(0.1)
        """
    )
    run = suite.run("features", "-p", "3", "--no-history")
    assert run.returncode == 0, run.output
    assert "10 scenarios (10 passed)" in run.stdout
    events = [json.loads(line) for line in (suite.root / "events.jsonl").read_text().splitlines()]
    others = {event["worker"] for event in events if event["what"] == "other"}
    assert len(others) >= 2  # the other workers stayed busy meanwhile


def test_dist_feature_keeps_each_feature_on_one_worker(suite):
    for name in ("a", "b", "c"):
        suite.feature(
            f"{name}.feature",
            f"Feature: {name}\n"
            + "".join(f"  Scenario: {name}{i}\n    Given I note my worker\n" for i in range(4)),
        )
    suite.steps(
        """
        from parallel_bdd import step, world, before
        @step("I note my worker")
        def note(step):
            with open(f"{step.scenario.feature.name}.workers", "a") as f:
                f.write(f"{world.worker_id}\\n")
        @before.each_feature
        def met(feature):
            with open("features.met", "a") as f:
                f.write(feature.name + "\\n")
        """
    )
    run = suite.run("features", "-p", "2", "--dist", "feature", "--no-history")
    assert run.returncode == 0, run.output
    for name in ("a", "b", "c"):
        workers = (suite.root / f"{name}.workers").read_text().split()
        assert len(workers) == 4 and len(set(workers)) == 1, (name, workers)
    met = sorted((suite.root / "features.met").read_text().split())
    assert met == ["a", "b", "c"]  # each feature's before.each_feature ran once


def test_many_short_scenarios_with_history_are_chunked_and_each_runs_once(suite):
    scenarios = "".join(f"  Scenario: s{i:03d}\n    Given I count\n" for i in range(300))
    suite.feature("many.feature", "Feature: Many\n" + scenarios)
    suite.steps(
        """
        import os
        from parallel_bdd import step, world
        @step("I count")
        def count(step):
            with open(f"ran-{os.getpid()}", "a") as f:
                f.write(step.scenario.name + "\\n")
        """
    )
    first = suite.run("features", "-p", "2", "-v", "0")  # records tiny durations
    assert first.returncode == 0, first.output
    for path in suite.root.glob("ran-*"):
        path.unlink()
    second = suite.run("features", "-p", "2", "-v", "0", "--junit-xml", "j.xml")
    assert second.returncode == 0, second.output
    assert "300 scenarios (300 passed)" in second.stdout
    ran = sorted(line for path in suite.root.glob("ran-*") for line in path.read_text().split())
    assert ran == [f"s{i:03d}" for i in range(300)]
    assert len(re.findall(r"<testcase ", (suite.root / "j.xml").read_text())) == 300


def test_serial_timeout_reports_where_the_step_hung(suite):
    suite.feature(
        "t.feature",
        "Feature: T\n  Scenario: hangs\n    Given I hang\n  Scenario: after\n    Given I do not\n",
    )
    suite.steps(
        """
        import time
        from parallel_bdd import step
        def wait_forever():
            while True:
                time.sleep(0.05)
        @step("I hang")
        def hang(step):
            wait_forever()
        @step("I do not")
        def fine(step):
            pass
        """
    )
    run = suite.run("features", "--timeout", "1", "--no-history")
    assert run.returncode == 1
    assert "hangs ... ERROR" in run.stdout
    assert "after ... OK" in run.stdout
    assert "timed out after 1 s (--timeout)" in run.stdout
    assert "in wait_forever" in run.stdout
