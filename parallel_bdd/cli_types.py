"""The command line's own click parameter types: ``-p N|auto``, ``--shard I/N``, and paths
that must be text.

Used by ``cli.py`` for the run command and ``pbdd history``. Imports only ``errors`` (and
``scheduler`` when a shard is parsed); no run, pool or Redis module.
"""

from __future__ import annotations

import os
from typing import Any

import click

from .errors import PbddError


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


class PathType(click.Path):
    """click's Path that also refuses a value that is no text ([tool.pbdd] ``junit-xml = 3``)
    with an error quoting it, where click's own raises a TypeError."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if not isinstance(value, str | os.PathLike):
            self.fail(f'{value!r} is not a path: write it as a string, e.g. "out/report"')
        return super().convert(value, param, ctx)
