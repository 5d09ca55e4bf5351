"""The HTML report (``--html PATH``): one self-contained file, to open from a CI artifact.

Called through ``reporting.registry`` by ``session.py`` in the parent at the end of a run
(an interrupted one too). The summary is written here; the failures, the slowest scenarios
and the other lists by ``html_sections.py``; the worker timeline (scenario attempts, each
worker's ``before.batch`` and ``after.batch`` from ``FinishedRun.batch_spans``, idle gaps)
and the table of every scenario are drawn by the page's own script (``html_page.py``) from
a JSON block. The page fetches nothing: its Content-Security-Policy allows inline style
and script and ``data:`` images only, and it names no font, stylesheet or script elsewhere.

Imports nothing from ``cli``, ``session``, ``pool`` or ``worker``.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from typing import Any

from .. import messages as m
from ..files import write_atomically
from ..model import TotalResult, total_from_results
from ..scheduler import predicted_makespan
from . import html_page
from .console import busy_time, count_lines, not_run_line, plural, speed_up
from .html_sections import (
    STATUS_LABEL,
    STATUS_MARK,
    ScenarioAttempts,
    failures_section,
    flaky_section,
    hook_failures_section,
    not_run_section,
    slowest_section,
    text,
    worker_name,
)
from .records import group_attempts, verdict
from .registry import FinishedRun


def write(path: str, report: FinishedRun) -> None:
    """The registry's entry point: ``--html PATH``. Parent directories are created."""
    report_dir = os.path.dirname(os.path.abspath(path))
    write_atomically(path, render(report, report_dir).encode("utf-8"))


def render(report: FinishedRun, report_dir: str) -> str:
    """The page for ``report``; attachments that are not embedded are linked relative to
    ``report_dir``."""
    scenarios = [
        ScenarioAttempts(index, attempts, verdict(attempts))
        for index, attempts in enumerate(group_attempts(report.records))
    ]
    total = total_from_results([scenario.final for scenario in scenarios])
    body = "\n".join(
        (
            summary_section(report, scenarios, total),
            html_page.FILTER,
            hook_failures_section(report.hook_failures),
            failures_section(scenarios, report_dir),
            flaky_section(scenarios),
            html_page.TIMELINE,
            slowest_section(scenarios),
            not_run_section(scenarios, report.stopped_by),
            html_page.TABLE,
        )
    )
    title = f"pbdd report: {_verdict(report, total)}"
    data = page_data(scenarios, report.batch_spans)
    return html_page.page(html.escape(title), body, script_json(data))


def _verdict(report: FinishedRun, total: TotalResult) -> str:
    if report.stopped_by == "Interrupted":
        return "interrupted"
    return "passed" if total.is_success and not report.hook_failures else "failed"


def summary_section(
    report: FinishedRun, scenarios: Sequence[ScenarioAttempts], total: TotalResult
) -> str:
    """lettuce's counts as the console prints them, then the times."""
    ran = [scenario.final for scenario in scenarios if scenario.result.status != m.NOT_RUN]
    lines = count_lines(ran, total)
    if total.scenarios_not_run:
        lines.append(not_run_line(total, report.stopped_by))
    busy = busy_time(ran)
    where = plural(report.processes, "worker") if report.processes > 1 else "1 process"
    verdict_word = _verdict(report, total)
    flaky = sum(1 for scenario in scenarios if scenario.flaky)
    facts = [
        ("Result", f'<span class="badge v-{verdict_word}">{verdict_word.upper()}</span>'),
        ("Wall time", f"{report.wall_time:.2f} s on {where}"),
        ("Sum of scenario times", f"{busy:.2f} s"),
        ("Speed-up", f"{speed_up(busy, report.wall_time):.1f}\u00d7"),
        ("Predicted", _prediction(scenarios, report)),
    ]
    if flaky:
        facts.append(("Flaky", f'<a href="#flaky">{plural(flaky, "scenario")}</a>'))
    cells = "".join(f"<div><dt>{name}</dt><dd>{value}</dd></div>" for name, value in facts)
    return (
        '<section id="summary"><h1>pbdd report</h1>'
        f'<dl class="facts">{cells}</dl>'
        f'<pre id="counts">{text(chr(10).join(lines))}</pre></section>'
    )


def _prediction(scenarios: Sequence[ScenarioAttempts], report: FinishedRun) -> str:
    """What the history predicted for this selection (``pbdd history``'s simulation of
    the pool on the scenarios' estimates) against the wall time."""
    estimates = [scenario.item.estimate for scenario in scenarios]
    if not any(estimates):
        return "no history to predict from"
    predicted = predicted_makespan(estimates, max(report.processes, 1))
    if predicted <= 0:
        return f"{predicted:.2f} s"
    change = (report.wall_time - predicted) / predicted * 100
    return f"{predicted:.2f} s from the history (scenario times only); wall time {change:+.0f}%"


def page_data(
    scenarios: Sequence[ScenarioAttempts], batch_spans: Sequence[m.BatchSpan] = ()
) -> dict[str, Any]:
    """What the page's script draws the timeline and the table of scenarios from."""
    features: dict[str, int] = {}
    feature_rows: list[dict[str, Any]] = []
    rows = []
    for scenario in scenarios:
        item, result = scenario.final
        if item.feature.path not in features:
            features[item.feature.path] = len(feature_rows)
            feature_rows.append({"name": item.feature.name, "path": item.feature.path})
        rows.append(
            {
                "name": item.display_name,
                "where": item.location,
                "feature": features[item.feature.path],
                "tags": list(item.tags),
                "status": result.status,
                "duration": round(result.duration, 3),
                "worker": lane_label(result.machine, result.worker_id),
                "attempts": len(scenario.attempts),
                "failed": result.failed,
            }
        )
    return {
        "features": feature_rows,
        "scenarios": rows,
        "statuses": {status: [STATUS_MARK[status], label] for status, label in _labels()},
        "timeline": timeline_data(scenarios, batch_spans),
    }


