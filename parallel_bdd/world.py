"""``world`` (one per process, never reset) and ``scenario`` (reset for every scenario).

Imported by user step files and ``terrain.py`` through ``parallel_bdd`` or ``lettuce``;
``runner.py`` opens and closes each scenario's namespace. Imports nothing from cli or
reporting.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

_MISSING = object()


class World:
    """Process-global namespace, as lettuce's ``world`` (a plain object, not thread-local)."""

    def absorb(self, thing: Any, name: str | None = None) -> Any:
        """Set ``world.<name or thing.__name__> = thing`` and return it (usable as decorator)."""
        setattr(self, name or thing.__name__, thing)
        return thing

    def spew(self, name: str) -> Any:
        """Delete ``world.<name>`` and return it (None if it was not set)."""
        return self.__dict__.pop(name, None)


class MonkeyPatch:
    """Patches that are undone when the scenario ends, pass or fail."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def setattr(self, target: Any, name: str, value: Any) -> None:
        old = getattr(target, name, _MISSING)

        def undo() -> None:
            if old is _MISSING:
                delattr(target, name)
            else:
                setattr(target, name, old)

        setattr(target, name, value)
        self._undo.append(undo)

    def delattr(self, target: Any, name: str) -> None:
        old = getattr(target, name)
        delattr(target, name)
        self._undo.append(lambda: setattr(target, name, old))

    def setitem(self, mapping: MutableMapping[Any, Any], key: Any, value: Any) -> None:
        old = mapping.get(key, _MISSING)

        def undo() -> None:
            if old is _MISSING:
                mapping.pop(key, None)
            else:
                mapping[key] = old

        mapping[key] = value
        self._undo.append(undo)

    def setenv(self, name: str, value: str) -> None:
        self.setitem(os.environ, name, str(value))

    def delenv(self, name: str) -> None:
        if name in os.environ:
            self.setitem(os.environ, name, os.environ[name])
            del os.environ[name]

    def undo(self) -> None:
        while self._undo:
            self._undo.pop()()


class ScenarioNamespace:
    """State of one scenario: attributes set by steps, files attached to its report."""

    def __init__(self) -> None:
        self.monkeypatch = MonkeyPatch()
        self._artifacts: list[str] = []

    def attach(self, path: str | os.PathLike[str]) -> None:
        """List a file (screenshot, page source) in this scenario's reports."""
        self._artifacts.append(os.fspath(path))


class ScenarioProxy:
    """``scenario``: forwards to the namespace of the scenario running now."""

    def __init__(self) -> None:
        object.__setattr__(self, "_current", None)

    def _namespace(self) -> ScenarioNamespace:
        current = object.__getattribute__(self, "_current")
        if current is None:
            raise RuntimeError(
                "`scenario` is only available while a scenario runs "
                "(in steps and each_scenario/each_step hooks); use `world` for longer-lived state"
            )
        return current

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._namespace(), name)
        except AttributeError:
            raise AttributeError(
                f"scenario has no attribute {name!r}: set it in an earlier step of this scenario"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._namespace(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._namespace(), name)

    def __repr__(self) -> str:
        current = object.__getattribute__(self, "_current")
        return f"<scenario namespace {vars(current) if current else '(no scenario running)'}>"


world = World()
scenario = ScenarioProxy()


@contextmanager
def scenario_namespace() -> Iterator[ScenarioNamespace]:
    """Open a fresh namespace for one scenario; undo its patches when it ends."""
    namespace = ScenarioNamespace()
    object.__setattr__(scenario, "_current", namespace)
    try:
        yield namespace
    finally:
        try:
            namespace.monkeypatch.undo()
        finally:
            object.__setattr__(scenario, "_current", None)
