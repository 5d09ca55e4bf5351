"""How the pool starts its processes: the start method's context, SIGINT held back while
a process starts, the run directory for the workers' logs, the CPUs this process may use.

Called by ``pool/`` and ``manager.py`` in the parent. Imports nothing from the package.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import tempfile
from collections.abc import Iterator
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def sigint_blocked() -> Iterator[None]:
    """Start child processes with SIGINT blocked: the mask survives fork and exec.

    Until a child has left our process group (``worker._detach_from_terminal``) or ignores
    SIGINT (``lifeline.manager_initializer``), a Ctrl-C would kill it with a
    KeyboardInterrupt. A press meanwhile stays pending here and reaches our handler when
    the block ends.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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


def new_run_dir() -> Path:
    """A new directory for a pool's worker logs and stack dumps (the pool removes it)."""
    return Path(tempfile.mkdtemp(prefix="pbdd-run-"))


def usable_cores() -> int:
    """CPUs this process may run on (its affinity mask, where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1
