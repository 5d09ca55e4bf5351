"""A parallel run as ``session.py`` starts it: each worker's spec from the run options and
the loaded suite, what ``before.all`` left on ``world``, the ``WorkerPool``.

Called by ``session.py`` in the parent, after ``before.all``. Imports nothing from ``cli``
or ``reporting``; no worker imports it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import coverage_support
from .config import RunOptions
from .handover import WorldHandover
from .messages import ScenarioResult, WorkItem

if TYPE_CHECKING:
    from .dispatch import WorkSource
    from .pool import PoolOutcome
    from .worker import WorkerSpec

SpecFactory = Callable[[int, Path, WorldHandover], "WorkerSpec"]


def run_pool(
    options: RunOptions,
    items: Sequence[WorkItem],
    processes: int,
    spec_for: SpecFactory,
    on_result: Callable[[ScenarioResult], None],
    on_notice: Callable[[str], None],
    handover: WorldHandover,
    source: WorkSource | None = None,
) -> PoolOutcome:
    """Run ``items`` on a pool of ``processes`` workers, each with what ``before.all``
    left on ``world`` (``handover.py``); the work comes from ``source`` when given (a
    queue shared with other machines), else from the scheduler's local queue."""
    from .pool import WorkerPool

    pool = WorkerPool(
        processes=processes,
        spec_for=lambda worker_id, run_dir: spec_for(worker_id, run_dir, handover),
        start_method=options.start_method,
        timeout=options.timeout,
        grace=options.grace,
        failfast=options.failfast,
        requeue_crashed=options.requeue_crashed,
        retries=options.retries,
        dist=options.dist,
        chunking=not options.max_scenarios_per_worker,
        on_result=on_result,
        on_notice=on_notice,
        source=source,
    )
    return pool.run(items)


def spec_factory(
    options: RunOptions,
    step_files: Sequence[Path],
    terrain: Path | None,
    coverage_settings: coverage_support.CoverageSettings | None,
) -> SpecFactory:
    """What makes a worker's spec: ``(worker id, run directory, world state)``."""
    from .worker import WorkerSpec

    parent_pid = os.getpid()
    cwd = os.getcwd()
    files = tuple(str(path) for path in step_files)

    def spec_for(worker_id: int, run_dir: Path, state: WorldHandover) -> WorkerSpec:
        return WorkerSpec(
            worker_id=worker_id,
            port_number=options.worker_port(worker_id),
            parent_pid=parent_pid,
            cwd=cwd,
            sys_path=tuple(sys.path),  # as it is now: before.all may have changed it
            step_files=files,
            terrain=str(terrain) if terrain else None,
            artifacts_dir=options.artifacts_dir,
            log_path=str(run_dir / f"worker-{worker_id}.log"),
            stack_path=str(run_dir / f"worker-{worker_id}.stack"),
            world_state=state,
            max_scenarios=options.max_scenarios_per_worker,
            slow_step_warning=options.slow_step_warning,
            coverage=coverage_settings,
        )

    return spec_for
