"""What ``manage.py harvest`` decided, handed to every process of its run.

Written by the ``harvest`` command into ``$PBDD_DJANGO_HARVEST`` (JSON) before pbdd starts;
read by ``prelude.py`` and ``urls.py`` in the parent and in each worker, which inherit the
environment whatever the start method. Imports nothing from Django, cli or reporting.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

ENVIRONMENT_KEY = "PBDD_DJANGO_HARVEST"
DEFAULT_PORT = 8000  # lettuce's harvest served on 8000 unless -P or LETTUCE_SERVER_PORT


@dataclass(frozen=True)
class HarvestConfig:
    port: int = DEFAULT_PORT  # the serial run's port; worker i serves on port + 1 + i
    run_server: bool = True
    test_database: bool = False
    debug: bool = False
    server_class: str = ""  # LETTUCE_TEST_SERVER when it names a class of the user's
    processes: int = 1
    parent_pid: int = 0  # the harvest command's process
    # each selected app's features directory (absolute) and its module's name, for
    # before.each_app/after.each_app (none when harvest was given PATHs)
    apps: dict[str, str] = field(default_factory=dict)

    def to_environment(self) -> None:
        os.environ[ENVIRONMENT_KEY] = json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> HarvestConfig:
        text = os.environ.get(ENVIRONMENT_KEY)
        if not text:
            return cls()
        return cls(**json.loads(text))
