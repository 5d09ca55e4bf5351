"""The ``pbdd`` command: options → load → select → order → run → report → history.

Entry point of the console script and ``python -m parallel_bdd``; the only module that
talks to the user's terminal besides ``reporting``. Catches ``PbddError`` once and exits
with its code. Runs ``@before.all``/``@after.all`` here, in the parent.
"""

from __future__ import annotations

import gc
import importlib
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from . import __version__, coverage_support
from . import messages as m
from .config import DEFAULT_BASE_PORT, RunOptions, find_pyproject, load_pyproject
from .discovery import find_step_files, import_suite, terrain_file
from .errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PbddError, UsageError
from .hooks import HOOKS
from .loader import load_features
from .messages import HookFailure, ScenarioResult, WorkItem
from .model import total_from_results
from .registry import STEPS, AmbiguousMatch
from .reporting.console import ConsoleReporter, color_wanted, plural

START_METHODS = ("spawn", "forkserver", "fork")


class ProcessesType(click.ParamType):
    name = "N|auto"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int) and value >= 1:
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return os.cpu_count() or 1
        try:
            number = int(text)
        except ValueError:
            self.fail(f"{value!r} is not a number of processes (write e.g. -p 4, or -p auto)")
        if number < 1:
            self.fail(f"{value!r}: need at least 1 process (write e.g. -p 4, or -p auto)")
        return number


class ShardType(click.ParamType):
    name = "I/N"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        from .scheduler import parse_shard

        try:
            return parse_shard(str(value))
        except PbddError as error:
            self.fail(error.message)


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("paths", nargs=-1)
@click.option(
    "-p",
    "--processes",
    type=ProcessesType(),
    default=1,
    show_default=True,
    help="Worker processes; 'auto' = one per CPU core.",
)
@click.option(
    "-v",
    "--verbosity",
    type=click.IntRange(0, 4),
    default=2,
    show_default=True,
    help="0 summary, 1 dots, 2 a line per scenario, 3 every step, 4 in colour.",
)
@click.option(
    "-t",
    "--tag",
    "tags",
    multiple=True,
    help="lettuce style: -t tag, -t -tag (repeatable); or an expression -t '@a and not @b'.",
)
@click.option(
    "-s",
    "--scenarios",
    "scenario_indexes",
    default=None,
    help="lettuce: only these 1-based scenario positions in every feature, e.g. 1,3.",
)
@click.option(
    "-n", "--name", "names", multiple=True, help="Only scenarios whose name matches REGEX."
)
@click.option("--failfast", is_flag=True, help="Stop handing out work after the first failure.")
@click.option(
    "--dry-run",
    "--list",
    "dry_run",
    is_flag=True,
    help="List the scenarios in dispatch order with their estimates; run nothing.",
)
@click.option("--random", "random_order", is_flag=True, help="Run in random order (seed printed).")
@click.option("--seed", type=int, default=None, help="Seed for --random (implies --random).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=0.0,
    help="Seconds a scenario may run; then it errors with the stack where it hung (0: no limit).",
)
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Seconds running scenarios get to finish after Ctrl-C.",
)
@click.option(
    "--junit-xml",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a JUnit XML report here.",
)
@click.option("--with-xunit", is_flag=True, help="lettuce's flag: JUnit XML to --xunit-file.")
@click.option(
    "--xunit-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="lettuce's option (default lettucetests.xml).",
)
@click.option(
    "--cucumber-json",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a Cucumber JSON report here.",
)
@click.option(
    "--history",
    "history_path",
    default=".scenarios",
    show_default=True,
    help="The scenario duration history file.",
)
@click.option("--no-history", is_flag=True, help="Neither read nor write the history file.")
@click.option(
    "--rerun-failed",
    is_flag=True,
    help="Only scenarios whose last recorded status is failed or errored.",
)
@click.option(
    "--shard",
    type=ShardType(),
    default=None,
    help="Run shard I of N (history-balanced), e.g. --shard 2/4.",
)
@click.option(
    "--base-port",
    type=click.IntRange(1, 65000),
    default=DEFAULT_BASE_PORT,
    show_default=True,
    help="world.port_number: this in a serial run, base+1+i for worker i.",
)
@click.option(
    "--start-method",
    type=click.Choice(START_METHODS),
    default="spawn",
    show_default=True,
    help="How worker processes are started.",
)
@click.option(
    "--retry",
    "retries",
    type=click.IntRange(min=0),
    default=0,
    help="Run a failed scenario up to N more times (a @retry(N) tag sets it per scenario).",
)
@click.option(
    "--dist",
    type=click.Choice(["load", "feature"]),
    default="load",
    show_default=True,
    help="load: any worker takes any scenario; feature: a feature's scenarios stay on one worker.",
)
@click.option(
    "--max-scenarios-per-worker",
    type=click.IntRange(min=0),
    default=0,
    help="Replace a worker after it ran N scenarios (0: never).",
)
@click.option(
    "--requeue-crashed",
    type=click.IntRange(min=0),
    default=0,
    help="Re-run a scenario whose worker crashed up to N more times, on a fresh worker.",
)
@click.option(
    "--slow-step-warning",
    type=click.FloatRange(min=0),
    default=0.0,
    help="Warn, with its stack, about a step running longer than SECONDS (0: never).",
)
@click.option(
    "--artifacts-dir",
    default="pbdd-artifacts",
    show_default=True,
    help="world.artifacts_dir: where screenshots and page sources go.",
)
@click.option(
    "--coverage",
    "coverage_enabled",
    is_flag=True,
    help="Measure code coverage in every process and combine it.",
)
@click.option(
    "--coverage-source",
    "coverage_sources",
    multiple=True,
    help="Package or directory to measure (repeatable; default: the current dir).",
)
@click.option("--coverage-html", default=None, help="Also write an HTML coverage report here.")
@click.option("--no-color", is_flag=True, help="No ANSI colours (NO_COLOR is honoured too).")
@click.version_option(__version__, "--version", prog_name="pbdd")
@click.pass_context
def run_command(ctx: click.Context, **params: Any) -> None:
    """Run the Gherkin suites in PATHS (directories, .feature files, file.feature:LINE).

    With no PATHS, runs ./features. Step definitions are every *.py under the suite
    directory, plus terrain.py in the current directory. Defaults can be set in
    pyproject.toml under [tool.pbdd].
    """
    options = _options(params)
    ctx.exit(execute(options))


