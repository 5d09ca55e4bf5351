"""Run a command with ``$PBDD_POSTGRES_DSN`` naming a PostgreSQL server (``make bdd-postgres``).

    python examples/with_postgres.py -- python -m parallel_bdd features -p 4

With ``PBDD_POSTGRES_DSN`` already set, the command runs on that server. Without it, a
throwaway cluster is started the way the tests start theirs (``tests/postgres_server.py``:
``initdb`` in a temporary directory, a free 127.0.0.1 port, the socket in that directory,
as the ``postgres`` user when run as root), and stopped and removed when the command ends,
however it ended. The command's exit status is this script's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"


def run(command: list[str], env: dict[str, str]) -> int:
    process = subprocess.Popen(command, env=env)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:  # the command got the same Ctrl-C and ends by itself
            continue


def main(argv: list[str]) -> int:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    if os.environ.get("PBDD_POSTGRES_DSN"):
        return run(command, dict(os.environ))
    sys.path.insert(0, str(TESTS))
    import postgres_server as pg
    from suite_helpers import free_port

    reason = pg._skip_reason()
    if reason:
        print(f"No PostgreSQL to start ({reason}); or set PBDD_POSTGRES_DSN", file=sys.stderr)
        return 2
    bindir = pg.find_bindir()
    assert bindir is not None
    server = pg.PostgresServer(bindir, pg._make_directory(), free_port())
    try:
        server.start()
        print(f"PostgreSQL {bindir.parent.name} on {server.host}:{server.port} for this run")
        return run(command, dict(os.environ, PBDD_POSTGRES_DSN=server.dsn()))
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
