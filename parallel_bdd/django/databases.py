"""The test databases of ``harvest -T``: made once in the parent, one clone per worker.

As in lettuce, the ``harvest`` command calls ``create`` (the test database of every alias,
migrated) before ``before.harvest``, so the suite's hooks write into the test databases.
``prelude.py`` calls ``clone`` in the parent once every ``before.all`` hook has run
(``processes`` clones, through Django's own ``clone_test_db``, as ``manage.py test
--parallel`` makes them: PostgreSQL copies the template, SQLite copies the file), so what
they wrote is in every clone; its ``before.batch`` hook calls ``use_clone`` in each worker.
The command calls ``destroy`` once pbdd's run is over, however it ended (passed, failed,
Ctrl-C), so nothing stays behind. Imports nothing from cli or reporting.

SQLite's default test database lives in memory, which a spawned worker cannot see: when an
alias has no ``TEST NAME`` (or an in-memory one), the test database becomes a file in a
temporary directory that ``destroy`` removes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections

CLONE_SUFFIX = "w{worker_id}"  # test_<name>_w0: short, PostgreSQL allows 63 characters


@dataclass
class _Made:
    """What ``create`` made, in order, so ``destroy`` removes exactly that."""

    old_names: dict[str, str] = field(default_factory=dict)  # alias -> the configured NAME
    test_names: dict[str, str] = field(default_factory=dict)  # alias -> its test database
    clones: list[tuple[str, str]] = field(default_factory=list)  # (alias, suffix)
    temporary_dir: str | None = None


_made = _Made()


def _aliases() -> list[str]:
    """Aliases that get a database of their own (a test MIRROR reuses another's)."""
    return [
        alias for alias in connections if not connections[alias].settings_dict["TEST"].get("MIRROR")
    ]


def _file_for_sqlite(alias: str) -> None:
    connection = connections[alias]
    if connection.vendor != "sqlite":
        return
    creation = connection.creation
    if not creation.is_in_memory_db(creation._get_test_db_name()):
        return
    if _made.temporary_dir is None:
        _made.temporary_dir = tempfile.mkdtemp(prefix="pbdd-django-")
    name = os.path.join(_made.temporary_dir, f"test_{alias}.sqlite3")
    connection.settings_dict["TEST"]["NAME"] = name


def unreachable() -> list[str]:
    """Each database server ``create`` would need and cannot reach, as one line (checked
    by ``harvest -T`` before anything starts), the password masked."""
    from django.db import DatabaseError

    from ..masking import mask_secrets

    problems: list[str] = []
    for alias in _aliases():
        connection = connections[alias]
        if connection.vendor == "sqlite":
            continue
        try:
            # what create_test_db connects to: the server's maintenance database (Django
            # warns, then tries the configured one, when that is refused; both fail here)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                with connection._nodb_cursor():
                    pass
        except DatabaseError as error:
            settings_dict = connection.settings_dict
            where = (
                f"{settings_dict.get('HOST') or 'localhost'}:{settings_dict.get('PORT') or 5432}"
            )
            url = (
                f"{connection.vendor}://{settings_dict.get('USER') or ''}:"
                f"{settings_dict.get('PASSWORD') or ''}@{where}/{settings_dict.get('NAME') or ''}"
            )
            detail = " ".join(str(error).split())
            password = str(settings_dict.get("PASSWORD") or "")
            if password:
                detail = detail.replace(password, "***")
            problems.append(
                mask_secrets(
                    f"{connection.display_name} at {where} (database {alias!r}, {url}) cannot "
                    f"be reached: {detail}"
                )
            )
        finally:
            connection.close()
    return problems


def create() -> None:
    """Make the test databases (migrated); this process uses them from now on."""
    for alias in _aliases():
        connection = connections[alias]
        _file_for_sqlite(alias)
        _made.test_names[alias] = connection.creation._get_test_db_name()
        _made.old_names[alias] = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)


def clone(processes: int) -> dict[int, dict[str, dict[str, Any]]]:
    """``processes`` clones of the test databases (none for a serial run), with what was
    written into them so far.

    Returns each worker's connection settings by worker id, then alias (plain data: it
    travels to the workers on ``world``).
    """
    clones: dict[int, dict[str, dict[str, Any]]] = {}
    if processes < 2:
        return clones
    for worker_id in range(processes):
        suffix = CLONE_SUFFIX.format(worker_id=worker_id)
        for alias in _made.test_names:
            creation = connections[alias].creation
            _made.clones.append((alias, suffix))
            creation.clone_test_db(suffix=suffix, verbosity=0, autoclobber=True)
            clones.setdefault(worker_id, {})[alias] = creation.get_test_db_clone_settings(suffix)
    return clones


def use_clone(settings_by_alias: dict[str, dict[str, Any]]) -> None:
    """In a worker: point every alias at this worker's clone (in place, so the server's
    threads, which make their own connections from the same dict, use it too)."""
    for alias, settings_dict in settings_by_alias.items():
        connection = connections[alias]
        connection.close()
        connection.settings_dict.update(settings_dict)


def destroy() -> list[str]:
    """Drop every clone and test database ``create`` made; the problems, as text."""
    problems: list[str] = []
    for alias, suffix in reversed(_made.clones):
        creation = connections[alias].creation
        problems += _attempt(creation.destroy_test_db, verbosity=0, suffix=suffix)
    _made.clones.clear()
    for alias, old_name in reversed(list(_made.old_names.items())):
        creation = connections[alias].creation
        creation.connection.settings_dict["NAME"] = _made.test_names[alias]
        problems += _attempt(creation.destroy_test_db, old_name, verbosity=0)
    _made.old_names.clear()
    _made.test_names.clear()
    if _made.temporary_dir is not None:
        shutil.rmtree(_made.temporary_dir, ignore_errors=True)
        _made.temporary_dir = None
    return problems


def _attempt(action: Callable[..., Any], *args: Any, **kwargs: Any) -> list[str]:
    try:
        action(*args, **kwargs)
    except Exception as error:  # a database already gone, a server gone away: go on
        return [str(error)]
    return []