def _options(params: dict[str, Any]) -> RunOptions:
    junit = params["junit_xml"]
    if params["with_xunit"] or params["xunit_file"]:
        junit = junit or params["xunit_file"] or "lettucetests.xml"
    seed = params["seed"]
    random_order = params["random_order"] or seed is not None
    if random_order and seed is None:
        seed = random.SystemRandom().randrange(1, 10**6)
    return RunOptions(
        paths=tuple(params["paths"]),
        processes=params["processes"],
        verbosity=params["verbosity"],
        tags=tuple(params["tags"]),
        names=tuple(params["names"]),
        scenario_indexes=params["scenario_indexes"],
        failfast=params["failfast"],
        dry_run=params["dry_run"],
        random=random_order,
        seed=seed,
        timeout=params["timeout"],
        grace=params["grace"],
        junit_xml=junit,
        cucumber_json=params["cucumber_json"],
        history=params["history_path"],
        no_history=params["no_history"],
        rerun_failed=params["rerun_failed"],
        shard=params["shard"],
        base_port=params["base_port"],
        start_method=params["start_method"],
        no_color=params["no_color"],
        artifacts_dir=params["artifacts_dir"],
        max_scenarios_per_worker=params["max_scenarios_per_worker"],
        retries=params["retries"],
        dist=params["dist"],
        requeue_crashed=params["requeue_crashed"],
        slow_step_warning=params["slow_step_warning"],
        coverage=params["coverage_enabled"]
        or bool(params["coverage_sources"])
        or bool(params["coverage_html"]),
        coverage_sources=tuple(params["coverage_sources"]),
        coverage_html=params["coverage_html"],
    )


