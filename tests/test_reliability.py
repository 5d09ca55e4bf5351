"""End-to-end: the faults a run must survive, inflicted for real on a ``pbdd`` subprocess.

Ctrl-C once and twice (SIGINT to the whole process group, as a terminal sends it), the
parent killed with SIGKILL, workers dying mid-scenario, hung and slow steps, hooks that
raise, results that would not pickle, 2,000 scenarios on 8 workers, and what must not leak
between scenarios that share a worker. Every test writes a small suite with the helpers in
``suite_helpers.py`` and leaves marker files in ``marks/`` to show what ran where.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from junitparser import JUnitXml
from suite_helpers import Run, Suite, finish

# Steps and hooks shared by the tests; each records what it did under marks/.
TOOLKIT = """
import logging, os, signal, subprocess, time
from parallel_bdd import after, before, scenario, step, world

os.makedirs("marks", exist_ok=True)

def mark(name, text=""):
    with open(os.path.join("marks", name), "a") as f:
        f.write(text + "\\n")

@before.batch
def note_batch_start():
    mark("before-batch", str(os.getpid()))

@after.batch
def note_batch_end():
    mark("after-batch", str(os.getpid()))

@after.each_scenario
def note_scenario_end(sc):
    mark("after-scenario", sc.name)

@after.all
def note_run_end(total):
    mark("after-all", str(total.scenarios_ran))

@step(r"I work for ([\\d.]+) seconds?")
def work(step, seconds):
    mark("started", step.scenario.name)
    time.sleep(float(seconds))

@step(r"I pass")
def passes(step):
    mark("ran", f"{step.scenario.name} {os.getpid()}")

@step(r"I start a long-lived child process")
def long_lived_child(step):
    child = subprocess.Popen(["sleep", "300"])
    mark("children", str(child.pid))
    mark("started", step.scenario.name)
    time.sleep(120)

@step(r"I exit with code 3")
def exit_3(step):
    os._exit(3)

@step(r"I crash with SIGSEGV")
def segfault(step):
    os.kill(os.getpid(), signal.SIGSEGV)

@step(r"I am killed from outside")
def killed_from_outside(step):
    subprocess.Popen(["kill", "-KILL", str(os.getpid())])
    time.sleep(30)

@step(r"I crash on my first attempt only")
def crash_once(step):
    mark("attempts", f"{step.scenario.name} {os.getpid()}")
    if not os.path.exists(os.path.join("marks", "crashed-once")):
        mark("crashed-once")
        os._exit(3)

@step(r"I always crash")
def always_crash(step):
    mark("attempts", f"{step.scenario.name} {os.getpid()}")
    os._exit(3)

@step(r"I hang")
def hang_forever(step):
    time.sleep(120)

@step(r"I take a while")
def take_a_while(step):
    time.sleep(1.5)
"""


def feature(title: str, scenarios: list[tuple[str, str]]) -> str:
    """A feature with one single-step scenario per (name, step text)."""
    body = "".join(f"  Scenario: {name}\n    Given {text}\n" for name, text in scenarios)
    return f"Feature: {title}\n{body}"


def marks(suite: Suite, name: str) -> list[str]:
    path = suite.root / "marks" / name
    if not path.exists():
        return []
    return [line for line in path.read_text().split("\n") if line]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


FIRST_CTRL_C = "Interrupted: finishing running scenarios"


class Follow:
    """Reads a running pbdd's output as it comes, so a test can wait for a line of it."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.chunks: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.readers = [
            threading.Thread(target=self._read, args=(name,), daemon=True) for name in self.chunks
        ]
        for reader in self.readers:
            reader.start()

    def _read(self, name: str) -> None:
        for line in getattr(self.process, name):
            self.chunks[name].append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.chunks["stderr"])

    def finish(self, timeout: float = 60) -> Run:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise AssertionError(f"pbdd did not exit in {timeout} s:\n{self.stderr}") from None
        for reader in self.readers:
            reader.join(10)
        return Run(self.process.returncode, "".join(self.chunks["stdout"]), self.stderr)


def history(suite: Suite) -> dict[str, dict[str, object]]:
    return json.loads((suite.root / ".scenarios").read_text())["scenarios"]


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


def no_traceback_of_ours(run: Run) -> None:
    assert "parallel_bdd/" not in run.output, run.output


