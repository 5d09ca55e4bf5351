"""``pbdd --queue``: several machines run one build through a real Redis, then ``pbdd report``.

Each "machine" is a ``pbdd`` process of its own (its own ``--worker``, its own process
group, its own history file), started by the test in one temporary suite. The scenario
``held`` waits at a gate: it writes ``started-held-<machine>`` when it begins and goes on
once the test creates ``open-held``, so the test can kill, pause or interrupt a machine
while it is inside that scenario, without a timing guess. ``FAIL_ON=<machine>`` makes the
gate's step fail on that machine, which tells apart whose result the build kept.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from redis_server import redis_aof_server, redis_server  # noqa: F401
from suite_helpers import Run, Suite

from parallel_bdd.build_ids import build_id, worker_name
from parallel_bdd.errors import UsageError

pytest.importorskip("redis")

QUICK = ("one", "two", "three")
STEPS = """
import os
import time
from pathlib import Path

from lettuce import step

@step(r'the gate "(\\w+)" opens')
def gate(step, name):
    machine = os.environ["MACHINE"]
    Path(f"started-{name}-{machine}").write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while not Path(f"open-{name}").exists():
        assert time.monotonic() < deadline, "the gate never opened"
        time.sleep(0.02)  # the suite's own wait for the test's signal
    assert os.environ.get("FAIL_ON") != machine, f"failing on {machine}, as asked"

@step(r"a quick step")
def quick(step):
    pass

@step(r"a step that fails the first time")
def fails_once(step):
    marker = Path("failed-once")
    if not marker.exists():
        marker.write_text(os.environ["MACHINE"])
        raise AssertionError("failing the first time, as asked")
"""
TERRAIN = """
import os
from lettuce import before

@before.all
def say_hello():
    with open("before-all.log", "a") as log:
        log.write(os.environ["MACHINE"] + "\\n")
"""


def feature(quick: tuple[str, ...] = QUICK, held: bool = True) -> str:
    scenarios = ['  Scenario: held\n    Given the gate "held" opens\n'] if held else []
    scenarios += [f"  Scenario: {name}\n    Given a quick step\n" for name in quick]
    return "Feature: Shop\n" + "".join(scenarios)


@pytest.fixture
def suite(tmp_path: Path) -> Suite:
    suite = Suite(tmp_path / "project")
    suite.feature("shop.feature", feature())
    suite.steps(STEPS)
    suite.terrain(TERRAIN)
    return suite


class Machine:
    """One machine of the build: ``pbdd --queue`` in its own process group."""

    def __init__(self, suite: Suite, url: str, build: str, name: str, *args: str, **env: str):
        self.name = name
        command = suite.command(
            "features",
            "--queue",
            url,
            "--build",
            build,
            "--worker",
            name,
            "--history",
            f"{name}.scenarios",
            "--no-color",
            *args,
        )
        self.process = subprocess.Popen(
            command,
            cwd=suite.root,
            env={**suite.env(), "MACHINE": name, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def signal(self, number: int) -> None:
        os.killpg(self.process.pid, number)

    def finish(self, timeout: float = 60) -> Run:
        try:
            stdout, stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            stdout, stderr = self.process.communicate()
            raise AssertionError(
                f"{self.name} did not end in {timeout} s:\n{stdout}{stderr}"
            ) from None
        return Run(self.process.returncode, stdout, stderr)


def wait_for(path: Path, machine: Machine, timeout: float = 60) -> None:
    """Until ``path`` exists (the machine wrote it): a deadline, not a timing guess."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if machine.process.poll() is not None:
            out, err = machine.process.communicate()
            raise AssertionError(f"{machine.name} ended first:\n{out}{err}")
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)  # polling a file the machine writes


def report(suite: Suite, url: str, build: str, *args: str) -> Run:
    return suite.run("report", "--queue", url, "--build", build, "--no-color", *args)


def ran(run: Run) -> list[str]:
    """The scenario names a machine's output shows as run, in order."""
    return re.findall(r"^(\w+) \.\.\. (?:OK|FAILED|ERROR)", run.stdout, re.MULTILINE)


def junit_names(junit: Path) -> list[str]:
    return re.findall(r'<testcase[^>]* name="([^"]+)"', junit.read_text())


def new_build(label: str) -> str:
    return f"{label}-{time.monotonic_ns()}"