# -- the run ---------------------------------------------------------------------------
def execute(options: RunOptions) -> int:
    """Run with ``options``; the exit code."""
    color = color_wanted(options.no_color, options.verbosity)
    live = sys.stdout.isatty() and not os.environ.get("CI")
    reporter = ConsoleReporter(options.verbosity, color=color, parallel=options.parallel, live=live)
    try:
        return _select_and_run(options, reporter)
    except PbddError as error:
        click.echo(f"Error: {error.format_message()}", err=True)
        return error.exit_code
    except KeyboardInterrupt:
        # Ctrl-C outside the pool's and the serial run's own handling (loading, before.all)
        click.echo("Interrupted: nothing more was run.", err=True)
        return EXIT_INTERRUPTED


def _order(
    items: list[WorkItem], options: RunOptions, reporter: ConsoleReporter
) -> tuple[list[WorkItem], Any]:
    """Estimates from history, --rerun-failed, --shard, then the dispatch order."""
    from .history import HistoryStore
    from .scheduler import longest_first, shard, with_estimates

    entries: dict[str, Any] = {}
    store = None
    if not options.no_history:
        store = HistoryStore(options.history)
        entries = store.load()
        for warning in store.warnings:
            reporter.notice(f"Warning: {warning}")
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
        return shuffled, store
    return longest_first(items), store


def _select_and_run(options: RunOptions, reporter: ConsoleReporter) -> int:
    suite = load_features(options.paths)
    for warning in suite.warnings:
        reporter.notice(f"Warning: {warning}")
    from .filter import parse_indexes, select

    indexes = parse_indexes(options.scenario_indexes) if options.scenario_indexes else None
    items = select(suite.items, tags=options.tags, names=options.names, indexes=indexes)
    items, history_store = _order(items, options, reporter)

    step_files = find_step_files(suite.suite_dirs)
    terrain = terrain_file()
    coverage_settings = _coverage_settings(options)
    recorder = None if options.dry_run else coverage_support.start(coverage_settings)
    try:
        return _load_and_run(
            options, reporter, items, step_files, terrain, coverage_settings, history_store
        )
    finally:
        coverage_support.finish(recorder)
        if recorder is not None and coverage_settings is not None:
            text, _ = coverage_support.combine_and_report(coverage_settings, options.coverage_html)
            click.echo()
            click.echo(text)
            if options.coverage_html:
                click.echo(f"HTML coverage report: {options.coverage_html}/index.html")


def _coverage_settings(options: RunOptions) -> coverage_support.CoverageSettings | None:
    if not options.coverage:
        return None
    return coverage_support.CoverageSettings(
        data_file=os.path.abspath(".coverage"), sources=options.coverage_sources
    )


