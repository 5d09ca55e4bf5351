"""The one place ``harvest`` hands a run to pbdd.

Called by ``management/commands/harvest.py``; runs the options through ``session.py`` as
``pbdd`` does.
"""

from __future__ import annotations

from ..config import RunOptions


def run_pbdd(options: RunOptions) -> int:
    """Run ``options`` as ``pbdd`` would (reports, history, exit code) and return the code."""
    from ..session import run_session

    return run_session(options).exit_code
