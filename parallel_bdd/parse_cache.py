"""The parse cache's directory and files: where they are, whether to trust them, reading,
writing and pruning.

Called by ``loader.py`` in the parent, once per run (``ParseCache.open``) and once per feature
file (``read``/``write``). What a file holds is ``loader.py``'s business (JSON, see
``cache_records.py``); this module only decides whether a file may be read at all.

Like ssh and pip, it uses no directory and reads no file that is not owned by the current
user or that group or others can write: in a shared directory (a CI cache, ``/tmp``) anyone
could plant an entry under a name computed from a public feature file. A refused
directory turns the cache off for the run and refused files are parsed again, each with
one warning naming the path. Nothing here ever fails a run.

Imports nothing from the rest of the package.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

CACHE_MAX_ENTRIES = 20_000  # parsed files kept in the cache before the oldest go
CACHE_KEEP_ENTRIES = 15_000
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def cache_dir() -> Path | None:
    """Where parsed features are kept between runs; None when caching is off."""
    if os.environ.get("PBDD_NO_CACHE"):
        return None
    configured = os.environ.get("PBDD_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pbdd" / "features"


def untrusted_reason(info: os.stat_result) -> str:
    """Why a file or directory with this status may not be used; ``""`` when it may."""
    if not hasattr(os, "geteuid"):
        return ""  # Windows: ownership and ACLs do not map to these bits
    if info.st_uid != os.geteuid():
        return f"it is owned by uid {info.st_uid}, not by you (uid {os.geteuid()})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"group or others can write it (mode {stat.S_IMODE(info.st_mode):o})"
    return ""


class ParseCache:
    """One run's view of the cache directory; ``warnings`` says what was refused."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.usable = True
        self.wrote = False
        self.warnings: list[str] = []

    @classmethod
    def open(cls) -> ParseCache | None:
        """The cache for this run (its directory checked), or None when caching is off."""
        directory = cache_dir()
        if directory is None:
            return None
        cache = cls(directory)
        with contextlib.suppress(OSError):  # missing: created private on the first write
            cache._check_directory()
        return cache

    def _check_directory(self) -> None:
        reason = untrusted_reason(os.stat(self.directory))
        if reason:
            self.usable = False
            self.warnings.append(
                f"parse cache not used: {self.directory} is not private ({reason}); "
                "run 'chmod 700' on a directory of yours, or point PBDD_CACHE_DIR elsewhere"
            )

    def read(self, key: str) -> Any:
        """The JSON document stored under ``key``; None when missing, refused or unreadable."""
        if not self.usable:
            return None
        path = self.directory / key
        try:
            descriptor = os.open(path, _READ_FLAGS)
        except OSError:
            return None
        with os.fdopen(descriptor, "rb") as stream:
            info = os.fstat(descriptor)
            reason = untrusted_reason(info) or ("" if stat.S_ISREG(info.st_mode) else "not a file")
            if reason:
                self.warnings.append(f"parse cache file ignored: {path} ({reason})")
                return None
            try:
                return json.loads(stream.read())
            except (OSError, ValueError, RecursionError):
                return None

    def write(self, key: str, document: Any) -> None:
        """Store ``document`` under ``key`` (a private file in a private directory)."""
        if not self.usable:
            return
        data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            if not self.directory.exists():
                self.directory.mkdir(parents=True, mode=0o700, exist_ok=True)
                self._check_directory()  # whoever made it first: it must still be ours
                if not self.usable:
                    return
            handle, temp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")  # mode 0600
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                os.replace(temp, self.directory / key)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
        except OSError:
            return  # a read-only home is no reason to fail a run
        self.wrote = True

    def prune(self) -> None:
        """After writing: past ``CACHE_MAX_ENTRIES`` files, delete the oldest written down to
        ``CACHE_KEEP_ENTRIES``. Every edit of a feature file adds an entry and nothing else
        ever removes one; a deleted entry that is still in use is just parsed and written
        again. Never fails a run."""
        if not (self.usable and self.wrote):
            return
        try:
            with os.scandir(self.directory) as entries:
                files = [entry for entry in entries if entry.is_file(follow_symlinks=False)]
            if len(files) <= CACHE_MAX_ENTRIES:
                return
            by_age = sorted(files, key=lambda entry: entry.stat(follow_symlinks=False).st_mtime)
            for entry in by_age[: len(files) - CACHE_KEEP_ENTRIES]:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        except OSError:
            pass
