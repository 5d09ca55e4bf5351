"""The command line's shape: one option per registered report format, subcommands routed
by click. In-process with click's CliRunner (the runs themselves are tested end to end)."""

from __future__ import annotations

import importlib
import re

from click.testing import CliRunner

from parallel_bdd.cli import pbdd
from parallel_bdd.reporting.registry import FORMATS


def test_every_registered_report_format_has_its_option_and_its_writer() -> None:
    shown = CliRunner().invoke(pbdd, ["--help"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("Usage: pbdd [OPTIONS] [PATHS]...")
    for report in FORMATS:
        assert f"--{report.name} FILE" in shown.output
        assert callable(importlib.import_module(report.module_name).write)


def test_history_is_a_subcommand_and_anything_else_is_a_run() -> None:
    history = CliRunner().invoke(pbdd, ["history", "--help"])
    assert history.exit_code == 0, history.output
    # click 8.5 writes an optional subcommand as [COMMAND], earlier releases as COMMAND
    assert re.match(r"Usage: pbdd history \[OPTIONS\] \[?COMMAND\]? \[ARGS\]\.\.\.", history.output)
    assert "merge  Merge history files" in history.output
    merge = CliRunner().invoke(pbdd, ["history", "merge", "--help"])
    assert merge.output.startswith("Usage: pbdd history merge [OPTIONS] INPUTS...")
    bad = CliRunner().invoke(pbdd, ["features", "--no-such-option"])
    assert bad.exit_code == 2
    assert "Usage: pbdd [OPTIONS] [PATHS]..." in bad.output
    assert "No such option '--no-such-option'" in bad.output