def test_two_machines_share_a_build_and_the_report_merges_them(
    suite: Suite,
    redis_server,  # noqa: F811
) -> None:
    url, build = redis_server.url(), new_build("share")
    (suite.root / "open-held").touch()
    first = Machine(suite, url, build, "m1", "-p", "2")
    second = Machine(suite, url, build, "m2", "-p", "1")
    runs = [first.finish(), second.finish()]
    assert [run.returncode for run in runs] == [0, 0], [run.output for run in runs]
    names = ran(runs[0]) + ran(runs[1])
    assert sorted(names) == sorted(["held", *QUICK])  # every scenario, each once
    assert sum("filled build" in run.stderr for run in runs) == 1
    junit = suite.root / "merged.xml"
    merged = report(suite, url, build, "--junit-xml", str(junit), "--history", "merged.scenarios")
    assert merged.returncode == 0, merged.output
    assert "4 scenarios (4 passed)" in merged.stdout
    assert sorted(junit_names(junit)) == sorted(["held", *QUICK])
    assert (suite.root / "merged.scenarios").read_text().count("shop.feature::") == 4


@pytest.mark.parametrize("processes", ["1", "2"])  # in this process, or in the pool
def test_a_killed_machines_scenario_runs_on_another_and_is_recorded_once(
    suite: Suite,
    processes: str,
    redis_server,  # noqa: F811
) -> None:
    url, build = redis_server.url(), new_build("killed")
    first = Machine(suite, url, build, "m1", "-p", processes, "--heartbeat-timeout", "2")
    wait_for(suite.root / "started-held-m1", first)
    first.signal(signal.SIGKILL)  # the container is gone: parent, workers, manager
    first.finish()
    (suite.root / "open-held").touch()
    second = Machine(suite, url, build, "m2", "-p", processes, "--heartbeat-timeout", "2").finish()
    assert second.returncode == 0, second.output
    assert sorted(ran(second)) == sorted(["held", *QUICK])
    assert "worker m1 stopped heartbeating" in second.stderr
    junit = suite.root / "merged.xml"
    merged = report(suite, url, build, "--junit-xml", str(junit))
    assert merged.returncode == 0, merged.output
    assert "worker m1 stopped heartbeating; m2 took over" in merged.output
    assert sorted(junit_names(junit)) == sorted(["held", *QUICK])


@pytest.mark.parametrize("processes", ["1", "2"])  # in this process, or in the pool
def test_a_paused_machines_late_result_is_ignored(
    suite: Suite,
    processes: str,
    redis_server,  # noqa: F811
) -> None:
    url, build = redis_server.url(), new_build("paused")
    first = Machine(
        suite, url, build, "m1", "-p", processes, "--heartbeat-timeout", "2", FAIL_ON="m1"
    )
    wait_for(suite.root / "started-held-m1", first)
    first.signal(signal.SIGSTOP)
    try:
        (suite.root / "open-held").touch()
        second = Machine(
            suite, url, build, "m2", "-p", processes, "--heartbeat-timeout", "2"
        ).finish()
        assert second.returncode == 0, second.output
        assert "held" in ran(second)
    finally:
        first.signal(signal.SIGCONT)
    late = first.finish()
    assert ran(late) == ["held"] and late.returncode == 1  # it failed there, as asked
    assert "was not recorded" in late.stderr
    junit = suite.root / "merged.xml"
    merged = report(suite, url, build, "--junit-xml", str(junit))
    assert merged.returncode == 0, merged.output  # the build kept m2's pass
    assert "<failure" not in junit.read_text()
    assert sorted(junit_names(junit)) == sorted(["held", *QUICK])


def test_a_machine_rides_out_a_redis_restart(
    suite: Suite,
    redis_aof_server,  # noqa: F811
) -> None:
    url, build = redis_aof_server.url(), new_build("restart")
    machine = Machine(suite, url, build, "m1", "--heartbeat-timeout", "5")
    wait_for(suite.root / "started-held-m1", machine)
    redis_aof_server.restart()
    (suite.root / "open-held").touch()
    run = machine.finish()
    assert run.returncode == 0, run.output
    assert sorted(ran(run)) == sorted(["held", *QUICK])
    merged = report(suite, url, build)
    assert merged.returncode == 0 and "4 scenarios (4 passed)" in merged.stdout, merged.output


