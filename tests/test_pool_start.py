"""How the pool starts its workers: one per CPU and the manager while the parent still
loads the suite, then one per CPU at a time, so the first ones start work early.

The staggering tests pin pbdd (and so every process it starts) to one CPU with the
affinity mask, and the suite's terrain.py logs when each worker's import of it begins and
ends. The order of those events is what the tests check, never how long anything took.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
import time
import uuid

import psutil
import pytest

from parallel_bdd.manager import launch_manager, new_manager, new_queues
from parallel_bdd.pool_request import requested_pool
from parallel_bdd.warmup import PoolWarmup, early_workers, sigint_blocked, start_context

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)"
)

TERRAIN = """
    import multiprocessing
    import os
    import time

    from parallel_bdd import before, world

    IMPORT_SECONDS = {import_seconds}
    LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "imports.log")
    in_worker = multiprocessing.parent_process() is not None
    if in_worker:
        with open(LOG, "a") as log:
            log.write(f"{{os.getpid()}} begin {{time.monotonic()}}\\n")
        time.sleep(IMPORT_SECONDS)
        with open(LOG, "a") as log:
            log.write(f"{{os.getpid()}} end {{time.monotonic()}}\\n")


    @before.batch
    def note_batch():
        with open(LOG, "a") as log:
            log.write(f"{{os.getpid()}} batch {{world.port_number}}\\n")
"""


def _write_suite(suite, import_seconds: float, scenarios: int = 8) -> None:
    suite.terrain(TERRAIN.format(import_seconds=import_seconds))
    suite.steps(
        """
        import time
        from parallel_bdd import step

        @step(r"I wait (\\d+) ms")
        def wait(step, ms):
            time.sleep(int(ms) / 1000)
        """
    )
    body = "".join(f"  Scenario: s{i}\n    Given I wait 300 ms\n\n" for i in range(scenarios))
    suite.feature("work.feature", "Feature: work\n\n" + body)


def _run_on_one_cpu(suite, *args: str):
    cpu = min(os.sched_getaffinity(0))
    return suite.run(*args, preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))


def _imports(suite) -> dict[int, dict[str, float]]:
    events: dict[int, dict[str, float]] = {}
    for line in (suite.root / "imports.log").read_text().splitlines():
        pid, what, value = line.split()
        events.setdefault(int(pid), {})[what] = float(value)
    return events


def test_on_one_cpu_each_worker_starts_after_the_previous_one_imported_the_suite(suite):
    _write_suite(suite, import_seconds=0.1)
    completed = _run_on_one_cpu(suite, "features", "-p", "3")
    assert completed.returncode == 0, completed.output
    assert "8 scenarios (8 passed)" in completed.stdout
    workers = sorted(_imports(suite).values(), key=lambda events: events["begin"])
    assert len(workers) == 3, workers
    for earlier, later in zip(workers, workers[1:]):
        # staggered: no two workers' imports overlap on a single CPU
        assert later["begin"] >= earlier["end"], workers
    ports = sorted(int(events["batch"]) for events in workers)
    assert len(set(ports)) == 3  # every worker still ran before.batch, on its own port


def test_a_worker_slow_to_import_does_not_hold_back_the_next_one_for_long(suite):
    # an import that waits (not CPU work) longer than the stagger allows: the next worker
    # starts anyway, so the two imports overlap
    _write_suite(suite, import_seconds=2.5)
    completed = _run_on_one_cpu(suite, "features", "-p", "2")
    assert completed.returncode == 0, completed.output
    first, second = sorted(_imports(suite).values(), key=lambda events: events["begin"])
    assert second["begin"] < first["end"]


def test_a_run_that_ends_before_every_worker_started_reports_everything(suite):
    # -p 4 on one CPU with a quick suite: the work may be done before the last workers
    # would start; the run still ends cleanly, each started worker ran its batch hooks once
    _write_suite(suite, import_seconds=0.0, scenarios=4)
    suite.steps(
        """
        from parallel_bdd import step

        @step(r"I wait (\\d+) ms")
        def wait(step, ms):
            pass
        """
    )
    completed = _run_on_one_cpu(suite, "features", "-p", "4")
    assert completed.returncode == 0, completed.output
    assert "4 scenarios (4 passed)" in completed.stdout
    workers = _imports(suite)
    assert 1 <= len(workers) <= 4
    assert all("batch" in events for events in workers.values()), workers


EARLY_TERRAIN = """
    import os

    import psutil
    from parallel_bdd import before, world

    LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "early.log")


    @before.all
    def children_before_the_pool():
        # runs in the parent after the suite is loaded, before the pool starts
        with open(LOG, "a") as log:
            for child in psutil.Process().children(recursive=True):
                log.write(f"child {child.pid}\\n")


    @before.batch
    def note_worker():
        with open(LOG, "a") as log:
            log.write(f"worker{world.worker_id} {os.getpid()}\\n")
