"""Run options: the parsed command line, and defaults from ``pyproject.toml`` ``[tool.pbdd]``.

Called by ``cli.py`` (which fills a ``RunOptions`` from click's parameters) and read by
``session.py``. Flags given on the command line win over the file; a key the command does
not know is an error naming it. Imports only ``errors``, ``history``'s default path and
``queue.defaults`` (which imports no Redis).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError
from .history import DEFAULT_PATH
from .queue import defaults as queue_defaults

DEFAULT_BASE_PORT = 8181
# [tool.pbdd] keys that read better than the command's internal parameter names
KEY_ALIASES = {"history": "history_path", "random": "random_order", "tag": "tags", "name": "names"}


@dataclass(frozen=True)
class QueueOptions:
    """``--queue``: this machine joins build ``build`` of the shared queue at ``url``."""

    url: str
    build: str
    worker: str
    heartbeat_timeout: float = queue_defaults.HEARTBEAT_TIMEOUT
    init_timeout: float = queue_defaults.INIT_TIMEOUT
    queue_timeout: float = queue_defaults.QUEUE_TIMEOUT
    ttl: int = queue_defaults.TTL


@dataclass
class RunOptions:
    """One run, as the command line and pyproject.toml ask for it."""

    paths: tuple[str, ...] = ()
    processes: int = 1
    verbosity: int = 2
    tags: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    scenario_indexes: str | None = None
    failfast: bool = False
    dry_run: bool = False
    random: bool = False
    seed: int | None = None
    timeout: float = 0.0
    grace: float = 10.0
    # (format, path) for each report file to write, in ``reporting.registry.FORMATS``
    # order; the format is its option's parameter name, e.g. ("junit_xml", "out.xml")
    reports: tuple[tuple[str, str], ...] = ()
    junit_family: str = "xunit2"  # reporting.junit.FAMILIES
    history: str = DEFAULT_PATH
    no_history: bool = False
    rerun_failed: bool = False
    shard: tuple[int, int] | None = None
    base_port: int = DEFAULT_BASE_PORT
    start_method: str = "spawn"
    no_color: bool = False
    artifacts_dir: str = "pbdd-artifacts"
    max_scenarios_per_worker: int = 0
    retries: int = 0
    dist: str = "load"
    coverage: bool = False
    coverage_sources: tuple[str, ...] = ()
    coverage_html: str | None = None
    requeue_crashed: int = 0
    slow_step_warning: float = 0.0
    pdb: bool = False  # post-mortem at a failing step; serial runs only (cli refuses -p N)
    root_dir: str | None = None  # the highest directory step files are looked for in
    queue: QueueOptions | None = None  # --queue: the work comes from a build shared in Redis

    @property
    def parallel(self) -> bool:
        return self.processes > 1

    def worker_port(self, worker_id: int) -> int:
        """Worker i listens on base_port + 1 + i: never the serial run's port (base_port)."""
        return self.base_port + 1 + worker_id


def load_pyproject(path: Path, known: Iterable[str]) -> dict[str, Any]:
    """``[tool.pbdd]`` of a pyproject.toml as click's default_map (keys with underscores)."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: not valid TOML: {error}") from None
    section = data.get("tool", {}).get("pbdd", {})
    if not isinstance(section, dict):
        raise UsageError(f"{path}: [tool.pbdd] must be a table")
    known_set = set(known)
    defaults: dict[str, Any] = {}
    for key, value in section.items():
        name = key.replace("-", "_")
        name = KEY_ALIASES.get(name, name)
        if name not in known_set:
            raise UsageError(
                f"{path}: unknown key {key!r} in [tool.pbdd]",
                hint=f"Known keys: {', '.join(sorted(known_set))}.",
            )
        defaults[name] = value
    return defaults


def find_pyproject() -> Path:
    return Path(os.getcwd()) / "pyproject.toml"