def test_two_builds_on_one_redis_never_see_each_other(
    suite: Suite,
    tmp_path: Path,
    redis_server,  # noqa: F811
) -> None:
    other = Suite(tmp_path / "other")
    other.feature("other.feature", feature(("alpha", "beta"), held=False))
    other.steps(STEPS)
    other.terrain(TERRAIN)
    url = redis_server.url()
    builds = new_build("x"), new_build("y")
    (suite.root / "open-held").touch()
    machines = [Machine(suite, url, builds[0], "m1"), Machine(other, url, builds[1], "m1")]
    runs = [machine.finish() for machine in machines]
    assert [run.returncode for run in runs] == [0, 0], [run.output for run in runs]
    assert sorted(ran(runs[1])) == ["alpha", "beta"]
    assert "4 scenarios (4 passed)" in report(suite, url, builds[0]).stdout
    assert "2 scenarios (2 passed)" in report(other, url, builds[1]).stdout


def test_another_selection_is_refused_and_a_late_machine_runs_nothing(
    suite: Suite,
    redis_server,  # noqa: F811
) -> None:
    url, build = redis_server.url(), new_build("late")
    (suite.root / "open-held").touch()
    assert Machine(suite, url, build, "m1").finish().returncode == 0
    other = Machine(suite, url, build, "m2", "-n", "one").finish()
    assert other.returncode == 2
    assert "another selection (scenario count: 4 there, 1 here)" in other.stderr
    late = Machine(suite, url, build, "m3").finish()
    assert late.returncode == 0, late.output
    assert f"Build {build} is finished: nothing left to run on worker m3" in late.stderr
    assert ran(late) == []
    log = (suite.root / "before-all.log").read_text().split()
    assert log == ["m1"]  # neither the refused machine nor the late one ran before.all


def test_report_fails_naming_the_scenario_a_stalled_machine_holds(
    suite: Suite,
    redis_server,  # noqa: F811
) -> None:
    url, build = redis_server.url(), new_build("stalled")
    machine = Machine(suite, url, build, "m1")
    wait_for(suite.root / "started-held-m1", machine)
    machine.signal(signal.SIGSTOP)
    try:
        stalled = report(suite, url, build, "--timeout", "30", "--inactive-timeout", "2")
    finally:
        machine.signal(signal.SIGKILL)
        machine.signal(signal.SIGCONT)
        machine.finish()
    assert stalled.returncode != 0
    assert "features/shop.feature::held" in stalled.output


@pytest.mark.parametrize("processes", ["1", "2"])  # in this process, or in the pool
def test_ctrl_c_gives_a_machines_work_back_without_waiting_for_the_timeout(
    suite: Suite,
    processes: str,
    redis_server,  # noqa: F811
) -> None:
    url, build = redis_server.url(), new_build("ctrl-c")
    slow = ("--heartbeat-timeout", "120")
    first = Machine(suite, url, build, "m1", "-p", processes, "--grace", "1", *slow)
    wait_for(suite.root / "started-held-m1", first)
    first.signal(signal.SIGINT)
    interrupted = first.finish()
    assert interrupted.returncode == 130, interrupted.output
    assert "back to the build" in interrupted.stderr
    (suite.root / "open-held").touch()
    # had the entry not come back, this machine would wait the 120 s heartbeat timeout
    second = Machine(suite, url, build, "m2", "-p", processes, *slow).finish(timeout=60)
    assert second.returncode == 0, second.output
    assert sorted(ran(second)) == sorted(["held", *QUICK])
    assert report(suite, url, build).returncode == 0


def test_queue_errors_say_what_to_do(suite: Suite, tmp_path: Path) -> None:
    unreachable = suite.run("features", "--queue", "redis://127.0.0.1:1/0", "--build", "b")
    assert unreachable.returncode == 2
    assert "cannot reach Redis at redis://127.0.0.1:1/0" in unreachable.stderr
    sharded = suite.run("features", "--queue", "redis://x", "--build", "b", "--shard", "1/2")
    assert sharded.returncode == 2 and "--queue and --shard 1/2" in sharded.stderr
    env = {k: v for k, v in suite.env().items() if k not in _CI_NAMES and not k.startswith("PBDD_")}
    nameless = suite.run("features", "--queue", "redis://x", env=env)
    assert nameless.returncode == 2 and "pass --build ID or set PBDD_BUILD_ID" in nameless.stderr
    assert "Traceback" not in unreachable.output + sharded.output + nameless.output


_CI_NAMES = {"GITHUB_RUN_ID", "CI_PIPELINE_ID", "BUILDKITE_BUILD_ID", "CIRCLE_WORKFLOW_ID"}


