"""Parent-death detection for the processes pbdd starts: the manager and every worker.

Imported by ``worker.py`` and by the SyncManager's server process (``manager.launch_manager``
passes it ``manager_initializer``), so it imports as little as possible: a spawned manager
imports this module in a fresh interpreter. Imports nothing else from the package.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

PARENT_CHECK_INTERVAL = 0.5
PR_SET_PDEATHSIG = 1


def watch_parent(parent_pid: int, on_orphaned: Any) -> None:
    """Call ``on_orphaned`` (from a daemon thread) once the parent process is gone.

    With ``spawn`` and ``fork`` the parent is our parent: when it dies we are re-parented,
    which ``getppid`` shows at once (even while the dead parent waits to be reaped). With
    ``forkserver`` our parent is the fork server, so we watch the parent's pid instead;
    psutil compares its start time, so a reused pid does not fool it.
    """
    if os.getppid() == parent_pid:

        def gone() -> bool:
            return os.getppid() != parent_pid

    else:
        import psutil  # only here: the manager and spawn workers start faster without it

        try:
            parent: Any = psutil.Process(parent_pid)
        except psutil.Error:
            parent = None

        def gone() -> bool:
            try:
                return (
                    parent is None
                    or not parent.is_running()
                    or parent.status() == psutil.STATUS_ZOMBIE
                )
            except psutil.Error:
                return True

    def watch() -> None:
        while True:
            if gone():
                on_orphaned()
                return
            time.sleep(PARENT_CHECK_INTERVAL)

    threading.Thread(target=watch, name="pbdd-parent-watch", daemon=True).start()


def manager_initializer(parent_pid: int) -> None:
    """Runs in the SyncManager's server process: survive Ctrl-C, die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        import ctypes  # here: workers import this module too, and never need it

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the watchdog thread below still covers it
    watch_parent(parent_pid, lambda: os._exit(1))
