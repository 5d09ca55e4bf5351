"""Cucumber JSON report (``--cucumber-json PATH``) for cucumber report tools.

Called through ``reporting.registry`` by ``session.py`` in the parent once the run is over,
with every result record in file order; never by a worker. Imports only the standard
library, ``files`` and ``messages``: nothing from ``cli``, ``session``, ``pool``, ``worker``
or the other reporters.

The shape is the one cucumber-ruby and cucumber-jvm's ``json`` formatters write, which Jenkins'
cucumber-reports, multiple-cucumber-html-reporter, cucumber-html-reporter and Xray read: a list
of features ``{uri, id, keyword, name, description, line, tags, elements}``; tags are
``{"name": "@tag", "line": N}``. For each scenario (each Scenario Outline row) the elements are
a ``"background"`` element holding the feature's Background steps, when it has any, followed by
the ``"scenario"`` element ``{id, keyword, name, description, line, type, tags, steps,
start_timestamp}``; every step is ``{keyword, name, line, match: {location}, result: {status,
duration, error_message?}}`` plus ``rows``/``doc_string`` when it has them.

* Ids are slugged as cucumber-jvm does (whitespace and ``'_,!`` become ``-``, lower case):
  ``feature-name`` and ``feature-name;scenario-name``; an outline row's id is
  ``feature;outline-name;;N`` with N = row index + 2 (cucumber-jvm counts the Examples header
  as row 1), rows counted across all the outline's Examples tables.
* An outline row's ``name`` is its ``WorkItem.display_name``: the outline's name with the
  row's values substituted for its ``<placeholders>``, as cucumber names it; a name without
  placeholders gets the row's values (`` [3, red]``) where cucumber would repeat the same
  name for every row.
* ``duration`` is in nanoseconds (an int). ``match.location`` is the step definition
  (``steps.py:12``), or the step's own ``file:line`` when no definition matched.
* Step statuses are written as they are (passed, failed, skipped, undefined, ambiguous); steps
  that have no result are ``skipped``. A failed step's ``error_message`` is its traceback; an
  ambiguous one lists the matching definitions.
* A *not run* scenario has every step ``skipped``.
* An *errored* scenario (a hook raised, the worker died, the scenario timed out) keeps its
  steps as they ran and gets a failed hook entry holding the error and its traceback, in the
  element's ``before`` list when no step ran, in ``after`` otherwise: that is how cucumber-jvm
  and cucumber-ruby report a failing hook, and report tools count the scenario as failed.
* Artifacts go into ``embeddings`` (``{mime_type, data (base64), name}``) of the last step that
  ran (the failing one when a step failed), since every report tool reads step embeddings:
  images (``.png``, ``.jpg``, ``.gif``, ``.webp``) as themselves; any other file (page sources)
  as a ``text/plain`` note naming its path, so a page's HTML is never rendered inside a report.
  A missing file is left out.
* Retries: like cucumber-js with ``--retry``, a scenario appears once, as the last attempt
  that ran. When it took more than one attempt the element's ``description`` lists each
  attempt's status, and when an earlier attempt failed and the last one passed the scenario
  gets the tag ``@flaky`` (a name every report tool can filter and count by).
* Tag lines are approximate (the records keep tag names, not their lines): a feature's tags
  are put on the line above the feature, a scenario's own tags on the line above it.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parallel_bdd.files import write_atomically
from parallel_bdd.messages import (
    AMBIGUOUS,
    ERRORED,
    FAILED,
    NOT_RUN,
    PASSED,
    SKIPPED,
    FeatureData,
    ScenarioResult,
    StepData,
    StepResult,
    WorkItem,
)
from parallel_bdd.reporting.records import (
    Record,
    group_attempts,
    group_by_feature,
    strip_ansi,
    verdict,
)

if TYPE_CHECKING:
    from parallel_bdd.reporting.registry import FinishedRun

__all__ = ["write_cucumber_json"]

JsonDict = dict[str, Any]

_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
# Control characters JSON can escape but report tools (XML-based ones, HTML) choke on.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SLUG_CHARS = re.compile(r"[\s'_,!]")
_TRACEBACK_FRAME = re.compile(r'File "([^"]+)", line (\d+)')
FLAKY_TAG = "flaky"


def write_cucumber_json(path: str | os.PathLike[str], records: Sequence[Record]) -> None:
    """Write the Cucumber JSON report of ``records`` (file order) to ``path``, atomically.

    Parent directories are created. See the module docstring for the shape and for how
    errored, not-run and retried scenarios and artifacts are reported.
    """
    document = [_feature(feature_records) for feature_records in group_by_feature(records)]
    data = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    write_atomically(Path(path), data)


def write(path: str, report: FinishedRun) -> None:
    """The registry's entry point (``reporting.registry``): ``--cucumber-json PATH``."""
    write_cucumber_json(path, report.records)


