"""The only code that runs inside a worker process: pull scenarios, run them, send results.

Started by ``pool.py`` (``multiprocessing`` with an explicit start method). A worker is
the leader of its own process group, so the terminal's Ctrl-C reaches the parent alone and
the parent can kill a worker together with every server and browser it started. It
watches its parent and kills its own group if the parent disappears (no orphans).

Imports nothing from cli or reporting.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .discovery import import_suite
from .errors import PbddError
from .messages import HookFailure, WorkerEvent
from .runner import Batch, describe_error, format_user_traceback, set_worker_world
from .world import world

PARENT_CHECK_INTERVAL = 0.5


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs, as plain data (it is pickled for the spawn start method)."""

    worker_id: int
    port_number: int
    parent_pid: int
    cwd: str
    sys_path: tuple[str, ...]
    step_files: tuple[str, ...]
    terrain: str | None
    artifacts_dir: str
    log_path: str
    stack_path: str
    world_state: dict[str, Any] = field(default_factory=dict)
    max_scenarios: int = 0  # 0: no limit; else exit after N and let the pool start a fresh one


def watch_parent(parent_pid: int, on_orphaned: Any) -> None:
    """Call ``on_orphaned`` (from a daemon thread) once the parent process is gone."""

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_INTERVAL)
            if os.getppid() != parent_pid:
                on_orphaned()
                return

    threading.Thread(target=watch, name="pbdd-parent-watch", daemon=True).start()


def _kill_own_group() -> None:
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(1)


def _redirect_output(log_path: str) -> None:
    """Send the worker's own fd 1/2 to a log file: nothing reaches the user's terminal."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def main(spec: WorkerSpec, work_queue: Any, event_queue: Any) -> None:
    """Worker entry point (the target of ``multiprocessing.Process``)."""
    try:
        os.setsid()
    except OSError:
        pass  # already a group leader
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent(spec.parent_pid, _kill_own_group)
    _redirect_output(spec.log_path)
    stack_file = open(spec.stack_path, "w")  # noqa: SIM115 - lives as long as the worker
    faulthandler.register(signal.SIGUSR1, file=stack_file, all_threads=True)
    os.chdir(spec.cwd)
    sys.path[:] = list(spec.sys_path)

    def send(kind: str, **fields: Any) -> None:
        event_queue.put(WorkerEvent(kind=kind, worker_id=spec.worker_id, pid=os.getpid(), **fields))

    def report_failure(failure: HookFailure) -> None:
        send("hook_failure", failure=failure)

    try:
        import_suite(
            [Path(p) for p in spec.step_files], Path(spec.terrain) if spec.terrain else None
        )
    except PbddError as error:
        report_failure(HookFailure("import", error.format_message(), "", spec.worker_id))
        send("done")
        return
    for key, value in spec.world_state.items():
        setattr(world, key, value)
    set_worker_world(spec.worker_id, spec.port_number, spec.artifacts_dir)

    batch = Batch(spec.worker_id, capture_fds=True, on_hook_failure=report_failure)
    send("ready")
    if not batch.start():
        send("done", message="before.batch failed")
        return
    ran = 0
    try:
        while True:
            item = work_queue.get()
            if item is None:
                break
            send("started", scenario_id=item.scenario_id)
            try:
                result = batch.run(item)
            except Exception as error:  # a runner bug must not lose the scenario
                result = None
                send(
                    "hook_failure",
                    failure=HookFailure(
                        "runner",
                        describe_error(error),
                        format_user_traceback(error),
                        spec.worker_id,
                    ),
                )
            if result is not None:
                send("result", result=result)
            ran += 1
            if spec.max_scenarios and ran >= spec.max_scenarios:
                send("recycle")
                break
    finally:
        batch.finish()
        send("done")
