"""``python manage.py harvest``: lettuce's command, run by pbdd (``-p N`` workers too).

Django finds this command through the ``parallel_bdd.django`` app. It chooses the feature
directories (``selection.py``), hands the run's decisions to every process
(``harvest_config.py``, ``$PBDD_PRELUDE``), runs pbdd between the ``before.harvest`` and
``after.harvest`` hooks (``harvest_hooks.py``) and drops the test databases afterwards,
however the run ended. Bad input is one ``CommandError`` line and exit 2.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ....config import RunOptions
from ....discovery import PRELUDE_ENV
from ...harvest_config import DEFAULT_PORT, HarvestConfig
from ...options import add_pbdd_arguments, join_tag_exclusions, run_options
from ...selection import SelectionError, Source, feature_sources, split_names
from ...server import LETTUCE_SERVERS, port_in_use

PRELUDE = "parallel_bdd.django.prelude"


class Command(BaseCommand):
    help = "Run the lettuce features of the installed apps with pbdd (-p N: in parallel)."
    requires_system_checks: list[str] = []

    def run_from_argv(self, argv: list[str]) -> None:
        """``harvest -t -browser`` as in lettuce (see ``join_tag_exclusions``).

        The command line is rewritten here, where Django hands it over, so the parser stays
        Django's plain argparse one; from Python, ``call_command("harvest",
        tags=["-browser"])`` needs no rewriting.
        """
        super().run_from_argv([*argv[:2], *join_tag_exclusions(argv[2:])])

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        for action in parser._actions:
            if action.dest == "verbosity":  # pbdd's levels go to 4 (colour); lettuce's default 3
                action.choices = [0, 1, 2, 3, 4]
                action.help = "0 summary, 1 dots, 2 a line per scenario, 3 every step, 4 colour."
        parser.set_defaults(verbosity=3)
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", help="Feature files or directories.")
        parser.add_argument("-a", "--apps", default="", help="Only these apps (comma separated).")
        parser.add_argument(
            "-A", "--avoid-apps", default="", help="Not these apps (comma separated)."
        )
        parser.add_argument("-S", "--no-server", action="store_true", help="Start no web server.")
        parser.add_argument(
            "-P",
            "--port",
            type=int,
            default=None,
            help="The serial run's server port (default 8000; worker i: port+1+i).",
        )
        parser.add_argument(
            "-T",
            "--test-server",
            dest="test_database",
            action="store_true",
            default=bool(getattr(settings, "LETTUCE_USE_TEST_DATABASE", False)),
            help="Run on test databases (one clone per worker).",
        )
        parser.add_argument(
            "-d", "--debug-mode", dest="debug", action="store_true", help="settings.DEBUG = True."
        )
        add_pbdd_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["with_jsonreport"] or options["jsonreport_file"]:
            raise CommandError(
                "--with-jsonreport: lettuce's JSON report is not written by pbdd; use "
                "--cucumber-json PATH (Cucumber's JSON, which CI tools read) or --junit-xml PATH",
                returncode=2,
            )
        try:
            sources = feature_sources(
                options["paths"], split_names(options["apps"]), split_names(options["avoid_apps"])
            )
        except SelectionError as error:
            raise CommandError(str(error), returncode=2) from None
        if not sources:
            self.stdout.write("No features found in the selected apps: nothing to run.")
            return
        config = self._config(options, sources)
        self._check_ports(config)
        self._check_databases(config)
        config.to_environment()
        os.environ[PRELUDE_ENV] = PRELUDE
        paths = [source.path for source in sources]
        run = run_options(paths, config.port, options)
        variables = harvest_variables(options, config, paths)
        sys.exit(self._run(run, sources, variables, config.test_database and not run.dry_run))

    def _config(self, options: dict[str, Any], sources: list[Source]) -> HarvestConfig:
        port = options["port"] or int(getattr(settings, "LETTUCE_SERVER_PORT", DEFAULT_PORT))
        server_class = str(getattr(settings, "LETTUCE_TEST_SERVER", "") or "")
        return HarvestConfig(
            port=port,
            run_server=not options["no_server"],
            test_database=options["test_database"],
            debug=options["debug"],
            server_class="" if server_class in LETTUCE_SERVERS else server_class,
            processes=options["processes"],
            parent_pid=os.getpid(),
            apps={} if options["paths"] else {os.path.abspath(s.path): s.name for s in sources},
        )

    def _check_ports(self, config: HarvestConfig) -> None:
        if not config.run_server:
            return
        ports = (
            [config.port]
            if config.processes < 2
            else [config.port + 1 + i for i in range(config.processes)]
        )
        taken = [port for port in ports if port_in_use(port)]
        if taken:
            raise CommandError(
                f"port {', '.join(map(str, taken))} on 127.0.0.1 is in use: stop what listens "
                "there, choose another port with -P (workers use the ports after it), or run with -S",
                returncode=2,
            )

    def _check_databases(self, config: HarvestConfig) -> None:
        if not config.test_database:
            return
        from ... import databases

        problems = databases.unreachable()
        if problems:
            raise CommandError(
                "; ".join(problems) + ": start the database server or correct DATABASES "
                "(HOST, PORT) in the settings; nothing was created",
                returncode=2,
            )

    def _run(
        self,
        run: RunOptions,
        sources: list[Source],
        variables: dict[str, Any],
        test_database: bool,
    ) -> int:
        """The test databases (``-T``, made before ``before.harvest`` as in lettuce), pbdd's
        run between the harvest hooks, then the test databases dropped (also after a
        failure or Ctrl-C)."""
        from django.test.utils import teardown_test_environment

        from ... import databases
        from ...harvest_hooks import Terminal, run_with_hooks

        importlib.import_module(PRELUDE)  # this process: the test environment and the hooks
        terminal = Terminal(self.stdout.write, self.stderr.write)
        try:
            if test_database:
                databases.create()
            return run_with_hooks(run, sources, variables, terminal)
        finally:
            problems = databases.destroy()
            teardown_test_environment()
            for problem in problems:
                self.stderr.write(f"Warning: a test database could not be dropped: {problem}")


def harvest_variables(
    options: dict[str, Any], config: HarvestConfig, paths: list[str]
) -> dict[str, Any]:
    """What ``before.harvest`` hooks receive: lettuce passed the command's local variables;
    these are the ones that still mean something (no ``server``: each worker has its own)."""
    return {
        "options": dict(options),
        "verbosity": options["verbosity"],
        "no_color": bool(options.get("no_color")),
        "apps_to_run": split_names(options["apps"]),
        "apps_to_avoid": split_names(options["avoid_apps"]),
        "run_server": config.run_server,
        "test_database": config.test_database,
        "tags": list(options["tags"]),
        "failfast": options["failfast"],
        "paths": paths,
        "port": config.port,
        "processes": config.processes,
    }
