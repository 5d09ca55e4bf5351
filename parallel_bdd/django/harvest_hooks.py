"""lettuce's ``before.harvest`` / ``after.harvest`` hooks around a harvest run, and the
multi-app "Test Suite Summary:".

Called by the ``harvest`` command (``run_with_hooks``), in its own process only: a worker
never fires these hooks. Imports nothing from cli; the console's count lines come from
``reporting.console`` so the block reads like pbdd's own summary.

Lettuce ran one runner per app and passed ``after.harvest`` one result per app. pbdd runs
every selected app's features in one session (one pool, the longest scenarios first across
apps), so an app's result is the run's final records whose feature file lies in that app's
``features`` directory (or in that PATH), counted as ``after.all``'s total is.
``before.harvest`` fires once the project's ``terrain.py`` is imported, before anything
starts (test databases, ``before.all``, workers); as in lettuce, hooks registered by step
files are not known yet then, while ``after.harvest`` sees them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..config import RunOptions
from ..discovery import import_suite, terrain_file
from ..errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, PbddError
from ..hooks import HOOKS
from ..messages import NOT_RUN, PASSED
from ..model import TotalResult, total_from_results
from ..reporting.console import count_lines, plural
from ..reporting.records import Record
from .run import run_pbdd
from .selection import Source

Write = Callable[[str], None]  # one line, without its newline


@dataclass
class AppResult(TotalResult):
    """One app's (or PATH's) share of the run: lettuce's ``TotalResult`` counters."""

    app: str = ""  # the app's name as in INSTALLED_APPS, or the PATH as given
    path: str = ""  # its features directory, or the PATH


@dataclass
class HarvestResults(TotalResult):
    """What ``after.harvest`` receives, as lettuce's ``SummaryTotalResults``: the whole
    run's counters, and a sequence of ``AppResult`` (``len``, ``[i]``, iteration), one per
    selected app or PATH, in the order harvest chose them."""

    total_results: list[AppResult] = field(default_factory=list)

    @property
    def features_ran_overall(self) -> int:
        return self.features_ran

    @property
    def features_passed_overall(self) -> int:
        return self.features_passed

    def __len__(self) -> int:
        return len(self.total_results)

    def __getitem__(self, index: int) -> AppResult:
        return self.total_results[index]

    def __iter__(self) -> Iterator[AppResult]:
        return iter(self.total_results)


def _counters(total: TotalResult) -> dict[str, Any]:
    return {each.name: getattr(total, each.name) for each in fields(TotalResult)}


def _where(path: str) -> Path:
    """A feature file, app directory or PATH (``file.feature:LINE`` too) as an absolute path."""
    file_part = path.split(":")[0] if not Path(path).exists() else path
    return Path(file_part).resolve()


def group_by_source(records: Sequence[Record], sources: Sequence[Source]) -> list[list[Record]]:
    """The records of each source, in the sources' order; a feature file in two sources
    (a PATH inside another) counts for the first."""
    places = [_where(source.path) for source in sources]
    groups: list[list[Record]] = [[] for _ in sources]
    for record in records:
        feature = _where(record[0].feature.path)
        for index, place in enumerate(places):
            if feature == place or place in feature.parents:
                groups[index].append(record)
                break
    return groups


def harvest_results(
    records: Sequence[Record], sources: Sequence[Source], groups: Sequence[Sequence[Record]]
) -> HarvestResults:
    apps = [
        AppResult(**_counters(total_from_results(group)), app=source.name, path=source.path)
        for source, group in zip(sources, groups, strict=True)
    ]
    return HarvestResults(**_counters(total_from_results(records)), total_results=apps)


def _ran(records: Sequence[Record]) -> list[Record]:
    return [record for record in records if record[1].status != NOT_RUN]


def summary_lines(
    records: Sequence[Record], sources: Sequence[Source], groups: Sequence[Sequence[Record]]
) -> list[str]:
    """The block: lettuce's header, the number of apps (or PATHS) that ran scenarios,
    lettuce's three count lines for the whole run, then one line per such app."""
    word = "app" if any(source.name != source.path for source in sources) else "path"
    ran_by_source = [(source, _ran(group)) for source, group in zip(sources, groups, strict=True)]
    ran_by_source = [(source, ran) for source, ran in ran_by_source if ran]
    passed = sum(1 for _, ran in ran_by_source if all(r.status == PASSED for _, r in ran))
    lines = [
        "Test Suite Summary:",
        f"{plural(len(ran_by_source), word)} ({passed} passed)",
        *count_lines(_ran(records), total_from_results(records)),
    ]
    for source, ran in ran_by_source:
        lines.append(f"  {source.name}: " + ", ".join(count_lines(ran, total_from_results(ran))))
    return lines


@dataclass(frozen=True)
class Terminal:
    """Where the command writes: ``out`` the report, ``err`` the errors (one line each)."""

    out: Write
    err: Write


def _hook_failed(hook: str, error: Exception, terminal: Terminal) -> None:
    """As pbdd reports a failing ``after.all``: the hook, the error, the user's traceback."""
    from ..runner import describe_error, format_user_traceback

    terminal.out(f"HOOK FAILED: {hook}: {describe_error(error)}")
    for line in format_user_traceback(error).splitlines():
        terminal.out(f"  {line}")


def _before_harvest(variables: dict[str, Any], terminal: Terminal) -> int | None:
    """Import ``terrain.py`` and fire ``before.harvest``; the exit code if that failed."""
    try:
        import_suite([], terrain_file())  # lettuce imported terrain.py first too
        HOOKS.call("before", "harvest", variables)
    except PbddError as error:  # terrain.py does not import: what pbdd says for it
        terminal.err(f"Error: {error.format_message()}")
        return error.exit_code
    except Exception as error:  # a user's hook: report it, run nothing
        _hook_failed("before.harvest", error, terminal)
        terminal.err("Error: before.harvest failed; nothing ran.")
        return EXIT_USAGE
    return None


def run_with_hooks(
    run: RunOptions, sources: Sequence[Source], variables: dict[str, Any], terminal: Terminal
) -> int:
    """``before.harvest(variables)``, pbdd's run, the summary block when several apps or
    PATHs were harvested, ``after.harvest(results)``; the exit code. ``--dry-run`` fires
    no hook."""
    if run.dry_run:
        return run_pbdd(run).exit_code
    failed = _before_harvest(variables, terminal)
    if failed is not None:
        return failed
    result = run_pbdd(run)
    groups = group_by_source(result.records, sources)
    if len(sources) > 1 and _ran(result.records):
        terminal.out("")
        for line in summary_lines(result.records, sources, groups):
            terminal.out(line)
    try:
        HOOKS.call("after", "harvest", harvest_results(result.records, sources, groups))
    except Exception as error:  # as a failing after.all: reported, and the run fails
        _hook_failed("after.harvest", error, terminal)
        return EXIT_FAILED if result.exit_code == EXIT_OK else result.exit_code
    return result.exit_code