# -- Ctrl-C ------------------------------------------------------------------------------
@pytest.mark.parametrize("processes", [1, 2])
def test_ctrl_c_once_lets_running_scenarios_finish_runs_after_hooks_and_exits_130(suite, processes):
    names = [f"long {i}" for i in range(6)]
    suite.feature("long.feature", feature("Long", [(n, "I work for 2 seconds") for n in names]))
    suite.steps(TOOLKIT)
    pbdd = suite.popen("features", "-p", str(processes), "--grace", "20")
    wait_for(lambda: len(marks(suite, "started")) == processes, 60, "scenarios to start")
    started = marks(suite, "started")
    os.killpg(pbdd.pid, signal.SIGINT)
    run = finish(pbdd)

    assert run.returncode == 130, run.output
    assert marks(suite, "started") == started  # no new scenario started
    assert sorted(marks(suite, "after-scenario")) == sorted(started)
    assert sorted(marks(suite, "after-batch")) == sorted(marks(suite, "before-batch"))
    assert len(marks(suite, "before-batch")) == processes
    assert marks(suite, "after-all") == [str(processes)]
    # the running scenarios' results arrived after the signal (in parallel: through the
    # SyncManager's queue, so the manager survived the Ctrl-C)
    for name in started:
        assert re.search(rf"{name} \.\.\. OK", run.stdout), run.output
    assert f"{plural(processes, 'scenario')} ({processes} passed)" in run.stdout
    assert f"Interrupted: {6 - processes} scenarios not run" in run.stdout
    recorded = history(suite)
    assert sorted(recorded) == sorted(f"features/long.feature::{name}" for name in started)
    assert "Traceback" not in run.output


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_ctrl_c_while_the_pool_starts_exits_130_without_a_traceback(suite, start_method):
    names = [f"long {i}" for i in range(4)]
    suite.feature("long.feature", feature("Long", [(n, "I work for 1 second") for n in names]))
    suite.steps(TOOLKIT)
    pbdd = suite.popen("features", "-p", "2", "--start-method", start_method)
    parent = psutil.Process(pbdd.pid)
    # multiprocessing's helper process, then the manager: interpreters still starting up,
    # in the terminal's process group, when the Ctrl-C comes; none of them may die of it
    wait_for(lambda: len(parent.children()) >= 2, 60, "the pool's first processes")
    os.killpg(pbdd.pid, signal.SIGINT)
    run = finish(pbdd)

    assert run.returncode == 130, run.output
    assert "Traceback" not in run.output
    assert "Aborted" not in run.output
    assert sorted(marks(suite, "after-batch")) == sorted(marks(suite, "before-batch"))


def test_ctrl_c_twice_kills_workers_and_their_children_and_exits_130_at_once(suite):
    suite.feature(
        "servers.feature",
        feature(
            "Servers", [(f"server {i}", "I start a long-lived child process") for i in range(4)]
        ),
    )
    suite.steps(TOOLKIT)
    # The steps sleep 120 s and the grace is longer still: a pbdd that waited for either
    # instead of killing would outlive finish()'s 60 s.
    pbdd = suite.popen("features", "-p", "2", "--grace", "600")
    output = Follow(pbdd)
    wait_for(lambda: len(marks(suite, "children")) == 2, 60, "two child processes")
    workers = [child.pid for child in psutil.Process(pbdd.pid).children()]
    children = [int(pid) for pid in marks(suite, "children")]
    os.killpg(pbdd.pid, signal.SIGINT)
    # the second press only once pbdd has taken the first: two pending SIGINTs are one
    wait_for(lambda: FIRST_CTRL_C in output.stderr, 60, "pbdd to take the first Ctrl-C")
    os.killpg(pbdd.pid, signal.SIGINT)
    run = output.finish()

    assert run.returncode == 130, run.output
    assert "Interrupted again: killing the workers" in run.stderr
    assert marks(suite, "after-scenario") == []  # killed mid-step, not allowed to finish
    wait_for(lambda: not any(alive(pid) for pid in children + workers), 10, "processes to go")
    assert "Interrupted: 4 scenarios not run" in run.stdout
    assert "Traceback" not in run.output


