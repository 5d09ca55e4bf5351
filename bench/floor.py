"""The floor: how fast any Python runner that starts fresh worker processes can run a suite.

Called by ``bench/run.py`` as the pseudo-runner "floor", on the same generated suites as the
real runners. It is what no runner can beat on this machine with the same start method:

* it knows every scenario's work from the suite's ``manifest.json`` (no Gherkin to parse, no
  steps to import or match, no history to read: perfect knowledge, longest first);
* its workers are plain ``multiprocessing`` processes (``--start-method``, ``spawn`` by
  default, as pbdd's) fed by a ``multiprocessing.Queue``: no manager process, no results
  beyond a count, no reports;
* each worker does the scenario's work exactly as the generated steps do (the same ``burn``
  and ``time.sleep``).

So (its wall time - LB) is the cost of starting and stopping processes on this machine, and
LB / its wall time is the highest efficiency a runner of this kind can reach here. It writes
a JUnit XML with one test case per scenario it ran, which the driver counts like any runner's.

``--queues manager`` keeps the two queues in a ``SyncManager`` whose server ignores Ctrl-C,
as pbdd's design asks (DESIGN.md, "The pool"), forked as pbdd forks its own, and changes
nothing else: the difference to the plain floor is what that design costs any runner here,
before it parses, matches or reports anything. It prints the manager process's CPU time.

Usage: ``python bench/floor.py SUITE_DIR -p N [--start-method M] [--queues Q] --junit-xml FILE``.
Only the standard library; the workers import nothing but this module and ``generate``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import queue
import resource
import signal
import sys
import time
from multiprocessing.managers import SyncManager
from pathlib import Path
from xml.sax.saxutils import quoteattr


def _work_function(kind: str):
    import generate  # the steps' own code, so the floor burns CPU exactly as they do

    namespace: dict = {"time": time}
    exec(generate._STEP_BODY, namespace)
    burn = namespace["burn"]
    if kind == "cpu":
        return burn
    if kind == "sleep":
        return lambda ms: time.sleep(ms / 1000.0)
    return lambda ms: None


def _worker(tasks, done) -> None:
    functions: dict = {}
    count = 0
    while True:
        task = tasks.get()
        if task is None:
            break
        kind, ms = task
        if kind not in functions:
            functions[kind] = _work_function(kind)
        functions[kind](ms)
        count += 1
    done.put(count)


class _BatchQueue(queue.Queue):
    """A manager queue filled in one call, as pbdd fills its own (one round trip per entry
    would measure the filling, not the manager)."""

    def put_many(self, items: list) -> None:
        for item in items:
            self.put(item)


class _Manager(SyncManager):
    pass


_Manager.register("BatchQueue", _BatchQueue)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(suite: Path, processes: int, start_method: str, queues: str = "pipe") -> int:
    manifest = json.loads((suite / "manifest.json").read_text())
    work = sorted(
        ((s["kind"], s["ms"]) for s in manifest["scenario_list"]),
        key=lambda task: -task[1],
    )
    context = multiprocessing.get_context(start_method)
    if queues == "manager":
        # forked, as pbdd forks its own: a manager runs no suite code, and a fork spares
        # it an interpreter start (the workers still start by start_method)
        fork = sys.platform.startswith("linux")
        manager = _Manager(ctx=multiprocessing.get_context("fork") if fork else context)
        manager.start(_ignore_sigint)
        try:
            tasks = manager.BatchQueue()
            tasks.put_many(work)
            ran = _run_pool(context, tasks, manager.Queue(), processes)
            before = _children_cpu()  # the workers are reaped: the rest is the manager's
        finally:
            manager.shutdown()
        print(f"manager process CPU {_children_cpu() - before:.3f} s")
        return ran
    tasks = context.Queue()
    for task in work:
        tasks.put(task)
    return _run_pool(context, tasks, context.Queue(), processes)


def _run_pool(context, tasks, done, processes: int) -> int:
    """Run ``processes`` workers on the filled ``tasks``; the number of tasks they ran."""
    workers = [
        context.Process(target=_worker, args=(tasks, done)) for _ in range(max(1, processes))
    ]
    for process in workers:
        tasks.put(None)
        process.start()
    ran = sum(done.get() for _ in workers)
    for process in workers:
        process.join()
    return ran


def write_junit(path: Path, ran: int, seconds: float) -> None:
    cases = "".join(f"  <testcase name={quoteattr(f'scenario {i}')}/>\n" for i in range(ran))
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?>\n'
        f'<testsuite name="floor" tests="{ran}" time="{seconds:.3f}">\n{cases}</testsuite>\n'
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suite", type=Path, help="a suite generated by bench/generate.py")
    parser.add_argument("-p", "--processes", type=int, default=1)
    parser.add_argument("--start-method", default="spawn", choices=("spawn", "forkserver", "fork"))
    parser.add_argument(
        "--queues",
        default="pipe",
        choices=("pipe", "manager"),
        help="pipe: multiprocessing.Queue (default); manager: queues in a SyncManager",
    )
    parser.add_argument("--junit-xml", type=Path, required=True)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    ran = run(args.suite, args.processes, args.start_method, args.queues)
    write_junit(args.junit_xml, ran, time.perf_counter() - start)
    print(f"{ran} scenarios on {args.processes} processes ({args.start_method}, {args.queues})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
