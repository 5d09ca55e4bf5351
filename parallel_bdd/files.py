"""Writing files so that a reader sees the old content or the new, never half of it.

Used in the parent by ``history.py`` (the ``.scenarios`` file) and the report writers.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], data: bytes, *, keep_mode: bool = False) -> None:
    """Write ``data`` through a sibling temp file, fsync it, then ``os.replace`` it in.

    ``os.open`` with 0o666 keeps the user's umask (``tempfile`` would give 0o600);
    ``keep_mode`` keeps an existing file's own mode. A symlinked target keeps its link.
    """
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if keep_mode:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(temp, target.stat().st_mode & 0o7777)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
