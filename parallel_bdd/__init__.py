"""pbdd: run lettuce-style Gherkin suites on Python 3, in parallel, slowest scenarios first.

The user API, also importable as ``lettuce`` inside a suite run by pbdd::

    from parallel_bdd import step, steps, world, scenario, before, after
"""

from __future__ import annotations

from .hooks import after, before
from .registry import step, steps
from .world import scenario, world

__version__ = "0.1.0"

__all__ = ["__version__", "after", "before", "scenario", "step", "steps", "world"]
