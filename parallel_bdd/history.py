"""The ``.scenarios`` history file: how long each scenario took, so the next run starts the
slowest first.

Called in the parent only: by ``session.py`` once before a run (``HistoryStore.load``, fed
to ``scheduler.with_estimates``) and once after it (``HistoryStore.save`` with every result),
and by ``cli.py`` for ``pbdd history``; ``history_merge.py`` builds ``pbdd history merge`` on
it. A worker never touches the file. Imports nothing from ``cli`` or ``reporting``.

File format (JSON, UTF-8, one scenario per line so that a diff or a grep stays readable)::

    {
      "format": "pbdd-history",
      "version": 1,
      "scenarios": {
        "features/returns.feature::Refund a damaged item": {"duration": 12.4,
            "status": "passed", "runs": 7, "last_run": "2024-05-01T10:00:00Z"}
      }
    }

* ``duration``: seconds, exponentially smoothed over runs: the first run records its duration
  ``d``; every later run stores ``ALPHA * d + (1 - ALPHA) * old`` with ``ALPHA = 0.5``, so one
  slow run moves the estimate halfway and an outlier is forgotten within a few runs.
* ``status``: the scenario's last status (``passed``, ``failed``, ``errored``...).
* ``runs``: how many runs recorded a duration for it.
* ``last_run``: when the last of those runs was saved, ISO-8601 UTC.

What ``save`` records: every result except ``not_run`` ones (nothing was measured) and
``errored`` ones with a zero duration (the scenario never started: a crash before it, a
failing ``before.all``). When a scenario was attempted several times in one run (retries), the
last attempt counts, once.

Saving never loses someone else's entries: it takes ``<path>.lock`` (``filelock``; never
through a symbolic link, see ``refuse_symlinked_lock``), re-reads
the file as it is now, updates only the scenarios of this run, writes a temporary file in the
same directory and renames it over the old one, so a reader never sees half a file and two
runs (or two shards) saving at the same time both land. The lock file is left in place on
purpose: removing it would let two savers lock two different files.

A file that is not ours (corrupt, truncated, empty, another tool's format, lettuce's old CSV)
never stops a run: ``load`` returns no history, copies the file to ``<path>.bak``, records a
warning in ``HistoryStore.warnings``, and the next ``save`` replaces it. A place that cannot be
written (missing or read-only directory) is a warning too, and a file that exists but cannot
be read is left alone rather than replaced. ``merge_files`` is a command the user typed, so a
bad input there is a ``UsageError`` naming the file; its rule for a scenario recorded on several
machines is in ``merge_entries``.
"""

from __future__ import annotations

import errno
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from parallel_bdd.files import write_atomically
from parallel_bdd.messages import ERRORED, NOT_RUN, ScenarioResult

FORMAT_NAME = "pbdd-history"
FORMAT_VERSION = 1
DEFAULT_PATH = ".scenarios"
ALPHA = 0.5  # weight of the newest duration in the smoothed one
LOCK_TIMEOUT = 30.0  # seconds; flock waits are short, a longer one means a stuck filesystem

_EPOCH = datetime.min.replace(tzinfo=UTC)


# json.dumps with any keyword builds a new encoder per call: a large history has thousands
_encode = json.JSONEncoder(ensure_ascii=False).encode


@dataclass(frozen=True)
class HistoryEntry:
    """What the history remembers about one scenario."""

    duration: float  # exponentially smoothed seconds
    status: str  # last status
    runs: int
    last_run: str  # ISO-8601 UTC timestamp

    def as_json(self) -> str:
        """The entry as the file holds it: the JSON object of its fields, the text
        ``json.dumps`` would give, written out directly."""
        return (
            f'{{"duration": {round(self.duration, 6)!r}, "status": {_encode(self.status)}, '
            f'"runs": {self.runs}, "last_run": {_encode(self.last_run)}}}'
        )


class NotHistory(Exception):
    """The file exists but is not a pbdd history file; the message says why."""


