"""Writing files where the user said: whole (the old content or the new, never half of it),
with the user's umask, and under names that stay in their directory.

Used in the parent by ``history.py`` (the ``.scenarios`` file) and the report writers
(``write_atomically``); in workers by ``contrib/selenium.py`` and suites' hooks, which name
artifact files after scenarios (``safe_file_name``). Imports nothing from the package.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str, limit: int = 120, empty: str = "artifact") -> str:
    """``"Refunded items: 4 > 3"`` → ``"Refunded-items-4-3"``: a name for a file in the
    directory it is joined to, and nowhere else.

    Scenario names come from feature files, which may hold anything: ``../``, an absolute
    path, a NUL, a thousand characters. Everything but ASCII letters, digits, ``.``, ``_``
    and ``-`` becomes ``-``, leading and trailing dots and dashes go (no ``..``, no hidden
    file), and at most ``limit`` characters are kept. A name that lost characters to the
    limit, or has none left (``empty`` then), ends in a hash of the whole name, so two long
    or non-Latin names do not overwrite each other's files.
    """
    limit = max(limit, 16)
    cleaned = _UNSAFE.sub("-", name).strip("-.")
    if cleaned and len(cleaned) <= limit:
        return cleaned
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    head = cleaned[: limit - len(digest) - 1].rstrip("-.") or empty
    return f"{head}-{digest}"


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
