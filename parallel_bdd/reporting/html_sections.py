"""The HTML report's server-written sections: failures, flaky scenarios, the slowest
scenarios, what did not run, failed hooks.

Used by ``html.py`` only. Every text that comes from the suite or the run (names, tags,
paths, tracebacks, captured output, notes) goes through ``text()`` (``html.escape`` after
terminal escapes and control characters are removed). Each element that belongs to one
scenario carries ``data-sid`` (its index in the page's data) so that the page's filter
can hide it.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .. import messages as m
from ..messages import HookFailure, ScenarioResult, StepResult, WorkItem
from .records import Record, strip_ansi

SLOWEST = 20  # rows of the slowest-scenarios table
TEXT_LIMIT = 50_000  # characters of one captured text or traceback; the rest is cut
IMAGE_EMBED_LIMIT = 1_000_000  # bytes: a bigger image is linked beside the report instead
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}

# Status as text and as a mark, so that nothing depends on telling colours apart.
STATUS_LABEL = {
    m.PASSED: "passed",
    m.FAILED: "failed",
    m.AMBIGUOUS: "ambiguous",
    m.UNDEFINED: "undefined",
    m.ERRORED: "errored",
    m.NOT_RUN: "not run",
    m.SKIPPED: "skipped",
}
STATUS_MARK = {
    m.PASSED: "\u2713",  # check mark
    m.FAILED: "\u2717",  # ballot x
    m.AMBIGUOUS: "\u2248",  # almost equal
    m.UNDEFINED: "?",
    m.ERRORED: "!",
    m.NOT_RUN: "\u2013",  # en dash
    m.SKIPPED: "\u2013",
}

_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class ScenarioAttempts:
    """One scenario: its attempts in attempt order and the one that gives its status."""

    index: int  # position in the page's data (file order)
    attempts: Sequence[Record]
    final: Record

    @property
    def item(self) -> WorkItem:
        return self.final[0]

    @property
    def result(self) -> ScenarioResult:
        return self.final[1]

    @property
    def flaky(self) -> bool:
        """Passed on a retry after a failed attempt."""
        return self.result.status == m.PASSED and any(r.failed for _, r in self.attempts)


def text(value: str, limit: int = TEXT_LIMIT) -> str:
    """``value`` safe to put in HTML: no terminal escapes or control characters, escaped,
    and cut after ``limit`` characters (saying how much was cut)."""
    clean = _CONTROL_CHARS.sub("", strip_ansi(value))
    if len(clean) > limit:
        cut = len(clean) - limit
        clean = f"{clean[:limit]}\n\u2026 ({cut} more characters not shown)"
    return html.escape(clean)


def status_badge(status: str) -> str:
    label = STATUS_LABEL.get(status, status)
    mark = STATUS_MARK.get(status, "")
    return f'<span class="badge s-{html.escape(status)}">{mark} {html.escape(label)}</span>'


def _where(item: WorkItem) -> str:
    return f'<code class="where">{text(item.location)}</code>'


def worker_name(worker_id: int) -> str:
    return f"worker {worker_id}" if worker_id >= 0 else "main process"


# -- failures ------------------------------------------------------------------------------


def failures_section(scenarios: Sequence[ScenarioAttempts], report_dir: str) -> str:
    failed = [scenario for scenario in scenarios if scenario.result.failed]
    if not failed:
        return '<section id="failures"><h2>Failures</h2><p class="none">No failures.</p></section>'
    articles = "\n".join(_failure(scenario, report_dir) for scenario in failed)
    return f'<section id="failures"><h2>Failures ({len(failed)})</h2>\n{articles}\n</section>'


def _failure(scenario: ScenarioAttempts, report_dir: str) -> str:
    item, result = scenario.final
    tags = " ".join(f'<span class="tag">@{text(tag)}</span>' for tag in item.tags)
    tries = ""
    if len(scenario.attempts) > 1:
        words = ", ".join(STATUS_LABEL.get(r.status, r.status) for _, r in scenario.attempts)
        tries = f" &middot; attempts: {html.escape(words)}"
    return (
        f'<article class="failure" id="failure-{scenario.index}" data-sid="{scenario.index}">'
        f"<h3>{status_badge(result.status)} {text(item.keyword)}: {text(item.display_name)}</h3>"
        f'<p class="meta">{_where(item)} &middot; {text(item.feature.name)} &middot; '
        f"{worker_name(result.worker_id)} &middot; {result.duration:.2f} s{tries}</p>"
        f"{f'<p>{tags}</p>' if tags else ''}"
        f"{_failing_step(item, result)}{_steps(result)}{_captured(result)}"
        f"{_notes(result.notes)}{_attachments(result.artifacts, report_dir)}"
        "</article>"
    )


def _failing_step(item: WorkItem, result: ScenarioResult) -> str:
    parts = []
    step = result.failing_step
    if step is not None:
        where = text(f"{item.feature.path}:{step.line}")
        parts.append(
            f'<p class="step-failed">Failing step: <q>{text(step.sentence)}</q> '
            f'<code class="where">{where}</code></p>'
            f'<pre class="traceback">{text(step.traceback or step.error)}</pre>'
        )
        parts.extend(f"<pre>{text(candidate)}</pre>" for candidate in step.candidates)
    if result.error:
        trace = f"\n{result.error_traceback}" if result.error_traceback else ""
        parts.append(f'<pre class="traceback">{text(result.error + trace)}</pre>')
    return "".join(parts)


def _steps(result: ScenarioResult) -> str:
    if not result.steps:
        return ""
    rows = "".join(_step_row(step) for step in result.steps)
    return f'<details class="steps"><summary>Steps</summary><ol>{rows}</ol></details>'


def _step_row(step: StepResult) -> str:
    background = " (background)" if step.in_background else ""
    return (
        f'<li class="s-{html.escape(step.status)}">{STATUS_MARK.get(step.status, "")} '
        f"{text(step.sentence)} <small>{html.escape(STATUS_LABEL.get(step.status, step.status))}"
        f" &middot; line {step.line}{background} &middot; {step.duration:.2f} s</small></li>"
    )


def _captured(result: ScenarioResult) -> str:
    blocks = []
    for title, output in (
        ("Captured stdout", result.stdout),
        ("Captured stderr", result.stderr),
        ("Captured log", result.log),
    ):
        if output.strip():
            blocks.append(
                f'<details class="captured" open><summary>{title}</summary>'
                f"<pre>{text(output)}</pre></details>"
            )
    return "".join(blocks)


def _notes(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{text(note)}</li>" for note in notes)
    return f'<div class="notes"><h4>Notes</h4><ul>{items}</ul></div>'


def _attachments(artifacts: Sequence[str], report_dir: str) -> str:
    if not artifacts:
        return ""
    items = "".join(f"<li>{attachment(path, report_dir)}</li>" for path in artifacts)
    return f'<div class="attachments"><h4>Attachments</h4><ul>{items}</ul></div>'


def attachment(path: str, report_dir: str) -> str:
    """An image under ``IMAGE_EMBED_LIMIT`` embedded as a ``data:`` URI; any other file a
    link relative to the report, so that it works where the report and the artifacts are
    kept side by side (a CI artifact)."""
    name = text(os.path.basename(path) or path)
    mime_type = IMAGE_TYPES.get(Path(path).suffix.lower())
    try:
        size = os.path.getsize(path)
    except OSError:
        return f'{name} <span class="missing">(missing: <code>{text(path)}</code>)</span>'
    if mime_type is not None and size <= IMAGE_EMBED_LIMIT:
        try:
            data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        except OSError:
            return f'{name} <span class="missing">(unreadable: <code>{text(path)}</code>)</span>'
        return (
            f'<figure><img class="shot" alt="{name}" src="data:{mime_type};base64,{data}">'
            f"<figcaption>{name}</figcaption></figure>"
        )
    relative = os.path.relpath(os.path.abspath(path), report_dir).replace(os.sep, "/")
    return f'<a href="{html.escape(quote(relative))}">{name}</a> ({size:,} bytes)'


# -- the other lists -----------------------------------------------------------------------


def flaky_section(scenarios: Sequence[ScenarioAttempts]) -> str:
    flaky = [scenario for scenario in scenarios if scenario.flaky]
    if not flaky:
        return ""
    rows = []
    for scenario in flaky:
        item = scenario.item
        errors = [_reason(r) for _, r in scenario.attempts if r.failed]
        rows.append(
            f'<li data-sid="{scenario.index}">{text(item.display_name)} {_where(item)} '
            f"&middot; passed on attempt {scenario.result.attempt}"
            f"{''.join(f'<pre>{text(error)}</pre>' for error in errors if error)}</li>"
        )
    return (
        f'<section id="flaky"><h2>Passed on a retry ({len(flaky)})</h2>'
        f"<ul>{''.join(rows)}</ul></section>"
    )


def _reason(result: ScenarioResult) -> str:
    step = result.failing_step
    return result.error or (step.error if step is not None else "")


def slowest_section(scenarios: Sequence[ScenarioAttempts]) -> str:
    ran = [scenario for scenario in scenarios if scenario.result.status != m.NOT_RUN]
    slowest = sorted(ran, key=lambda scenario: -scenario.result.duration)[:SLOWEST]
    if not slowest:
        return ""
    rows = "".join(
        f'<tr data-sid="{scenario.index}"><td class="num">{scenario.result.duration:.2f} s</td>'
        f"<td>{status_badge(scenario.result.status)}</td>"
        f"<td>{text(scenario.item.display_name)}</td><td>{_where(scenario.item)}</td>"
        f"<td>{worker_name(scenario.result.worker_id)}</td></tr>"
        for scenario in slowest
    )
    return (
        f'<section id="slowest"><h2>Slowest scenarios (top {len(slowest)})</h2>'
        '<table><thead><tr><th scope="col">Time</th><th scope="col">Status</th>'
        '<th scope="col">Scenario</th><th scope="col">Where</th><th scope="col">Ran on</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def not_run_section(scenarios: Sequence[ScenarioAttempts], reason: str) -> str:
    not_run = [scenario for scenario in scenarios if scenario.result.status == m.NOT_RUN]
    if not not_run:
        return ""
    why = f" ({html.escape(reason)})" if reason else ""
    rows = "".join(
        f'<li data-sid="{scenario.index}">{text(scenario.item.display_name)} '
        f"{_where(scenario.item)}</li>"
        for scenario in not_run
    )
    return (
        f'<section id="not-run"><h2>Not run{why}: {len(not_run)}</h2>'
        f"<details><summary>The scenarios</summary><ul>{rows}</ul></details></section>"
    )


def hook_failures_section(failures: Sequence[HookFailure]) -> str:
    if not failures:
        return ""
    items = []
    for failure in failures:
        subject = f" ({text(failure.subject)})" if failure.subject else ""
        where = f" on {worker_name(failure.worker_id)}" if failure.worker_id >= 0 else ""
        items.append(
            f"<li><strong>{text(failure.hook)}</strong>{subject}{where}: {text(failure.error)}"
            f'<pre class="traceback">{text(failure.traceback)}</pre></li>'
        )
    return f'<section id="hooks"><h2>Failed hooks</h2><ul>{"".join(items)}</ul></section>'
