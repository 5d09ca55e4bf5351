"""What ``@before.all`` leaves on ``world``, handed to the workers of a parallel run.

``session.py`` runs ``before.all`` in the parent through ``run_before_all``, which notes what
each hook set on ``world``; in a worker, ``Batch.start`` (``runner.py``) calls
``remake_in_worker`` before ``before.batch``. Imports nothing from cli or reporting.

The rule: values that pickle are copied into every worker. A hook that set a value which
does not pickle (a Flask test client, a database connection, a lock) runs once more in
each worker, after the copied values are in place and ``world.worker_id`` and
``world.port_number`` are set, so the worker gets an object of its own. lettuce's parallel
fork forked the workers after ``before.all``, which shared one socket between processes;
a second run of the hook gives each process its own.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import Any

from .hooks import HOOKS
from .world import world

# pbdd's own attributes, set anew in every worker
WORKER_ATTRIBUTES = ("worker_id", "port_number", "artifacts_dir")


@dataclass(frozen=True)
class WorldHandover:
    """The picklable world state, and which before.all hooks run again in each worker."""

    state: dict[str, Any]
    rerun: tuple[int, ...] = ()  # positions in the before.all list
    remade: tuple[str, ...] = ()  # the world attributes those hooks set that do not pickle


def _pickles(value: Any) -> bool:
    try:
        pickle.dumps(value)
    except Exception:  # any failure means "cannot cross a process boundary"
        return False
    return True


def run_before_all() -> WorldHandover:
    """Call every before.all hook (the first exception propagates) and note what it set;
    a hook registered by one of them runs too, last (``HOOKS.each``)."""
    setters: dict[str, int] = {}
    for position, function in enumerate(HOOKS.each("before", "all")):
        before = dict(vars(world))
        function()
        for name, value in vars(world).items():
            if name not in before or before[name] is not value:
                setters[name] = position
    state: dict[str, Any] = {}
    remade: dict[str, int] = {}
    for name, value in vars(world).items():
        if name.startswith("__") or name in WORKER_ATTRIBUTES:
            continue
        if _pickles(value):
            state[name] = value
        elif name in setters:
            remade[name] = setters[name]
        # else: set when the suite was imported, which every worker does too
    return WorldHandover(state, tuple(sorted(set(remade.values()))), tuple(remade))


def remake_in_worker(rerun: tuple[int, ...]) -> None:
    """Run again, in this worker, the before.all hooks at these positions."""
    hooks = HOOKS.functions("before", "all")
    for position in rerun:
        if position < len(hooks):
            hooks[position]()
