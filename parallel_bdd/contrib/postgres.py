"""A PostgreSQL database per worker for suites without Django (Flask, SQLAlchemy, plain SQL).

Called from a suite's ``terrain.py``; one call registers every hook::

    from parallel_bdd import world
    from parallel_bdd.contrib.postgres import use_postgres

    def schema(conn):                      # a psycopg connection to the template database
        conn.execute("CREATE TABLE items (id serial PRIMARY KEY, label text)")
        conn.execute("INSERT INTO items (label) VALUES ('fixture')")

    use_postgres(schema)                   # the server: $PBDD_POSTGRES_DSN
    # steps use world.database_url: this worker's own database

What it does, and where (all names start ``<prefix>_<run id>_``, so a run's databases are
found and dropped by name):

* ``before.all`` (parent, once): ``CREATE DATABASE <prefix>_<run>_t`` and ``setup(conn)``
  on it; the connection is closed before any clone (a template must have no connections).
* ``before.batch`` (each worker): ``CREATE DATABASE <prefix>_<run>_w<worker_id> TEMPLATE
  <prefix>_<run>_t``; its DSN goes on ``world.database_url``.
* ``before.each_scenario``: the worker's database is put back to the template's rows
  (``reset="truncate"``: TRUNCATE + COPY of the rows taken from the template; ``"reclone"``:
  drop and clone again; ``"none"``: scenarios see each other's rows).
* ``after.batch`` drops the worker's database; ``after.all`` drops every database of the run,
  also those of a worker that was killed; an ``atexit`` handler in the parent does the same
  when ``after.all`` never ran. ``cleanup_leftovers()`` sweeps older runs (a killed parent).

Needs psycopg 3 (``pip install 'parallel-bdd[postgres]'``) and PostgreSQL 13 or newer
(``DROP DATABASE ... WITH (FORCE)``). A DSN is never printed with its password. Imports
nothing from the runner but the hook decorators and ``world``.
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

try:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "parallel_bdd.contrib.postgres needs psycopg 3: pip install 'parallel-bdd[postgres]'"
    ) from error

from ..errors import PbddError
from ..hooks import after, before
from ..world import world
from . import _pg_snapshot
from ._pg_dsn import address, masked, password_of, with_dbname

Setup = Callable[[psycopg.Connection], None]
RESETS = ("truncate", "reclone", "none")
CLONE_STRATEGIES = (None, "wal_log", "file_copy")  # STRATEGY of CREATE DATABASE (PG 15+)
_PREFIX = re.compile(r"[a-z][a-z0-9_]{0,39}")  # leaves room for the run id: 63 bytes in all
_RUN_ID = re.compile(r"([0-9a-z]{6,8})_[0-9a-f]{4}")
CONNECT_TIMEOUT = 10  # seconds; an unreachable host fails quickly instead of hanging
LOCK_TIMEOUT = "10s"  # a reset waiting on a transaction a step left open fails, not hangs


class PostgresError(PbddError):
    """A database could not be created, reset or dropped; the message says which and why."""


class PostgresUnreachable(PostgresError):
    """No connection to the server: wrong address, server down, or the login refused."""


def new_run_id() -> str:
    """Seconds since the epoch in base 36, then 4 random hex digits: ``t6k1zq_9f3c``."""
    seconds, digits = int(time.time()), ""
    while seconds:
        seconds, digit = divmod(seconds, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
    return f"{digits}_{secrets.token_hex(2)}"


def _run_started(run_id: str) -> float | None:
    match = _RUN_ID.fullmatch(run_id)
    return float(int(match.group(1), 36)) if match else None


def _one_line(error: BaseException, dsn: str) -> str:
    text = " ".join(str(error).split())
    password = password_of(dsn)
    return text.replace(password, "***") if password else text


def connect(dsn: str, **options: Any) -> psycopg.Connection:
    """``psycopg.connect`` whose failure is one clear ``PostgresUnreachable``."""
    try:
        return psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT, **options)
    except psycopg.Error as error:
        raise PostgresUnreachable(
            f"cannot connect to PostgreSQL at {address(dsn)} ({masked(dsn)}): "
            f"{_one_line(error, dsn)}",
            hint="start the server, or give a DSN that psql accepts (PBDD_POSTGRES_DSN by "
            "default): a user allowed to CREATE DATABASE, connected to an existing database "
            "such as 'postgres'",
        ) from None


@dataclass
class PostgresTemplate:
    """One run's template database and its per-worker clones, on the server of ``dsn``.

    ``dsn`` connects to an existing database (``postgres``) as a user allowed to create
    databases. The object is plain data, so ``before.all`` can leave it on ``world`` and
    every worker gets a copy.
    """

    dsn: str
    name_prefix: str = "pbdd"
    reset_strategy: str = "truncate"
    clone_strategy: str | None = None
    run_id: str = field(default_factory=new_run_id)
    snapshot: _pg_snapshot.Snapshot | None = None  # the template's rows, taken by create()

    def __post_init__(self) -> None:
        if not _PREFIX.fullmatch(self.name_prefix):
            raise PostgresError(
                f"name_prefix {self.name_prefix!r} is not usable in a database name",
                hint="use 1-40 lower-case letters, digits and '_', starting with a letter",
            )
        if self.reset_strategy not in RESETS:
            raise PostgresError(f"reset {self.reset_strategy!r}: choose one of {RESETS}")
        if self.clone_strategy not in CLONE_STRATEGIES:
            raise PostgresError(
                f"clone_strategy {self.clone_strategy!r}: one of {CLONE_STRATEGIES}"
            )

    # -- names -------------------------------------------------------------------------
    @property
    def run_prefix(self) -> str:
        return f"{self.name_prefix}_{self.run_id}_"

    @property
    def template_name(self) -> str:
        return f"{self.run_prefix}t"

    def worker_name(self, worker_id: int) -> str:
        return f"{self.run_prefix}w{int(worker_id)}"

    def dsn_for(self, database: str) -> str:
        """The DSN of one of this run's databases (a URL when ``dsn`` is one)."""
        return with_dbname(self.dsn, database)

    # -- the life of a run ---------------------------------------------------------------
    def create(self, setup: Setup | None = None) -> str:
        """Make the template: ``setup(conn)`` on it, committed; returns its DSN.

        The template is dropped again if ``setup`` raises. Registers an ``atexit`` drop of
        the whole run, in case ``after.all`` never runs (a later ``before.all`` hook fails).
        """
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.template_name)))
        atexit.register(self._drop_at_exit)
        try:
            with connect(self.dsn_for(self.template_name)) as conn:
                if setup is not None:
                    setup(conn)
                conn.commit()
                if self.reset_strategy == "truncate":
                    self.snapshot = _pg_snapshot.take(conn)
            # a stray connection to the template would make every clone fail
            self._admin(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(
                    sql.Identifier(self.template_name)
                )
            )
        except BaseException:
            self.drop_all()
            raise
        return self.dsn_for(self.template_name)

    def clone_for_worker(self, worker_id: int) -> str:
        """A fresh copy of the template for this worker; returns its DSN.

        A copy left by a worker that was killed and replaced is dropped first.
        """
        return self._clone(self.worker_name(worker_id))

    def reset(self, dsn: str) -> None:
        """Put a worker's database back to the template's rows (see ``reset_strategy``)."""
        if self.reset_strategy == "truncate":
            assert self.snapshot is not None, "create() takes the snapshot"
            snapshot = self.snapshot
            _checked(lambda: _pg_snapshot.restore(_reset_connection(dsn), snapshot), dsn)
        elif self.reset_strategy == "reclone":
            self._clone(self._own_database(dsn))

    def drop_worker(self, worker_id: int) -> None:
        """Drop this worker's copy (its open connections are closed by the server)."""
        self._drop(self.worker_name(worker_id))

    def drop_all(self) -> list[str]:
        """Drop every database of this run (template and all copies); returns their names."""
        atexit.unregister(self._drop_at_exit)
        names = self.databases()
        for name in names:
            self._drop(name)
        return names

    def databases(self) -> list[str]:
        """The names of this run's databases that exist now."""
        return _databases_named(self.dsn, self.run_prefix)

    # -- helpers -----------------------------------------------------------------------------
    def _clone(self, name: str) -> str:
        self._drop(name)
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(self.template_name)
        )
        if self.clone_strategy:
            statement += sql.SQL(" STRATEGY {}").format(sql.SQL(self.clone_strategy))
        self._admin(statement)
        return self.dsn_for(name)

    def _drop(self, name: str) -> None:
        _close_reset_connection(self.dsn_for(name))
        _drop_database(self.dsn, name)

    def _own_database(self, dsn: str) -> str:
        name = str(conninfo_to_dict(dsn).get("dbname") or "")
        if not name.startswith(self.run_prefix) or name == self.template_name:
            raise PostgresError(f"reset: {masked(dsn)} is not a worker database of this run")
        return name

    def _admin(self, statement: sql.Composable) -> None:
        _admin(self.dsn, statement)

    def _drop_at_exit(self) -> None:
        try:
            self.drop_all()
        except PbddError as error:
            print(f"Warning: {error.format_message()}", file=sys.stderr)


