"""What the command line asks of the pool, read before anything else is imported.

``__main__.py`` calls ``requested_pool`` first thing, to start a pool's first workers
(``warmup.py``) while the rest is imported; ``cli.py`` calls ``warm_up_wanted`` with the
parsed options. Imports next to nothing: what it imports delays every run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence


def warm_up_wanted(processes: int, start_method: str) -> bool:
    """Whether a run with these settings gets a warm-up: a pool, and not ``fork``."""
    return processes > 1 and start_method in ("spawn", "forkserver")


def requested_pool(args: Sequence[str]) -> tuple[int, str] | None:
    """(processes, start method) when the command line itself asks for a pool.

    A cheap look ahead of click, which parses the same arguments for real a moment later:
    ``-p N``/``-pN``/``--processes N``/``--processes=N`` (N >= 2 or ``auto``) and
    ``--start-method``. Whatever it does not recognise makes it answer None (no early
    start); a wrong guess costs a warm-up that ``cli.py`` ends unused, never a wrong run.
    """
    processes, start_method = 1, "spawn"
    values = iter(args)
    for arg in values:
        name, has_value, value = arg.partition("=")
        if name in ("-p", "--processes", "--start-method") and not has_value:
            value = next(values, "")
        elif name.startswith("-p") and not name.startswith("--") and not has_value:
            name, value = "-p", arg[2:]
        if name in ("-p", "--processes"):
            if value == "auto":
                processes = os.cpu_count() or 1
            elif value.isdigit():
                processes = int(value)
            else:
                return None
        elif name == "--start-method":
            start_method = value
        elif arg in ("--", "--dry-run", "--list", "--help", "-h", "--version", "history"):
            return None
    return (processes, start_method) if warm_up_wanted(processes, start_method) else None