def _load_and_run(
    options: RunOptions,
    reporter: ConsoleReporter,
    items: list[WorkItem],
    step_files: list[Path],
    terrain: Path | None,
    coverage_settings: coverage_support.CoverageSettings | None,
    history_store: Any,
) -> int:
    processes = min(options.processes, len(items))
    spec_for = _spec_factory(options, step_files, terrain, coverage_settings)
    import_suite(step_files, terrain)
    for old, new in STEPS.replaced:
        reporter.notice(
            f"Warning: step pattern {new.pattern!r} defined twice; {new.location} replaces "
            f"{old.location}"
        )

    if options.dry_run:
        return _dry_run(items, reporter)
    if not items:
        click.echo(
            "No scenario selected: nothing ran, so nothing passed "
            "(check the paths, -t tags, -n names, file:line or --rerun-failed).",
            err=True,
        )
        return EXIT_FAILED

    # The suite stays loaded for the whole run: frozen, a full garbage collection no longer
    # walks it (with 2,000 scenarios one such walk at the end of a run took about 40 ms).
    gc.freeze()
    reporter.start(len(items), processes, options.seed)
    started = time.perf_counter()
    try:
        HOOKS.call("before", "all")
    except Exception as error:  # a user's hook: report, do not run
        from .runner import describe_error, format_user_traceback

        reporter.hook_failures(
            [HookFailure("before.all", describe_error(error), format_user_traceback(error))]
        )
        click.echo("Error: before.all failed; nothing ran.", err=True)
        return EXIT_USAGE

    by_id = {item.scenario_id: item for item in items}
    results: dict[str, ScenarioResult] = {}  # the final attempt of each scenario
    attempts: dict[str, list[ScenarioResult]] = {}  # every attempt, for the reports
    hook_failures: list[HookFailure] = []
    interrupted = False
    all_workers_failed = False

    left_estimate = [sum(item.estimate for item in items)]
    failures = [0]

    def on_result(result: ScenarioResult) -> None:
        previous = results.get(result.scenario_id)
        retried = previous is not None
        results[result.scenario_id] = result
        attempts.setdefault(result.scenario_id, []).append(result)
        item = by_id[result.scenario_id]
        reporter.scenario_finished(item, result)
        if not retried:
            left_estimate[0] -= item.estimate
        failures[0] += result.failed - (previous.failed if previous is not None else 0)
        reporter.progress(
            len(results),
            len(items),
            failures[0],
            time.perf_counter() - started,
            max(0.0, left_estimate[0]) / processes,
        )

    if processes > 1:
        _import_in_background(_modules_for_the_end(options, history_store))
        outcome = _run_pool(options, items, processes, spec_for, on_result, reporter)
        hook_failures.extend(outcome.hook_failures)
        interrupted = outcome.interrupted or outcome.killed
        all_workers_failed = outcome.all_workers_failed
    else:
        from .serial import run_serial

        serial = run_serial(
            items,
            base_port=options.base_port,
            artifacts_dir=options.artifacts_dir,
            timeout=options.timeout,
            retries=options.retries,
            failfast=options.failfast,
            slow_step_warning=options.slow_step_warning,
            on_result=on_result,
            on_notice=reporter.notice,
        )
        hook_failures.extend(serial.hook_failures)
        interrupted = serial.interrupted
    wall_time = time.perf_counter() - started
    with _LateInterrupts(reporter) as late:
        code = _finish_run(
            options,
            reporter,
            items,
            results,
            attempts,
            hook_failures,
            wall_time,
            processes,
            interrupted or late.pressed,
            all_workers_failed,
            history_store,
            late,
        )
    return EXIT_INTERRUPTED if late.pressed else code


def _modules_for_the_end(options: RunOptions, history_store: Any) -> list[str]:
    """What the end of a pooled run imports lazily for these options."""
    modules = []
    if history_store is not None:
        modules.append("filelock")
    if options.junit_xml:
        modules.append(f"{__package__}.reporting.junit")
    if options.cucumber_json:
        modules.append(f"{__package__}.reporting.cucumber_json")
    return modules


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


class _LateInterrupts:
    """Ctrl-C after the scenarios ran: after.all, the report and the history still happen.

    The first press is recorded (the run then exits 130); a second one stops at once.
    """

    def __init__(self, reporter: ConsoleReporter) -> None:
        self.reporter = reporter
        self.pressed = 0
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        self.pressed += 1
        if self.pressed > 1:
            raise KeyboardInterrupt
        self.reporter.notice(
            "Interrupted: finishing after.all, the report and the history "
            "(press Ctrl-C again to stop at once)"
        )

    def __enter__(self) -> _LateInterrupts:
        self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)


