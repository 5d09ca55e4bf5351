"""Ordering and sharding policies: which scenario the workers get first, and which CI machine
runs which scenarios.

Called in the parent by ``session.py`` (estimates from the history, ``--shard I/N``, the
longest-first order) and by ``dispatch/`` (the queue entries, ``--dist feature`` groups); the
history report uses ``shard`` and ``predicted_makespan`` for its predictions. Pure functions of
``WorkItem`` records and history entries: no I/O, no processes. Imports nothing from ``cli``,
``reporting``, ``pool`` or ``worker``.

Why longest first: free workers get the next entry in order, so the run ends when the last
worker finishes.
A long scenario picked up late keeps one worker busy while the others idle; started first, it
overlaps with the short ones. Greedy longest-first list scheduling is within 4/3 of the best
possible makespan, and costs one sort.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping, Sequence

from parallel_bdd.errors import UsageError
from parallel_bdd.history import HistoryEntry
from parallel_bdd.messages import WorkItem, updated

SHARD_HINT = "write I/N, e.g. 1/3"
_SHARD_PATTERN = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*")


def with_estimates(
    items: Sequence[WorkItem], history: Mapping[str, HistoryEntry]
) -> list[WorkItem]:
    """Copies of ``items`` whose ``estimate`` is the recorded duration, in the same order.

    A scenario the history does not know gets the median of the known durations of this
    selection (of the whole history when none of the selection is known, 0.0 when the history
    is empty): a guess in the middle neither starts a new scenario first nor leaves it last.
    """
    known = [history[item.scenario_id].duration for item in items if item.scenario_id in history]
    if not known:
        known = [entry.duration for entry in history.values()]
    default = _median(known) if known else 0.0
    result = []
    for item in items:
        entry = history.get(item.scenario_id)
        result.append(updated(item, estimate=entry.duration if entry is not None else default))
    return result


def _median(values: list[float]) -> float:
    """``statistics.median``, without its import (``fractions``, ``decimal``) on the way to
    the first scenario."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _longest_first_key(item: WorkItem) -> tuple[float, int, str]:
    # The id settles equal orders, so every machine of a sharded run sorts alike.
    return (-item.estimate, item.order, item.scenario_id)


def longest_first(items: Sequence[WorkItem]) -> list[WorkItem]:
    """Descending estimate; equal estimates in file order, so the result is deterministic."""
    return sorted(items, key=_longest_first_key)


def file_order(items: Sequence[WorkItem]) -> list[WorkItem]:
    """The order of the feature files and of the scenarios in them (lettuce's order)."""
    return sorted(items, key=lambda item: (item.order, item.scenario_id))


def feature_groups(items: Sequence[WorkItem]) -> list[list[WorkItem]]:
    """``--dist feature``: one group per feature file, to be run whole by one worker.

    Groups come longest first by their total estimate (ties: the feature met first in file
    order); inside a group the scenarios keep file order, as they would under lettuce.
    """
    groups: dict[str, list[WorkItem]] = {}
    for item in file_order(items):
        groups.setdefault(item.feature.path, []).append(item)
    return sorted(groups.values(), key=_group_key)


def _group_key(group: Sequence[WorkItem]) -> tuple[float, int, str]:
    return (-sum(item.estimate for item in group), group[0].order, group[0].scenario_id)


def shard(
    items: Sequence[WorkItem], index: int, total: int, *, keep_features: bool = False
) -> list[WorkItem]:
    """The items of shard ``index`` (1-based) of ``total``, in ``longest_first`` order.

    Greedy longest-first bin packing: each scenario, longest first (ties by file order), goes to
    the shard with the least estimated time so far, then the fewest scenarios, then the lowest
    number. With no history (every estimate 0) that deals the scenarios round-robin in file
    order. Every machine computes the same split from the same selection and history file, so
    the shards cover the selection exactly once. ``keep_features`` packs whole features
    (``--dist feature``) instead of single scenarios.
    """
    _check_shard(index, total, f"{index}/{total}")
    return shard_all(items, total, keep_features=keep_features)[index - 1]


def shard_all(
    items: Sequence[WorkItem], total: int, *, keep_features: bool = False
) -> list[list[WorkItem]]:
    """Every shard of ``--shard */total`` at once (shard 1 first), each longest first."""
    _check_shard(1, total, f"1/{total}")
    if keep_features:
        units = feature_groups(items)
    else:
        units = [[item] for item in longest_first(items)]
    loads = [0.0] * total
    counts = [0] * total
    bins: list[list[WorkItem]] = [[] for _ in range(total)]
    for unit in units:
        target = min(range(total), key=lambda number: (loads[number], counts[number], number))
        bins[target].extend(unit)
        loads[target] += sum(item.estimate for item in unit)
        counts[target] += len(unit)
    return [longest_first(chosen) for chosen in bins]


