"""``parallel_bdd.contrib.postgres`` end to end: a suite on a real PostgreSQL, run by pbdd.

The server is started by ``postgres_server.py`` (skipped when PostgreSQL is not installed).
Each test uses its own database name prefix, so "nothing left" is checked for its run only.
Each scenario adds a row and records its worker, its database and the row count in
``marks/``; the template has 2 rows, so every count must be 3: no other scenario's rows,
from this worker (reset) or another (own database).
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections.abc import Callable

import pytest
from postgres_server import PostgresServer, free_port, postgres_fixture  # noqa: F401
from suite_helpers import Suite, finish

psycopg = pytest.importorskip("psycopg")
from parallel_bdd.contrib._pg_dsn import address, masked, with_dbname  # noqa: E402
from parallel_bdd.contrib.postgres import (  # noqa: E402
    PostgresError,
    PostgresTemplate,
    cleanup_leftovers,
)

PASSWORD = "s3cret-pw"

TERRAIN = """
import os
from parallel_bdd import world, before, after
from parallel_bdd.contrib.postgres import use_postgres

@after.all  # registered first, so it runs before use_postgres's after.all drops the run
def note_what_after_batch_left(total):
    os.makedirs("marks", exist_ok=True)
    with open("marks/after-all", "w") as marks:
        marks.write("\\n".join(world.postgres.databases()))

def schema(conn):
    conn.execute("CREATE TABLE items (id serial PRIMARY KEY, label text NOT NULL)")
    conn.execute("INSERT INTO items (label) VALUES ('fixture 1'), ('fixture 2')")

use_postgres(schema, name_prefix=os.environ["TEST_PREFIX"])

@before.batch
def note_database():
    os.makedirs("marks", exist_ok=True)
    with open("marks/batches", "a") as marks:
        marks.write(f"{world.worker_id} {world.database_url.rsplit('/', 1)[1]}\\n")
"""

STEPS = """
import os
import time
import psycopg
from parallel_bdd import step, world

@step(r"I add an item and count (\\d+) items")
def add_and_count(step, expected):
    with psycopg.connect(world.database_url) as conn:
        conn.execute("INSERT INTO items (label) VALUES (%s)", (step.sentence,))
        (count,) = conn.execute("SELECT count(*) FROM items").fetchone()
        (name,) = conn.execute("SELECT current_database()").fetchone()
    with open("marks/scenarios", "a") as marks:
        marks.write(f"{world.worker_id} {name} {count}\\n")
    assert count == int(expected), f"{count} items"

@step(r"I wait for the test to let me go")
def wait(step):
    open(f"marks/waiting-{world.worker_id}", "w").close()
    while not os.path.exists("marks/release"):  # the test creates it after its Ctrl-C
        time.sleep(0.05)