def _feature(records: list[Record]) -> JsonDict:
    feature = records[0][0].feature
    feature_id = _slug(feature.name)
    elements: list[JsonDict] = []
    for attempts in group_attempts(records):
        elements.extend(_elements(feature_id, attempts))
    return {
        "uri": feature.path,
        "id": feature_id,
        "keyword": feature.keyword,
        "name": feature.name,
        "description": feature.description,
        "line": feature.line,
        "tags": [{"name": f"@{tag}", "line": _above(feature.line)} for tag in feature.tags],
        "elements": elements,
    }


def _elements(feature_id: str, attempts: list[Record]) -> list[JsonDict]:
    """The background element (if any) and the scenario element of one scenario."""
    item, result = verdict(attempts)
    merged = _merged_steps(item, result)
    background = [_step(item, src, step, result) for src, step in merged if src.in_background]
    steps = [_step(item, src, step, result) for src, step in merged if not src.in_background]

    flaky = result.status == PASSED and any(r.failed for _, r in attempts if r is not result)
    tags = list(item.tags)
    if flaky and FLAKY_TAG not in tags:
        tags.append(FLAKY_TAG)
    scenario: JsonDict = {
        "id": _element_id(feature_id, item),
        "keyword": item.keyword,
        "name": item.display_name,
        "description": _attempts_note(attempts) if len(attempts) > 1 else "",
        "line": item.line,
        "type": "scenario",
        "tags": [{"name": f"@{tag}", "line": _tag_line(item, tag)} for tag in tags],
        "steps": steps,
    }
    if result.started_at:
        scenario["start_timestamp"] = _utc_timestamp(result.started_at)
    if result.status == ERRORED:
        ran = any(step["result"]["status"] != SKIPPED for step in background + steps)
        scenario["after" if ran else "before"] = [_error_hook(result, background + steps)]

    embeddings = _embeddings(result.artifacts)
    if embeddings:
        ran_steps = [step for step in background + steps if step["result"]["status"] != SKIPPED]
        target = ran_steps[-1] if ran_steps else (steps or background or [None])[-1]
        if target is not None:
            target["embeddings"] = embeddings
        else:
            hook = {"match": {}, "result": {"status": PASSED, "duration": 0}}
            scenario.setdefault("after", []).append({**hook, "embeddings": embeddings})

    if not background:
        return [scenario]
    return [_background_element(item.feature, background), scenario]


def _background_element(feature: FeatureData, steps: list[JsonDict]) -> JsonDict:
    line = feature.background_line or _above(steps[0]["line"])
    return {
        "keyword": "Background",
        "name": feature.background_name,
        "description": "",
        "line": line,
        "type": "background",
        "steps": steps,
    }


def _merged_steps(
    item: WorkItem, result: ScenarioResult
) -> list[tuple[StepData | StepResult, StepResult | None]]:
    """(source, result) for each step: the work item's steps in order, each with its result
    (None when it never ran); results the work item lacks come last, as their own source."""
    results = {(step.in_background, step.line): step for step in result.steps}
    merged: list[tuple[StepData | StepResult, StepResult | None]] = []
    for data in item.steps:
        merged.append((data, results.pop((data.in_background, data.line), None)))
    merged.extend(
        (step, step) for step in result.steps if (step.in_background, step.line) in results
    )
    return merged


