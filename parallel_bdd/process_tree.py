"""The one way pbdd kills a process tree: a worker, its process group, and what left it.

Called by ``pool/worker_process.py`` in the parent (a hung, crashed or interrupted
worker, and whatever servers and browsers it started) and by ``worker.py`` in a worker
whose parent is gone (it kills its own group, itself last). Imports nothing from the
package; psutil only when a live process's descendants must be found.
"""

from __future__ import annotations

import contextlib
import os
import signal


def kill_tree(pid: int, *, reaped: bool = False) -> None:
    """SIGKILL process ``pid``, its process group and any descendant that left the group.

    ``pid`` leads its own group (workers call ``os.setsid``). ``reaped``: the process has
    ended and was waited for, so its descendants are no longer its children and only its
    group is left to kill; Linux does not hand a group id out again while the group has
    members, so that one ``killpg`` cannot hit someone else. The caller signals a reaped
    pid once, never again. When ``pid`` is this process, it dies last.
    """
    if not pid:
        return
    if reaped:
        _signal(os.killpg, pid)
        return
    descendants: list = []
    try:
        import psutil  # only here: a worker that ended by itself never needs it

        with contextlib.suppress(psutil.Error):
            descendants = psutil.Process(pid).children(recursive=True)
        for child in descendants:  # first: the group kill may end this very process
            with contextlib.suppress(psutil.Error):
                child.kill()
    except ImportError:
        pass  # the group kill below still covers what stayed in the group
    _signal(os.killpg, pid)
    _signal(os.kill, pid)


def kill_own_tree() -> None:
    """Kill this process's group and its descendants, then exit (a worker left orphaned)."""
    try:
        kill_tree(os.getpid())
    finally:
        os._exit(1)


def _signal(send, pid: int) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(ProcessLookupError, PermissionError):
        send(pid, signal.SIGKILL)
