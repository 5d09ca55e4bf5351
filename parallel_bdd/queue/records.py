"""What the queue stores about a scenario, as JSON, and back: data only, never code.

Called by ``redis_queue.py`` (writing results and, at fill time, the selection's items) and
by ``report.py`` (reading them). Anyone who can write a build's keys wrote what is read
here, so reading builds ``ScenarioResult``/``StepResult`` field by field, each value checked
against its field's declared type, and ``WorkItem`` through the parse cache's checked reader
(``cache_records``): no class is named, nothing runs. Anything else raises ``BadRecord``.

Imports only ``messages`` and ``cache_records``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import MISSING, asdict, fields
from typing import Any

from ..cache_records import (
    BadEntry,
    as_flag,
    as_integer,
    as_list,
    as_number,
    as_optional_text,
    as_rows,
    as_text,
    as_texts,
    items_from_json,
    items_to_json,
)
from ..messages import ScenarioResult, StepResult, WorkItem


class BadRecord(BadEntry, ValueError):
    """A stored value that is not what this module writes."""


# a field's declared type (as written in messages.py) -> its checked reader
_BY_TYPE: dict[str, Callable[[Any], Any]] = {
    "str": as_text,
    "int": as_integer,
    "float": as_number,
    "bool": as_flag,
    "str | None": as_optional_text,
    "tuple[str, ...]": as_texts,
    "tuple[tuple[str, ...], ...]": as_rows,
    "tuple[StepResult, ...]": lambda value: tuple(_step(each) for each in as_list(value)),
}


def _build(record: type, data: Any) -> Any:
    if type(data) is not dict:
        raise BadRecord("an object expected")
    values: dict[str, Any] = {}
    for field in fields(record):
        if field.name in data:
            convert = _BY_TYPE.get(str(field.type))
            if convert is None:  # a new field of a type this module does not read yet
                raise BadRecord(f"cannot read field {field.name!r} of type {field.type}")
            values[field.name] = convert(data[field.name])
        elif field.default is MISSING and field.default_factory is MISSING:
            raise BadRecord(f"field {field.name!r} missing")
    unknown = data.keys() - {field.name for field in fields(record)}
    if unknown:
        raise BadRecord(f"unknown field {sorted(unknown)[0]!r}")
    return record(**values)


def _step(data: Any) -> StepResult:
    step: StepResult = _build(StepResult, data)
    return step


def result_to_json(result: ScenarioResult) -> str:
    """``result`` as one JSON object (called by ``RedisQueue.ack``)."""
    return json.dumps(asdict(result), separators=(",", ":"))


def result_from_json(text: str | bytes) -> ScenarioResult:
    """The ``ScenarioResult`` ``result_to_json`` wrote; ``BadRecord`` for anything else."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRecord(f"not JSON: {error}") from None
    try:
        result: ScenarioResult = _build(ScenarioResult, data)
    except BadEntry as error:  # a field of the wrong type (the shared readers' error)
        raise BadRecord(str(error)) from None
    return result


def item_to_json(item: WorkItem) -> str:
    """What the reports need of one scenario (called at fill time by ``RedisQueue``)."""
    return json.dumps(items_to_json([item]), separators=(",", ":"))


def item_from_json(text: str | bytes) -> WorkItem:
    """The ``WorkItem`` ``item_to_json`` wrote; ``BadRecord`` for anything else."""
    try:
        items = items_from_json(json.loads(text))
    except (ValueError, UnicodeDecodeError, BadEntry) as error:
        raise BadRecord(f"not a scenario's record: {error}") from None
    if len(items) != 1:
        raise BadRecord("one scenario expected")
    return items[0]