def _labels() -> list[tuple[str, str]]:
    order = (m.FAILED, m.ERRORED, m.AMBIGUOUS, m.UNDEFINED, m.PASSED, m.NOT_RUN)
    return [(status, STATUS_LABEL[status]) for status in order]


def timeline_data(
    scenarios: Sequence[ScenarioAttempts], batch_spans: Sequence[m.BatchSpan] = ()
) -> dict[str, Any]:
    """One lane per worker: a bar per attempt that ran and one per ``before.batch`` and
    ``after.batch`` (``hooks``), in seconds from the first start.

    The last bar of each lane and the lane that ended last are marked: with workers that
    pull from one queue, that lane's bars are what the run's end waited for.
    """
    placed = [
        (scenario.index, result)
        for scenario in scenarios
        for _, result in scenario.attempts
        if result.status != m.NOT_RUN and result.started_at > 0
    ]
    spans = sorted((span for span in batch_spans if span.started_at > 0), key=_started)
    ran = sum(1 for s in scenarios for _, r in s.attempts if r.status != m.NOT_RUN)
    if not placed and not spans:
        return {"lanes": [], "bars": [], "hooks": [], "span": 0.0, "unplaced": ran}
    origin = min([result.started_at for _, result in placed] + [span.started_at for span in spans])
    workers = sorted(
        {(result.machine, result.worker_id) for _, result in placed}
        | {("", s.worker_id) for s in spans}
    )
    lane_of = {worker: lane for lane, worker in enumerate(workers)}
    bars = [
        {
            "scenario": index,
            "lane": lane_of[result.machine, result.worker_id],
            "start": round(result.started_at - origin, 4),
            "duration": round(max(result.duration, 0.0), 4),
            "status": result.status,
            "attempt": result.attempt,
        }
        for index, result in sorted(placed, key=lambda pair: _started(pair[1]))
    ]
    hooks = [
        {
            "hook": span.hook,
            "lane": lane_of["", span.worker_id],
            "start": round(span.started_at - origin, 4),
            "duration": round(max(span.duration, 0.0), 4),
        }
        for span in spans
    ]
    end = max(bar["start"] + bar["duration"] for bar in bars + hooks)
    return {
        "lanes": _lanes(workers, bars, hooks, end),
        "bars": bars,
        "hooks": hooks,
        "span": end,
        "unplaced": ran - len(placed),
    }


def _started(record: m.ScenarioResult | m.BatchSpan) -> float:
    return record.started_at


def lane_label(machine: str, worker_id: int) -> str:
    """A worker as the report names it: ``worker 2``, or ``m1 · worker 2`` in a build that
    several machines ran (``pbdd report``)."""
    return f"{machine} \u00b7 {worker_name(worker_id)}" if machine else worker_name(worker_id)


def _lanes(
    workers: Sequence[tuple[str, int]],
    bars: list[dict[str, Any]],
    hooks: list[dict[str, Any]],
    span: float,
) -> list[dict[str, Any]]:
    """Each lane's label, busy time, end, idle gaps; marks each lane's last bar (``last``)
    and the lane that ended the run (``critical``). A lane is one worker of one machine."""
    lanes = [
        {
            "worker": f"{machine}:{worker}" if machine else worker,
            "label": lane_label(machine, worker),
            "busy": 0.0,
            "end": 0.0,
            "bars": 0,
        }
        for machine, worker in workers
    ]
    last: dict[int, dict[str, Any]] = {}
    for bar in bars:
        lane = lanes[bar["lane"]]
        end = bar["start"] + bar["duration"]
        lane["busy"] += bar["duration"]
        lane["bars"] += 1
        if end >= lane["end"]:
            lane["end"] = end
            last[bar["lane"]] = bar
    for bar in last.values():
        bar["last"] = True
    critical = max(range(len(lanes)), key=lambda number: lanes[number]["end"])
    lanes[critical]["critical"] = True
    for number, lane in enumerate(lanes):
        lane["busy"] = round(lane["busy"], 4)
        lane["end"] = round(lane["end"], 4)
        spent = [bar for bar in bars + hooks if bar["lane"] == number]
        lane["idle"] = idle_gaps([(bar["start"], bar["duration"]) for bar in spent], span)
    return lanes


def idle_gaps(spent: Sequence[tuple[float, float]], span: float) -> list[list[float]]:
    """``[start, duration]`` of each gap in a lane, from its first bar to the end of the
    run (before its first bar its worker was still starting). Gaps shorter than a
    thousandth of the run, under a pixel at the page's width, are left out."""
    shortest = span / 1000
    gaps = []
    reach = min(start for start, _ in spent)
    for start, duration in sorted(spent):
        if start - reach > shortest:
            gaps.append([round(reach, 4), round(start - reach, 4)])
        reach = max(reach, start + duration)
    if span - reach > shortest:
        gaps.append([round(reach, 4), round(span - reach, 4)])
    return gaps


def script_json(data: dict[str, Any]) -> str:
    """``data`` as JSON to sit inside ``<script type="application/json">``: ``<``, ``>``
    and ``&`` escaped, so no text in it can close the element or open a comment."""
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