@pytest.mark.parametrize("start_method", ["spawn", "forkserver", "fork"])
def test_parent_killed_with_sigkill_leaves_no_process_behind(suite, start_method):
    suite.feature(
        "servers.feature",
        feature(
            "Servers", [(f"server {i}", "I start a long-lived child process") for i in range(4)]
        ),
    )
    suite.steps(TOOLKIT)
    pbdd = suite.popen("features", "-p", "2", "--start-method", start_method)
    wait_for(lambda: len(marks(suite, "children")) == 2, 60, "two child processes")
    descendants = [child.pid for child in psutil.Process(pbdd.pid).children(recursive=True)]
    # two workers, their two `sleep 300`, the SyncManager (and, by start method,
    # multiprocessing's resource tracker and fork server)
    assert len(descendants) >= 5, descendants
    pbdd.kill()
    pbdd.wait()
    wait_for(
        lambda: not any(alive(pid) for pid in descendants),
        5,
        f"every process of the run to exit: {[p for p in descendants if alive(p)]}",
    )


# -- crashed and hung workers --------------------------------------------------------------
def test_worker_crashes_are_errored_with_the_cause_and_fresh_workers_take_over(suite):
    crashes = [
        ("exits", "I exit with code 3"),
        ("segfaults", "I crash with SIGSEGV"),
        ("is killed", "I am killed from outside"),
    ]
    normal = [(f"normal {i}", "I work for 0.4 seconds") for i in range(8)]
    suite.feature("crash.feature", feature("Crashes", crashes + normal))
    suite.steps(TOOLKIT)
    run = suite.run("features", "-p", "2", "-v", "2")

    assert run.returncode == 1, run.output
    assert re.search(r"exits \.\.\. ERROR", run.stdout), run.output
    assert "died (exited with code 3)" in run.stdout
    assert "died (killed by signal SIGSEGV)" in run.stdout
    assert "died (killed by signal SIGKILL)" in run.stdout
    # faulthandler's dump, from the worker's log, shows where it crashed
    assert "Fatal Python error: Segmentation fault" in run.stdout
    assert re.search(r'steps\.py", line \d+ in segfault', run.stdout), run.stdout
    assert "11 scenarios (3 errored, 8 passed)" in run.stdout
    # the crashed scenarios' steps reported nothing: counted as skipped, not dropped
    assert "11 steps (3 skipped, 8 passed)" in run.stdout
    assert sorted(marks(suite, "started")) == [f"normal {i}" for i in range(8)]
    # a fresh worker, with its own before.batch, took each crashed one's place while work
    # was left (always for the first two crashes: they are the first two scenarios)
    replaced = run.stderr.count("a fresh worker takes its place")
    assert replaced >= 2, run.stderr
    assert len(set(marks(suite, "before-batch"))) == 2 + replaced
    assert "Traceback" not in run.output


def test_requeue_crashed_reruns_on_a_fresh_worker_and_reports_each_attempt(suite):
    suite.feature(
        "flaky.feature",
        feature(
            "Flaky",
            [
                ("flaky", "I crash on my first attempt only"),
                ("doomed", "I always crash"),
                ("fine 1", "I pass"),
                ("fine 2", "I pass"),
            ],
        ),
    )
    suite.steps(TOOLKIT)
    run = suite.run("features", "-p", "2", "--requeue-crashed", "1", "-v", "2")

    assert run.returncode == 1, run.output
    assert re.search(r"^flaky \.\.\. ERROR", run.stdout, re.M), run.output
    assert re.search(r"^flaky \[attempt 2\] \.\.\. OK", run.stdout, re.M), run.output
    assert re.search(r"^doomed \.\.\. ERROR", run.stdout, re.M), run.output
    assert re.search(r"^doomed \[attempt 2\] \.\.\. ERROR", run.stdout, re.M), run.output
    assert "doomed [attempt 3]" not in run.stdout
    assert "4 scenarios (1 errored, 3 passed)" in run.stdout
    attempts = [line.split() for line in marks(suite, "attempts")]
    batches = marks(suite, "before-batch")
    for name in ("flaky", "doomed"):
        pids = [pid for scenario, pid in attempts if scenario == name]
        assert len(pids) == 2 and pids[0] != pids[1], attempts
        # the re-run's worker is a fresh one: its before.batch came after the crash
        assert batches.index(pids[1]) > batches.index(pids[0])