# One connection per worker database for resets, kept open: a new connection pays for
# loading the tables' catalog entries again, several times what the reset itself costs.
_reset_connections: dict[str, psycopg.Connection] = {}


def _reset_connection(dsn: str) -> psycopg.Connection:
    conn = _reset_connections.get(dsn)
    if conn is None or conn.closed or conn.broken:
        conn = connect(dsn, autocommit=True, options=f"-c lock_timeout={LOCK_TIMEOUT}")
        _reset_connections[dsn] = conn
    return conn


def _close_reset_connection(dsn: str) -> None:
    conn = _reset_connections.pop(dsn, None)
    if conn is not None:
        conn.close()


def _admin(dsn: str, statement: sql.Composable) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    with connect(dsn, autocommit=True) as conn:
        _checked(lambda: conn.execute(statement), dsn)


def _drop_database(dsn: str, name: str) -> None:
    _admin(dsn, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _checked(action: Callable[[], object], dsn: str) -> None:
    """Run ``action``; a server error becomes one ``PostgresError`` line, password masked."""
    try:
        action()
    except psycopg.Error as error:
        raise PostgresError(
            f"PostgreSQL at {address(dsn)} refused: {_one_line(error, dsn)}"
        ) from None


def _databases_named(dsn: str, prefix: str) -> list[str]:
    with connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) ORDER BY 1", (prefix,)
        ).fetchall()
    return [name for (name,) in rows]


