"""One run of pbdd: load, select, order, ``before.all``, run, ``after.all``, report, history.

Called by ``cli.py`` with a ``RunOptions``; returns a ``RunResult``. Runs in the parent
only: the scenarios run in-process through ``serial.py`` (``-p 1``) or in worker processes
through ``pool/``; the reports go through ``reporting``. Catches ``PbddError`` once,
prints ``Error: <message>`` and returns its exit code. Imports nothing from ``cli``; no
worker imports this module.
"""

from __future__ import annotations

import gc
import importlib
import os
import random
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from . import coverage_support
from . import messages as m
from .config import RunOptions
from .discovery import find_step_files, import_suite, terrain_file
from .errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PbddError
from .handover import WorldHandover, run_before_all
from .hooks import HOOKS
from .interrupts import Interrupts
from .loader import load_features
from .messages import BatchSpan, HookFailure, ScenarioResult, WorkItem
from .model import TotalResult, total_from_results
from .parallel_run import SpecFactory, run_pool, spec_factory
from .registry import STEPS
from .reporting.console import ConsoleReporter, color_wanted
from .reporting.records import Record
from .reporting.registry import FinishedRun, format_named
from .tally import Tally

if TYPE_CHECKING:
    from .history import HistoryEntry, HistoryStore
    from .queue.source import RedisSource
    from .serial import SerialSettings


@dataclass
class RunResult:
    """What one run did; ``exit_code`` is what ``pbdd`` exits with."""

    exit_code: int
    records: list[Record] = field(default_factory=list)  # final attempts, file order
    attempts: dict[str, list[ScenarioResult]] = field(default_factory=dict)  # every one
    hook_failures: list[HookFailure] = field(default_factory=list)
    wall_time: float = 0.0  # seconds from before.all to the last result
    processes: int = 0  # workers (1: the serial run in this process)
    interrupted: bool = False
    all_workers_failed: bool = False
    error: PbddError | None = None  # what stopped the run midway (the shared queue went away)
    batch_spans: list[BatchSpan] = field(default_factory=list)  # before/after.batch times


def run_session(options: RunOptions) -> RunResult:
    """Run the suite as ``options`` say, printing to the terminal."""
    color = color_wanted(options.no_color, options.verbosity)
    live = sys.stdout.isatty() and not os.environ.get("CI")
    reporter = ConsoleReporter(options.verbosity, color=color, parallel=options.parallel, live=live)
    try:
        return _Session(options, reporter).run()
    except PbddError as error:
        click.echo(f"Error: {error.format_message()}", err=True)
        return RunResult(error.exit_code)
    except KeyboardInterrupt:
        # Ctrl-C outside the pool's and the serial run's own handling (loading, before.all)
        click.echo("Interrupted: nothing more was run.", err=True)
        return RunResult(EXIT_INTERRUPTED, interrupted=True)


@dataclass
class _Ran:
    """What running the scenarios (serially or in the pool) gave besides the results."""

    hook_failures: list[HookFailure]
    interrupted: bool
    all_workers_failed: bool = False
    not_run: list[str] = field(default_factory=list)  # handed out here, never finished
    error: PbddError | None = None
    batch_spans: list[BatchSpan] = field(default_factory=list)