"""


def _early_log(suite) -> dict[str, set[int]]:
    seen: dict[str, set[int]] = {}
    for line in (suite.root / "early.log").read_text().splitlines():
        what, pid = line.split()
        seen.setdefault(what, set()).add(int(pid))
    return seen


@pytest.mark.parametrize(
    ("args", "pyproject"),
    [
        (("-p", "3"), ""),  # seen on the command line before pbdd's own imports
        (("-p", "3", "--start-method", "forkserver"), ""),
        ((), "[tool.pbdd]\nprocesses = 3\n"),  # seen once the options are read
    ],
)
@pytest.mark.parametrize("cpus", [1, 2])
def test_one_worker_per_cpu_is_started_while_the_parent_loads_the_suite(
    suite, args, pyproject, cpus
):
    if len(os.sched_getaffinity(0)) < cpus:
        pytest.skip(f"needs {cpus} CPUs")
    _write_suite(suite, import_seconds=0.0, scenarios=6)
    suite.terrain(EARLY_TERRAIN)
    if pyproject:
        suite.write("pyproject.toml", pyproject)
    allowed = set(sorted(os.sched_getaffinity(0))[:cpus])
    completed = suite.run("features", *args, preexec_fn=lambda: os.sched_setaffinity(0, allowed))
    assert completed.returncode == 0, completed.output
    assert "6 scenarios (6 passed)" in completed.stdout
    seen = _early_log(suite)
    # the first workers (and the manager) already ran when before.all ran in the parent,
    # one per CPU; the third starts with the pool
    for worker_id in range(cpus):
        assert seen[f"worker{worker_id}"] <= seen["child"], seen
    for worker_id in range(cpus, 3):
        assert not seen[f"worker{worker_id}"] & seen["child"], seen


def test_a_pool_smaller_than_the_warm_up_ends_the_early_workers_it_does_not_take():
    # fewer scenarios than CPUs: the pool has fewer slots than workers were started early
    if early_workers(2) < 2:
        pytest.skip("needs 2 CPUs")
    warmup = PoolWarmup("spawn", 2)
    warmup.start()
    try:
        ((process, pipe),) = warmup.hand_over(1)
    finally:
        warmup.close()  # the pool's worker stays; the other ended in hand_over
    (other,) = [early for early, _ in warmup.workers if early is not process]
    assert not other.is_alive()
    assert process.is_alive()
    pipe.close()  # no spec will come: the worker exits by itself
    process.join(10)
    assert process.exitcode == 0


def test_the_queues_reach_a_worker_without_a_reference_count_of_their_own():
    # A proxy unpickled elsewhere would register with the manager (a connection with its
    # authentication) and unregister at exit (another), in every worker; the parent's
    # proxies keep the queues alive for the whole run.
    manager, _ = new_manager(start_context("spawn"))
    with sigint_blocked():
        launch_manager(manager)
    try:
        work, events = new_queues(manager)
        references = manager._debug_info()
        copies = [pickle.loads(pickle.dumps(queue)) for queue in (work, events)]
        assert manager._debug_info() == references
        for copy, queue in zip(copies, (work, events)):
            copy.put("entry")
            assert queue.get(timeout=10) == "entry"
    finally:
        manager.shutdown()


def test_with_fork_the_workers_start_when_the_pool_does(suite):
    _write_suite(suite, import_seconds=0.0, scenarios=4)
    suite.terrain(EARLY_TERRAIN)
    completed = suite.run("features", "-p", "2", "--start-method", "fork")
    assert completed.returncode == 0, completed.output
    seen = _early_log(suite)
    assert not seen["worker0"] & seen.get("child", set()), seen


def _processes_with(token: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("PBDD_TEST_TOKEN") == token:
                found.append(process)
        except psutil.Error:
            pass
    return found


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("features/work.feature:3",), 0, "1 scenario (1 passed)"),  # one scenario: serial
        (("features", "-n", "no such scenario"), 1, "No scenario selected"),
        (("features", "--bad-flag-value", "x"), 2, "No such option"),
        (("features/missing.feature",), 2, "missing.feature"),
    ],
)
def test_a_run_that_needs_no_pool_leaves_no_early_worker_behind(suite, args, code, says):
    _write_suite(suite, import_seconds=0.0, scenarios=2)
    token = uuid.uuid4().hex
    completed = suite.run(*args, "-p", "4", env={**suite.env(), "PBDD_TEST_TOKEN": token})
    assert completed.returncode == code, completed.output
    assert says in completed.output
    assert "Traceback" not in completed.output
    deadline = time.monotonic() + 5
    while _processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _processes_with(token)


EARLY_IMPORT_TERRAIN = """
    import glob, multiprocessing, os, subprocess, sys, time
    from parallel_bdd import before, world

    HERE = os.path.dirname(os.path.abspath(__file__))
    MARKS = os.path.join(HERE, "marks")
    os.makedirs(MARKS, exist_ok=True)
    if multiprocessing.parent_process() is not None:  # a worker importing the suite
        if os.environ.get("START_A_PROGRAM"):
            subprocess.Popen(["sleep", "300"])
        open(os.path.join(MARKS, f"imported-{os.getpid()}"), "w").close()


    @before.all
    def wait_for_a_worker_to_import_the_suite():
        deadline = time.monotonic() + 15
        while not glob.glob(os.path.join(MARKS, "imported-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(os.path.join(MARKS, "seen-in-before-all"), "w") as seen:
            seen.write(" ".join(glob.glob(os.path.join(MARKS, "imported-*"))))
        if os.environ.get("START_A_PROGRAM"):
            raise RuntimeError("before.all gives up")
        world.prepared = "by before.all"
        sys.path.append(os.path.join(HERE, "late"))  # after the workers' import
"""


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_the_early_workers_import_the_suite_while_the_parent_runs_before_all(suite, start_method):
    _write_suite(suite, import_seconds=0.0, scenarios=4)
    suite.terrain(EARLY_IMPORT_TERRAIN)
    suite.write("late/late_helper.py", "ANSWER = 42\n")
    suite.steps(
        """
        from parallel_bdd import step, world

        @step(r"the spec reached me whole")
        def spec_whole(step):
            import late_helper  # on sys.path only since before.all

            assert world.prepared == "by before.all", world.prepared
            assert late_helper.ANSWER == 42
        """,
        name="whole_steps.py",
    )
    suite.feature(
        "whole.feature",
        "Feature: whole\n"
        + "".join(f"  Scenario: w{i}\n    Given the spec reached me whole\n" for i in range(4)),
    )
    completed = suite.run("features", "-p", "2", "--start-method", start_method)
    assert completed.returncode == 0, completed.output
    assert "8 scenarios (8 passed)" in completed.stdout
    seen = (suite.root / "marks" / "seen-in-before-all").read_text().split()
    assert seen, "no worker had imported the suite when before.all ran"


def test_a_failing_before_all_ends_the_early_workers_with_what_their_import_started(suite):
    _write_suite(suite, import_seconds=0.0, scenarios=4)
    suite.terrain(EARLY_IMPORT_TERRAIN)
    token = uuid.uuid4().hex
    env = {**suite.env(), "PBDD_TEST_TOKEN": token, "START_A_PROGRAM": "1"}
    completed = suite.run("features", "-p", "2", env=env)
    assert completed.returncode == 2, completed.output
    assert "before.all gives up" in completed.output
    assert (suite.root / "marks" / "seen-in-before-all").read_text().split()
    deadline = time.monotonic() + 5
    while _processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _processes_with(token)  # nor the program a worker started


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["features", "-p", "4"], (4, "spawn")),
        (["-p3"], (3, "spawn")),
        (["--processes=2", "--start-method", "forkserver"], (2, "forkserver")),
        (["-p", "2", "--start-method=forkserver"], (2, "forkserver")),
        (["-p", "auto"], ((os.cpu_count() or 1), "spawn") if (os.cpu_count() or 1) > 1 else None),
        (["features"], None),  # pyproject.toml may still ask: cli.py starts it then
        (["-p", "1"], None),
        (["-p", "4", "--dry-run"], None),
        (["-p", "4", "--list"], None),
        (["-p", "4", "--start-method", "fork"], None),
        (["-p", "four"], None),  # click reports it
        (["history", "-p", "4"], None),
        (["-p", "4", "--help"], None),
    ],
)
def test_the_early_start_reads_only_what_it_is_sure_of_on_the_command_line(args, expected):
    assert requested_pool(args) == expected


FAMILY_TERRAIN = """
    import json
    import multiprocessing
    import os

    import psutil

    from parallel_bdd import before, world


    @before.batch
    def note_the_family():
        # pbdd's parent process (with forkserver, not the worker's parent: the fork server)
        parent = psutil.Process(multiprocessing.parent_process().pid)
        children = [
            {"pid": child.pid, "cmdline": child.cmdline()}
            for child in parent.children()
        ]
        family = {"parent": parent.cmdline(), "children": children, "me": os.getpid()}
        name = f"family-{world.worker_id}.json"
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), name), "w") as out:
            json.dump(family, out)
