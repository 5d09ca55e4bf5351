"""How the pool starts its workers: one per CPU at a time, so the first ones start work
early, and only once the suite is loaded and before.all has run.

The staggering tests pin pbdd (and so every process it starts) to one CPU with the
affinity mask, and the suite's terrain.py logs when each worker's import of it begins and
ends. The order of those events is what the tests check, never how long anything took.
"""

from __future__ import annotations

import os
import time
import uuid

import psutil
import pytest

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


@pytest.mark.parametrize("start_method", ["spawn", "forkserver", "fork"])
def test_the_workers_start_when_the_pool_does(suite, start_method):
    _write_suite(suite, import_seconds=0.0, scenarios=4)
    suite.terrain(EARLY_TERRAIN)
    completed = suite.run("features", "-p", "2", "--start-method", start_method)
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
def test_a_run_that_needs_no_pool_leaves_no_process_behind(suite, args, code, says):
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


BEFORE_ALL_TERRAIN = """
    import os, sys
    from parallel_bdd import before, world

    HERE = os.path.dirname(os.path.abspath(__file__))


    @before.all
    def prepare():
        world.prepared = "by before.all"
        sys.path.append(os.path.join(HERE, "late"))
"""


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_the_workers_get_the_world_and_sys_path_that_before_all_left(suite, start_method):
    suite.terrain(BEFORE_ALL_TERRAIN)
    suite.write("late/late_helper.py", "ANSWER = 42\n")
    suite.steps(
        """
        from parallel_bdd import step, world

        @step(r"the spec reached me whole")
        def spec_whole(step):
            import late_helper  # on sys.path only since before.all

            assert world.prepared == "by before.all", world.prepared
            assert late_helper.ANSWER == 42
        """
    )
    suite.feature(
        "whole.feature",
        "Feature: whole\n"
        + "".join(f"  Scenario: w{i}\n    Given the spec reached me whole\n" for i in range(4)),
    )
    completed = suite.run("features", "-p", "2", "--start-method", start_method)
    assert completed.returncode == 0, completed.output
    assert "4 scenarios (4 passed)" in completed.stdout
