"""``--coverage``: every process that runs suite code records, the parent combines.

``start`` is called by ``session.py`` in the parent (before the suite's files are imported, so
their module-level lines count) and by ``worker.py`` in every worker; ``finish`` by both
when their share is done; ``combine_and_report`` by ``session.py`` after the run. Uses
coverage.py's parallel mode: each process writes ``.coverage.<host>.<pid>.<random>``
next to the combined ``.coverage`` file. Imports nothing from cli or reporting.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE_DIR = str(Path(__file__).resolve().parent)
PER_PROCESS_SILENCED = ["no-data-collected", "module-not-imported", "module-not-measured"]


@dataclass(frozen=True)
class CoverageSettings:
    data_file: str  # the combined file; per-process files get a suffix
    sources: tuple[str, ...] = ()  # packages or directories; () = everything under cwd


def start(settings: CoverageSettings | None) -> Any:
    if settings is None:
        return None
    import coverage

    recorder = coverage.Coverage(
        data_file=settings.data_file,
        data_suffix=True,
        source=list(settings.sources) or [os.getcwd()],
        omit=[f"{PACKAGE_DIR}/*"],
    )
    # One process's share says nothing about the whole: the parent of a pooled run often
    # imports none of the measured code. Whether anything was measured is decided once,
    # on the combined data (combine_and_report).
    recorder.set_option("run:disable_warnings", PER_PROCESS_SILENCED)
    recorder.start()
    return recorder


def finish(recorder: Any) -> None:
    if recorder is not None:
        recorder.stop()
        recorder.save()


def combine_and_report(settings: CoverageSettings, html_dir: str | None) -> tuple[str, float]:
    """Combine every process's data into ``data_file``; return the text report and total."""
    import coverage

    combined = coverage.Coverage(
        data_file=settings.data_file,
        source=list(settings.sources) or [os.getcwd()],
        omit=[f"{PACKAGE_DIR}/*"],
    )
    directory = str(Path(settings.data_file).resolve().parent)
    combined.combine([directory], keep=False)
    combined.save()
    out = io.StringIO()
    try:
        total = combined.report(file=out, show_missing=False)
    except coverage.exceptions.NoDataError:
        return "Coverage: no data was collected (check --coverage-source).", 0.0
    if html_dir:
        combined.html_report(directory=html_dir)
    return out.getvalue().rstrip(), total