"""


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_the_manager_is_forked_from_the_parent_whatever_starts_the_workers(suite, start_method):
    # The manager runs only pbdd's and multiprocessing's code: forked, it needs no
    # interpreter start and no imports, CPU the workers need on a busy machine.
    _write_suite(suite, import_seconds=0.0, scenarios=4)
    suite.terrain(FAMILY_TERRAIN)
    completed = suite.run("features", "-p", "2", "--start-method", start_method)
    assert completed.returncode == 0, completed.output
    family = json.loads((suite.root / "family-0.json").read_text())
    forked = [child for child in family["children"] if child["cmdline"] == family["parent"]]
    assert len(forked) == 1, family  # the manager: a fork runs the parent's command line
    assert forked[0]["pid"] != family["me"]
    spawned = [
        child for child in family["children"] if "--multiprocessing-fork" in child["cmdline"]
    ]
    # every spawned child is a worker (with forkserver, the workers are the fork server's
    # children, and the fork server is the one spawned child)
    assert len(spawned) == (2 if start_method == "spawn" else 0), family
    if start_method == "forkserver":
        assert any(
            "multiprocessing.forkserver" in " ".join(c["cmdline"]) for c in family["children"]
        )


def test_the_manager_is_spawned_when_the_parent_runs_threads():
    # forking beside a running thread could leave the child a lock that thread held
    blocker = threading.Event()
    thread = threading.Thread(target=blocker.wait, daemon=True)
    thread.start()
    try:
        manager, forked = new_manager(start_context("spawn"))
        assert not forked
        assert manager._ctx.get_start_method() == "spawn"
    finally:
        blocker.set()
        thread.join()


SPAWN_PROBE = """
import json
import sys

