"""``pbdd history merge``: history files recorded on several machines (or shards) made one.

Called by ``cli.py``. The command is one the user typed, so a bad input is a ``UsageError``
naming the file (where ``HistoryStore.load`` would warn and go on); the rule for a scenario
recorded on several machines is in ``merge_entries``. Imports nothing from ``cli`` or
``reporting``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from parallel_bdd.errors import UsageError
from parallel_bdd.history import (
    LOCK_TIMEOUT,
    HistoryEntry,
    NotHistory,
    os_reason,
    parse_history,
    parse_timestamp,
    refuse_symlinked_lock,
    shown,
    write_history,
)


def merge_entries(histories: Sequence[Mapping[str, HistoryEntry]]) -> dict[str, HistoryEntry]:
    """Combine histories recorded on several machines (or shards) into one.

    For a scenario present in several histories:

    * an entry is dropped when another one has both more runs and a later ``last_run``: it is
      taken to be an older copy that the newer one already folded in (shards that started from
      the same cached file each carry the old entry for the scenarios they did not run);
    * ``status`` and ``last_run`` come from the most recent remaining entry (on a tie, the
      later history in the sequence wins);
    * ``duration`` is the average of the remaining entries weighted by their ``runs``;
    * ``runs`` is the largest remaining count, so merging a file with itself changes nothing.
    """
    candidates: dict[str, list[HistoryEntry]] = {}
    for history in histories:
        for scenario_id, entry in history.items():
            candidates.setdefault(scenario_id, []).append(entry)
    return {scenario_id: _merge_one(entries) for scenario_id, entries in candidates.items()}


def _merge_one(entries: list[HistoryEntry]) -> HistoryEntry:
    if len(entries) == 1:
        return _copy(entries[0])
    moments = [parse_timestamp(entry.last_run) for entry in entries]
    kept = [
        (entry, moment)
        for entry, moment in zip(entries, moments)
        if not any(
            other.runs > entry.runs and other_moment > moment
            for other, other_moment in zip(entries, moments)
        )
    ]
    # With the position in the key, the later history wins a tie on last_run.
    newest_at = max(range(len(kept)), key=lambda index: (kept[index][1], index))
    newest = kept[newest_at][0]
    total_runs = sum(entry.runs for entry, _ in kept)
    duration = sum(entry.duration * entry.runs for entry, _ in kept) / total_runs
    return HistoryEntry(
        duration=duration,
        status=newest.status,
        runs=max(entry.runs for entry, _ in kept),
        last_run=newest.last_run,
    )


def _copy(entry: HistoryEntry) -> HistoryEntry:
    return HistoryEntry(entry.duration, entry.status, entry.runs, entry.last_run)


def merge_files(
    inputs: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str]
) -> dict[str, HistoryEntry]:
    """``pbdd history merge``: combine ``inputs`` (rules: ``merge_entries``) into ``output``.

    ``output`` is replaced, not merged into: list it among the inputs to keep what it holds.
    A missing or unreadable input, or a failure to write ``output``, raises ``UsageError``.
    """
    if not inputs:
        raise UsageError(
            "pbdd history merge: no history file given",
            hint="name the .scenarios files to combine, e.g. shard-1/.scenarios shard-2/.scenarios",
        )
    histories = [_read_strictly(Path(path)) for path in inputs]
    merged = merge_entries(histories)
    target = Path(output)
    if not target.parent.is_dir():
        raise UsageError(
            f"cannot write '{target}': the directory {shown(target.parent)} does not exist"
        )
    lock_path = target.with_name(target.name + ".lock")
    import filelock

    try:
        refuse_symlinked_lock(lock_path)
        with filelock.FileLock(str(lock_path), timeout=LOCK_TIMEOUT):
            write_history(target, merged)
    except filelock.Timeout:
        raise UsageError(f"cannot write '{target}': {lock_path} stayed locked") from None
    except OSError as error:
        raise UsageError(f"cannot write '{target}': {os_reason(error)}") from None
    return merged


def _read_strictly(path: Path) -> dict[str, HistoryEntry]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"'{path}': no such history file") from None
    except OSError as error:
        raise UsageError(f"cannot read '{path}': {os_reason(error)}") from None
    try:
        return parse_history(raw)
    except NotHistory as problem:
        raise UsageError(
            f"'{path}' is not a pbdd history file ({problem})",
            hint="give the .scenarios files that pbdd wrote",
        ) from None