def test_hung_step_is_reported_with_its_stack_and_the_run_goes_on(suite):
    scenarios = [("hangs", "I hang")] + [(f"fine {i}", "I work for 0.5 seconds") for i in range(8)]
    suite.feature("hang.feature", feature("Hang", scenarios))
    suite.steps(TOOLKIT)
    run = suite.run(
        "features", "-p", "2", "--timeout", "2", "--slow-step-warning", "0.5", "-v", "2"
    )

    assert run.returncode == 1, run.output
    assert "timed out after 2 s (--timeout)" in run.stdout
    report = run.stdout.split("ERROR: Scenario: hangs", 1)[1]
    assert "Stack of worker" in report
    assert re.search(r'steps\.py", line \d+ in hang_forever', report), report
    assert "9 scenarios (1 errored, 8 passed)" in run.stdout
    assert len(set(marks(suite, "before-batch"))) >= 3  # the hung worker was replaced
    # the slow-step warning came first, with the step's stack
    warning = run.stderr.index("Warning: slow step in 'hangs'")
    assert warning < run.stderr.index("exceeded --timeout 2 s")
    assert "in hang_forever" in run.stderr[warning:]


@pytest.mark.parametrize("processes", ["1", "2"])
def test_slow_step_warning_shows_the_stack_once_and_the_scenario_passes(suite, processes):
    suite.feature(
        "slow.feature", feature("Slow", [("slow one", "I take a while"), ("quick", "I pass")])
    )
    suite.steps(TOOLKIT)
    run = suite.run("features", "-p", processes, "--slow-step-warning", "0.4", "--no-history")

    assert run.returncode == 0, run.output
    assert run.stderr.count("Warning: slow step") == 1, run.output
    warning = run.stderr.split("Warning: slow step", 1)[1]
    assert "'Given I take a while' (line 3)" in warning
    assert "in take_a_while" in warning
    assert "time.sleep(1.5)" in warning
    assert "parallel_bdd" not in warning  # the stack starts at the step function


# -- hooks that raise ----------------------------------------------------------------------
def test_before_batch_failing_in_one_worker_retires_it_and_the_other_runs_everything(suite):
    suite.feature("work.feature", feature("Work", [(f"job {i}", "I pass") for i in range(4)]))
    suite.steps(TOOLKIT)
    suite.steps(
        """
        from parallel_bdd import before, world

        @before.batch
        def broken_on_worker_1():
            if world.worker_id == 1:
                raise RuntimeError("no database for worker 1")
        """,
        name="hooks.py",
    )
    run = suite.run("features", "-p", "2", "-v", "2")

    assert run.returncode == 1, run.output
    assert "HOOK FAILED: before.batch on worker 1: RuntimeError: no database for worker 1" in (
        run.stdout
    )
    assert "worker 1 retired" in run.stderr
    assert "4 scenarios (4 passed)" in run.stdout
    assert all("worker 0" in line for line in run.stdout.split("\n") if " ... OK" in line)


def test_before_batch_failing_in_every_worker_exits_2_with_the_error(suite):
    suite.feature("work.feature", feature("Work", [(f"job {i}", "I pass") for i in range(4)]))
    suite.steps(
        """
        from parallel_bdd import before, step

        @before.batch
        def broken():
            raise RuntimeError("the browser would not start")

        @step("I pass")
        def passes(step):
            pass
        """
    )
    run = suite.run("features", "-p", "2", timeout=60)

    assert run.returncode == 2, run.output
    assert "every worker failed in before.batch" in run.stderr
    for worker in (0, 1):
        assert (
            f"HOOK FAILED: before.batch on worker {worker}: "
            "RuntimeError: the browser would not start"
        ) in run.stdout
    assert "Interrupted" not in run.output


def test_failing_scenario_hooks_error_the_scenario_and_after_hooks_are_reported(suite):
    suite.feature(
        "hooks.feature",
        feature(
            "Hooks",
            [("bad start", "I pass"), ("bad end", "I pass"), ("fine", "I pass")],
        ),
    )
    suite.steps(TOOLKIT)
    suite.steps(
        """
        from parallel_bdd import after, before

        @before.each_scenario
        def refuse_to_start(sc):
            if sc.name == "bad start":
                raise ValueError("fixture missing")

        @after.each_scenario
        def refuse_to_end(sc):
            if sc.name == "bad end":
                raise ValueError("cleanup failed")

        @after.batch
        def batch_cleanup_fails():
            raise OSError("could not stop the server")

        @after.all
        def final_cleanup_fails(total):
            raise KeyError("report")
        """,
        name="hooks.py",
    )
    run = suite.run("features", "-p", "2", "-v", "2")

    assert run.returncode == 1, run.output
    assert "before.each_scenario hook failed: ValueError: fixture missing" in run.stdout
    assert "after.each_scenario hook failed: ValueError: cleanup failed" in run.stdout
    assert "3 scenarios (2 errored, 1 passed)" in run.stdout
    assert "bad start" not in " ".join(marks(suite, "ran"))  # its steps never ran
    assert run.stdout.count("HOOK FAILED: after.batch on worker") == 2
    assert "OSError: could not stop the server" in run.stdout
    assert "HOOK FAILED: after.all: KeyError: 'report'" in run.stdout


