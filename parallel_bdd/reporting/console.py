"""The terminal report, in lettuce's verbosity levels, fed one finished scenario at a time.

Called by ``session.py`` in the parent (from the pool's result callback, or after each
scenario of a serial run). Each scenario's block is printed whole when it finishes, so
output from parallel workers never interleaves. Never imported by a worker.

Levels: 0 summary only; 1 a character per scenario; 2 a line per scenario with status,
duration and worker; 3 every step; 4 every step in colour.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import IO

import click

from .. import messages as m
from ..masking import mask_secrets
from ..messages import HookFailure, ScenarioResult, StepResult, WorkItem
from ..model import TotalResult
from .snippets import snippet_block

STATUS_WORD = {
    m.PASSED: "OK",
    m.FAILED: "FAILED",
    m.AMBIGUOUS: "AMBIGUOUS",
    m.UNDEFINED: "UNDEFINED",
    m.ERRORED: "ERROR",
    m.NOT_RUN: "NOT RUN",
}
DOT = {m.PASSED: ".", m.FAILED: "F", m.AMBIGUOUS: "F", m.UNDEFINED: "U", m.ERRORED: "E"}
COLOR = {
    m.PASSED: "green",
    m.FAILED: "red",
    m.AMBIGUOUS: "red",
    m.ERRORED: "red",
    m.UNDEFINED: "yellow",
    m.SKIPPED: "cyan",
    m.NOT_RUN: "cyan",
}


def plural(count: int, word: str) -> str:
    """lettuce's plural rule: only when the count is greater than one."""
    return f"{count} {word}{'s' if count > 1 else ''}"


def count_lines(ran: Sequence[tuple[WorkItem, ScenarioResult]], total: TotalResult) -> list[str]:
    """lettuce's three count lines (features, scenarios, steps) for the final attempts that
    ran; the HTML report shows the same lines."""
    counts: dict[str, int] = {}
    for _, result in ran:
        counts[result.status] = counts.get(result.status, 0) + 1
    scenario_detail = ", ".join(
        f"{counts[status]} {label}"
        for status, label in (
            (m.FAILED, "failed"),
            (m.AMBIGUOUS, "ambiguous"),
            (m.ERRORED, "errored"),
            (m.UNDEFINED, "undefined"),
        )
        if counts.get(status)
    )
    scenario_detail = (scenario_detail + ", " if scenario_detail else "") + (
        f"{counts.get(m.PASSED, 0)} passed"
    )
    step_detail = ", ".join(
        f"{count} {label}"
        for count, label in (
            (total.steps_failed, "failed"),
            (total.steps_skipped, "skipped"),
            (total.steps_undefined, "undefined"),
        )
        if count
    )
    step_detail = (step_detail + ", " if step_detail else "") + f"{total.steps_passed} passed"
    return [
        f"{plural(total.features_ran, 'feature')} ({total.features_passed} passed)",
        f"{plural(total.scenarios_ran, 'scenario')} ({scenario_detail})",
        f"{plural(total.steps, 'step')} ({step_detail})",
    ]


def not_run_line(total: TotalResult, reason: str) -> str:
    """``Interrupted: 3 scenarios not run`` (``reason``: why, "" when unknown)."""
    return f"{reason or 'not run'}: {plural(total.scenarios_not_run, 'scenario')} not run"


def busy_time(ran: Sequence[tuple[WorkItem, ScenarioResult]]) -> float:
    """The sum of the scenario times: what one process would have needed."""
    return sum(result.duration for _, result in ran)


def speed_up(busy: float, wall_time: float) -> float:
    return busy / wall_time if wall_time > 0 else 1.0


def color_wanted(no_color: bool, verbosity: int, stream: IO[str] | None = None) -> bool:
    if no_color or os.environ.get("NO_COLOR"):
        return False
    if verbosity >= 4:
        return True
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in text.rstrip().split("\n"))


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


