"""A scenario's output captured: what ``print`` writes and what reaches fd 1 and fd 2.

Used by ``runner.Batch`` (in a worker, and in the parent for a serial run). Imports nothing
of pbdd.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any


class OutputCapture:
    """Capture a scenario's output: Python-level writes and the process's fd 1/2.

    fd-level capture catches what subprocesses and C code write (a browser driver's
    chatter), so a worker never writes to the user's terminal.
    """

    def __init__(self, capture_fds: bool) -> None:
        self.capture_fds = capture_fds
        self._files = [tempfile.TemporaryFile(mode="w+b") for _ in range(2)] if capture_fds else []
        self._saved_fds: list[int] = []
        self._saved_streams: tuple[Any, Any] | None = None
        self._buffers = (io.StringIO(), io.StringIO())

    def start(self) -> None:
        self._buffers = (io.StringIO(), io.StringIO())
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # a closed or odd stream must not fail the scenario
                pass
        if self.capture_fds:
            self._saved_fds = [os.dup(1), os.dup(2)]
            os.dup2(self._files[0].fileno(), 1)
            os.dup2(self._files[1].fileno(), 2)
        self._saved_streams = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = self._buffers

    def stop(self) -> tuple[str, str]:
        if self._saved_streams is not None:
            sys.stdout, sys.stderr = self._saved_streams
            self._saved_streams = None
        texts = [self._buffers[0].getvalue(), self._buffers[1].getvalue()]
        if self.capture_fds and self._saved_fds:
            for index, (file, fd) in enumerate(zip(self._files, self._saved_fds, strict=True)):
                os.dup2(fd, index + 1)
                os.close(fd)
                # most scenarios write nothing at fd level: skip the read and truncate then
                if os.lseek(file.fileno(), 0, os.SEEK_CUR):
                    file.seek(0)
                    texts[index] += file.read().decode("utf-8", "replace")
                    file.seek(0)
                    file.truncate()
            self._saved_fds = []
        return texts[0], texts[1]

    @contextlib.contextmanager
    def suspended(self) -> Iterator[None]:
        """The real terminal back for a while (``--pdb``); what was captured is kept."""
        if self._saved_streams is None:
            yield
            return
        buffers = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self._saved_streams
        if self.capture_fds and self._saved_fds:
            os.dup2(self._saved_fds[0], 1)
            os.dup2(self._saved_fds[1], 2)
        try:
            yield
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:  # a closed or odd stream must not fail the scenario
                    pass
            if self.capture_fds and self._saved_fds:
                os.dup2(self._files[0].fileno(), 1)
                os.dup2(self._files[1].fileno(), 2)
            sys.stdout, sys.stderr = buffers

    def close(self) -> None:
        for file in self._files:
            file.close()
