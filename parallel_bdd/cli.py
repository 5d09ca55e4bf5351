"""The ``pbdd`` command line: click options into a ``RunOptions``, and the subcommands.

Entry point of the console script and ``python -m parallel_bdd`` (through ``__main__``).
``pbdd [PATHS]... [OPTIONS]`` runs a suite: this module only parses, ``session.py`` runs.
``pbdd history``, ``pbdd history merge`` and ``pbdd report`` (``report_command.py``) are
subcommands of the same click group. No worker imports this module.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from . import __version__
from .cli_types import PathType, ProcessesType, ShardType
from .config import DEFAULT_BASE_PORT, RunOptions, find_pyproject, load_pyproject
from .errors import PbddError, UsageError
from .history import DEFAULT_PATH
from .queue_options import queue_options, with_queue_options
from .report_command import report_command
from .reporting.console import plural
from .reporting.registry import FORMATS, junit_path
from .session import run_session

START_METHODS = ("spawn", "forkserver", "fork")
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
Decorated = TypeVar("Decorated", bound=Callable[..., Any])


def _report_options(command: Decorated) -> Decorated:
    """One ``--<format> PATH`` option per report file format (``reporting.registry``)."""
    for report in reversed(FORMATS):
        command = click.option(
            f"--{report.name}",
            report.key,
            type=PathType(dir_okay=False),
            default=None,
            help=report.help,
        )(command)
    return command


class _PbddError(click.ClickException):
    """A ``PbddError`` found while parsing, shown as click shows its errors."""

    def __init__(self, error: PbddError) -> None:
        super().__init__(error.format_message())
        self.exit_code = error.exit_code


class _RunUnlessSubcommand(click.Group):
    """``pbdd history ...`` is a subcommand; anything else (paths, options, nothing at all)
    is a run: ``run_command`` with the ``[tool.pbdd]`` defaults of pyproject.toml."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] in self.commands:
            return super().parse_args(ctx, args)
        ctx.meta["pbdd.run_args"] = list(args)
        return []

    def invoke(self, ctx: click.Context) -> Any:
        run_args = ctx.meta.pop("pbdd.run_args", None)
        if run_args is None:
            return super().invoke(ctx)
        # its own context, not a child of this one: its usage line is "pbdd [OPTIONS]..."
        run_ctx = run_command.make_context(
            ctx.info_name, run_args, default_map=_pyproject_defaults()
        )
        with run_ctx:
            return run_command.invoke(run_ctx)


@click.group(cls=_RunUnlessSubcommand, name="pbdd", context_settings=CONTEXT)
def pbdd() -> None:
    """Run Gherkin suites in parallel (``pbdd [PATHS]... [OPTIONS]``), or a subcommand."""


@click.command(name="run", context_settings=CONTEXT)
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
    type=click.IntRange(0, 4, clamp=True),
    default=2,
    show_default=True,
    help="0 summary, 1 dots, 2 a line per scenario, 3 every step, 4 in colour (more: 4).",
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
    "--pdb",
    is_flag=True,
    help="Stop in pdb (post-mortem) at a step that raises; needs -p 1.",
)
@click.option(
    "--root-dir",
    type=PathType(exists=True, file_okay=False),
    metavar="DIR",
    default=None,
    help="lettuce: a suite directory without step files borrows them from the nearest "
    "directory above it that has some, up to DIR (default: below the current directory).",
)
@click.option(
    "--dry-run",
    "--list",
    "dry_run",
    is_flag=True,
    help="List the scenarios in dispatch order with their estimates; run nothing.",
)
@click.option(
    "-r", "--random", "random_order", is_flag=True, help="Run in random order (seed printed)."
)
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
@_report_options
@click.option("--with-xunit", is_flag=True, help="lettuce's flag: JUnit XML to --xunit-file.")
@click.option(
    "--xunit-file",
    type=PathType(dir_okay=False),
    default=None,
    help="lettuce's option (default lettucetests.xml).",
)
@click.option(
    "--with-subunit", is_flag=True, help="lettuce's flag: a subunit v2 stream to --subunit-file."
)
@click.option(
    "--junit-family",
    type=click.Choice(["xunit2", "pbdd"]),
    default="xunit2",
    show_default=True,
    help="xunit2: valid against the JUnit schema; pbdd: adds file, line and properties.",
)
@click.option(
    "--history",
    "history_path",
    default=DEFAULT_PATH,
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
@with_queue_options
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
    if params["pdb"] and params["processes"] > 1:
        raise _PbddError(_pdb_needs_one_process(ctx, params["processes"]))
    try:
        options = _options(params)
    except UsageError as error:
        raise _PbddError(error) from None
    ctx.exit(run_session(options).exit_code)


def _pdb_needs_one_process(ctx: click.Context, processes: int) -> UsageError:
    """pdb needs this process's terminal; a worker has none (as pytest-xdist refuses
    ``--pdb`` with ``-n``). Re-running the failures serially after the pool would run
    them twice and could stop on a different failure than the one the pool reported."""
    where = f"-p {processes}"
    if ctx.get_parameter_source("processes") is click.core.ParameterSource.DEFAULT_MAP:
        where = f"processes = {processes} in [tool.pbdd] of pyproject.toml"
    return UsageError(
        f"--pdb needs one process: run with -p 1, or drop --pdb (asked for: {where})",
        hint="pdb stops in this terminal; workers have none.",
    )


def _pyproject_defaults() -> dict[str, Any]:
    """``[tool.pbdd]`` of ./pyproject.toml as the run command's default map."""
    try:
        return load_pyproject(find_pyproject(), [p.name for p in run_command.params if p.name])
    except UsageError as error:
        raise _PbddError(error) from None


def _options(params: dict[str, Any]) -> RunOptions:
    paths = {report.key: params[report.key] for report in FORMATS}
    paths["junit_xml"] = junit_path(paths["junit_xml"], params["with_xunit"], params["xunit_file"])
    if params["with_subunit"]:  # lettuce's flag; --subunit-file is the registry's option
        paths["subunit_file"] = paths["subunit_file"] or "subunit.bin"
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
        reports=tuple((key, path) for key, path in paths.items() if path),
        junit_family=params["junit_family"],
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
        pdb=params["pdb"],
        root_dir=params["root_dir"],
        queue=queue_options(params),
    )


# -- pbdd history ----------------------------------------------------------------------
@pbdd.group(
    name="history",
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--history", "history_path", default=DEFAULT_PATH, show_default=True)
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
    default=DEFAULT_PATH,
    show_default=True,
    help="Where to write the merged history.",
)
def history_merge(inputs: tuple[str, ...], output: str) -> None:
    """Merge history files (e.g. one per CI shard) into one."""
    from .history_merge import merge_files

    try:
        merged = merge_files(list(inputs), output)
    except PbddError as error:
        raise click.ClickException(error.format_message()) from None
    click.echo(
        f"Merged {plural(len(inputs), 'file')} into {output}: {plural(len(merged), 'scenario')}"
    )


pbdd.add_command(report_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: ``pbdd [PATHS]... [OPTIONS]`` or ``pbdd history ...``
    (``argv``: the arguments; the process's own by default)."""
    pbdd.main(None if argv is None else list(argv), prog_name="pbdd")