def predicted_makespan(durations: Sequence[float], processes: int) -> float:
    """Wall time of running ``durations`` on ``processes`` workers that pull longest first.

    Simulates the pool: each duration, longest first, goes to the worker that is free first.
    """
    if processes < 1:
        raise ValueError(f"processes must be at least 1, got {processes}")
    free_at = [0.0] * min(processes, len(durations))
    for duration in sorted((max(0.0, d) for d in durations), reverse=True):
        heapq.heapreplace(free_at, free_at[0] + duration)
    return max(free_at, default=0.0)


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> ``(2, 3)``; anything else is a ``UsageError`` quoting the value."""
    match = _SHARD_PATTERN.fullmatch(text)
    if match is None:
        raise UsageError(
            f"--shard '{text}': expected the shard number and the number of shards ({SHARD_HINT})"
        )
    index, total = int(match.group(1)), int(match.group(2))
    _check_shard(index, total, text)
    return index, total


def _check_shard(index: int, total: int, text: str) -> None:
    if total < 1:
        raise UsageError(
            f"--shard '{text}': the number of shards must be at least 1 ({SHARD_HINT})"
        )
    if not 1 <= index <= total:
        raise UsageError(
            f"--shard '{text}': the shard number must be between 1 and {total} ({SHARD_HINT})"
        )


# -- queue entries -------------------------------------------------------------------------
CHUNK_TARGET_SECONDS = 0.05  # with history: group scenarios shorter than this together
# With history a chunk holds at most CHUNK_TARGET_SECONDS of known work, so its size only
# caps how many messages a suite of near-instant scenarios costs (bench/RESULTS.md has
# the measurements behind 100). Without history a chunk is a
# guess: kept smaller, so that slow scenarios in it cannot hold one worker for long.
CHUNK_MAX = 100
UNKNOWN_CHUNK_MAX = 25
UNKNOWN_CHUNK_MIN_ITEMS = 500  # without history, only large selections are chunked


def serial_tag(item: WorkItem) -> bool:
    """``@serial`` scenarios never run at the same time as each other."""
    return "serial" in item.tags


def retries_for(item: WorkItem, default: int = 0) -> int:
    """``--retry N``, or a per-scenario ``@retry(N)`` / ``@retry=N`` tag that wins over it."""
    for tag in item.tags:
        match = re.fullmatch(r"retry(?:\((\d+)\)|=(\d+))", tag)
        if match:
            return int(match.group(1) or match.group(2))
    return default


def queue_entries(
    items: Sequence[WorkItem], processes: int, *, dist: str = "load", chunking: bool = True
) -> list[tuple[WorkItem, ...]]:
    """What goes into the shared queue, in order: each entry one worker takes at a time.

    ``dist="feature"`` keeps each feature's scenarios together (longest feature first).
    Otherwise each long scenario is its own entry, and runs of short ones (by history,
    shorter than ``CHUNK_TARGET_SECONDS``) are grouped so that a manager round trip per
    scenario does not dominate a suite of fast scenarios; without any history, only a
    large selection is grouped, into chunks that shrink towards the end of the queue
    (guided self-scheduling) so the last workers still finish together.
    """
    if dist == "feature":
        return [tuple(group) for group in feature_groups(items)]
    if not chunking or not items:
        return [(item,) for item in items]
    known = any(item.estimate > 0 for item in items)
    entries: list[tuple[WorkItem, ...]] = []
    if known:
        chunk: list[WorkItem] = []
        load = 0.0
        for item in items:
            if item.estimate >= CHUNK_TARGET_SECONDS:
                entries.append((item,))
                continue
            if chunk and (load + item.estimate > CHUNK_TARGET_SECONDS or len(chunk) >= CHUNK_MAX):
                entries.append(tuple(chunk))
                chunk, load = [], 0.0
            chunk.append(item)
            load += item.estimate
        if chunk:
            entries.append(tuple(chunk))
        return entries
    if len(items) < UNKNOWN_CHUNK_MIN_ITEMS:
        return [(item,) for item in items]
    position = 0
    while position < len(items):
        left = len(items) - position
        size = max(1, min(UNKNOWN_CHUNK_MAX, left // (4 * max(1, processes))))
        entries.append(tuple(items[position : position + size]))
        position += size
    return entries
