"""How long ``contrib.postgres`` takes to clone a worker database and to reset one.

Run by hand against a server you may create databases on::

    PBDD_POSTGRES_DSN=postgresql://postgres@127.0.0.1:5432/postgres python3 bench/postgres_reset.py

The schema is a small shop (3 tables, foreign keys, 60 fixture rows), like a Flask app's.
Prints the median of ``--repeat`` clones (each ``CREATE DATABASE ... TEMPLATE``, default
strategy and ``STRATEGY FILE_COPY``) and resets (TRUNCATE + COPY back; drop and clone again).
Drops everything it made.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from parallel_bdd.contrib.postgres import PostgresTemplate, dsn_from_environment

SCHEMA = """
CREATE TABLE customer (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE product (id serial PRIMARY KEY, title text NOT NULL, stock int NOT NULL);
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customer,
                     product_id int REFERENCES product, quantity int NOT NULL);
INSERT INTO customer (name) SELECT 'customer ' || i FROM generate_series(1, 20) i;
INSERT INTO product (title, stock) SELECT 'product ' || i, i FROM generate_series(1, 20) i;
INSERT INTO orders (customer_id, product_id, quantity)
    SELECT i, i, 1 FROM generate_series(1, 20) i;
"""


def setup(conn) -> None:  # noqa: ANN001 - a psycopg connection
    conn.execute(SCHEMA)


def median_ms(action: Callable[[], object], repeat: int, before: Callable[[], object]) -> float:
    """The median time of ``action``, each run after an untimed ``before``."""
    times = []
    for _ in range(repeat):
        before()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def dirty(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO customer (name) VALUES ('scenario')")


def measure(repeat: int) -> None:
    dsn = dsn_from_environment()
    for strategy in (None, "file_copy"):
        template = PostgresTemplate(dsn, name_prefix="pbddbench", clone_strategy=strategy)
        try:
            template.create(setup)
            clone = median_ms(
                lambda t=template: t.clone_for_worker(0),
                repeat,
                before=lambda t=template: t.drop_worker(0),
            )
            print(f"clone ({strategy or 'default strategy'}): {clone:.0f} ms")
        finally:
            template.drop_all()
    for reset in ("truncate", "reclone"):
        template = PostgresTemplate(dsn, name_prefix="pbddbench", reset_strategy=reset)
        try:
            template.create(setup)
            worker = template.clone_for_worker(0)
            took = median_ms(
                lambda t=template, w=worker: t.reset(w), repeat, before=lambda w=worker: dirty(w)
            )
            print(f"reset ({reset}): {took:.0f} ms")
        finally:
            template.drop_all()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    measure(parser.parse_args().repeat)