class ConsoleReporter:
    def __init__(self, verbosity: int, *, color: bool, parallel: bool, live: bool = False) -> None:
        self.verbosity = verbosity
        self.color = color
        self.parallel = parallel
        # the live progress line: only on a terminal, and only where it does not fight
        # with the output (-v 1 and -v 2); CI logs get plain lines
        self.live = live and verbosity in (1, 2)
        self._last_feature = ""
        self._dots = 0
        self._status = ""

    # -- plumbing ----------------------------------------------------------------------
    def echo(self, text: str = "", *, nl: bool = True, err: bool = False) -> None:
        self._clear_status()
        click.echo(text, nl=nl, err=err, color=self.color)

    def _clear_status(self) -> None:
        if self._status:
            # -v 1: the line sits after the dots, so step back over it instead of to column 0
            erase = f"\x1b[{len(self._status)}D\x1b[K" if self._dots else "\r\x1b[K"
            click.echo(erase, nl=False)
            self._status = ""

    def progress(self, done: int, total: int, failed: int, elapsed: float, left: float) -> None:
        """Redraw the live line: done/total, failures, elapsed and predicted time left."""
        if not self.live:
            return
        failures = f", {failed} failed" if failed else ""
        line = f"[{done}/{total}{failures}] {_clock(elapsed)} elapsed"
        if done < total:
            line += f", ~{_clock(left)} left"
        if self._dots:
            line = f" {line}"
        self._clear_status()
        click.echo(line, nl=False, color=self.color)
        self._status = line

    def style(self, text: str, status: str | None = None, **kwargs: object) -> str:
        if not self.color:
            return text
        if status is not None:
            return click.style(text, fg=COLOR.get(status), **kwargs)  # type: ignore[arg-type]
        return click.style(text, **kwargs)  # type: ignore[arg-type]

    def notice(self, text: str) -> None:
        """A warning or notice on stderr, passwords masked (it may quote a URL or a DSN)."""
        self._end_dots()
        self.echo(self.style(mask_secrets(text), fg="yellow"), err=True)

    def _end_dots(self) -> None:
        if self._dots:
            self._clear_status()
            self._dots = 0
            self.echo()

    # -- the run -----------------------------------------------------------------------
    def start(self, selected: int, processes: int, seed: int | None) -> None:
        if self.verbosity >= 2:
            where = f"{processes} workers" if processes > 1 else "1 process"
            line = f"Running {plural(selected, 'scenario')} on {where}"
            if seed is not None:
                line += f" (random order, --seed {seed})"
            self.echo(line)
            self.echo()

    def scenario_finished(self, item: WorkItem, result: ScenarioResult) -> None:
        if self.verbosity <= 0:
            return
        if self.verbosity == 1:
            self.echo(self.style(DOT.get(result.status, "?"), result.status), nl=False)
            self._dots += 1
            if self._dots >= 60:
                self._end_dots()
            return
        if self.verbosity == 2:
            self.echo(self._scenario_line(item, result))
            return
        self._scenario_block(item, result)

    def _worker_label(self, result: ScenarioResult) -> str:
        return f", worker {result.worker_id}" if self.parallel and result.worker_id >= 0 else ""

    def _scenario_line(self, item: WorkItem, result: ScenarioResult) -> str:
        word = self.style(STATUS_WORD.get(result.status, result.status.upper()), result.status)
        attempt = f" [attempt {result.attempt}]" if result.attempt > 1 else ""
        return (
            f"{item.display_name}{attempt} ... {word} "
            f"({result.duration:.2f} s{self._worker_label(result)})  # {item.location}"
        )

    def _scenario_block(self, item: WorkItem, result: ScenarioResult) -> None:
        lines: list[str] = []
        feature = item.feature
        if feature.path != self._last_feature:
            self._last_feature = feature.path
            lines.append(
                self.style(f"{feature.keyword}: {feature.name}", bold=True)
                + f"  # {feature.path}:{feature.line}"
            )
            if feature.description:
                lines.extend(_indent(feature.description, 2).split("\n"))
            lines.append("")
        if item.tags:
            lines.append("  " + " ".join(f"@{tag}" for tag in item.tags))
        header = f"  {item.keyword}: {item.display_name}"
        status = STATUS_WORD.get(result.status, result.status)
        lines.append(
            self.style(header, bold=True)
            + f"  # {item.location}  [{self.style(status, result.status)}"
            + f" {result.duration:.2f} s{self._worker_label(result)}]"
        )
        for step in result.steps:
            lines.extend(self._step_lines(step))
        if result.error:
            lines.append(self.style(_indent(result.error, 4), m.ERRORED))
            if result.error_traceback:
                lines.append(self.style(_indent(result.error_traceback, 4), m.ERRORED))
        # what a passing step prints is read here too, as lettuce users read their print
        # output under the step; the log and artifacts only for failures (frameworks log a lot)
        lines.extend(self._captured(result, indent=4, printed_only=not result.failed))
        lines.append("")
        self.echo("\n".join(lines))

    def _step_lines(self, step: StepResult) -> list[str]:
        background = " (background)" if step.in_background else ""
        where = f"# {step.definition}" if step.definition else f"# line {step.line}"
        if step.status == m.UNDEFINED:
            where = f"# line {step.line} (undefined)"
        lines = [self.style(f"    {step.sentence}", step.status) + f"  {where}{background}"]
        for row in step.table:
            lines.append(self.style("      | " + " | ".join(row) + " |", step.status))
        if step.doc_string is not None:
            lines.append('      """')
            lines.extend(_indent(step.doc_string, 6).split("\n"))
            lines.append('      """')
        if step.status in (m.FAILED, m.AMBIGUOUS):
            text = step.traceback or step.error
            lines.append(self.style(_indent(text, 6), step.status))
            for candidate in step.candidates:
                lines.append(self.style(f"        {candidate}", step.status))
        return lines

    def _captured(
        self, result: ScenarioResult, indent: int, printed_only: bool = False
    ) -> list[str]:
        lines: list[str] = []
        for title, text in (
            ("Captured stdout", result.stdout),
            ("Captured stderr", result.stderr),
            ("Captured log", "" if printed_only else result.log),
        ):
            if text.strip():
                lines.append(" " * indent + f"--- {title} ---")
                lines.append(_indent(text, indent))
        for path in () if printed_only else result.artifacts:
            lines.append(" " * indent + f"Artifact: {path}")
        return lines

    # -- the end -----------------------------------------------------------------------
    def failures(self, records: Sequence[tuple[WorkItem, ScenarioResult]]) -> None:
        """At -v 0..2: each failed scenario's failing step, traceback and captured output."""
        self._end_dots()
        if self.verbosity >= 3:
            return
        failed = [(item, result) for item, result in records if result.failed]
        for item, result in failed:
            if result.status == m.UNDEFINED and not result.error:
                continue
            self.echo()
            word = STATUS_WORD.get(result.status, result.status)
            self.echo(
                self.style(f"{word}: {item.keyword}: {item.display_name}", result.status, bold=True)
                + f"  # {item.location}{self._worker_label(result)}"
            )
            step = result.failing_step
            if step is not None:
                self.echo(f'  <Step: "{step.sentence}">  # {item.feature.path}:{step.line}')
                text = step.traceback or step.error
                self.echo(self.style(_indent(text, 4), result.status))
                for candidate in step.candidates:
                    self.echo(f"      {candidate}")
            if result.error:
                self.echo(self.style(_indent(result.error, 2), result.status))
                if result.error_traceback:
                    self.echo(_indent(result.error_traceback, 4))
            for line in self._captured(result, indent=2):
                self.echo(line)

    def flaky(
        self,
        records: Sequence[tuple[WorkItem, ScenarioResult]],
        attempts: dict[str, list[ScenarioResult]],
    ) -> None:
        """Scenarios that failed and then passed on a retry: they passed, but say so."""
        flaky = [
            (item, attempts[item.scenario_id])
            for item, result in records
            if result.status == m.PASSED and len(attempts.get(item.scenario_id, ())) > 1
        ]
        if not flaky:
            return
        self.echo()
        self.echo(
            self.style(f"Flaky: {plural(len(flaky), 'scenario')} passed on a retry:", m.UNDEFINED)
        )
        for item, tries in flaky:
            history = ", ".join(STATUS_WORD.get(t.status, t.status).lower() for t in tries)
            self.echo(f"  {item.keyword}: {item.display_name}  # {item.location}  ({history})")

    def hook_failures(self, failures: Sequence[HookFailure]) -> None:
        for failure in failures:
            where = f" on worker {failure.worker_id}" if failure.worker_id >= 0 else ""
            subject = f" ({failure.subject})" if failure.subject else ""
            self.echo()
            self.echo(
                self.style(f"HOOK FAILED: {failure.hook}{subject}{where}: ", m.ERRORED, bold=True)
                + failure.error
            )
            if failure.traceback:
                self.echo(_indent(failure.traceback, 2))

    def summary(
        self,
        records: Sequence[tuple[WorkItem, ScenarioResult]],
        total: TotalResult,
        *,
        wall_time: float,
        processes: int,
        interrupted_reason: str = "",
    ) -> None:
        self._end_dots()
        ran = [(item, result) for item, result in records if result.status != m.NOT_RUN]
        undefined = [
            step.sentence
            for _, result in ran
            for step in result.steps
            if step.status == m.UNDEFINED
        ]
        block = snippet_block(undefined)
        self.echo()
        for line in count_lines(ran, total):
            self.echo(line)
        if total.scenarios_not_run:
            self.echo(self.style(not_run_line(total, interrupted_reason), m.NOT_RUN))
        busy = busy_time(ran)
        speedup = speed_up(busy, wall_time)
        where = plural(processes, "worker") if processes > 1 else "1 process"
        self.echo(
            f"Ran {plural(len(ran), 'scenario')} in {wall_time:.2f} s on {where} "
            f"(sum of scenario times {busy:.2f} s, {speedup:.1f}x)"
        )
        if block:
            self.echo()
            self.echo(self.style(block, m.UNDEFINED))
        failed = [
            (item, result)
            for item, result in ran
            if result.status in (m.FAILED, m.AMBIGUOUS, m.ERRORED)
        ]
        if failed:
            self.echo()
            self.echo("List of failed scenarios:")
            for item, result in failed:
                self.echo(
                    self.style(f"  {item.keyword}: {item.display_name}", result.status)
                    + f"  # {item.location}"
                )
