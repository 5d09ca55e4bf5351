"""The first steps of a pool, taken early: start context, first workers, manager.

``__main__.py`` looks at the command line (``pool_request``) before anything else is
imported: when it asks for a pool, the first workers and the manager start on the other
CPUs while this process imports the command line and loads the suite. ``cli.py`` starts a
warm-up itself when only pyproject.toml asks for a pool, and ``pool.py`` adopts it. At the
top it imports only what starting a process needs (multiprocessing's start machinery and
``board``); the manager's module, the messages and the configuration come after the first
workers are on their way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from multiprocessing import resource_tracker
from typing import TYPE_CHECKING, Any

from .board import Board

if TYPE_CHECKING:
    from pathlib import Path

    from .manager import PoolManager


def _worker_main(*args: Any) -> None:
    """The early worker's target: the worker module is imported in the child, not here."""
    from .worker import main

    main(*args)


@contextlib.contextmanager
def sigint_blocked() -> Iterator[None]:
    """Start child processes with SIGINT blocked: the mask survives fork and exec.

    Until a child has left our process group (``worker._detach_from_terminal``) or ignores
    SIGINT (``manager_initializer``), a Ctrl-C would kill it with a KeyboardInterrupt.
    A press meanwhile stays pending here and reaches our handler when the block ends.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def new_run_dir() -> Path:
    """A new directory for a pool's worker logs and stack dumps (the pool removes it)."""
    import tempfile  # here, with pathlib: not on the way to the first workers
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="pbdd-run-"))


def usable_cores() -> int:
    """CPUs this process may run on (its affinity mask, where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def early_workers(processes: int) -> int:
    """How many workers a warm-up starts: one per CPU, up to the pool's size."""
    return max(1, min(processes, usable_cores()))


def start_context(start_method: str) -> Any:
    """The start method's multiprocessing context, made ready for pbdd's processes."""
    context = multiprocessing.get_context(start_method)
    if start_method == "forkserver":
        # the fork server imports the worker's code once; each worker is a fork of it
        context.set_forkserver_preload(["__main__", "parallel_bdd.worker"])
    if start_method != "fork":
        # Its first start unblocks SIGINT on the way out (CPython's own guard), which
        # would undo sigint_blocked() around the first process we start.
        resource_tracker.ensure_running()
    return context


