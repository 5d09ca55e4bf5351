"""The ``lettuce`` module for existing suites: ``from lettuce import step, world, ...``.

``discovery.install_lettuce_alias`` registers this module as ``lettuce`` (and as the
submodules suites import from) before any step file is imported, so old suites run
unchanged and get the very same objects as ``parallel_bdd``. Imports nothing from cli or
reporting.
"""

from __future__ import annotations

from .hooks import HOOKS as CALLBACK_REGISTRY
from .hooks import after, before
from .registry import STEPS as STEP_REGISTRY
from .registry import step, steps
from .world import scenario, world

__all__ = [
    "CALLBACK_REGISTRY",
    "STEP_REGISTRY",
    "after",
    "before",
    "call_hook",
    "scenario",
    "step",
    "steps",
    "world",
]


def call_hook(situation: str, kind: str, *args: object, **kwargs: object) -> None:
    """lettuce's ``call_hook('before', 'each_step', step)``."""
    when = "before" if situation.startswith("before") else "after"
    CALLBACK_REGISTRY.call(when, kind, *args)
