"""pbdd: run lettuce-style Gherkin suites on Python 3, in parallel, slowest scenarios first.

The user API, also importable as ``lettuce`` inside a suite run by pbdd::

    from parallel_bdd import step, steps, world, scenario, before, after

``step`` and ``steps`` are loaded on first use: the step registry needs ``dataclasses``
and ``inspect``, which the pool's manager process and ``pbdd --version`` (both import this
package, the parent's main module's) never need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .hooks import after, before
from .world import scenario, world

if TYPE_CHECKING:
    from .registry import step, steps

__version__ = "0.1.0"

__all__ = ["__version__", "after", "before", "scenario", "step", "steps", "world"]


def __getattr__(name: str) -> Any:
    if name in ("step", "steps"):
        from . import registry

        value = getattr(registry, name)
        globals()[name] = value  # looked up once
        return value
    raise AttributeError(f"module 'parallel_bdd' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