"""


def feature(count: int, expected: int = 3) -> str:
    body = "".join(
        f"  Scenario: add {i}\n    Given I add an item and count {expected} items\n"
        for i in range(count)
    )
    return f"Feature: Items\n{body}"


@pytest.fixture
def prefix(monkeypatch) -> str:
    name = f"pbddtest{secrets.token_hex(3)}"
    monkeypatch.setenv("TEST_PREFIX", name)
    return name


@pytest.fixture
def db_suite(suite: Suite, postgres: PostgresServer, prefix: str, monkeypatch) -> Suite:
    monkeypatch.setenv("PBDD_POSTGRES_DSN", postgres.dsn(password=PASSWORD))
    suite.terrain(TERRAIN)
    suite.steps(STEPS)
    return suite


def marks(suite: Suite, name: str) -> list[list[str]]:
    path = suite.root / "marks" / name
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def assert_own_databases(suite: Suite, processes: int, prefix: str) -> None:
    batches = marks(suite, "batches")
    assert len(batches) == processes
    database_of = dict(batches)
    assert len(set(database_of.values())) == processes  # one database per worker
    assert all(name.startswith(prefix) for name in database_of.values())
    for worker, name, count in marks(suite, "scenarios"):
        assert database_of[worker] == name
        assert count == "3"  # the template's 2 rows + this scenario's 1
    # after.batch dropped each worker's copy (<prefix>_<run>_w<id>): after.all found only
    # the template (<prefix>_<run>_t)
    run_prefix = next(iter(database_of.values())).rsplit("_", 1)[0]
    assert marks(suite, "after-all") == [[f"{run_prefix}_t"]]


# -- what a user sees ------------------------------------------------------------------------
@pytest.mark.parametrize("processes", [1, 2])
def test_each_worker_gets_its_own_database_reset_per_scenario_and_dropped(
    db_suite: Suite,
    postgres: PostgresServer,
    prefix: str,
    processes: int,
) -> None:
    db_suite.feature("items.feature", feature(6))
    run = db_suite.run("features", "-p", str(processes))

    assert run.returncode == 0, run.output
    assert "6 scenarios (6 passed)" in run.stdout
    assert len(marks(db_suite, "scenarios")) == 6
    assert_own_databases(db_suite, processes, prefix)
    assert postgres.databases(prefix) == []
    assert PASSWORD not in run.output


def test_a_failing_run_leaves_no_database(
    db_suite: Suite,
    postgres: PostgresServer,
    prefix: str,
) -> None:
    db_suite.feature("items.feature", feature(2))
    db_suite.feature("wrong.feature", feature(2, expected=99).replace("Items", "Wrong"))
    run = db_suite.run("features", "-p", "2")

    assert run.returncode == 1, run.output
    assert "4 scenarios (2 failed, 2 passed)" in run.stdout
    assert_own_databases(db_suite, 2, prefix)
    assert postgres.databases(prefix) == []


@pytest.mark.parametrize("processes", [1, 2])
def test_ctrl_c_leaves_no_database_and_exits_130(
    db_suite: Suite,
    postgres: PostgresServer,
    prefix: str,
    processes: int,
) -> None:
    scenarios = "".join(
        f"  Scenario: wait {i}\n    Given I wait for the test to let me go\n" for i in range(4)
    )
    db_suite.feature("wait.feature", f"Feature: Waiting\n{scenarios}")
    pbdd = db_suite.popen("features", "-p", str(processes))
    waiting = db_suite.root / "marks"
    wait_for(lambda: len(list(waiting.glob("waiting-*"))) == processes, "every worker's scenario")
    assert len(postgres.databases(prefix)) == processes + 1  # the template and the copies
    os.killpg(pbdd.pid, signal.SIGINT)
    (db_suite.root / "marks" / "release").touch()
    run = finish(pbdd)

    assert run.returncode == 130, run.output
    assert "Traceback" not in run.output
    [[left_by_after_batch]] = marks(db_suite, "after-all")
    assert left_by_after_batch.endswith("_t")  # each after.batch dropped its worker's copy
    assert postgres.databases(prefix) == []


def test_an_unreachable_server_is_one_clear_error_with_the_password_masked(
    suite: Suite, prefix: str
) -> None:
    port = free_port()  # nothing listens there
    suite.terrain(TERRAIN)
    suite.steps(STEPS)
    suite.feature("items.feature", feature(1))
    env = suite.env() | {"PBDD_POSTGRES_DSN": f"postgresql://app:{PASSWORD}@127.0.0.1:{port}/db"}
    run = suite.run("features", env=env)

    assert run.returncode == 2, run.output
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{port}" in run.output
    assert f"postgresql://app:***@127.0.0.1:{port}/db" in run.output
    assert PASSWORD not in run.output
    assert "Traceback" not in run.output
    assert "parallel_bdd/" not in run.output


def test_no_dsn_says_which_variable_to_set(suite: Suite, prefix: str, monkeypatch) -> None:
    monkeypatch.delenv("PBDD_POSTGRES_DSN", raising=False)
    suite.terrain(TERRAIN)
    suite.steps(STEPS)
    suite.feature("items.feature", feature(1))
    run = suite.run("features")

    assert run.returncode == 2, run.output
    assert "PBDD_POSTGRES_DSN is not set" in run.output
    assert "Traceback" not in run.output


# -- the API --------------------------------------------------------------------------------
def test_reclone_reset_and_drop_all_also_drop_a_lost_worker_copy(
    postgres: PostgresServer,
    prefix: str,
) -> None:
    template = PostgresTemplate(postgres.dsn(), name_prefix=prefix, reset_strategy="reclone")
    template.create(lambda conn: conn.execute("CREATE TABLE t (n int); INSERT INTO t VALUES (1)"))
    worker = template.clone_for_worker(0)
    template.clone_for_worker(1)  # a worker killed before its after.batch
    with psycopg.connect(worker, autocommit=True) as conn:
        conn.execute("INSERT INTO t VALUES (2)")
    template.reset(worker)
    with psycopg.connect(worker) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)
    template.drop_worker(0)
    assert template.databases() == [template.template_name, template.worker_name(1)]

    assert template.drop_all() == [template.template_name, template.worker_name(1)]
    assert postgres.databases(prefix) == []


def test_truncate_reset_restores_rows_and_sequences_in_foreign_key_order(
    postgres: PostgresServer,
    prefix: str,
) -> None:
    schema = """
        CREATE TABLE parent (id serial PRIMARY KEY);
        CREATE TABLE child (id serial PRIMARY KEY, parent_id int NOT NULL REFERENCES parent);
        INSERT INTO parent DEFAULT VALUES; INSERT INTO child (parent_id) VALUES (1);
    """
    template = PostgresTemplate(postgres.dsn(), name_prefix=prefix)
    template.create(lambda conn: conn.execute(schema))
    try:
        worker = template.clone_for_worker(0)
        with psycopg.connect(worker, autocommit=True) as conn:
            conn.execute("INSERT INTO parent DEFAULT VALUES")
            conn.execute("DELETE FROM child")
        template.reset(worker)
        with psycopg.connect(worker, autocommit=True) as conn:
            assert conn.execute("SELECT id FROM parent").fetchall() == [(1,)]
            assert conn.execute("SELECT parent_id FROM child").fetchall() == [(1,)]
            new = conn.execute("INSERT INTO parent DEFAULT VALUES RETURNING id").fetchone()
            assert new == (2,)  # the sequence is where the template left it
    finally:
        template.drop_all()
    assert postgres.databases(prefix) == []


def test_a_failing_setup_drops_the_template(
    postgres: PostgresServer,
    prefix: str,
) -> None:
    template = PostgresTemplate(postgres.dsn(), name_prefix=prefix)
    with pytest.raises(psycopg.errors.SyntaxError):
        template.create(lambda conn: conn.execute("CREATE TABLE oops ("))
    assert postgres.databases(prefix) == []


def test_cleanup_leftovers_drops_old_runs_and_keeps_a_running_one(
    postgres: PostgresServer,
    prefix: str,
) -> None:
    old = PostgresTemplate(postgres.dsn(), name_prefix=prefix, run_id="a00000_0000")
    old.create()
    old.clone_for_worker(0)
    current = PostgresTemplate(postgres.dsn(), name_prefix=prefix)
    current.create()
    try:
        dropped = cleanup_leftovers(postgres.dsn(), prefix, older_than=3600)
        assert dropped == [old.template_name, old.worker_name(0)]
        assert postgres.databases(prefix) == [current.template_name]
    finally:
        current.drop_all()
        old.drop_all()


def test_a_prefix_that_is_not_a_database_name_is_refused() -> None:
    with pytest.raises(PostgresError, match="name_prefix 'My-Tests'"):
        PostgresTemplate("postgresql://localhost/postgres", name_prefix="My-Tests")


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://app:pw/x@db:5432/main", "postgresql://app:***@db:5432/main"),
        ("postgres://app@db/main?password=pw&sslmode=require", "password=***&sslmode=require"),
        ("host=db port=5433 password='p w' dbname=main", "password=*** dbname=main"),
        ("host=db password=pw", "host=db password=***"),
    ],
)
def test_a_dsn_is_shown_without_its_password(dsn: str, shown: str) -> None:
    assert shown in masked(dsn)
    assert "pw" not in masked(dsn).replace("password", "")


def test_a_worker_dsn_keeps_the_server_and_options() -> None:
    url = with_dbname("postgresql://app:pw@db:5433/postgres?sslmode=require", "w0")
    assert url == "postgresql://app:pw@db:5433/w0?sslmode=require"
    assert "dbname=w0" in with_dbname("host=db port=5433 dbname=postgres", "w0")
    assert address("postgresql://app:pw@db:5433/postgres") == "db:5433"


# -- helpers --------------------------------------------------------------------------------
def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
