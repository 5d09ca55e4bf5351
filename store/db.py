"""SQLite storage for the store: the schema, connections, and row-level reads and writes.

Used by ``service.py`` (the business rules), the Flask app (one connection per request)
and ``factories.py`` (test data). Every connection is short-lived and the file is in WAL
mode, so a test process can write Given-step data while the app's server thread serves a
browser from the same file.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from .models import Customer, Order, OrderLine, Product, Return

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    colour TEXT NOT NULL DEFAULT '',
    size TEXT NOT NULL DEFAULT '',
    price_pence INTEGER NOT NULL CHECK (price_pence >= 0),
    stock INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0)
);
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    placed_at TEXT NOT NULL,
    paid_pence INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS order_lines (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_pence INTEGER NOT NULL CHECK (unit_price_pence >= 0),
    exchanged_from_line_id INTEGER REFERENCES order_lines(id)
);
CREATE TABLE IF NOT EXISTS returns (
    id INTEGER PRIMARY KEY,
    order_line_id INTEGER NOT NULL REFERENCES order_lines(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    kind TEXT NOT NULL CHECK (kind IN ('refund', 'exchange')),
    condition TEXT NOT NULL CHECK (condition IN ('resellable', 'damaged')),
    restocked INTEGER NOT NULL,
    refund_pence INTEGER NOT NULL DEFAULT 0,
    charge_pence INTEGER NOT NULL DEFAULT 0,
    replacement_product_id INTEGER REFERENCES products(id),
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refunds (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    amount_pence INTEGER NOT NULL CHECK (amount_pence > 0),
    reason TEXT NOT NULL,
    return_id INTEGER REFERENCES returns(id),
    created_at TEXT NOT NULL
);
"""

# Children before parents, so deleting in this order never trips a foreign key.
TABLES = ("refunds", "returns", "order_lines", "orders", "customers", "products")


def open_database(target: str | os.PathLike[str]) -> Database:
    """An SQLite file, or a PostgreSQL database when ``target`` is a ``postgresql://`` URL
    or a libpq ``key=value`` string."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")) or re.match(r"\s*\w+\s*=", text):
        from .pg_db import PostgresDatabase  # psycopg only for those who use it

        return PostgresDatabase(text)
    return Database(target)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Database:
    """One SQLite file. Cheap to create; opens a connection per ``connect()``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)

    def __repr__(self) -> str:
        return f"Database({self.path!r})"

    def create(self) -> Database:
        """Create the tables if they do not exist yet."""
        with self.connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
        return self

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        # isolation_level=None: no implicit transactions; transaction() opens them explicitly.
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken up front so two writers queue instead of deadlocking."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def reset(self) -> None:
        """Delete every row (ids start again at 1)."""
        with self.transaction() as conn:
            for table in TABLES:
                conn.execute(f"DELETE FROM {table}")  # fixed names, no user input

    # -- products ---------------------------------------------------------------------------

    def insert_product(self, **fields: object) -> Product:
        product = Product(**fields)  # type: ignore[arg-type]
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO products (sku, name, colour, size, price_pence, stock)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    product.sku,
                    product.name,
                    product.colour,
                    product.size,
                    product.price_pence,
                    product.stock,
                ),
            )
        product.id = cursor.lastrowid
        return product

    def product(self, sku: str) -> Product | None:
        with self.connect() as conn:
            return product_by_sku(conn, sku)

    def products(self) -> list[Product]:
        with self.connect() as conn:
            return all_products(conn)

    def set_stock(self, sku: str, stock: int) -> None:
        with self.transaction() as conn:
            updated = conn.execute("UPDATE products SET stock = ? WHERE sku = ?", (stock, sku))
            if updated.rowcount != 1:
                raise LookupError(f"no product with SKU {sku!r}")

    # -- customers --------------------------------------------------------------------------

    def insert_customer(self, **fields: object) -> Customer:
        customer = Customer(**fields)  # type: ignore[arg-type]
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO customers (name, email) VALUES (?, ?)",
                (customer.name, customer.email),
            )
        customer.id = cursor.lastrowid
        return customer

    def customer(self, customer_id: int) -> Customer | None:
        with self.connect() as conn:
            return customer_by_id(conn, customer_id)

    # -- orders -----------------------------------------------------------------------------

    def insert_order(
        self, customer_id: int, lines: Iterable[tuple[int, int, int]], placed_at: str = ""
    ) -> Order:
        """Record a past order as it was: ``lines`` are (product id, quantity, unit price).

        Stock is left alone: this is history (test data, an import), not a sale. A sale goes
        through ``service.place_order``, which checks and takes stock.
        """
        with self.transaction() as conn:
            order_id = insert_order_rows(conn, customer_id, list(lines), placed_at or now())
            return order_by_id(conn, order_id)  # type: ignore[return-value]

    def order(self, order_id: int) -> Order | None:
        with self.connect() as conn:
            return order_by_id(conn, order_id)


# -- reads and writes on an open connection (used inside service transactions) -------------


