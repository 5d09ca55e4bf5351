"""lettuce's model steps: rows written from a step's table, checked and counted.

Imported by users' step files in every process of a harvest run (Django is set up by then).
Models are named by their verbose name or its plural (``product``, ``products``); table
cells become Python values by ``hash_data`` (``true``/``false``/``null``, integers, ISO
dates). The sentences and helpers are lettuce's; the code is pbdd's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection

from ...registry import step

STEP_PREFIX = r"(?:Given|And|Then|When) "
_WRITERS: dict[type, Callable[..., Any]] = {}
_CHECKERS: dict[type, Callable[..., Any]] = {}


def _models_by_name() -> dict[str, type]:
    names: dict[str, type] = {}
    for model in apps.get_models():
        names[str(model._meta.verbose_name).lower()] = model
        names[str(model._meta.verbose_name_plural).lower()] = model
    return names


def get_model(name: str) -> type:
    """The model class whose verbose name (or plural) is ``name``."""
    model = _models_by_name().get(name.strip().lower())
    assert model is not None, f"no model is called {name!r} (verbose name or its plural)"
    return model


def writes_models(model: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``func(step, field)`` to create (field None) or update ``model`` rows."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        _WRITERS[model] = func
        return func

    return register


def creates_models(model: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``func(step)`` that creates ``model`` rows (updates are refused)."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        def write(data: Any, field: str | None = None) -> Any:
            if field:
                raise NotImplementedError("use @writes_models to update rows")
            return func(data)

        _WRITERS[model] = write
        return func

    return register


def checks_existence(model: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``func(step)`` that checks ``model`` rows exist."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        _CHECKERS[model] = func
        return func

    return register


def _value(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    special = {"true": True, "false": False, "null": None}
    if text in special:
        return special[text]
    if text.isdigit() and not re.match(r"^0\d+", text):
        return int(text)
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return datetime.strptime(text, "%Y-%m-%d")
    return text


def hash_data(row: dict[str, Any]) -> dict[str, Any]:
    """A table row with its cells turned into Python values."""
    return {key: _value(value) for key, value in row.items()}


def hashes_data(step: Any) -> list[dict[str, Any]]:
    return [hash_data(row) for row in step.hashes]


def reset_sequence(model: type) -> None:
    """Put the model's id sequence after its highest id (rows made with explicit ids)."""
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)


def write_models(model: type, data: Any, field: str | None = None) -> list[Any]:
    """Create a row per hash, or update the row found by ``field`` when it is given."""
    rows = hashes_data(data) if hasattr(data, "hashes") else list(data)
    written = []
    for row in rows:
        if field:
            if field not in row:
                raise KeyError(f'the "{field}" column is required to update rows')
            obj = model.objects.get(**{field: row[field]})
            for name, value in row.items():
                setattr(obj, name, value)
            obj.save()
        else:
            obj = model.objects.create(**row)
        written.append(obj)
    reset_sequence(model)
    return written


def create_models(model: type, data: Any) -> list[Any]:
    return write_models(model, data, None)


def models_exist(model: type, data: Any, queryset: Any = None) -> None:
    """Each hash names a row that must exist; ``@attr`` columns compare attributes."""
    rows = hashes_data(data) if hasattr(data, "hashes") else list(data)
    queryset = queryset if queryset is not None else model.objects.all()
    missing = [row for row in rows if not _exists(queryset, row)]
    if missing:
        present = "\n".join(f"  {obj!r}: {_fields(obj)}" for obj in queryset.all())
        raise AssertionError(
            f"{len(missing)} {model.__name__} rows missing: {missing}\nRows in the database:\n{present}"
        )


def _exists(queryset: Any, row: dict[str, Any]) -> bool:
    fields = {k: v for k, v in row.items() if not k.startswith("@")}
    attributes = {k[1:]: v for k, v in row.items() if k.startswith("@")}
    return any(
        all(getattr(obj, name) == value for name, value in attributes.items())
        for obj in queryset.filter(**fields)
    )


def _fields(obj: Any) -> dict[str, Any]:
    return {field.name: getattr(obj, field.name) for field in obj._meta.fields}


def _write(step: Any, model_name: str, field: str | None = None) -> None:
    model = get_model(model_name)
    writer = _WRITERS.get(model, partial(write_models, model))
    writer(step, field)


@step(r"I have(?: an?)? ([a-z][a-z0-9_ ]*) in the database:")
def write_models_generic(step: Any, model: str, field: str | None = None) -> None:
    """And I have products in the database: (a table of rows)"""
    _write(step, model, field)


@step(r"I update(?: an?)? existing ([a-z][a-z0-9_ ]*) by ([a-z][a-z0-9_]*) in the database:")
def update_models_generic(step: Any, model: str, field: str) -> None:
    """And I update existing products by name in the database: (a table of rows)"""
    _write(step, model, field)


def _related(model_name: str, key: str, value: str) -> Any:
    return get_model(model_name).objects.get(**{key: value})


@step(
    STEP_PREFIX
    + r'([A-Z][a-z0-9_ ]*) with ([a-z]+) "([^"]*)" has(?: an?)? ([A-Z][a-z0-9_ ]*) in the database:'
)
def create_models_for_relation(step: Any, rel_model: str, key: str, value: str, model: str) -> None:
    """And project with name "Ball" has goals in the database: (rows linked to it)"""
    related = _related(rel_model, key, value)
    for row in step.hashes:
        row[rel_model.strip().lower()] = related
    _write(step, model)


@step(
    STEP_PREFIX
    + r'([A-Z][a-z0-9_ ]*) with ([a-z]+) "([^"]*)" is linked to ([A-Z][a-z0-9_ ]*) in the database:'
)
def create_m2m_links(step: Any, rel_model: str, key: str, value: str, relation_name: str) -> None:
    """And article with name "Guidelines" is linked to tags in the database: (rows)"""
    related = _related(rel_model, key, value)
    manager = _m2m_manager(related, relation_name.strip())
    for row in step.hashes:
        manager.add(manager.model.objects.get(**row))


def _m2m_manager(obj: Any, name: str) -> Any:
    for field in obj._meta.many_to_many:
        if name in (field.name, field.verbose_name):
            return getattr(obj, field.name)
    manager = getattr(obj, name, None)
    assert manager is not None, f"{type(obj).__name__} has no many-to-many relation {name!r}"
    return manager


@step(STEP_PREFIX + r"(?:an? )?([A-Z][a-z0-9_ ]*) should be present in the database")
def models_exist_generic(step: Any, model: str) -> None:
    """Then products should be present in the database: (rows that must exist)"""
    model_class = get_model(model)
    checker = _CHECKERS.get(model_class, partial(models_exist, model_class))
    checker(step)


@step(r"There should be (\d+) ([a-z][a-z0-9_ ]*) in the database")
def model_count(step: Any, count: str, model: str) -> None:
    """Then there should be 0 products in the database"""
    model_class = get_model(model)
    found = model_class.objects.count()
    plural = model_class._meta.verbose_name_plural
    assert found == int(count), f"expected {count} {plural}, found {found}"


def clean_db(scenario: Any) -> None:
    """Empty every table: ``after.each_scenario(clean_db)`` in a terrain file."""
    call_command("flush", interactive=False, verbosity=0)


__all__: Iterable[str] = [
    "checks_existence",
    "clean_db",
    "create_models",
    "creates_models",
    "get_model",
    "hash_data",
    "hashes_data",
    "models_exist",
    "reset_sequence",
    "write_models",
    "writes_models",
]
