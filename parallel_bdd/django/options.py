"""pbdd's own options on ``manage.py harvest``, and the ``RunOptions`` a harvest run uses.

Called by ``management/commands/harvest.py``. Lettuce's options keep lettuce's names
(``-t``, ``-s``, ``--failfast``, ``--with-xunit``/``--xunit-file``,
``--with-subunit``/``--subunit-file``, ``--no-color`` from Django); pbdd's keep pbdd's
(``-p``, one option per report format — ``--junit-xml``, ``--cucumber-json``... —
``--timeout``, ``--history``, ``--no-history``, ``--rerun-failed``, ``-n``, ``--dry-run``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

from ..config import RunOptions
from ..reporting.registry import FORMATS, junit_path


def processes(text: str) -> int:
    """``-p 4`` or ``-p auto`` (one per core)."""
    if text.strip().lower() == "auto":
        return os.cpu_count() or 1
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: need at least 1 process")
    return number


TAG_OPTIONS = ("-t", "--tag")


def join_tag_exclusions(args: Sequence[str]) -> list[str]:
    """``-t -browser`` → ``--tag=-browser``, so that argparse takes ``-browser`` as the value.

    lettuce's harvest was optparse, which gives ``-t`` the next word whatever it starts
    with; argparse reads a word starting with ``-`` as another option. Only a single dash is
    joined (``-slow``, ``-~slow``): after ``-t``, ``--failfast`` is an option whose value was
    forgotten, and argparse says so.
    """
    joined: list[str] = []
    for word in args:
        excluded_tag = word.startswith("-") and not word.startswith("--")
        if joined and joined[-1] in TAG_OPTIONS and excluded_tag:
            joined[-1] = f"--tag={word}"
        else:
            joined.append(word)
    return joined


def add_pbdd_arguments(parser: Any) -> None:
    add = parser.add_argument
    add(
        *TAG_OPTIONS,
        dest="tags",
        action="append",
        default=[],
        help="lettuce's -t tag / -t -tag, or '@a and not @b'.",
    )
    add(
        "-s",
        "--scenarios",
        dest="scenario_indexes",
        default=None,
        help="Only these 1-based scenarios of every feature, e.g. 1,3.",
    )
    add(
        "-n",
        "--name",
        dest="names",
        action="append",
        default=[],
        help="Only scenarios whose name matches REGEX.",
    )
    add("--failfast", action="store_true", help="Stop after the first failure.")
    add("--with-xunit", action="store_true", help="JUnit XML to --xunit-file (lettucetests.xml).")
    add("--xunit-file", default=None, help="Where --with-xunit writes.")
    add("--with-subunit", action="store_true", help="A subunit v2 stream to --subunit-file.")
    # lettuce's JSON report: refused with what to use instead (harvest.py), not unknown
    add("--with-jsonreport", action="store_true", help=argparse.SUPPRESS)
    add("--jsonreport-file", default=None, help=argparse.SUPPRESS)
    add(
        "-p",
        "--processes",
        type=processes,
        default=1,
        help="Worker processes; 'auto': one per core.",
    )
    for report in FORMATS:  # --junit-xml, --cucumber-json, ... as pbdd has them
        add(f"--{report.name}", dest=report.key, default=None, help=report.help)
    add("--timeout", type=float, default=0.0, help="Seconds a scenario may run (0: no limit).")
    add("--history", default=".scenarios", help="The scenario duration history file.")
    add("--no-history", action="store_true", help="Neither read nor write the history file.")
    add("--rerun-failed", action="store_true", help="Only scenarios that failed last time.")
    add("--dry-run", action="store_true", help="List the scenarios in dispatch order; run nothing.")


def run_options(paths: Sequence[str], port: int, options: dict[str, Any]) -> RunOptions:
    """The pbdd run: the serial run serves on ``port``, worker i on ``port + 1 + i``."""
    paths_of = {report.key: options.get(report.key) for report in FORMATS}
    paths_of["junit_xml"] = junit_path(
        paths_of["junit_xml"], options["with_xunit"], options["xunit_file"]
    )
    if options.get("with_subunit"):  # lettuce's flag; --subunit-file is the registry's option
        paths_of["subunit_file"] = paths_of["subunit_file"] or "subunit.bin"
    return RunOptions(
        paths=tuple(paths),
        processes=options["processes"],
        verbosity=options["verbosity"],
        tags=tuple(options["tags"]),
        names=tuple(options["names"]),
        scenario_indexes=options["scenario_indexes"],
        failfast=options["failfast"],
        dry_run=options["dry_run"],
        timeout=options["timeout"],
        reports=tuple((key, path) for key, path in paths_of.items() if path),
        history=options["history"],
        no_history=options["no_history"],
        rerun_failed=options["rerun_failed"],
        base_port=port,
        no_color=bool(options.get("no_color")),
    )