def product_from_row(row: sqlite3.Row) -> Product:
    return Product(
        id=row["id"],
        sku=row["sku"],
        name=row["name"],
        colour=row["colour"],
        size=row["size"],
        price_pence=row["price_pence"],
        stock=row["stock"],
    )


def product_by_sku(conn: sqlite3.Connection, sku: str) -> Product | None:
    row = conn.execute("SELECT * FROM products WHERE sku = ?", (sku,)).fetchone()
    return product_from_row(row) if row else None


def product_by_id(conn: sqlite3.Connection, product_id: int) -> Product | None:
    row = conn.execute("SELECT * FROM products WHERE id = ?", (product_id,)).fetchone()
    return product_from_row(row) if row else None


def all_products(conn: sqlite3.Connection) -> list[Product]:
    rows = conn.execute("SELECT * FROM products ORDER BY name, colour, size, sku").fetchall()
    return [product_from_row(row) for row in rows]


def customer_by_id(conn: sqlite3.Connection, customer_id: int) -> Customer | None:
    row = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
    return Customer(id=row["id"], name=row["name"], email=row["email"]) if row else None


def customer_by_email(conn: sqlite3.Connection, email: str) -> Customer | None:
    row = conn.execute("SELECT * FROM customers WHERE email = ?", (email,)).fetchone()
    return Customer(id=row["id"], name=row["name"], email=row["email"]) if row else None


def all_customers(conn: sqlite3.Connection) -> list[Customer]:
    rows = conn.execute("SELECT * FROM customers ORDER BY name, id").fetchall()
    return [Customer(id=row["id"], name=row["name"], email=row["email"]) for row in rows]


def insert_order_rows(
    conn: sqlite3.Connection,
    customer_id: int,
    lines: list[tuple[int, int, int]],
    placed_at: str,
) -> int:
    paid = sum(quantity * price for _, quantity, price in lines)
    cursor = conn.execute(
        "INSERT INTO orders (customer_id, placed_at, paid_pence) VALUES (?, ?, ?)",
        (customer_id, placed_at, paid),
    )
    order_id = cursor.lastrowid
    for product_id, quantity, price in lines:
        conn.execute(
            "INSERT INTO order_lines (order_id, product_id, quantity, unit_price_pence)"
            " VALUES (?, ?, ?, ?)",
            (order_id, product_id, quantity, price),
        )
    return order_id  # type: ignore[return-value]


def order_by_id(conn: sqlite3.Connection, order_id: int) -> Order | None:
    row = conn.execute(
        "SELECT o.*, (SELECT COALESCE(SUM(amount_pence), 0) FROM refunds r"
        " WHERE r.order_id = o.id) AS refunded FROM orders o WHERE o.id = ?",
        (order_id,),
    ).fetchone()
    if row is None:
        return None
    line_rows = conn.execute(
        "SELECT l.*, p.sku, p.name AS product_name, p.colour, p.size,"
        " (SELECT COALESCE(SUM(quantity), 0) FROM returns r WHERE r.order_line_id = l.id)"
        " AS returned"
        " FROM order_lines l JOIN products p ON p.id = l.product_id"
        " WHERE l.order_id = ? ORDER BY l.id",
        (order_id,),
    ).fetchall()
    lines = [
        OrderLine(
            id=line["id"],
            order_id=order_id,
            product_id=line["product_id"],
            sku=line["sku"],
            product_name=" ".join(p for p in (line["colour"], line["product_name"]) if p)
            + (f" ({line['size']})" if line["size"] else ""),
            quantity=line["quantity"],
            unit_price_pence=line["unit_price_pence"],
            returned=line["returned"],
            exchanged_from_line_id=line["exchanged_from_line_id"],
        )
        for line in line_rows
    ]
    return Order(
        id=row["id"],
        customer_id=row["customer_id"],
        placed_at=row["placed_at"],
        paid_pence=row["paid_pence"],
        refunded_pence=row["refunded"],
        lines=lines,
    )


def orders_of_customer(conn: sqlite3.Connection, customer_id: int) -> list[Order]:
    ids = conn.execute(
        "SELECT id FROM orders WHERE customer_id = ? ORDER BY id", (customer_id,)
    ).fetchall()
    return [order_by_id(conn, row["id"]) for row in ids]  # type: ignore[misc]


def returns_of_order(conn: sqlite3.Connection, order_id: int) -> list[Return]:
    rows = conn.execute(
        "SELECT r.*, p.sku AS replacement_sku FROM returns r"
        " JOIN order_lines l ON l.id = r.order_line_id"
        " LEFT JOIN products p ON p.id = r.replacement_product_id"
        " WHERE l.order_id = ? ORDER BY r.id",
        (order_id,),
    ).fetchall()
    return [return_from_row(row) for row in rows]


def return_from_row(row: sqlite3.Row) -> Return:
    return Return(
        id=row["id"],
        order_line_id=row["order_line_id"],
        quantity=row["quantity"],
        kind=row["kind"],
        condition=row["condition"],
        restocked=bool(row["restocked"]),
        refund_pence=row["refund_pence"],
        charge_pence=row["charge_pence"],
        replacement_sku=row["replacement_sku"],
        created_at=row["created_at"],
    )