import multiprocessing.context

# what the parent imports only once its first workers are on their way
LATE = (
    "multiprocessing.managers",
    "parallel_bdd.cli",
    "parallel_bdd.config",
    "parallel_bdd.manager",
    "parallel_bdd.messages",
)


def probe():
    seen = []
    popen = multiprocessing.context.SpawnProcess._Popen

    def recording(process):
        if process.name.startswith("pbdd-worker"):
            seen.append(sorted(name for name in LATE if name in sys.modules))
        return popen(process)

    multiprocessing.context.SpawnProcess._Popen = staticmethod(recording)
    sys.argv = ["pbdd", *sys.argv[1:]]
    from parallel_bdd.__main__ import main

    try:
        main()
    finally:
        with open("spawns.json", "w") as out:
            json.dump(seen, out)


if __name__ == "__main__":
    probe()
"""


def test_the_first_workers_start_before_the_parent_imports_the_rest_of_pbdd(suite):
    # The manager's module, the configuration and the command line come after the first
    # workers have started: on a machine with CPUs to spare, they start that much sooner.
    _write_suite(suite, import_seconds=0.0, scenarios=4)
    probe = suite.write("probe.py", SPAWN_PROBE)
    completed = subprocess.run(
        [sys.executable, str(probe), "features", "-p", "2", "-v", "1"],
        cwd=suite.root,
        env=suite.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "4 scenarios (4 passed)" in completed.stdout
    spawns = json.loads((suite.root / "spawns.json").read_text())
    assert len(spawns) == early_workers(2), spawns
    assert spawns == [[]] * len(spawns)