def test_build_ids_and_worker_names_come_from_the_ci() -> None:
    github = {"GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "2"}
    assert build_id(None, github) == "gh-42-2"
    assert build_id("mine", github) == "mine"
    gitlab = {"CI_PIPELINE_ID": "7", "CI_NODE_INDEX": "3"}
    assert (build_id(None, gitlab), worker_name(None, gitlab)) == ("gl-7", "node-3")
    buildkite = {"BUILDKITE_BUILD_ID": "abc", "BUILDKITE_PARALLEL_JOB": "0"}
    assert (build_id(None, buildkite), worker_name(None, buildkite)) == ("bk-abc", "node-0")
    circle = {"CIRCLE_WORKFLOW_ID": "w", "CIRCLE_BUILD_NUM": "9", "CIRCLE_NODE_INDEX": "1"}
    assert (build_id(None, circle), worker_name(None, circle)) == ("cc-w-9", "node-1")
    assert worker_name(None, github).endswith(f"-{os.getpid()}")  # GitHub has no node index
    with pytest.raises(UsageError, match="PBDD_BUILD_ID"):
        build_id(None, {})


@pytest.mark.parametrize("processes", ["1", "2"])  # in this process, or in the pool
def test_a_machine_keeps_a_long_scenario_by_heartbeating_it(
    suite: Suite,
    processes: str,
    redis_server,  # noqa: F811
) -> None:
    url, build = redis_server.url(), new_build("long")
    first = Machine(suite, url, build, "m1", "-p", processes, "--heartbeat-timeout", "1")
    wait_for(suite.root / "started-held-m1", first)
    second = Machine(suite, url, build, "m2", "-p", processes, "--heartbeat-timeout", "1")
    wait_for_results(redis_server, build, len(QUICK), second)  # the quick ones ran
    client = redis_server.client()
    # three heartbeat timeouts on the server's clock, while m2 looks for work
    server_now = lambda: client.time()[0]  # noqa: E731
    until = server_now() + 3
    while server_now() < until:
        time.sleep(0.05)  # the lease's expiry is what is tested: time has to pass
    assert not (suite.root / "started-held-m2").exists()  # m1 still holds it
    (suite.root / "open-held").touch()
    runs = [first.finish(), second.finish()]
    assert [run.returncode for run in runs] == [0, 0], [run.output for run in runs]
    assert "held" in ran(runs[0]) and "held" not in ran(runs[1])
    assert sorted(ran(runs[0]) + ran(runs[1])) == sorted(["held", *QUICK])
    client.close()


@pytest.mark.parametrize("processes", ["1", "2"])  # in this process, or in the pool
def test_a_machine_that_loses_redis_for_good_stops_with_exit_2(
    suite: Suite,
    processes: str,
    redis_aof_server,  # noqa: F811
) -> None:
    url, build = redis_aof_server.url(), new_build("gone")
    timeouts = ("--queue-timeout", "2", "--heartbeat-timeout", "3")
    machine = Machine(suite, url, build, "m1", "-p", processes, *timeouts)
    wait_for(suite.root / "started-held-m1", machine)
    redis_aof_server.stop()
    run = machine.finish()
    assert run.returncode == 2, run.output
    assert f"Error: lost Redis at {url} for more than 2 s" in run.stderr
    assert "The queue is gone" in run.stderr and "Traceback" not in run.output
    assert "1 scenario not run" in run.stdout, run.output  # the summary still comes


def test_a_scenario_that_keeps_losing_its_machine_is_errored_after_the_budget(
    suite: Suite,
    redis_server,  # noqa: F811
) -> None:
    url, build = redis_server.url(), new_build("budget")
    for name in ("m1", "m2"):  # both die inside "held": the scenario takes its machine down
        machine = Machine(suite, url, build, name, "--heartbeat-timeout", "1")
        wait_for(suite.root / f"started-held-{name}", machine)
        machine.signal(signal.SIGKILL)
        machine.finish()
    last = Machine(suite, url, build, "m3", "--heartbeat-timeout", "1").finish()
    assert last.returncode == 0, last.output
    assert not (suite.root / "started-held-m3").exists()
    assert "stopped heartbeating 2 times (the last: m2)" in last.stderr
    junit = suite.root / "merged.xml"
    merged = report(suite, url, build, "--junit-xml", str(junit))
    assert merged.returncode == 1, merged.output
    assert "not run again: the machines running it stopped heartbeating 2 times" in (
        junit.read_text()
    )
    assert sorted(junit_names(junit)) == sorted(["held", *QUICK])


def test_the_merged_html_report_has_a_lane_per_worker_per_machine(
    suite: Suite,
    redis_server,  # noqa: F811
) -> None:
    url, build = redis_server.url(), new_build("html")
    first = Machine(suite, url, build, "m1")
    wait_for(suite.root / "started-held-m1", first)  # m1 holds "held"; m2 runs the rest
    second = Machine(suite, url, build, "m2")
    wait_for_results(redis_server, build, len(QUICK), second)
    (suite.root / "open-held").touch()
    runs = [first.finish(), second.finish()]
    assert [run.returncode for run in runs] == [0, 0], [run.output for run in runs]
    page = suite.root / "merged.html"
    assert report(suite, url, build, "--html", str(page)).returncode == 0
    found = re.search(
        r'<script type="application/json" id="pbdd-data">(.*?)</script>', page.read_text(), re.S
    )
    assert found is not None
    data = json.loads(found.group(1))
    lanes = {lane["label"]: lane["bars"] for lane in data["timeline"]["lanes"]}
    assert lanes == {"m1 \u00b7 worker 0": 1, "m2 \u00b7 worker 0": len(QUICK)}
    by_name = {row["name"]: row["worker"] for row in data["scenarios"]}
    assert by_name["held"] == "m1 \u00b7 worker 0" and by_name["one"] == "m2 \u00b7 worker 0"


def wait_for_results(server, build: str, count: int, machine: Machine) -> None:  # type: ignore[no-untyped-def]
    """Until the build has ``count`` final results (the machines' acks)."""
    client = server.client()
    results = f"pbdd:{{{build}}}:results".encode()
    deadline = time.monotonic() + 60
    while client.hlen(results) < count:
        assert time.monotonic() < deadline and machine.process.poll() is None
        time.sleep(0.02)  # polling the build's results
    client.close()


def test_a_one_process_machine_takes_the_queue_longest_first(
    suite: Suite,
    redis_server,  # noqa: F811
) -> None:
    recorded = {"held": 0.1, "one": 0.2, "two": 3.0, "three": 0.3}  # one entry each
    history = {
        "format": "pbdd-history",
        "version": 1,
        "scenarios": {
            f"features/shop.feature::{name}": {"duration": seconds, "status": "passed", "runs": 1}
            for name, seconds in recorded.items()
        },
    }
    (suite.root / "m1.scenarios").write_text(json.dumps(history))
    (suite.root / "open-held").touch()
    run = Machine(suite, redis_server.url(), new_build("order"), "m1", "-p", "1").finish()
    assert run.returncode == 0, run.output
    assert ran(run)[0] == "two"  # the longest by the history, not the first in the file


@pytest.mark.parametrize("processes", ["1", "2"])  # in this process, or in the pool
def test_a_retried_scenario_is_flaky_in_the_merged_report(
    suite: Suite,
    processes: str,
    redis_server,  # noqa: F811
) -> None:
    suite.feature(
        "shop.feature",
        feature(held=False) + "  Scenario: shaky\n    Given a step that fails the first time\n",
    )
    url, build = redis_server.url(), new_build("retry")
    run = Machine(suite, url, build, "m1", "-p", processes, "--retry", "1").finish()
    assert run.returncode == 0, run.output
    assert set(ran(run)) == {*QUICK, "shaky"}
    assert (suite.root / "failed-once").read_text() == "m1"  # its first attempt failed
    junit = suite.root / "merged.xml"
    merged = report(suite, url, build, "--junit-xml", str(junit))
    assert merged.returncode == 0, merged.output
    assert "4 scenarios (4 passed)" in merged.stdout
    assert "Flaky: 1 scenario passed on a retry" in merged.stdout
    assert sorted(junit_names(junit)).count("shaky") == 1


def test_a_one_process_machine_times_out_a_hung_scenario_and_goes_on(
    suite: Suite,
    redis_server,  # noqa: F811
) -> None:
    # "held" waits for a gate that never opens: --timeout ends it, in this very process
    url, build = redis_server.url(), new_build("timeout")
    run = Machine(suite, url, build, "m1", "-p", "1", "--timeout", "1").finish()
    assert run.returncode == 1, run.output
    assert set(ran(run)) == {"held", *QUICK}
    junit = suite.root / "merged.xml"
    merged = report(suite, url, build, "--junit-xml", str(junit))
    assert merged.returncode == 1, merged.output
    assert "4 scenarios (1 errored, 3 passed)" in merged.stdout, merged.stdout
    assert "timed out after 1 s (--timeout)" in junit.read_text()