# -- results that would not pickle ---------------------------------------------------------
def test_unpicklable_exceptions_and_sockets_on_world_never_lose_a_result(suite):
    suite.feature(
        "pickles.feature",
        feature(
            "Pickles",
            [
                ("local exception", "a step raises an exception class defined in a function"),
                ("locked exception", "a step raises an exception holding a lock"),
                ("sockets", "a step keeps sockets on world and scenario"),
                ("after sockets", "the sockets are still there"),
            ],
        ),
    )
    suite.steps(
        """
        import socket, threading
        from parallel_bdd import before, scenario, step, world

        @before.all
        def shared_socket():
            world.parent_socket = socket.socket()  # does not pickle: made again in each worker
            world.plain = "copied"

        @before.batch
        def worker_socket():
            world.worker_socket = socket.socket()

        @step("a step raises an exception class defined in a function")
        def local_exception(step):
            class Local(Exception):
                pass
            raise Local("defined inside a function")

        class Locked(Exception):
            def __init__(self):
                super().__init__("holding a lock")
                self.lock = threading.Lock()

        @step("a step raises an exception holding a lock")
        def locked_exception(step):
            raise Locked()

        @step("a step keeps sockets on world and scenario")
        def sockets(step):
            world.step_socket = socket.socket()
            scenario.socket = socket.socket()
            assert world.plain == "copied"

        @step("the sockets are still there")
        def still_there(step):
            assert isinstance(world.worker_socket, socket.socket)
            assert isinstance(world.parent_socket, socket.socket)
        """
    )
    run = suite.run("features", "-p", "2", "-v", "2")

    assert run.returncode == 1, run.output
    assert "4 scenarios (2 failed, 2 passed)" in run.stdout
    assert "Local: defined inside a function" in run.stdout
    assert "Locked: holding a lock" in run.stdout
    assert "Warning" not in run.output
    assert "Traceback (most recent call last)" in run.stdout  # the user's, trimmed
    no_traceback_of_ours(run)


# -- volume --------------------------------------------------------------------------------
def test_two_thousand_scenarios_on_eight_workers_are_each_reported_exactly_once(suite):
    for file_index in range(20):
        scenarios = [(f"case {file_index}-{i}", "I do nothing") for i in range(100)]
        suite.feature(f"bulk{file_index:02d}.feature", feature(f"Bulk {file_index}", scenarios))
    suite.steps(
        """
        from parallel_bdd import step

        @step("I do nothing")
        def nothing(step):
            pass
        """
    )
    run = suite.run("features", "-p", "8", "-v", "0", "--junit-xml", "report.xml", timeout=300)

    assert run.returncode == 0, run.output[-3000:]
    assert "2000 scenarios (2000 passed)" in run.stdout
    cases = [
        case
        for test_suite in JUnitXml.fromfile(str(suite.root / "report.xml"))
        for case in test_suite
    ]
    names = [f"{case.classname}::{case.name}" for case in cases]
    assert len(names) == 2000
    assert len(set(names)) == 2000
    expected = {
        f"features/bulk{f:02d}.feature::case {f}-{i}" for f in range(20) for i in range(100)
    }
    assert set(history(suite)) == expected


# -- isolation between scenarios on one worker ---------------------------------------------
def test_log_records_carry_worker_and_scenario_ids_into_failure_reports(suite):
    suite.feature(
        "logs.feature", feature("Logs", [("logged failure", "I log and fail"), ("ok", "I pass")])
    )
    suite.steps(TOOLKIT)
    suite.steps(
        """
        import logging
        from parallel_bdd import step

        @step("I log and fail")
        def log_and_fail(step):
            logging.getLogger("shop.payments").warning("card declined")
            raise AssertionError("payment failed")
        """,
        name="logging_steps.py",
    )
    run = suite.run("features", "-p", "2", "-v", "2", "--no-history")

    assert run.returncode == 1, run.output
    report = run.stdout.split("FAILED: Scenario: logged failure", 1)[1]
    assert "--- Captured log ---" in report
    assert re.search(
        r"WARNING +shop\.payments \[worker [01] features/logs\.feature::logged failure\] "
        r"card declined",
        report,
    ), report


