"""The worker pool: ``-p N`` with N > 1, on this machine.

Called by ``parallel_run.py`` in the parent. ``WorkerPool.run`` starts the SyncManager
(its initializer ignores SIGINT and exits with the parent, so Ctrl-C in the terminal
cannot take the queues away), then hands the run to ``supervisor.Supervisor``: one
``worker_process.WorkerProcess`` per slot, the ``dispatch.Dispatcher`` deciding who runs
what, each worker event handled by its own method. Every worker has its own work queue in
the manager (the dispatcher pushes each entry to a slot) and shares one event queue back.
The work comes from the scheduler's local queue, or from a ``source`` shared by several
machines (``queue.source.RedisSource`` for ``--queue``).

Every fault becomes a record: a worker that dies mid-scenario makes it *errored*
(``--requeue-crashed N``: re-run on a fresh worker) and is replaced; a scenario over
``--timeout`` gets its worker's stack in the report before the worker is killed and
replaced. Queue entries and results are ``messages.pack``ed, so the manager passes bytes.

Imports nothing from cli, session or reporting; it reports through callbacks.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..board import Board
from ..dispatch import Rules, WorkSource
from ..interrupts import Interrupts
from ..manager import PoolManager, launch_manager
from ..messages import ScenarioResult, WorkItem
from ..process_start import new_run_dir, start_context
from ..worker import WorkerSpec
from .supervisor import PoolOutcome, PoolSettings, Supervisor
from .worker_process import Shared, describe_exit

__all__ = ["PoolOutcome", "WorkerPool", "describe_exit"]


class WorkerPool:
    """A pool of ``processes`` workers for one run (``run`` once)."""

    def __init__(
        self,
        *,
        processes: int,
        spec_for: Callable[[int, Path], WorkerSpec],
        start_method: str = "spawn",
        timeout: float = 0.0,
        grace: float = 10.0,
        failfast: bool = False,
        requeue_crashed: int = 0,
        retries: int = 0,
        dist: str = "load",
        chunking: bool = True,
        on_result: Callable[[ScenarioResult], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
        interrupts: Interrupts | None = None,
        source: WorkSource | None = None,
    ) -> None:
        self.processes = processes
        self.start_method = start_method
        self.interrupts = interrupts or Interrupts()
        self._settings: dict[str, Any] = {
            "spec_for": spec_for,
            "rules": Rules(retries=retries, requeue_crashed=requeue_crashed, failfast=failfast),
            "timeout": timeout,
            "grace": grace,
            "dist": dist,
            "chunking": chunking,
            "on_result": on_result or (lambda result: None),
            "on_notice": on_notice or (lambda text: None),
            "interrupts": self.interrupts,
            "source": source,
        }

    def run(self, items: Sequence[WorkItem]) -> PoolOutcome:
        if not items:
            return PoolOutcome()
        slots = max(1, min(self.processes, len(items)))
        run_dir = new_run_dir()  # the workers' logs and stack dumps
        context = start_context(self.start_method)
        settings = PoolSettings(run_dir=run_dir, **self._settings)
        manager = PoolManager(ctx=context)
        supervisor: Supervisor | None = None
        with self.interrupts:
            try:
                # the manager first, with the run's start method: each worker gets its
                # queues as arguments when it starts
                launch_manager(manager)
                shared = Shared(
                    context=context,
                    manager=manager,
                    event_queue=manager.WorkQueue(),  # type: ignore[attr-defined]
                    # read by workers before each scenario of an entry: stops a chunk
                    # midway on Ctrl-C or --failfast without a round trip per scenario
                    stop_flag=context.RawValue("b", 0),
                    board=Board.for_slots(context, slots),
                )
                supervisor = Supervisor(settings, items, slots, shared)
                supervisor.run()
            finally:
                # Every worker is done or killed (or an error ended the loop: a closed
                # terminal, say; the workers then find the manager gone and end, after.batch
                # included). The manager's exit and the workers' overlap; the workers go
                # before their run directory, which one still starting would miss.
                _shut_down(manager)
                outcome = supervisor.end() if supervisor is not None else PoolOutcome()
                shutil.rmtree(run_dir, ignore_errors=True)
        return outcome


def _shut_down(manager: PoolManager) -> None:
    shutdown = getattr(manager, "shutdown", None)  # only once it has started
    if shutdown is not None:
        shutdown()  # a Finalize: runs once however often it is called