def cleanup_leftovers(dsn: str, name_prefix: str = "pbdd", older_than: float = 3600.0) -> list[str]:
    """Drop the databases of runs that started ``older_than`` seconds ago or more.

    For what a killed run left (a parent killed with SIGKILL runs no hook). A run still
    going on the same server is younger than ``older_than`` and kept. Returns the names.
    """
    pattern = re.compile(rf"{re.escape(name_prefix)}_([0-9a-z]{{6,8}}_[0-9a-f]{{4}})_(t|w\d+)")
    now, dropped = time.time(), []
    for name in _databases_named(dsn, f"{name_prefix}_"):
        match = pattern.fullmatch(name)
        started = _run_started(match.group(1)) if match else None
        if started is not None and now - started >= older_than:
            _drop_database(dsn, name)
            dropped.append(name)
    return dropped


def dsn_from_environment(variable: str = "PBDD_POSTGRES_DSN") -> str:
    """The DSN in ``variable``; one clear error when it is not set."""
    dsn = os.environ.get(variable, "").strip()
    if not dsn:
        raise PostgresError(
            f"{variable} is not set",
            hint=f"set it to the server to use, e.g. {variable}=postgresql://user@127.0.0.1:5432/postgres",
        )
    return dsn


def use_postgres(
    setup: Setup | None = None,
    *,
    dsn: str | None = None,
    dsn_env: str = "PBDD_POSTGRES_DSN",
    name_prefix: str = "pbdd",
    reset: str = "truncate",
    clone_strategy: str | None = None,
    sweep_older_than: float | None = None,
) -> None:
    """Register the hooks that give each worker its own database (see the module's text).

    ``dsn`` (else ``$dsn_env``) is read in ``before.all``, so importing the terrain needs no
    server. ``sweep_older_than``: first drop what runs older than that many seconds left.
    """
    if reset not in RESETS:
        raise PostgresError(f"reset {reset!r}: choose one of {RESETS}")
    _register_hooks(setup, dsn, dsn_env, name_prefix, reset, clone_strategy, sweep_older_than)


_fresh: set[str] = set()  # worker databases cloned and not yet used by a scenario


def _register_hooks(
    setup: Setup | None,
    dsn: str | None,
    dsn_env: str,
    name_prefix: str,
    reset: str,
    clone_strategy: str | None,
    sweep_older_than: float | None,
) -> None:
    @before.all
    def _make_template() -> None:
        server = dsn or dsn_from_environment(dsn_env)
        if sweep_older_than is not None:
            cleanup_leftovers(server, name_prefix, sweep_older_than)
        template = PostgresTemplate(server, name_prefix, reset, clone_strategy)
        template.create(setup)
        world.postgres = template

    @before.batch
    def _clone_for_this_worker() -> None:
        world.database_url = world.postgres.clone_for_worker(world.worker_id)
        _fresh.add(world.database_url)

    @before.each_scenario
    def _reset_this_worker(*_: object) -> None:
        if reset != "none" and world.database_url not in _fresh:
            world.postgres.reset(world.database_url)
        _fresh.discard(world.database_url)

    @after.batch
    def _drop_this_worker(*_: object) -> None:
        if getattr(world, "database_url", None):
            world.postgres.drop_worker(world.worker_id)

    @after.all
    def _drop_the_run(*_: object) -> None:
        if getattr(world, "postgres", None) is not None:
            world.postgres.drop_all()