def test_monkeypatch_is_undone_before_the_next_scenario_on_the_same_worker(suite):
    suite.feature(
        "patches.feature",
        "Feature: Patches\n"
        "  Scenario: patches and fails\n"
        "    Given I patch everything\n"
        "    Then I fail\n"
        "  Scenario: patches and passes\n"
        "    Given I patch everything\n"
        "  Scenario: sees a clean worker\n"
        "    Given nothing is patched\n",
    )
    suite.steps(
        """
        import json, os
        from parallel_bdd import scenario, step, world

        world.settings = {"mode": "real"}
        os.environ["PBDD_KEEP"] = "kept"

        @step("I patch everything")
        def patch(step):
            mp = scenario.monkeypatch
            mp.setattr(json, "dumps", lambda *a, **k: "patched")
            mp.setattr(world, "fake_clock", 42)
            mp.setitem(world.settings, "mode", "fake")
            mp.setenv("PBDD_PATCHED", "yes")
            mp.delenv("PBDD_KEEP")
            assert json.dumps({}) == "patched"

        @step("I fail")
        def fail(step):
            raise AssertionError("failing after patching")

        @step("nothing is patched")
        def check(step):
            assert json.dumps({}) == "{}", "json.dumps is still patched"
            assert not hasattr(world, "fake_clock"), "world.fake_clock leaked"
            assert world.settings == {"mode": "real"}, world.settings
            assert "PBDD_PATCHED" not in os.environ, "PBDD_PATCHED leaked"
            assert os.environ.get("PBDD_KEEP") == "kept", "PBDD_KEEP was not restored"
        """
    )
    run = suite.run("features", "-p", "1", "-v", "2", "--no-history")

    assert run.returncode == 1, run.output
    assert re.search(r"sees a clean worker \.\.\. OK", run.stdout), run.output
    assert "3 scenarios (1 failed, 2 passed)" in run.stdout


def test_max_scenarios_per_worker_recycles_workers_with_a_fresh_before_batch(suite):
    suite.feature("jobs.feature", feature("Jobs", [(f"job {i}", "I pass") for i in range(6)]))
    suite.steps(TOOLKIT)
    run = suite.run("features", "-p", "2", "--max-scenarios-per-worker", "2", "--no-history")

    assert run.returncode == 0, run.output
    assert "6 scenarios (6 passed)" in run.stdout
    ran = [line.rsplit(" ", 1) for line in marks(suite, "ran")]
    assert len(ran) == 6
    per_process: dict[str, int] = {}
    for _, pid in ran:
        per_process[pid] = per_process.get(pid, 0) + 1
    assert max(per_process.values()) <= 2, per_process
    assert len(per_process) >= 3
    batches = marks(suite, "before-batch")
    assert set(per_process) <= set(batches)  # every process that ran had its own before.batch
    assert sorted(marks(suite, "after-batch")) == sorted(batches)


# -- the end of a run ----------------------------------------------------------------------
@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_workers_end_with_their_exit_handlers_run_and_their_threads_finished(suite, start_method):
    # Whatever a suite left to run at a worker's exit still runs: atexit handlers in every
    # worker, and a thread that is not a daemon (here only in worker 0).
    suite.feature("work.feature", feature("Work", [(f"s{i}", "I pass") for i in range(4)]))
    suite.steps(TOOLKIT)
    suite.steps(
        """
        import atexit, os, threading, time
        from parallel_bdd import before, world

        def note_exit(pid=os.getpid()):
            with open(os.path.join("marks", "exit"), "a") as f:
                f.write(f"{pid}\\n")

        atexit.register(note_exit)

        @before.batch
        def start_a_thread_that_outlives_the_batch():
            if world.worker_id != 0:
                return
            def finish_later(pid=os.getpid()):
                time.sleep(0.5)
                with open(os.path.join("marks", "thread"), "a") as f:
                    f.write(f"{pid}\\n")
            threading.Thread(target=finish_later).start()
        """,
        name="at_exit.py",
    )
    run = suite.run("features", "-p", "2", "--start-method", start_method)
    assert run.returncode == 0, run.output
    workers = set(marks(suite, "before-batch"))
    assert len(workers) == 2, run.output
    exits = set(marks(suite, "exit"))
    if start_method == "spawn":
        # forkserver workers end with os._exit, as multiprocessing always ended them
        assert workers <= exits, (workers, exits)
    assert len(marks(suite, "thread")) == 1
    assert set(marks(suite, "thread")) <= workers