def _finish_run(
    options: RunOptions,
    reporter: ConsoleReporter,
    items: list[WorkItem],
    results: dict[str, ScenarioResult],
    attempts: dict[str, list[ScenarioResult]],
    hook_failures: list[HookFailure],
    wall_time: float,
    processes: int,
    interrupted: bool | int,
    all_workers_failed: bool,
    history_store: Any,
    late: _LateInterrupts,
) -> int:
    """after.all, the console report, JUnit/Cucumber JSON, the history; the exit code."""

    in_file_order = sorted(items, key=lambda item: item.order)
    records = [
        (item, results.get(item.scenario_id) or ScenarioResult(item.scenario_id, m.NOT_RUN))
        for item in in_file_order
    ]
    # the reports show every attempt of a retried scenario (flaky ones included)
    report_records = [
        (item, attempt)
        for item in in_file_order
        for attempt in attempts.get(item.scenario_id)
        or [ScenarioResult(item.scenario_id, m.NOT_RUN)]
    ]
    total = total_from_results(records)
    total.time_elapsed = wall_time
    total.interrupted = bool(interrupted)
    try:
        HOOKS.call("after", "all", total)
    except Exception as error:
        from .runner import describe_error, format_user_traceback

        hook_failures.append(
            HookFailure("after.all", describe_error(error), format_user_traceback(error))
        )

    reporter.failures(records)
    reporter.hook_failures(hook_failures)
    interrupted = interrupted or late.pressed
    reason = "Interrupted" if interrupted else ("--failfast" if options.failfast else "")
    reporter.summary(
        records, total, wall_time=wall_time, processes=processes, interrupted_reason=reason
    )
    reporter.flaky(records, attempts)
    _write_reports(options, report_records, wall_time, reporter)
    if history_store is not None:
        store = history_store
        store.warnings.clear()
        store.save(result for _, result in records)
        for warning in store.warnings:
            reporter.notice(f"Warning: {warning}")

    if interrupted:
        return EXIT_INTERRUPTED
    if all_workers_failed:
        click.echo("Error: every worker failed in before.batch; nothing ran.", err=True)
        return EXIT_USAGE
    if total.is_success and not hook_failures:
        return EXIT_OK
    return EXIT_FAILED


def _write_reports(
    options: RunOptions,
    records: Sequence[tuple[WorkItem, ScenarioResult]],
    wall_time: float,
    reporter: ConsoleReporter,
) -> None:
    if options.junit_xml:
        from .reporting.junit import write_junit_xml

        _guarded_write(
            reporter,
            options.junit_xml,
            lambda: write_junit_xml(options.junit_xml, records, wall_time=wall_time),
        )
    if options.cucumber_json:
        from .reporting.cucumber_json import write_cucumber_json

        _guarded_write(
            reporter,
            options.cucumber_json,
            lambda: write_cucumber_json(options.cucumber_json, records),
        )


def _guarded_write(reporter: ConsoleReporter, path: str, write: Any) -> None:
    try:
        write()
    except OSError as error:
        reporter.notice(f"Warning: could not write {path}: {error.strerror or error}")


def _run_pool(
    options: RunOptions,
    items: Sequence[WorkItem],
    processes: int,
    spec_for: Callable[[int, Path, dict[str, Any]], Any],
    on_result: Any,
    reporter: ConsoleReporter,
) -> Any:
    from .pool import WorkerPool
    from .world import world

    state, refused = world.picklable_state()
    for name in refused:
        reporter.notice(
            f"Warning: world.{name} (set in before.all) cannot be copied to the workers "
            "(it does not pickle); create it in @before.batch instead"
        )
    for key in ("worker_id", "port_number", "artifacts_dir"):
        state.pop(key, None)
    pool = WorkerPool(
        processes=processes,
        spec_for=lambda worker_id, run_dir: spec_for(worker_id, run_dir, state),
        start_method=options.start_method,
        timeout=options.timeout,
        grace=options.grace,
        failfast=options.failfast,
        requeue_crashed=options.requeue_crashed,
        retries=options.retries,
        dist=options.dist,
        chunking=not options.max_scenarios_per_worker,
        on_result=on_result,
        on_notice=reporter.notice,
    )
    return pool.run(items)