def _step(
    item: WorkItem, source: StepData | StepResult, step: StepResult | None, result: ScenarioResult
) -> JsonDict:
    status = SKIPPED if step is None or result.status == NOT_RUN else step.status
    outcome: JsonDict = {"status": status, "duration": _nanoseconds(step.duration if step else 0)}
    if step is not None and status in (FAILED, AMBIGUOUS):
        outcome["error_message"] = _error_message(step)
    location = step.definition if step is not None and step.definition else ""
    entry: JsonDict = {
        "keyword": source.keyword,
        "name": source.text,
        "line": source.line,
        "match": {"location": location or f"{item.feature.path}:{source.line}"},
        "result": outcome,
    }
    if source.table:
        entry["rows"] = [{"cells": list(row)} for row in source.table]
    if source.doc_string is not None:
        doc: JsonDict = {"value": source.doc_string, "line": source.line + 1}
        if isinstance(source, StepData) and source.doc_string_type:
            doc["content_type"] = source.doc_string_type
        entry["doc_string"] = doc
    return entry


def _error_message(step: StepResult) -> str:
    text = step.traceback or step.error or f"Step {step.status}: {step.sentence}"
    if step.candidates:
        text += "\nMatching definitions:\n" + "\n".join(f"  {c}" for c in step.candidates)
    return _clean(text)


def _error_hook(result: ScenarioResult, steps: list[JsonDict]) -> JsonDict:
    """A failed hook entry carrying what made the scenario error."""
    text = result.error_traceback or result.error or "scenario errored"
    if result.error and result.error not in text:
        text = f"{result.error}\n{text}"
    frames = _TRACEBACK_FRAME.findall(result.error_traceback)
    match = {"location": f"{frames[-1][0]}:{frames[-1][1]}"} if frames else {}
    steps_time = sum(step["result"]["duration"] for step in steps)
    return {
        "match": match,
        "result": {
            "status": FAILED,
            "duration": max(_nanoseconds(result.duration) - steps_time, 0),
            "error_message": _clean(text),
        },
    }


def _embeddings(artifacts: Sequence[str]) -> list[JsonDict]:
    embeddings: list[JsonDict] = []
    for artifact in artifacts:
        path = Path(artifact)
        mime_type = _IMAGE_TYPES.get(path.suffix.lower())
        if mime_type is None:
            if path.exists():
                note = f"{path.name}: {artifact}".encode()
                embeddings.append(_embedding("text/plain", note, path.name))
            continue
        try:
            content = path.read_bytes()
        except OSError:
            continue  # a screenshot that could not be saved must not cost the whole report
        embeddings.append(_embedding(mime_type, content, path.name))
    return embeddings


def _embedding(mime_type: str, content: bytes, name: str) -> JsonDict:
    data = base64.b64encode(content).decode("ascii")
    return {"mime_type": mime_type, "data": data, "name": name}


def _attempts_note(attempts: list[Record]) -> str:
    parts = []
    for _, result in attempts:
        status = result.status.replace("_", " ")
        reason = result.error or (result.failing_step.error if result.failing_step else "")
        parts.append(f"Attempt {result.attempt}: {status}" + (f" ({reason})" if reason else ""))
    return _clean("\n".join(parts))


def _element_id(feature_id: str, item: WorkItem) -> str:
    if item.is_outline_row:
        return f"{feature_id};{_slug(item.template_name or item.name)};;{item.outline_index + 2}"
    return f"{feature_id};{_slug(item.name)}"


def _tag_line(item: WorkItem, tag: str) -> int:
    if tag in item.feature.tags:
        return _above(item.feature.line)
    return _above(item.scenario_line or item.line)


def _slug(name: str) -> str:
    return _SLUG_CHARS.sub("-", name).lower()


def _above(line: int) -> int:
    return max(line - 1, 1)


def _nanoseconds(seconds: float) -> int:
    return max(round(seconds * 1_000_000_000), 0)


def _utc_timestamp(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _clean(text: str) -> str:
    """``text`` without ANSI escapes and control characters (tab and newlines stay)."""
    return _CONTROL_CHARS.sub("", strip_ansi(text))
