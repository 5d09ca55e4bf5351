"""The text of ``pbdd history``: the slowest scenarios, totals and predicted wall times.

Called by ``cli.py`` with the entries ``HistoryStore.load`` returned; a pure function that
returns the text (the caller prints it). Uses the scheduler's own ``shard`` and
``predicted_makespan`` so that a prediction here is what a run would do. Imports nothing from
``cli``, ``pool`` or ``worker``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from parallel_bdd.history import HistoryEntry
from parallel_bdd.messages import SCENARIO_FAILURES, FeatureData, WorkItem
from parallel_bdd.scheduler import predicted_makespan, shard_all


def format_history(
    entries: Mapping[str, HistoryEntry], *, processes: int = 1, shards: int = 0, top: int = 15
) -> str:
    """The report for ``entries``; predictions for ``-p processes`` and ``--shard */shards``."""
    if not entries:
        return "No scenario durations recorded yet: run `pbdd` once to record them.\n"
    lines: list[str] = []
    slowest = sorted(entries.items(), key=lambda pair: (-pair[1].duration, pair[0]))[: max(top, 0)]
    if slowest:
        lines.append(f"Slowest {len(slowest)} of {_count(len(entries), 'scenario')}:")
        lines.append(f"  {'duration':>9}  {'status':<9}  {'runs':>5}  scenario")
        for scenario_id, entry in slowest:
            lines.append(
                f"  {format_seconds(entry.duration):>9}  {entry.status or '?':<9}  "
                f"{entry.runs:>5}  {scenario_id}"
            )
        lines.append("")

    durations = [entry.duration for entry in entries.values()]
    total = sum(durations)
    lines.append(
        f"{_count(len(entries), 'scenario')}, {format_seconds(total)} in total, "
        f"{_failures(entries.values())}"
    )
    makespan = predicted_makespan(durations, processes)
    lines.append(
        f"Predicted wall time with -p {processes}: {format_seconds(makespan)}{_speedup(total, makespan)}"
    )
    if shards > 0:
        lines.append(
            f"Predicted wall time of each shard of --shard I/{shards} with -p {processes}:"
        )
        for number, chosen in enumerate(shard_all(_work_items(entries), shards), start=1):
            shard_makespan = predicted_makespan([item.estimate for item in chosen], processes)
            lines.append(
                f"  {number}/{shards}: {format_seconds(shard_makespan)} "
                f"({_count(len(chosen), 'scenario')})"
            )
    return "\n".join(lines) + "\n"


def format_seconds(seconds: float) -> str:
    """``0.42s``, ``12.40s``, ``3m 05.2s``, ``1h 02m 03s``."""
    if round(seconds, 2) < 60:
        return f"{seconds:.2f}s"
    tenths = round(seconds * 10)
    if tenths < 36000:
        minutes, rest = divmod(tenths, 600)
        return f"{minutes}m {rest / 10:04.1f}s"
    hours, rest = divmod(round(seconds), 3600)
    minutes, rest = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {rest:02d}s"


def _work_items(entries: Mapping[str, HistoryEntry]) -> list[WorkItem]:
    # The history does not know file order; sorted ids (feature path first) stand in for it.
    items = []
    for order, scenario_id in enumerate(sorted(entries)):
        path = scenario_id.split("::", 1)[0]
        items.append(
            WorkItem(
                scenario_id=scenario_id,
                feature=FeatureData(path=path, name=path, line=0),
                name=scenario_id,
                line=0,
                order=order,
                estimate=entries[scenario_id].duration,
            )
        )
    return items


def _failures(entries: Iterable[HistoryEntry]) -> str:
    statuses = Counter(entry.status for entry in entries if entry.status in SCENARIO_FAILURES)
    failed = sum(statuses.values())
    if not failed:
        return "none last failed"
    if set(statuses) == {"failed"}:
        return f"{failed} last failed"
    detail = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    return f"{failed} last failed ({detail})"


def _speedup(total: float, makespan: float) -> str:
    if makespan <= 0 or total <= makespan:
        return ""
    return f" ({total / makespan:.1f}x faster than one process)"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