def utc_timestamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as the history writes it: ``2024-05-01T10:00:00Z``."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """A ``last_run`` value as an aware datetime; anything unreadable counts as the oldest."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return _EPOCH
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def smooth(old: float, new: float) -> float:
    """The exponentially weighted duration after one more run of ``new`` seconds."""
    return ALPHA * new + (1.0 - ALPHA) * old


class HistoryStore:
    """The history file at ``path``; collects warnings instead of raising for a bad file."""

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = LOCK_TIMEOUT) -> None:
        self.path: Path = Path(path)
        self.warnings: list[str] = []
        self.lock_timeout = lock_timeout
        self._backed_up: bytes | None = None  # content last copied to .bak, to do it once
        # the content last parsed and its entries: saving re-reads the file under the lock,
        # and when nobody changed it since the run began, parsing it again is wasted time
        self._parsed: tuple[bytes, dict[str, HistoryEntry]] | None = None

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def backup_path(self) -> Path:
        return self.path.with_name(self.path.name + ".bak")

    def load(self) -> dict[str, HistoryEntry]:
        """Every recorded scenario; ``{}`` (plus a warning) when the file is missing or bad."""
        return self._read_current()

    def save(self, results: Iterable[ScenarioResult], *, now: datetime | None = None) -> None:
        """Fold this run's results into the file, keeping every entry the run did not touch."""
        latest = _latest_measured(results)
        if not latest:
            return
        directory = self.path.parent
        if not directory.is_dir():
            # filelock would create the directory; a mistyped --history should not do that.
            self._warn_unsaved(f"the directory {shown(directory)} does not exist")
            return
        stamp = utc_timestamp(now)
        import filelock  # here, not at import: a run that saves nothing never needs it

        try:
            refuse_symlinked_lock(self.lock_path)
            with filelock.FileLock(str(self.lock_path), timeout=self.lock_timeout):
                entries = self._read_current(for_update=True)
                for scenario_id, result in latest.items():
                    entries[scenario_id] = _updated(entries.get(scenario_id), result, stamp)
                write_history(self.path, entries)
        except filelock.Timeout:
            self._warn_unsaved(
                f"{shown(self.lock_path)} stayed locked for {self.lock_timeout:g}s "
                "(another pbdd still saving?)"
            )
        except OSError as error:
            self._warn_unsaved(os_reason(error))

    def _read_current(self, *, for_update: bool = False) -> dict[str, HistoryEntry]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as error:
            if for_update:
                raise  # a file we cannot read must not be replaced by a fresh one
            self._warn(
                f"cannot read the history file {shown(self.path)} ({os_reason(error)}); "
                "running without durations"
            )
            return {}
        if self._parsed is not None and self._parsed[0] == raw:
            return dict(self._parsed[1])
        try:
            entries = parse_history(raw)
        except NotHistory as problem:
            kept = self._quarantine(raw, str(problem))
            if for_update and not kept:
                raise OSError(
                    f"{shown(self.path)} is not a history file and no copy could be kept"
                ) from None
            return {}
        self._parsed = (raw, entries)
        return dict(entries)

    def _quarantine(self, raw: bytes, reason: str) -> bool:
        """Copy a file that is not ours to ``<path>.bak`` (once per content); True when kept."""
        if raw == self._backed_up:
            return True
        backup = self.backup_path
        try:
            backup.write_bytes(raw)
        except OSError as error:
            what = f"could not keep a copy as {backup.name} ({os_reason(error)})"
        else:
            what = f"kept it as {backup.name}"
            self._backed_up = raw
        self._warn(
            f"{shown(self.path)} is not a pbdd history file ({reason}); {what} and starting fresh"
        )
        return self._backed_up == raw

    def _warn_unsaved(self, reason: str) -> None:
        self._warn(f"could not save scenario durations to {shown(self.path)}: {reason}")

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


