"""The one place ``harvest`` hands a run to pbdd.

Called by ``harvest_hooks.py`` (for the ``harvest`` command); runs the options through
``session.py`` as ``pbdd`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config import RunOptions

if TYPE_CHECKING:
    from ..session import RunResult


def run_pbdd(options: RunOptions) -> RunResult:
    """Run ``options`` as ``pbdd`` would (reports, history) and return what it did; its
    ``exit_code`` is the one ``pbdd`` would exit with."""
    from ..session import run_session

    return run_session(options)
