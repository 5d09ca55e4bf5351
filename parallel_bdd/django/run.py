"""The one place ``harvest`` hands a run to pbdd.

Called by ``management/commands/harvest.py``. Today pbdd's run is ``cli.execute``; once the
run lives in ``session.py`` only ``run_pbdd`` changes.
"""

from __future__ import annotations

from ..config import RunOptions


def run_pbdd(options: RunOptions) -> int:
    """Run ``options`` as ``pbdd`` would (reports, history, exit code) and return the code."""
    from ..cli import execute

    return execute(options)
