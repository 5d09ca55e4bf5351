"""Ctrl-C presses during a run: one small state object for every part of it.

Used in the parent by ``serial.py`` (a ``-p 1`` run), ``pool/`` (the pool's loop) and
``session.py`` (after the scenarios ran: ``after.all``, the reports, the history). Imports
only the standard library.

The SIGINT handler only records the press: a KeyboardInterrupt unwinding through a
manager proxy call would leave the proxy out of step and lose queue items, so the pool
polls ``presses`` between its waits. Code that makes no such call (a serial run, the end
of a run) asks for a KeyboardInterrupt after ``raise_after`` presses, to stop at once.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any


class Interrupts:
    """Counts Ctrl-C presses while installed (``with Interrupts(...) as interrupts:``, or
    ``install()`` ... ``restore()``).

    ``raise_after``: presses beyond this many raise KeyboardInterrupt (0: never raise).
    ``on_first``: called from the handler on the first press (to print a notice).
    """

    def __init__(self, *, raise_after: int = 0, on_first: Callable[[], None] | None = None) -> None:
        self.presses = 0
        self.first_at = 0.0  # time.monotonic() of the first press
        self.raise_after = raise_after
        self.on_first = on_first
        self._previous: Any = None
        self._installed = False

    def _handler(self, signum: int, frame: Any) -> None:
        self.presses += 1
        if self.raise_after and self.presses > self.raise_after:
            raise KeyboardInterrupt
        if self.presses == 1:
            self.first_at = time.monotonic()
            if self.on_first is not None:
                self.on_first()

    def install(self) -> None:
        """Count the presses from now on (until ``restore``)."""
        try:
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._installed = True
        except ValueError:  # not the main thread (embedded use): no Ctrl-C handling
            self._installed = False

    def restore(self) -> None:
        """Give SIGINT back to the handler it had before ``install``."""
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def __enter__(self) -> Interrupts:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()