def test_a_closed_output_ends_the_run_quietly_with_every_worker(suite):
    # `pbdd ... | head -3`: the reader goes away. The run ends without a worker's traceback
    # (one still starting used to find its log directory removed), each worker that began
    # its batch also ends it, and no worker is left behind.
    scenarios = [(f"s{i}", "I work for 0.1 seconds") for i in range(30)]
    suite.feature("work.feature", feature("Work", scenarios))
    suite.steps(TOOLKIT)
    # The parent imports the suite first; the first worker to import it then holds until
    # the test releases it, which it does once the output is closed: that worker goes on
    # starting while the run ends, whatever the machine's speed.
    suite.steps(
        """
        import os, time
        os.makedirs("marks", exist_ok=True)
        with open(os.path.join("marks", "imported"), "a") as f:
            f.write(f"{os.getpid()}\\n")
        def claim(name):
            try:
                os.close(os.open(os.path.join("marks", name), os.O_CREAT | os.O_EXCL))
                return True
            except FileExistsError:
                return False
        if not claim("parent") and claim("held"):
            while not os.path.exists(os.path.join("marks", "release")):
                time.sleep(0.01)  # the suite's own wait, released by the test
        """,
        name="imports.py",
    )

    def closed_after(line_wanted: Callable[[str], bool], hold: bool) -> list[str]:
        """Run pbdd, close its output once a wanted line came; the workers that started."""
        shutil.rmtree(suite.root / "marks", ignore_errors=True)
        if not hold:
            (suite.root / "marks").mkdir()
            (suite.root / "marks" / "release").touch()
        pbdd = suite.popen("features", "-p", "2", "-v", "3")
        assert pbdd.stdout is not None and pbdd.stderr is not None
        while not line_wanted(pbdd.stdout.readline()):
            pass
        if hold:
            held = suite.root / "marks" / "held"
            wait_for(held.exists, 60, "a worker held in its start")
        pbdd.stdout.close()
        (suite.root / "marks" / "release").touch(exist_ok=True)
        stderr = pbdd.stderr.read()
        pbdd.wait(60)
        assert "Traceback" not in stderr, stderr
        workers = marks(suite, "before-batch")
        assert sorted(marks(suite, "after-batch")) == sorted(workers)
        assert not any(alive(int(pid)) for pid in workers)
        return [pid for pid in marks(suite, "imported") if pid != str(pbdd.pid)]

    # The reader leaves after the first line, while a worker is held in its start.
    closed_after(lambda line: True, hold=True)
    assert (suite.root / "marks" / "held").exists()  # the race was set up
    # The reader leaves once scenarios ran: both workers began their batch, the run ends
    # before the rest of its scenarios.
    closed_after(lambda line: "Scenario:" in line or not line, hold=False)
    assert len(marks(suite, "before-batch")) == 2
    assert 0 < len(marks(suite, "started")) < 30


def test_a_parallel_run_leaves_no_temporary_directory_behind(suite, tmp_path):
    # the manager removes its socket's directory, the pool its workers' log directory
    suite.feature("work.feature", feature("Work", [(f"s{i}", "I pass") for i in range(4)]))
    suite.steps(TOOLKIT)
    temp = tmp_path / "temp"
    temp.mkdir()
    run = suite.run("features", "-p", "2", env={**suite.env(), "TMPDIR": str(temp)})
    assert run.returncode == 0, run.output
    assert "4 scenarios (4 passed)" in run.stdout
    assert list(temp.iterdir()) == []


