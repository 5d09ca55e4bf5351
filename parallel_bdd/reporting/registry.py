"""The report files pbdd can write: each format is one module and one line in ``FORMATS``.

Read by ``cli.py`` (one ``--<name> PATH`` option per format, a ``[tool.pbdd]`` key too) and
by ``session.py`` (which writes the reports asked for at the end of a run). A format's
module is imported only when its report is asked for; it defines
``write(path: str, report: FinishedRun) -> None``. Imports only the standard library and
``records``: nothing from ``cli``, ``session``, ``pool`` or ``worker``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .records import Record

if TYPE_CHECKING:
    from ..messages import HookFailure


@dataclass(frozen=True)
class FinishedRun:
    """What a report file is written from."""

    records: Sequence[Record]  # every attempt of every scenario, in file order
    wall_time: float  # seconds, the run's elapsed time
    junit_family: str = "xunit2"  # --junit-family: junit.FAMILIES
    processes: int = 1  # workers (1: a serial run), for the predicted wall time
    stopped_by: str = ""  # why scenarios did not run: "Interrupted", "--failfast", ""
    hook_failures: Sequence[HookFailure] = ()  # hooks that failed outside any scenario


@dataclass(frozen=True)
class ReportFormat:
    """One kind of report file: ``--<name> PATH`` writes it with ``<module>.write``."""

    name: str  # the option without its dashes, e.g. "junit-xml"
    module: str  # a module of this package, e.g. "junit"
    help: str

    @property
    def key(self) -> str:
        """The option's parameter name (``RunOptions.reports`` key, ``[tool.pbdd]`` key)."""
        return self.name.replace("-", "_")

    @property
    def module_name(self) -> str:
        return f"{__package__}.{self.module}"

    def write(self, path: str, report: FinishedRun) -> None:
        importlib.import_module(self.module_name).write(path, report)


FORMATS: tuple[ReportFormat, ...] = (
    ReportFormat("junit-xml", "junit", "Write a JUnit XML report here."),
    ReportFormat("cucumber-json", "cucumber_json", "Write a Cucumber JSON report here."),
    ReportFormat("html", "html", "Write a self-contained HTML report here."),
)


def format_named(key: str) -> ReportFormat:
    """The format whose parameter name is ``key`` (``"junit_xml"``)."""
    return next(report for report in FORMATS if report.key == key)
