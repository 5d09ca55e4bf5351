"""Hook points: ``@before.each_scenario``, ``@after.batch`` and the rest of lettuce's list.

Users register hooks through ``before``/``after`` (from ``parallel_bdd`` or ``lettuce``);
``runner.py`` (in a worker or the serial run) and ``session.py`` (``all`` hooks, in the
parent) call them through ``HOOKS.call``; so does ``django/harvest_hooks.py`` (``harvest``
hooks, in the process of ``manage.py harvest``). Imports nothing from cli or reporting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

# Hook points and when they fire (see README "Hooks").
HOOK_POINTS = (
    "all",  # once per run, in the parent
    "batch",  # once per worker process (and once in a serial run)
    "each_feature",
    "each_scenario",
    "each_outline",  # around each Examples row
    "each_background",
    "each_step",
    "outline",  # lettuce: before.outline and after.outline are one list, fired after each row
    "step_output",
)
# lettuce's Django points, fired only in a ``manage.py harvest`` run: before.harvest(variables)
# and after.harvest(results), once each, in its process (``django/harvest_hooks.py``);
# before.each_app(module) and after.each_app(module, result) around each stretch of one app's
# scenarios, in the process that runs them (``app_hooks.py``).
DJANGO_POINTS = ("harvest", "each_app")
# Django-only points of lettuce that pbdd has no place for (the server is a thread of each
# worker): accepted so that old terrain files import, never fired.
IGNORED_POINTS = ("runserver", "handle_request")

HookFunction = Callable[..., Any]


class HookRegistry:
    """Hook functions by (when, point), in registration order, each registered once."""

    def __init__(self) -> None:
        self._hooks: dict[tuple[str, str], list[HookFunction]] = {}
        self._seen: set[tuple[str, str, str, int]] = set()

    @staticmethod
    def _when(when: str, point: str) -> str:
        # lettuce registers before.outline and after.outline into the same list
        return "after" if point == "outline" else when

    def register(self, when: str, point: str, function: HookFunction) -> HookFunction:
        when = self._when(when, point)
        code = getattr(function, "__code__", None)
        if code is not None:
            # lettuce ignores a function already registered from the same file and line,
            # so a step module imported twice does not double its hooks.
            key = (when, point, code.co_filename, code.co_firstlineno)
            if key in self._seen:
                return function
            self._seen.add(key)
        self._hooks.setdefault((when, point), []).append(function)
        return function

    def functions(self, when: str, point: str) -> tuple[HookFunction, ...]:
        """The hooks of (when, point), in registration (and call) order."""
        return tuple(self._hooks.get((self._when(when, point), point), ()))

    def each(self, when: str, point: str) -> Iterator[HookFunction]:
        """The hooks of (when, point) in call order, read as they are called: one that an
        earlier one registers on the same point comes too, last (as lettuce's loop over
        its list did)."""
        hooks = self._hooks.get((self._when(when, point), point), [])
        index = 0
        while index < len(hooks):
            yield hooks[index]
            index += 1

    def call(self, when: str, point: str, *args: Any) -> None:
        """Call every hook of (when, point) (``each``); the first exception propagates."""
        for function in self.each(when, point):
            function(*args)

    def clear(self) -> None:
        self._hooks.clear()
        self._seen.clear()


HOOKS = HookRegistry()


class _HookDecorators:
    """``before`` / ``after``: ``@before.each_scenario`` registers a hook."""

    def __init__(self, when: str) -> None:
        self._when = when

    def __getattr__(self, point: str) -> Callable[[HookFunction], HookFunction]:
        if point in HOOK_POINTS or point in DJANGO_POINTS or point in IGNORED_POINTS:
            when = self._when

            def decorator(function: HookFunction) -> HookFunction:
                if point in IGNORED_POINTS:
                    return function
                return HOOKS.register(when, point, function)

            decorator.__name__ = f"{when}.{point}"
            return decorator
        raise AttributeError(
            f"there is no hook point {self._when}.{point}; choose one of: {', '.join(HOOK_POINTS)}"
        )

    def __repr__(self) -> str:
        return f"<hook decorators {self._when!r}>"


before = _HookDecorators("before")
after = _HookDecorators("after")
