"""The template database's rows and sequence positions, kept to put a worker database back.

Called by ``contrib.postgres``: ``take()`` once on the template (in ``before.all``), then
``restore()`` on a worker's database before each scenario, so a scenario starts from the
template's rows without cloning again. A snapshot is plain data (names and ``COPY`` bytes):
it travels to the workers with ``world``. Imports psycopg only.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass

import psycopg
from psycopg import sql

_TABLES = """
SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
ORDER BY n.nspname, c.relname
"""
_COLUMNS = """
SELECT attname FROM pg_attribute
WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
ORDER BY attnum
"""
_FOREIGN_KEYS = "SELECT conrelid, confrelid FROM pg_constraint WHERE contype = 'f'"
_SEQUENCES = """
SELECT schemaname, sequencename, coalesce(last_value, start_value), last_value IS NOT NULL
FROM pg_sequences ORDER BY 1, 2
"""


@dataclass(frozen=True)
class TableRows:
    schema: str
    name: str
    columns: tuple[str, ...]
    data: bytes  # COPY ... (FORMAT BINARY); empty when the table had no rows

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)


@dataclass(frozen=True)
class Snapshot:
    tables: tuple[TableRows, ...]  # referenced tables before those that reference them
    sequences: tuple[tuple[str, str, int, bool], ...]  # schema, name, value, is_called


def take(conn: psycopg.Connection) -> Snapshot:
    """Every table's rows (in foreign-key order) and every sequence's position."""
    tables = conn.execute(_TABLES).fetchall()
    order = _referenced_first([oid for oid, _, _ in tables], conn.execute(_FOREIGN_KEYS).fetchall())
    by_oid = {oid: (schema, name) for oid, schema, name in tables}
    rows = tuple(_table_rows(conn, oid, *by_oid[oid]) for oid in order)
    sequences = tuple(
        (schema, name, int(value), bool(called))
        for schema, name, value, called in conn.execute(_SEQUENCES).fetchall()
    )
    return Snapshot(rows, sequences)


def _referenced_first(oids: list[int], references: list[tuple[int, int]]) -> list[int]:
    graph: dict[int, set[int]] = {oid: set() for oid in oids}
    for child, parent in references:
        if child in graph and parent in graph and child != parent:
            graph[child].add(parent)
    try:
        return list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError:  # tables that reference each other: restore may fail
        return oids


def _table_rows(conn: psycopg.Connection, oid: int, schema: str, name: str) -> TableRows:
    columns = tuple(column for (column,) in conn.execute(_COLUMNS, (oid,)).fetchall())
    table = TableRows(schema, name, columns, b"")
    has_rows = conn.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(table.identifier))
    if not has_rows.fetchone()[0] or not columns:  # type: ignore[index]
        return table
    query = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT (FORMAT BINARY)").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), table.identifier
    )
    data = bytearray()
    with conn.cursor().copy(query) as copy:
        for block in copy:
            data += block
    return TableRows(schema, name, columns, bytes(data))


def restore(conn: psycopg.Connection, snapshot: Snapshot) -> None:
    """Empty the snapshot's tables and put its rows and sequence positions back, atomically."""
    with conn.transaction(), conn.cursor() as cursor:
        if snapshot.tables:
            names = sql.SQL(", ").join(table.identifier for table in snapshot.tables)
            cursor.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(names))
        for table in snapshot.tables:
            if table.data:
                columns = sql.SQL(", ").join(map(sql.Identifier, table.columns))
                query = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)")
                with cursor.copy(query.format(table.identifier, columns)) as copy:
                    copy.write(table.data)
        for schema, name, value, called in snapshot.sequences:
            qualified = sql.Identifier(schema, name).as_string(conn)
            cursor.execute("SELECT setval(%s::regclass, %s, %s)", (qualified, value, called))
