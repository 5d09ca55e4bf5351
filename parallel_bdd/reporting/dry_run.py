"""``--dry-run``/``--list``: the dispatch order with estimates, and every step that would
not run (undefined or ambiguous).

Called by ``session.py`` in the parent, once the suite is imported (the step registry is
filled). Never imported by a worker.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from ..errors import EXIT_FAILED, EXIT_OK
from ..messages import WorkItem
from ..registry import STEPS, AmbiguousMatch
from .console import plural


def print_dry_run(items: Sequence[WorkItem]) -> int:
    """List ``items`` in dispatch order; the exit code (1 when a step would not run)."""
    click.echo(f"{plural(len(items), 'scenario')} in dispatch order (estimated seconds):")
    problems: dict[str, str] = {}
    for position, item in enumerate(items, 1):
        click.echo(f"{position:5d}. {item.estimate:8.2f}  {item.scenario_id}  # {item.location}")
        for step in item.steps:
            where = f"{item.feature.path}:{step.line}"
            try:
                match = STEPS.find_match(step.keyword, step.text)
            except AmbiguousMatch as ambiguity:
                problems.setdefault(where, f"ambiguous: {ambiguity}")
                continue
            if match is None:
                problems.setdefault(where, f'undefined: "{step.sentence.strip()}"')
    if problems:
        click.echo()
        click.echo(f"{plural(len(problems), 'step')} would not run:")
        for where, what in problems.items():
            click.echo(f"  {where}: {what}")
        return EXIT_FAILED
    return EXIT_OK