class PoolWarmup:
    """The start of a pool, begun before the parent has imported and loaded the suite.

    A fresh worker spends its first tenth of a second or more starting an interpreter and
    importing pbdd; the parent meanwhile imports the command line, parses features, reads
    the history and imports the step files. Started here, the first workers (one per CPU,
    see ``early_workers``) do their part meanwhile, and the manager (forked while this
    process has one thread, see ``manager.new_manager``) is up before they need it. Each worker
    waits on the pipe that later brings the queues for a first ``WorkerSpec``
    (``send_specs``: it imports the suite as soon as the parent has found it), then for
    the whole one (known only after ``before.all``). On 2 CPUs, starting the
    second worker here rather than with the pool took about 0.1 s off both a 2,000
    no-op-scenario run and a CPU-bound one at ``-p 2``. ``WorkerPool.run`` adopts them; a
    run that never reaches the pool (an error, a dry run, one scenario) ends them with
    ``close()``. Not for ``fork``: forking is fast already, and forking beside a running
    thread is unsafe.
    """

    def __init__(self, start_method: str, processes: int) -> None:
        self.start_method = start_method
        self.processes = processes
        self.adopted = False  # by a pool, or closed: nothing to hand over any more
        self.context: Any = None
        self.stop_flag: Any = None
        self.board: Any = None
        self.workers: list[tuple[Any, Any]] = []  # (process, pipe to it), slot order
        self.manager: Any = None
        self.queues: tuple[Any, Any] | None = None  # (work, events), made once it is up
        self.run_dir: Path | None = None  # the workers' logs, once send_specs made it
        self._holder: threading.Thread | None = None
        self._manager_up = threading.Event()
        self._release = threading.Event()
        self._failure: BaseException | None = None

    def start(self) -> None:
        """Start the early workers and the manager (once). A Ctrl-C meanwhile is held until
        all have started, so ``close()`` always finds the warm-up whole."""
        if self.context is not None:
            return
        context = start_context(self.start_method)  # it unblocks SIGINT: not in the block
        with sigint_blocked():
            self.context = context
            # The workers first: each needs a tenth of a second or more of CPU before it
            # first asks for anything, while the forked manager is up in milliseconds.
            # Nothing of the run but multiprocessing is imported before they start.
            self.stop_flag = self.context.RawValue("b", 0)
            self.board = Board.for_slots(self.context, self.processes)
            for worker_id in range(early_workers(self.processes)):
                receiver, sender = self.context.Pipe(duplex=False)
                process = self.context.Process(
                    target=_worker_main,
                    args=(None, receiver, self.stop_flag, self.board),
                    name=f"pbdd-worker-{worker_id}",
                )
                process.start()
                receiver.close()
                self.workers.append((process, sender))
            from .manager import new_manager  # not before: multiprocessing.managers is big

            # A forked manager starts here, before any thread of ours; a spawned one in
            # the holder thread. Started with SIGINT blocked, the manager inherits the
            # mask until its initializer ignores SIGINT (a thread keeps the mask it was
            # created with).
            self.manager, forked = new_manager(context)
            if forked:
                self._launch_manager([pipe.fileno() for _, pipe in self.workers])
            self._holder = threading.Thread(
                target=self._hold_manager, args=(not forked,), name="pbdd-manager", daemon=True
            )
            self._holder.start()

    def _launch_manager(self, inherited: Sequence[int] = ()) -> None:
        from .manager import launch_manager

        try:
            launch_manager(self.manager, inherited)
        except BaseException as error:  # handed to whoever waits for the manager
            self._failure = error

    def _hold_manager(self, launch: bool) -> None:
        if launch:
            self._launch_manager()
        try:
            if self._failure is None:
                from .manager import new_queues

                # the queues too, which the pool need not wait for later
                self.queues = new_queues(self.manager)
        except BaseException as error:
            self._failure = error
        finally:
            self._manager_up.set()
        # The manager's parent-death signal (prctl) fires when the *thread* that started
        # it ends, not the process: this thread lives as long as a manager it started.
        self._release.wait()

    def send_specs(self, slots: int, spec_for: Callable[[int, Path], Any]) -> None:
        """Give the early workers of a pool of ``slots`` their first spec (``spec_for(worker
        id, run directory)``, without the world state): each imports the suite while this
        process does and runs ``before.all``, and the pool sends the whole spec after it.
        A suite's imports (a web framework, a browser driver) often take the workers a
        third of a second or more; before, they began only after ``before.all``."""
        self.run_dir = new_run_dir()
        for worker_id, (_, pipe) in enumerate(self.workers[:slots]):
            with contextlib.suppress(OSError):  # it died already: the pool reports it
                pipe.send(spec_for(worker_id, self.run_dir))

    def hand_over(self, slots: int) -> list[tuple[Any, Any]]:
        """The first ``slots`` early workers and the pipes to them, in slot order, the
        pool's from now on (``close()`` leaves them be); the others end now (a run of fewer
        scenarios than CPUs)."""
        self.adopted = True
        _end(self.workers[slots:])
        return self.workers[:slots]

    def fits(self, start_method: str, processes: int) -> bool:
        return start_method == self.start_method and processes <= self.processes

    def started_manager(self) -> tuple[PoolManager, tuple[Any, Any]]:
        """The manager and its queues (work, events), once they are up."""
        self._manager_up.wait()
        if self._failure is not None:
            raise self._failure
        assert self.queues is not None
        return self.manager, self.queues

    def close(self) -> None:
        """End what no pool adopted; let the manager's thread go. Idempotent."""
        if not self.adopted:
            self.adopted = True
            _end(self.workers)
            if self._holder is not None:
                self._manager_up.wait()
                shutdown = getattr(self.manager, "shutdown", None)  # only once it started
                if shutdown is not None:
                    shutdown()
            if self.run_dir is not None:
                import shutil

                shutil.rmtree(self.run_dir, ignore_errors=True)
        self._release.set()


def _end(workers: list[tuple[Any, Any]]) -> None:
    """End early workers no pool took: with their process group, once they lead one, in
    case the suite they were importing started a program."""
    for process, pipe in workers:
        pipe.close()
        if process.pid is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:  # not detached yet: it started nothing
                process.kill()
    for process, _ in workers:
        if process.pid is not None:
            process.join(5)