def _spec_factory(
    options: RunOptions,
    step_files: Sequence[Path],
    terrain: Path | None,
    coverage_settings: coverage_support.CoverageSettings | None,
) -> Callable[[int, Path, dict[str, Any]], Any]:
    """What makes a worker's spec: ``(worker id, run directory, world state)``."""
    from .worker import WorkerSpec

    parent_pid = os.getpid()
    cwd = os.getcwd()
    files = tuple(str(path) for path in step_files)

    def spec_for(worker_id: int, run_dir: Path, state: dict[str, Any]) -> WorkerSpec:
        return WorkerSpec(
            worker_id=worker_id,
            port_number=options.worker_port(worker_id),
            parent_pid=parent_pid,
            cwd=cwd,
            sys_path=tuple(sys.path),  # as it is now: before.all may have changed it
            step_files=files,
            terrain=str(terrain) if terrain else None,
            artifacts_dir=options.artifacts_dir,
            log_path=str(run_dir / f"worker-{worker_id}.log"),
            stack_path=str(run_dir / f"worker-{worker_id}.stack"),
            world_state=state,
            max_scenarios=options.max_scenarios_per_worker,
            slow_step_warning=options.slow_step_warning,
            coverage=coverage_settings,
        )

    return spec_for


def _dry_run(items: Sequence[WorkItem], reporter: ConsoleReporter) -> int:
    """List the dispatch order with estimates, and every undefined or ambiguous step."""
    click.echo(f"{plural(len(items), 'scenario')} in dispatch order (estimated seconds):")
    problems: dict[str, str] = {}
    for position, item in enumerate(items, 1):
        click.echo(f"{position:5d}. {item.estimate:8.2f}  {item.scenario_id}  # {item.location}")
        for step in item.steps:
            try:
                match = STEPS.find_match(step.keyword, step.text)
            except AmbiguousMatch as ambiguity:
                problems.setdefault(f"{item.feature.path}:{step.line}", f"ambiguous: {ambiguity}")
                continue
            if match is None:
                problems.setdefault(
                    f"{item.feature.path}:{step.line}", f'undefined: "{step.sentence.strip()}"'
                )
    if problems:
        click.echo()
        click.echo(f"{plural(len(problems), 'step')} would not run:")
        for where, what in problems.items():
            click.echo(f"  {where}: {what}")
        return EXIT_FAILED
    return EXIT_OK


# -- pbdd history ----------------------------------------------------------------------
@click.group(
    name="history",
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--history", "history_path", default=".scenarios", show_default=True)
@click.option(
    "-p",
    "--processes",
    type=ProcessesType(),
    default=1,
    show_default=True,
    help="Predict the wall time for this many workers.",
)
@click.option(
    "--shards",
    type=click.IntRange(min=0),
    default=0,
    help="Also predict each shard of --shard */N.",
)
@click.option("--top", type=click.IntRange(min=1), default=15, show_default=True)
@click.pass_context
def history_command(
    ctx: click.Context, history_path: str, processes: int, shards: int, top: int
) -> None:
    """Show the slowest scenarios, totals and predicted wall time from the history file."""
    if ctx.invoked_subcommand is not None:
        return
    from .history import HistoryStore
    from .reporting.history_report import format_history

    store = HistoryStore(history_path)
    entries = store.load()
    for warning in store.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(format_history(entries, processes=processes, shards=shards, top=top))


@history_command.command(name="merge")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    default=".scenarios",
    show_default=True,
    help="Where to write the merged history.",
)
def history_merge(inputs: tuple[str, ...], output: str) -> None:
    """Merge history files (e.g. one per CI shard) into one."""
    from .history import merge_files

    try:
        merged = merge_files(list(inputs), output)
    except PbddError as error:
        raise click.ClickException(error.format_message()) from None
    click.echo(
        f"Merged {plural(len(inputs), 'file')} into {output}: {plural(len(merged), 'scenario')}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: ``pbdd [PATHS]... [OPTIONS]`` or ``pbdd history ...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["history"]:
        history_command.main(args[1:], prog_name="pbdd history")
        return
    try:
        default_map = load_pyproject(
            find_pyproject(), [p.name for p in run_command.params if p.name]
        )
    except UsageError as error:
        click.echo(f"Error: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    run_command.main(args, prog_name="pbdd", default_map=default_map)