class _Session:
    def __init__(self, options: RunOptions, reporter: ConsoleReporter) -> None:
        self.options = options
        self.reporter = reporter
        self.history: HistoryStore | None = None

    def notice_all(self, warnings: Sequence[str]) -> None:
        for warning in warnings:
            self.reporter.notice(f"Warning: {warning}")

    def run(self) -> RunResult:
        options = self.options
        for key, _ in options.reports:
            format_named(key).check_installed()
        suite = load_features(options.paths)
        self.notice_all(suite.warnings)
        from .filter import parse_indexes, select

        indexes = parse_indexes(options.scenario_indexes) if options.scenario_indexes else None
        items = select(suite.items, tags=options.tags, names=options.names, indexes=indexes)
        items = self.ordered(items)
        step_files = find_step_files(suite.suite_dirs, options.root_dir)
        terrain = terrain_file()
        coverage_settings = _coverage_settings(options)
        recorder = None if options.dry_run else coverage_support.start(coverage_settings)
        try:
            import_suite(step_files, terrain)
            self.notice_replaced_steps()
            if options.dry_run:
                from .reporting.dry_run import print_dry_run

                return RunResult(print_dry_run(items))
            spec_for = spec_factory(options, step_files, terrain, coverage_settings)
            return self.run_selected(items, spec_for)
        finally:
            coverage_support.finish(recorder)
            if recorder is not None and coverage_settings is not None:
                _report_coverage(coverage_settings, options.coverage_html)

    def ordered(self, items: list[WorkItem]) -> list[WorkItem]:
        """Estimates from history, --rerun-failed, --shard, then the dispatch order:
        longest first for a pool, file order for one process, shuffled for --random."""
        from .history import HistoryStore
        from .scheduler import file_order, longest_first, shard, with_estimates

        options = self.options
        entries: dict[str, HistoryEntry] = {}
        if not options.no_history:
            self.history = HistoryStore(options.history)
            entries = self.history.load()
            self.notice_all(self.history.warnings)
        if options.rerun_failed:
            failed = {
                key
                for key, entry in entries.items()
                if entry.status in (m.FAILED, m.ERRORED, m.AMBIGUOUS, m.UNDEFINED)
            }
            items = [item for item in items if item.scenario_id in failed]
        items = with_estimates(items, entries)
        if options.shard is not None:
            items = shard(items, *options.shard)
        if options.random:
            shuffled = list(items)
            random.Random(options.seed).shuffle(shuffled)
            return shuffled
        if options.processes == 1 and options.queue is None:
            # one process gains nothing from the order: keep the files' order, as lettuce
            # did, so each feature's header is printed once (a build shared by several
            # machines does: its queue goes longest first)
            return file_order(items)
        return longest_first(items)

    def notice_replaced_steps(self) -> None:
        for old, new in STEPS.replaced:
            self.reporter.notice(
                f"Warning: step pattern {new.pattern!r} defined twice; {new.location} "
                f"replaces {old.location}"
            )

    def run_selected(self, items: list[WorkItem], spec_for: SpecFactory) -> RunResult:
        """before.all, the scenarios, then the end of the run."""
        if not items:
            click.echo(
                "No scenario selected: nothing ran, so nothing passed "
                "(check the paths, -t tags, -n names, file:line or --rerun-failed).",
                err=True,
            )
            return RunResult(EXIT_FAILED)
        processes = min(self.options.processes, len(items))
        source = None
        if self.options.queue is not None:
            from .queue.joining import join_run

            source = join_run(self.options, items, processes, self.reporter.notice)
            if source is None:
                return RunResult(EXIT_OK)
        # The suite stays loaded for the whole run: frozen, a full garbage collection no
        # longer walks it.
        gc.freeze()
        self.reporter.start(len(items), processes, self.options.seed)
        tally = Tally(items, processes, self.reporter)
        try:
            handover = run_before_all()
        except Exception as error:  # a user's hook: report, do not run
            from .runner import hook_failure

            self.reporter.hook_failures([hook_failure("before.all", error)])
            click.echo("Error: before.all failed; nothing ran.", err=True)
            return RunResult(EXIT_USAGE)
        if source is not None:
            ran = self.run_shared(items, processes, spec_for, tally, handover, source)
        elif processes > 1:
            ran = self.run_pool(items, processes, spec_for, tally, handover)
        else:
            ran = self.run_serial(items, tally)
        in_file_order = sorted(items, key=lambda item: item.order)
        if source is not None:  # this machine reports what it was handed, not the build
            ours = set(tally.results) | set(ran.not_run)
            in_file_order = [item for item in in_file_order if item.scenario_id in ours]
        result = RunResult(
            EXIT_OK,
            records=tally.records(in_file_order),
            attempts=tally.attempts,
            hook_failures=ran.hook_failures,
            wall_time=time.perf_counter() - tally.started,
            processes=processes,
            interrupted=ran.interrupted,
            all_workers_failed=ran.all_workers_failed,
            error=ran.error,
            batch_spans=ran.batch_spans,
        )
        if source is not None and not in_file_order and ran.error is None:
            self.reporter.notice(
                f"Worker {source.queue.worker} ran no scenario: the other machines of build "
                f"{source.queue.build} took them all"
            )
            return RunResult(EXIT_OK, processes=processes)
        self.finish(result, tally.every_attempt(in_file_order))
        return result

    def serial_settings(self) -> SerialSettings:
        """The options a run in this process reads (``--pdb`` turns ``--timeout`` off)."""
        from .serial import SerialSettings

        options = self.options
        timeout = options.timeout
        if options.pdb and timeout:
            # the alarm would fire inside pdb and end the session the user is reading
            self.reporter.notice(f"--pdb: --timeout {timeout:g} is off for this run")
            timeout = 0.0
        return SerialSettings(
            base_port=options.base_port,
            artifacts_dir=options.artifacts_dir,
            timeout=timeout,
            retries=options.retries,
            failfast=options.failfast,
            slow_step_warning=options.slow_step_warning,
            post_mortem=options.pdb,
        )

    def run_serial(self, items: Sequence[WorkItem], tally: Tally) -> _Ran:
        from .serial import run_serial

        serial = run_serial(
            items, self.serial_settings(), on_result=tally.on_result, on_notice=self.reporter.notice
        )
        return _Ran(list(serial.hook_failures), serial.interrupted, batch_spans=serial.batch_spans)

    def run_shared(
        self,
        items: Sequence[WorkItem],
        processes: int,
        spec_for: SpecFactory,
        tally: Tally,
        handover: WorldHandover,
        source: RedisSource,
    ) -> _Ran:
        """A machine of a build shared through ``source``: one process runs the scenarios
        here (``serial_dispatch.py``), more in the pool; then it leaves the build."""
        from .queue.joining import leave_build

        try:
            if processes > 1:
                return self.run_pool(items, processes, spec_for, tally, handover, source)
            return self.run_here(items, tally, source)
        finally:
            leave_build(source, self.reporter.notice)

    def run_here(self, items: Sequence[WorkItem], tally: Tally, source: RedisSource) -> _Ran:
        from .serial_dispatch import run_dispatched

        outcome = run_dispatched(
            items,
            source,
            self.serial_settings(),
            self.options.grace,
            on_result=tally.on_result,
            on_notice=self.reporter.notice,
        )
        return _Ran(
            outcome.hook_failures,
            outcome.interrupted,
            outcome.before_batch_failed,
            not_run=outcome.not_run,
            error=outcome.error,
            batch_spans=outcome.batch_spans,
        )

    def run_pool(
        self,
        items: Sequence[WorkItem],
        processes: int,
        spec_for: SpecFactory,
        tally: Tally,
        handover: WorldHandover,
        source: RedisSource | None = None,
    ) -> _Ran:
        _import_in_background(self.modules_for_the_end())
        outcome = run_pool(
            self.options,
            items,
            processes,
            spec_for,
            tally.on_result,
            self.reporter.notice,
            handover,
            source,
        )
        return _Ran(
            list(outcome.hook_failures),
            outcome.interrupted or outcome.killed,
            outcome.all_workers_failed,
            batch_spans=outcome.batch_spans,
            not_run=list(outcome.not_run),
            error=outcome.queue_error,
        )

    def modules_for_the_end(self) -> list[str]:
        """What the end of a pooled run imports lazily for these options."""
        modules = ["filelock"] if self.history is not None else []
        modules += [format_named(key).module_name for key, _ in self.options.reports]
        return modules

    def finish(self, result: RunResult, every_attempt: list[Record]) -> None:
        """after.all, the reports and the history, with Ctrl-C recorded, not obeyed, the
        first time; sets ``result.exit_code``."""

        def say_interrupted() -> None:
            self.reporter.notice(
                "Interrupted: finishing after.all, the report and the history "
                "(press Ctrl-C again to stop at once)"
            )

        with Interrupts(raise_after=1, on_first=say_interrupted) as late:
            total = self.report(result, every_attempt, late)
        result.interrupted = result.interrupted or bool(late.presses)
        result.exit_code = _exit_code(result, total)
        if result.error is not None:
            click.echo(f"Error: {result.error.format_message()}", err=True)
            result.exit_code = result.error.exit_code

    def report(
        self, result: RunResult, every_attempt: list[Record], late: Interrupts
    ) -> TotalResult:
        """after.all, the console's end of run, the report files, the history."""
        total = total_from_results(result.records)
        total.time_elapsed = result.wall_time
        total.interrupted = result.interrupted
        try:
            HOOKS.call("after", "all", total)
        except Exception as error:
            from .runner import hook_failure

            result.hook_failures.append(hook_failure("after.all", error))
        reporter = self.reporter
        reporter.failures(result.records)
        reporter.hook_failures(result.hook_failures)
        interrupted = result.interrupted or bool(late.presses)
        reason = "Interrupted" if interrupted else ("--failfast" if self.options.failfast else "")
        reporter.summary(
            result.records,
            total,
            wall_time=result.wall_time,
            processes=result.processes,
            interrupted_reason=reason,
        )
        reporter.flaky(result.records, result.attempts)
        finished = FinishedRun(
            every_attempt,
            result.wall_time,
            self.options.junit_family,
            processes=result.processes,
            stopped_by=reason,
            hook_failures=tuple(result.hook_failures),
            batch_spans=tuple(result.batch_spans),
        )
        self.write_reports(finished)
        if self.history is not None:
            self.history.warnings.clear()
            self.history.save(scenario for _, scenario in result.records)
            self.notice_all(self.history.warnings)
        return total

    def write_reports(self, finished: FinishedRun) -> None:
        for key, path in self.options.reports:
            try:
                format_named(key).write(path, finished)
            except OSError as error:
                self.reporter.notice(f"Warning: could not write {path}: {error.strerror or error}")


def _exit_code(result: RunResult, total: TotalResult) -> int:
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.all_workers_failed:
        click.echo("Error: every worker failed in before.batch; nothing ran.", err=True)
        return EXIT_USAGE
    if total.is_success and not result.hook_failures:
        return EXIT_OK
    return EXIT_FAILED


def _coverage_settings(options: RunOptions) -> coverage_support.CoverageSettings | None:
    if not options.coverage:
        return None
    return coverage_support.CoverageSettings(
        data_file=os.path.abspath(".coverage"), sources=options.coverage_sources
    )


def _report_coverage(settings: coverage_support.CoverageSettings, html: str | None) -> None:
    text, _ = coverage_support.combine_and_report(settings, html)
    click.echo()
    click.echo(text)
    if html:
        click.echo(f"HTML coverage report: {html}/index.html")


def _import_in_background(modules: Sequence[str]) -> None:
    """Import ``modules`` while the parent waits on the workers, not after they finish.

    The parent is idle during a pooled run and every moment after it is added to the wall
    time; the import lock makes a later ``import`` of the same module wait, not repeat it.
    """

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:
                pass  # the real import at the end reports it

    if modules:
        threading.Thread(target=load, name="pbdd-import-reports", daemon=True).start()
