"""The parse cache's records as JSON values, and back: data only, never code.

Called by ``loader.py`` (``ParsedFeature.to_json`` / ``ParsedFeature.from_json``) in the
parent. Reading builds ``WorkItem``, ``FeatureData`` and ``StepData``, and nothing else,
from JSON strings, numbers and lists, field by field as listed below: a cache file is a
document anyone may have written, so it names no class and can run nothing. A key that is
not a field, a missing required field or a value of the wrong type raises ``BadEntry``,
which the loader treats as a miss.

A field equal to its default is left out of the document: most steps have no table, doc
string or template text, and the cache is read on every run.

The checked readers (``as_text``, ``as_integer``...) are shared with ``queue/records.py``,
which reads results stored in Redis the same way. Imports only ``messages``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, fields
from typing import Any, TypeVar

from .messages import FeatureData, StepData, WorkItem

_Record = TypeVar("_Record")
_Convert = Callable[[Any], Any]


class BadEntry(Exception):
    """A cache document that is not what ``items_to_json`` writes."""


def as_text(value: Any) -> str:
    if type(value) is not str:
        raise BadEntry("a string expected")
    return value


def as_integer(value: Any) -> int:
    if type(value) is not int:
        raise BadEntry("an integer expected")
    return value


def as_number(value: Any) -> float:
    if type(value) is not float and type(value) is not int:
        raise BadEntry("a number expected")
    return float(value)


def as_flag(value: Any) -> bool:
    if type(value) is not bool:
        raise BadEntry("true or false expected")
    return value


def as_optional_text(value: Any) -> str | None:
    return None if value is None else as_text(value)


def as_list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise BadEntry("a list expected")
    return value


def as_texts(value: Any) -> tuple[str, ...]:
    return tuple(as_text(each) for each in as_list(value))


def as_rows(value: Any) -> tuple[tuple[str, ...], ...]:
    return tuple(as_texts(row) for row in as_list(value))


FEATURE_FIELDS: dict[str, _Convert] = {
    "path": as_text,
    "name": as_text,
    "line": as_integer,
    "description": as_text,
    "tags": as_texts,
    "language": as_text,
    "keyword": as_text,
    "background_name": as_text,
    "background_line": as_integer,
}
STEP_FIELDS: dict[str, _Convert] = {
    "keyword": as_text,
    "text": as_text,
    "line": as_integer,
    "original_text": as_text,
    "table": as_rows,
    "doc_string": as_optional_text,
    "doc_string_type": as_text,
    "in_background": as_flag,
}
# every item of a file shares one FeatureData: the document holds it once, beside the items
ITEM_FIELDS: dict[str, _Convert] = {
    "scenario_id": as_text,
    "name": as_text,
    "line": as_integer,
    "keyword": as_text,
    "tags": as_texts,
    "steps": lambda value: tuple(_step_from_json(step) for step in as_list(value)),
    "scenario_line": as_integer,
    "template_name": as_text,
    "outline_keys": as_texts,
    "outline_values": as_texts,
    "outline_index": as_integer,
    "order": as_integer,
    "estimate": as_number,
}


def _defaults(record: type) -> dict[str, Any]:
    return {field.name: field.default for field in fields(record) if field.default is not MISSING}


_FEATURE_DEFAULTS = _defaults(FeatureData)
_STEP_DEFAULTS = _defaults(StepData)
_ITEM_DEFAULTS = _defaults(WorkItem)


def items_to_json(items: Sequence[WorkItem]) -> dict[str, Any]:
    """``{"feature": ..., "items": [...]}`` for the items of one feature file."""
    if not items:
        return {"feature": None, "items": []}
    feature = items[0].feature
    if any(item.feature is not feature and item.feature != feature for item in items):
        raise ValueError("the items of one feature file share one FeatureData")
    return {
        "feature": _without_defaults(feature, _FEATURE_DEFAULTS),
        "items": [_item_to_json(item) for item in items],
    }


def _item_to_json(item: WorkItem) -> dict[str, Any]:
    values = _without_defaults(item, _ITEM_DEFAULTS)
    del values["feature"]
    values["steps"] = [_without_defaults(step, _STEP_DEFAULTS) for step in item.steps]
    return values


def _without_defaults(record: Any, defaults: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in vars(record).items()
        if key not in defaults or value != defaults[key]
    }


def items_from_json(document: Any) -> list[WorkItem]:
    """The ``WorkItem``s ``items_to_json`` described; ``BadEntry`` for anything else."""
    if type(document) is not dict or document.keys() != {"feature", "items"}:
        raise BadEntry("not a feature's records")
    raw_items = as_list(document["items"])
    if not raw_items:
        return []
    feature = _build(FeatureData, FEATURE_FIELDS, _FEATURE_DEFAULTS, document["feature"])
    items = [_build(WorkItem, ITEM_FIELDS, _ITEM_DEFAULTS, raw) for raw in raw_items]
    for item in items:
        item.__dict__["feature"] = feature
    return items


def _step_from_json(data: Any) -> StepData:
    return _build(StepData, STEP_FIELDS, _STEP_DEFAULTS, data)


def _build(
    record: type[_Record],
    converters: Mapping[str, _Convert],
    defaults: Mapping[str, Any],
    data: Any,
) -> _Record:
    """A ``record`` holding ``data``'s values, each checked by its field's converter.

    Built as ``messages.updated`` copies a record, without running ``__init__`` (which does
    nothing but set the fields): a large suite's cache holds tens of thousands of steps."""
    if type(data) is not dict:
        raise BadEntry("an object expected")
    values = dict(defaults)
    for key, value in data.items():
        convert = converters.get(key)
        if convert is None:
            raise BadEntry(f"unknown field {key!r}")
        values[key] = convert(value)
    if len(values) != len(converters):
        raise BadEntry("a required field is missing")
    built = object.__new__(record)
    built.__dict__.update(values)
    return built
