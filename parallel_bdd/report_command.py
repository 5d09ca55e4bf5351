"""``pbdd report``: the merged report of a build that several machines ran through Redis.

A subcommand of ``cli.pbdd`` (registered there with ``add_command``; kept in its own module
so that ``cli.py`` stays the run's options). It waits for the build (``queue.report``),
prints lettuce's summary with the console reporter's functions, writes the report files of
``reporting.registry`` and the merged history, and exits like a run: 0 green, 1 a failure
or a missing result, 2 a queue error. redis-py is imported only when the command runs.
"""

from __future__ import annotations

from typing import Any

import click

from .errors import EXIT_FAILED, EXIT_OK, PbddError
from .reporting.registry import FORMATS, FinishedRun, format_named

DEFAULT_TIMEOUT = 3600.0
DEFAULT_INACTIVE_TIMEOUT = 300.0


def _report_file_options(command: Any) -> Any:
    for report in reversed(FORMATS):
        command = click.option(
            f"--{report.name}",
            report.key,
            type=click.Path(dir_okay=False),
            default=None,
            help=report.help,
        )(command)
    return command


@click.command(name="report", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--queue", "queue_url", envvar="PBDD_QUEUE_URL", required=True, help="Redis URL.")
@click.option(
    "--build",
    envvar="PBDD_BUILD_ID",
    default=None,
    help="The build's id (default: the CI run's id, as for the machines' --queue runs).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Fail when the build has not every result after this many seconds.",
)
@click.option(
    "--inactive-timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_INACTIVE_TIMEOUT,
    show_default=True,
    help="Fail early when no machine has been seen for this many seconds.",
)
@_report_file_options
@click.option("--history", "history_path", default=None, help="Merge the durations into this file.")
@click.option("--no-color", is_flag=True, help="No ANSI colours (NO_COLOR is honoured too).")
def report_command(
    queue_url: str,
    build: str | None,
    timeout: float,
    inactive_timeout: float,
    history_path: str | None,
    no_color: bool,
    **reports: str | None,
) -> None:
    """Wait until every scenario of a build run through --queue has its final result, then
    print the merged summary and write the merged reports. Reads the queue, never writes it."""
    from .build_ids import build_id
    from .queue.report import wait_for_build

    try:
        build = build_id(build)
        state = wait_for_build(queue_url, build, timeout=timeout, inactive_timeout=inactive_timeout)
    except PbddError as error:
        click.echo(f"Error: {error.format_message()}", err=True)
        raise SystemExit(error.exit_code) from None
    raise SystemExit(_report(state, reports, history_path, no_color))


def _report(
    state: Any, reports: dict[str, str | None], history_path: str | None, no_color: bool
) -> int:
    """Print and write the finished build (``queue.report.BuildState``); the exit code."""
    from .model import total_from_results
    from .reporting.console import ConsoleReporter, color_wanted

    reporter = ConsoleReporter(1, color=color_wanted(no_color, 1), parallel=True)
    records = state.records()
    for line in state.reclaimed:
        entry, lost, taken_by = (line.split(" ") + ["?", "?"])[:3]
        reporter.notice(
            f"Warning: worker {lost} stopped heartbeating; {taken_by} took over entry {entry}"
        )
    total = total_from_results(records)
    total.time_elapsed = state.wall_time()
    reporter.failures(records)
    machines = max(1, len(state.machines))
    reporter.summary(records, total, wall_time=total.time_elapsed, processes=machines)
    reporter.flaky(records, state.attempts)
    finished = FinishedRun(state.every_attempt(), total.time_elapsed, processes=machines)
    for key, path in reports.items():
        if path:
            try:
                format_named(key).write(path, finished)
            except OSError as error:
                reporter.notice(f"Warning: could not write {path}: {error.strerror or error}")
    if history_path:
        from .history import HistoryStore

        store = HistoryStore(history_path)
        store.save(result for _, result in records)
        for warning in store.warnings:
            reporter.notice(f"Warning: {warning}")
    return EXIT_OK if total.is_success else EXIT_FAILED
