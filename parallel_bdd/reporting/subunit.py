"""subunit v2 stream (``--subunit-file PATH``, lettuce's ``--with-subunit``: ``subunit.bin``).

Called through ``reporting.registry`` by ``session.py`` in the parent once the run is over,
with every result record in file order; never by a worker. Writes through python-subunit
(the ``subunit`` extra), so ``subunit2csv``, ``subunit-stats``, ``subunit-trace`` and
testtools' ``StreamSummary`` read it. Imports nothing from ``cli``, ``session``, ``pool``,
``worker`` or the other reporters.

* One test per scenario (per Scenario Outline row), in file order. Its id is the
  scenario's id (``features/shop.feature::Restock``), the key the history and
  ``--rerun-failed`` use, unique where lettuce's ``Feature: Scenario`` was not.
* ``inprogress`` when it started, then ``success`` (passed), ``fail`` (failed, errored,
  undefined, ambiguous) or ``skip`` (not run: Ctrl-C, ``--failfast``), with the times it
  started and ended. A retried scenario stays one test whose status is its last attempt
  that ran; each earlier failed attempt is attached as ``attempt-N``.
* Tags: the scenario's own and inherited tags, and ``worker-N`` for the worker that ran it
  (the convention testrepository and ``subunit-trace`` read).
* Attachments (``text/plain; charset=utf8``): ``steps`` (one line per step, as lettuce's
  plugin wrote it), ``traceback`` of a scenario that did not pass, and ``stdout``,
  ``stderr`` and ``log`` when it wrote any.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..messages import (
    AMBIGUOUS,
    ERRORED,
    FAILED,
    NOT_RUN,
    PASSED,
    SKIPPED,
    UNDEFINED,
    ScenarioResult,
    WorkItem,
)
from .records import Record, group_attempts, strip_ansi, verdict
from .registry import FinishedRun

TEXT = "text/plain; charset=utf8"
CHUNK = 65536  # a v2 packet holds at most 4 MiB; attachments go in pieces well below it
STEP_MARKS = {PASSED: "✔", FAILED: "❌", AMBIGUOUS: "❌", UNDEFINED: "?", SKIPPED: " "}


def write(path: str, report: FinishedRun) -> None:
    from subunit.v2 import StreamResultToBytes

    with open(path, "wb") as stream:
        result = StreamResultToBytes(stream)
        result.startTestRun()
        for attempts in group_attempts(report.records):
            _write_scenario(result, attempts)
        result.stopTestRun()


def subunit_status(result: ScenarioResult) -> str:
    if result.status == PASSED:
        return "success"
    if result.status == NOT_RUN:
        return "skip"
    return "fail"


def _write_scenario(stream: Any, attempts: Sequence[Record]) -> None:
    item, result = verdict(attempts)
    test_id = item.scenario_id
    tags = set(item.tags)
    if result.worker_id >= 0:
        tags.add(f"worker-{result.worker_id}")
    ran = result.status != NOT_RUN
    started = _time(result.started_at) if ran and result.started_at else None
    ended = started + timedelta(seconds=result.duration) if started is not None else None
    stream.status(test_id=test_id, test_status="inprogress", test_tags=tags, timestamp=started)
    files = [("steps", _steps(result))] if result.steps else []
    if result.status not in (PASSED, NOT_RUN):
        files.append(("traceback", failure_text(item, result)))
    elif not ran:
        files.append(("reason", "not run (interrupted, or stopped by --failfast)"))
    files += [("stdout", result.stdout), ("stderr", result.stderr), ("log", result.log)]
    files += [
        (f"attempt-{earlier.attempt}", failure_text(item, earlier))
        for _, earlier in attempts
        if earlier is not result and earlier.failed
    ]
    for name, text in files:
        if text:
            _attach(stream, test_id, name, text)
    stream.status(
        test_id=test_id, test_status=subunit_status(result), test_tags=tags, timestamp=ended
    )


def failure_text(item: WorkItem, result: ScenarioResult) -> str:
    """What went wrong, for a scenario that did not pass: the failing step and its
    traceback, the error outside the steps, or the undefined steps."""
    parts = []
    if result.status == ERRORED:
        parts.append(result.error_traceback or result.error)
        if result.error and result.error not in parts[0]:
            parts.append(result.error)
    for step in result.steps:
        if step.status in (FAILED, AMBIGUOUS, UNDEFINED):
            lines = [f"Step: {step.sentence.strip()}", f"At: {item.feature.path}:{step.line}"]
            if step.status == UNDEFINED:
                lines.append("No step definition matches this sentence.")
            lines.extend(f"  {candidate}" for candidate in step.candidates)
            detail = step.traceback or step.error
            if detail:
                lines += ["", detail.rstrip()]
            parts.append("\n".join(lines))
    return strip_ansi("\n\n".join(part for part in parts if part) or f"scenario {result.status}")


def _steps(result: ScenarioResult) -> str:
    return "".join(
        f"{STEP_MARKS.get(step.status, ' ')} {step.sentence.strip()}\n" for step in result.steps
    )


def _attach(stream: Any, test_id: str, name: str, text: str) -> None:
    data = text.encode("utf-8", "replace")
    for start in range(0, len(data), CHUNK):
        stream.status(
            test_id=test_id,
            file_name=name,
            file_bytes=data[start : start + CHUNK],
            mime_type=TEXT,
            eof=start + CHUNK >= len(data),
        )


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