def parse_history(raw: bytes | str) -> dict[str, HistoryEntry]:
    """The entries of a history file's content; raises ``NotHistory`` saying what is wrong."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise NotHistory("not UTF-8 text") from None
    else:
        text = raw
    if not text.strip():
        raise NotHistory("the file is empty")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotHistory(f"not JSON: {error.msg}, line {error.lineno}") from None
    if not isinstance(document, dict):
        raise NotHistory(f"expected a JSON object, found {_json_kind(document)}")
    if document.get("format") != FORMAT_NAME:
        raise NotHistory(f'no "format": "{FORMAT_NAME}" field')
    version = document.get("version")
    if version != FORMAT_VERSION:
        raise NotHistory(f"version {version!r}, this pbdd reads version {FORMAT_VERSION}")
    scenarios = document.get("scenarios")
    if not isinstance(scenarios, dict):
        raise NotHistory(f'"scenarios" is {_json_kind(scenarios)}, not an object')
    entries: dict[str, HistoryEntry] = {}
    for scenario_id, value in scenarios.items():
        entry = _entry_from_json(value)
        if entry is None:
            raise NotHistory(f"the entry for {scenario_id!r} is malformed")
        entries[scenario_id] = entry
    return entries


def _entry_from_json(value: object) -> HistoryEntry | None:
    if not isinstance(value, dict):
        return None
    duration = value.get("duration")
    status = value.get("status", "")
    runs = value.get("runs", 1)
    last_run = value.get("last_run", "")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)):
        return None
    if not math.isfinite(duration) or duration < 0:
        return None
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        return None
    if not isinstance(status, str) or not isinstance(last_run, str):
        return None
    return HistoryEntry(duration=float(duration), status=status, runs=runs, last_run=last_run)


def _latest_measured(results: Iterable[ScenarioResult]) -> dict[str, ScenarioResult]:
    """Per scenario, the last attempt that measured something."""
    latest: dict[str, ScenarioResult] = {}
    for result in results:
        if result.status == NOT_RUN:
            continue
        if not math.isfinite(result.duration) or result.duration < 0:
            continue
        if result.status == ERRORED and result.duration == 0:
            continue
        previous = latest.get(result.scenario_id)
        if previous is None or (result.attempt, result.started_at) >= (
            previous.attempt,
            previous.started_at,
        ):
            latest[result.scenario_id] = result
    return latest


def _updated(old: HistoryEntry | None, result: ScenarioResult, stamp: str) -> HistoryEntry:
    if old is None:
        return HistoryEntry(duration=result.duration, status=result.status, runs=1, last_run=stamp)
    return HistoryEntry(
        duration=smooth(old.duration, result.duration),
        status=result.status,
        runs=old.runs + 1,
        last_run=stamp,
    )


def refuse_symlinked_lock(lock_path: Path) -> None:
    """Raise ``OSError`` when the lock file is a symbolic link.

    filelock before 3.20.1 opens its lock file with ``O_TRUNC`` through a symbolic link:
    a link planted as ``.scenarios.lock`` would empty the file it points at. Newer ones open
    it with ``O_NOFOLLOW`` (and setup.py asks for one); this check keeps an older install
    safe, and says what is wrong instead of "too many levels of symbolic links"."""
    if lock_path.is_symlink():
        raise OSError(
            errno.ELOOP,
            f"the lock file {shown(lock_path)} is a symbolic link; pbdd locks only a file "
            "of its own (remove the link)",
        )


def write_history(path: Path, entries: Mapping[str, HistoryEntry]) -> None:
    """Write ``entries`` so that a reader sees either the old file or the new one."""
    write_atomically(path, render_history(entries).encode("utf-8"), keep_mode=True)


def render_history(entries: Mapping[str, HistoryEntry]) -> str:
    """The file's text: sorted ids, one entry a line."""
    lines = [
        "{",
        f'  "format": {json.dumps(FORMAT_NAME)},',
        f'  "version": {FORMAT_VERSION},',
    ]
    if not entries:
        lines.append('  "scenarios": {}')
    else:
        lines.append('  "scenarios": {')
        body = [
            f"    {_encode(scenario_id)}: {entries[scenario_id].as_json()}"
            for scenario_id in sorted(entries)
        ]
        lines.append(",\n".join(body))
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an object"


def os_reason(error: OSError) -> str:
    return error.strerror or str(error)


def shown(path: Path) -> str:
    return str(path) if str(path) else "."
