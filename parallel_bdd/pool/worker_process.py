"""One worker process of the pool, as the parent sees it: start, spec, kill, stack, log.

Made by ``pool.supervisor`` for every worker it starts (a slot gets a fresh one after a
crash, a timeout or recycling). Owns the process, its own work queue in the pool's
SyncManager (what the dispatcher sends to this slot, and the end-of-work marker), and
what the parent learned about it from its events and the board: when its ``before.batch``
began, whether it is ready, running a scenario, recycling or retiring. The worker side is
``worker.main``; its whole ``WorkerSpec`` goes as one typed process argument.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import messages as m
from ..dispatch import Entry
from ..process_start import sigint_blocked
from ..process_tree import kill_tree
from ..worker import WorkerSpec
from ..worker import main as worker_main

LOG_TAIL_LINES = 30


def describe_exit(code: int | None) -> str:
    """A process's exit code in words: "killed by signal SIGKILL", "exited with code 3"."""
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


@dataclass
class Shared:
    """What every worker of a run shares: start context, event queue, stop flag, board."""

    context: Any
    manager: Any
    event_queue: Any
    stop_flag: Any
    board: Any


@dataclass
class WorkerProcess:
    """One started worker in slot ``spec.worker_id``, from ``start`` until it is reaped."""

    spec: WorkerSpec
    process: Any
    work_queue: Any
    batch_at: float = 0.0  # time.monotonic() when its before.batch began (0.0: not yet)
    ready: bool = False  # before.batch is over: it takes work
    running: str = ""  # the scenario the board showed last
    running_since: float = 0.0  # time.monotonic() of ``running``'s start
    recycling: bool = False  # --max-scenarios-per-worker reached
    retiring: bool = False  # its import or before.batch failed
    stopped: bool = False  # said "done", or was killed: nothing more expected of it
    told_to_stop_at: float = 0.0  # when it got the end-of-work marker
    idle_since: float = 0.0  # its last record came back (after.batch follows the marker)
    notes: list[str] = field(default_factory=list)
    cleaned: bool = False  # reaped and its group killed once more: never signalled again

    @classmethod
    def start(cls, spec: WorkerSpec, shared: Shared) -> WorkerProcess:
        """Start a worker for ``spec`` with a work queue of its own."""
        shared.board.leave(spec.worker_id)
        work_queue = shared.manager.WorkQueue()
        process = shared.context.Process(
            target=worker_main,
            args=(spec, (work_queue, shared.event_queue), shared.stop_flag, shared.board),
            name=f"pbdd-worker-{spec.worker_id}",
        )
        with sigint_blocked():
            process.start()
        return cls(spec, process, work_queue)

    @property
    def pid(self) -> int:
        return self.process.pid or 0

    @property
    def slot(self) -> int:
        return self.spec.worker_id

    def alive(self) -> bool:
        return self.process.is_alive()

    def exit_cause(self) -> str:
        return describe_exit(self.process.exitcode)

    def send(self, entry: Entry | None) -> None:
        """Put a queue entry (or ``None``, the end-of-work marker) on its queue."""
        self.work_queue.put(None if entry is None else m.pack(entry))
        if entry is None:
            self.told_to_stop_at = time.monotonic()

    def kill(self) -> None:
        """Kill it with its process group and every descendant (``process_tree``).

        A pid is only signalled while it cannot belong to someone else: the worker's own
        pid until it is reaped, its group once more right after, then never again.
        """
        if self.cleaned or not self.pid:
            return
        reaped = self.process.exitcode is not None  # polls, and reaps a dead worker
        kill_tree(self.pid, reaped=reaped)
        self.cleaned = reaped

    def join(self, seconds: float) -> None:
        self.process.join(max(0.0, seconds))

    def stack(self) -> str:
        """Every thread's stack, dumped by the worker's faulthandler on SIGUSR1."""
        path = Path(self.spec.stack_path)
        try:
            os.kill(self.pid, signal.SIGUSR1)
        except ProcessLookupError:
            return ""
        deadline = time.monotonic() + 2.0
        text = ""
        while time.monotonic() < deadline:
            time.sleep(0.1)  # polling a file the worker writes: no event to wait on
            text = path.read_text(errors="replace") if path.exists() else ""
            if text.strip():
                time.sleep(0.1)  # let the dump of the other threads land
                text = path.read_text(errors="replace")
                break
        return text.strip()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The end of what the worker wrote (its fd 1/2 and fatal-signal dumps)."""
        try:
            text = Path(self.spec.log_path).read_text(errors="replace")
        except OSError:
            return ""
        tail = text.strip().split("\n")[-lines:]
        return "Last output of the worker:\n" + "\n".join(tail) if text.strip() else ""
