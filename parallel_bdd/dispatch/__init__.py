"""Pure bookkeeping of a run: what is left, who holds what, attempts, retries, stopping.

How the pool uses it (one ``Dispatcher`` per run; each event method returns a
``Decision`` the loop carries out field by field: ``sends``, ``records``, ``halt``,
``stops``, ``restarts``, then ``hook_failures`` and ``notices``)::

    dispatcher = local_dispatcher(items, slots, Rules(retries, requeue_crashed, failfast),
                                  dist=dist, chunking=chunking)
    start a worker per slot (each slot starts in STARTING)
    loop until dispatcher.over:
        worker said "ready" (before.batch done)     -> dispatcher.slot_ready(slot)
        board shows slot running a new scenario     -> dispatcher.started(slot, id, at)
        worker sent a warning (slow step)           -> dispatcher.note(slot, text)
        worker sent a result                        -> dispatcher.result(slot, record)
        worker process died                         -> dispatcher.slot_crashed(slot,
                                                           describe_exit(code), log_tail, now)
        running scenario over --timeout             -> dispatcher.slot_timed_out(slot,
                                                           timeout, stack, now), then kill it
        worker said "done" (after its marker, the
          halt flag, recycling, a failed before.batch,
          or a before/after.batch over --timeout)   -> dispatcher.slot_stopped(slot,
                                                           recycle=..., retire=...)
        first Ctrl-C                                -> dispatcher.interrupt()
        second Ctrl-C / grace over: kill everyone   -> leave the loop
    dispatcher.finish()  -> a NOT_RUN record for every scenario still without a final one

Carrying out a decision: ``Send(slot, entry)`` puts the entry on that slot's worker's own
queue (the worker runs its scenarios in order); a ``Record`` goes to the reporters (every
attempt) and, when ``final``, counts in the summary and the history; ``halt`` sets the
shared stop flag the workers read before each scenario; a slot in ``stops`` gets the
end-of-work marker (a slot never started is simply not started); a slot in ``restarts``
gets a fresh worker (the old process is dead or killed), which says ``ready`` again.

The dispatcher decides who gets what, so a scenario is always held by a known slot:
there is no "taken from a shared queue, then lost" case. ``Rules.depth`` (default 1) lets
a slot hold more than one entry, so its next one is there when it finishes.

Where the work comes from is a ``WorkSource`` (``source.py``): ``LocalQueue`` for a run on
one machine; a queue shared by several machines implements the same four methods.

Imports no process or I/O module, and no clock: tested in milliseconds.
"""

from __future__ import annotations

from parallel_bdd.dispatch.decisions import RETRIED_STATUSES, Decision, Record, Rules, Send
from parallel_bdd.dispatch.dispatcher import Dispatcher, local_dispatcher
from parallel_bdd.dispatch.slots import SlotState
from parallel_bdd.dispatch.source import SHARED_POLL_SECONDS, Entry, LocalQueue, WorkSource

__all__ = [
    "RETRIED_STATUSES",
    "Decision",
    "Dispatcher",
    "Entry",
    "LocalQueue",
    "Record",
    "Rules",
    "SHARED_POLL_SECONDS",
    "Send",
    "SlotState",
    "WorkSource",
    "local_dispatcher",
]
