"""The report files pbdd can write: each format is one module and one line in ``FORMATS``.

Read by ``cli.py`` and ``django/options.py`` (one ``--<name> PATH`` option per format, a
``[tool.pbdd]`` key too; lettuce's ``--with-xunit``, ``junit_path``) and by ``session.py``
(which writes the reports asked for at the end of a run). A format's
module is imported only when its report is asked for; it defines
``write(path: str, report: FinishedRun) -> None``. A format that needs a package of its own
(an extra of setup.py) names it, and ``session.py`` checks it is installed before the run.
Imports only the standard library, ``errors`` and ``records``: nothing from ``cli``,
``session``, ``pool`` or ``worker``.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import UsageError
from .records import Record

if TYPE_CHECKING:
    from ..messages import BatchSpan, HookFailure


@dataclass(frozen=True)
class FinishedRun:
    """What a report file is written from."""

    records: Sequence[Record]  # every attempt of every scenario, in file order
    wall_time: float  # seconds, the run's elapsed time
    junit_family: str = "xunit2"  # --junit-family: junit.FAMILIES
    processes: int = 1  # workers (1: a serial run), for the predicted wall time
    stopped_by: str = ""  # why scenarios did not run: "Interrupted", "--failfast", ""
    hook_failures: Sequence[HookFailure] = ()  # hooks that failed outside any scenario
    batch_spans: Sequence[BatchSpan] = ()  # when each worker's batch hooks ran (timeline)


@dataclass(frozen=True)
class ReportFormat:
    """One kind of report file: ``--<name> PATH`` writes it with ``<module>.write``."""

    name: str  # the option without its dashes, e.g. "junit-xml"
    module: str  # a module of this package, e.g. "junit"
    help: str
    requires: str = ""  # a top-level module from an extra ("subunit"), "" if none
    extra: str = ""  # the setup.py extra that installs it

    @property
    def key(self) -> str:
        """The option's parameter name (``RunOptions.reports`` key, ``[tool.pbdd]`` key)."""
        return self.name.replace("-", "_")

    @property
    def module_name(self) -> str:
        return f"{__package__}.{self.module}"

    def check_installed(self) -> None:
        """UsageError if the package this format writes through is missing."""
        if self.requires and importlib.util.find_spec(self.requires) is None:
            raise UsageError(
                f"--{self.name} needs the {self.requires!r} package, which is not installed",
                hint=f"Install it with: pip install 'parallel-bdd[{self.extra}]'",
            )

    def write(self, path: str, report: FinishedRun) -> None:
        importlib.import_module(self.module_name).write(path, report)


FORMATS: tuple[ReportFormat, ...] = (
    ReportFormat("junit-xml", "junit", "Write a JUnit XML report here."),
    ReportFormat("cucumber-json", "cucumber_json", "Write a Cucumber JSON report here."),
    ReportFormat(
        "subunit-file",
        "subunit",
        "Write a subunit v2 stream here (lettuce's option; --with-subunit: subunit.bin).",
        requires="subunit",
        extra="subunit",
    ),
    ReportFormat("html", "html", "Write a self-contained HTML report here."),
)


LETTUCE_XUNIT_FILE = "lettucetests.xml"  # where lettuce's --with-xunit wrote


def junit_path(junit_xml: str | None, with_xunit: bool, xunit_file: str | None) -> str | None:
    """The JUnit report's path: ``--junit-xml`` first, then lettuce's ``--xunit-file``, then
    lettuce's default when ``--with-xunit`` alone asks for one."""
    if with_xunit or xunit_file:
        return junit_xml or xunit_file or LETTUCE_XUNIT_FILE
    return junit_xml


def format_named(key: str) -> ReportFormat:
    """The format whose parameter name is ``key`` (``"junit_xml"``)."""
    return next(report for report in FORMATS if report.key == key)
