"""lettuce's ``before.each_app`` / ``after.each_app``: hooks around one Django app's scenarios.

Lettuce's ``harvest`` ran the apps one after another: ``before.each_app(module)`` before an
app's features, ``after.each_app(module, result)`` after them, ``result`` being that app's
``TotalResult``. A pbdd run mixes the apps' scenarios on its workers, so each process that
runs scenarios (``runner.Batch``, through ``AppRun``) brackets every stretch of consecutive
scenarios of one app: ``before.each_app`` when a scenario of another app comes next,
``after.each_app`` with the stretch's ``TotalResult`` when it ends or the batch does. A
serial run keeps the files' order, so there each app is one stretch, as in lettuce.

The apps come from ``django/prelude.py`` (``register``), in every process of a harvest
run; a feature given as a PATH belongs to no app (lettuce fired these hooks for apps
only). Outside ``harvest`` nothing is registered and nothing fires. Imports no Django
module, nothing of cli or reporting.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from .hooks import HOOKS
from .messages import ScenarioResult, WorkItem
from .model import total_from_results

_APPS: dict[Path, str] = {}  # an app's features directory (resolved) -> its module's name


def register(directory: str, app: str) -> None:
    """Scenarios of feature files under ``directory`` belong to the app module ``app``."""
    _APPS[Path(directory).resolve()] = app


def app_of(feature_path: str) -> str | None:
    """The registered app whose features directory holds ``feature_path``, if any."""
    if not _APPS:
        return None
    path = Path(feature_path).resolve()
    for directory, app in _APPS.items():
        if path.is_relative_to(directory):
            return app
    return None


class AppRun:
    """The app whose scenarios this process runs now, and their records so far.
    ``on_failure(error)``: what an ``after.each_app`` hook raised (a hook failure)."""

    def __init__(self, on_failure: Callable[[Exception], None]) -> None:
        self.on_failure = on_failure
        self.module: ModuleType | None = None
        self.error: Exception | None = None  # its before.each_app hook's, if it raised
        self._app: str | None = None
        self._records: list[tuple[WorkItem, ScenarioResult]] = []

    def enter(self, item: WorkItem) -> Exception | None:
        """Before ``item`` runs: a new stretch if its app is not the current one. Returns
        the exception of the stretch's ``before.each_app`` (its scenarios fail with it)."""
        app = app_of(item.feature.path)
        if app == self._app:
            return self.error
        self.leave()
        self._app = app
        if app is not None:
            self.module = importlib.import_module(app)
            try:
                HOOKS.call("before", "each_app", self.module)
            except Exception as error:  # a user's hook may raise anything
                self.error = error
        return self.error

    def record(self, item: WorkItem, result: ScenarioResult) -> None:
        if self._app is not None:
            self._records.append((item, result))

    def leave(self) -> None:
        """The stretch ends: ``after.each_app(module, its TotalResult)``."""
        module, records = self.module, self._records
        self._app, self.module, self.error, self._records = None, None, None, []
        if module is None:
            return
        try:
            HOOKS.call("after", "each_app", module, total_from_results(records))
        except Exception as error:  # a user's hook may raise anything
            self.on_failure(error)