# -- history -------------------------------------------------------------------------------
def test_two_runs_in_one_directory_both_save_their_history(suite):
    scenarios = [(f"apple {i}", "I work for 0.3 seconds") for i in range(3)]
    scenarios += [(f"banana {i}", "I work for 0.3 seconds") for i in range(3)]
    suite.feature("fruit.feature", feature("Fruit", scenarios))
    suite.steps(TOOLKIT)
    apples = suite.popen("features", "-n", "^apple", "-p", "2")
    bananas = suite.popen("features", "-n", "^banana", "-p", "2")
    runs = [finish(apples), finish(bananas)]

    for run in runs:
        assert run.returncode == 0, run.output
        assert "3 scenarios (3 passed)" in run.stdout
    recorded = history(suite)
    assert sorted(recorded) == sorted(f"features/fruit.feature::{name}" for name, _ in scenarios)
    assert all(entry["status"] == "passed" for entry in recorded.values())
    assert not Path(suite.root, ".scenarios.bak").exists()


def test_ctrl_c_during_after_all_still_reports_saves_history_and_exits_130(suite):
    suite.feature("late.feature", "Feature: Late\n  Scenario: quick\n    Given I pass\n")
    suite.steps(
        """
        import time
        from parallel_bdd import step, after

        @step("I pass")
        def passes(step):
            pass

        @after.all
        def slow_teardown(total):
            open("in-after-all", "w").close()
            time.sleep(1.5)
            open("after-all-done", "w").close()
        """
    )
    process = suite.popen("features", "-v", "2")
    deadline = time.monotonic() + 60
    while not (suite.root / "in-after-all").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "after.all never started"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stdout + stderr
    assert (suite.root / "after-all-done").exists()  # after.all was allowed to finish
    assert "1 scenario (1 passed)" in stdout
    assert "finishing after.all, the report and the history" in stderr
    history = json.loads((suite.root / ".scenarios").read_text())["scenarios"]
    assert "features/late.feature::quick" in history


@pytest.mark.parametrize("hook", ["before", "after"])
def test_timeout_bounds_a_hanging_batch_hook(suite, hook):
    scenarios = "".join(f"  Scenario: s{i}\n    Given I pass\n" for i in range(4))
    suite.feature("batch.feature", "Feature: Batch\n" + scenarios)
    suite.steps(
        f"""
        import os, time
        from parallel_bdd import step, {hook}, world

        @step("I pass")
        def passes(step):
            time.sleep(0.1)

        def stuck_in_batch_hook():
            time.sleep(120)

        @{hook}.batch
        def hangs_on_worker_one():
            if world.worker_id == 1:
                with open("stuck-worker", "w") as f:
                    f.write(str(os.getpid()))
                stuck_in_batch_hook()
        """
    )
    # a pbdd that waited for the hook would outlive the 90 s given to the run
    run = suite.run("features", "-p", "2", "--timeout", "3", "--no-history", timeout=90)
    stuck = int((suite.root / "stuck-worker").read_text())
    wait_for(lambda: not alive(stuck), 10, "the stuck worker to be killed")
    assert run.returncode == 1, run.output
    assert "4 scenarios (4 passed)" in run.stdout  # worker 0 ran whatever worker 1 could not
    assert f"{hook}.batch on worker 1 did not finish within --timeout 3 s" in run.output
    assert "in stuck_in_batch_hook" in run.output


def test_a_result_that_would_not_pickle_is_replaced_alone_by_an_errored_one():
    # results are plain data, so only a bug could put something unpicklable in one; the
    # worker still sends the rest of the batch and an errored result in its place
    from parallel_bdd import messages as m
    from parallel_bdd.worker import _Channel

    class Events:
        def __init__(self) -> None:
            self.events: list[m.WorkerEvent] = []

        def put(self, event: m.WorkerEvent) -> None:
            self.events.append(event)

    events = Events()
    channel = _Channel((None, events), worker_id=3)
    good = m.ScenarioResult("f.feature::good", m.PASSED, duration=0.5, worker_id=3)
    bad = m.ScenarioResult("f.feature::bad", m.PASSED, duration=0.25, worker_id=3)
    object.__setattr__(bad, "stdout", lambda: None)  # not plain data any more
    channel.send_results((good, bad))

    received = [result for event in events.events for result in event.results()]
    assert [result.scenario_id for result in received] == ["f.feature::good", "f.feature::bad"]
    assert received[0] == good
    replaced = received[1]
    assert (replaced.status, replaced.duration, replaced.worker_id) == (m.ERRORED, 0.25, 3)
    assert "could not send this result to the parent" in replaced.error
