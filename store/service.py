"""The store's rules: selling, returns for refund, exchanges, partial refunds, the report.

Called by the HTML pages and the JSON API in ``app.py``/``api.py``; raises ``StoreError``
(which knows its HTTP status) when a rule says no. Every change runs in one SQLite
transaction, so a refused request changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from typing import Any

from . import db as rows
from .db import Database, now
from .models import Order, Product, Return, format_money

KINDS = ("refund", "exchange")
CONDITIONS = ("resellable", "damaged")


class StoreError(Exception):
    """A request the store refuses; ``status`` is the HTTP status the API answers with."""

    def __init__(self, message: str, *, status: int = 422, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


def not_found(what: str) -> StoreError:
    return StoreError(f"{what} not found", status=404, code="not_found")


def positive_int(value: object, name: str) -> int:
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise StoreError(f"{name} must be a whole number, not {value!r}") from None
    if number < 1:
        raise StoreError(f"{name} must be at least 1, not {number}")
    return number


def out_of_stock(product: Product, wanted: int) -> StoreError:
    if product.stock <= 0:
        message = f"{product.display_name} is out of stock"
    else:
        message = f"only {product.stock} {product.display_name} left, {wanted} wanted"
    return StoreError(message, status=409, code="out_of_stock")


# -- selling ------------------------------------------------------------------------------


def place_order(database: Database, customer_id: int, items: list[tuple[str, object]]) -> Order:
    """Sell ``items`` (SKU, quantity) to a customer: all of them, or nothing if short."""
    if not items:
        raise StoreError("an order needs at least one line")
    wanted: Counter[str] = Counter()
    for sku, quantity in items:
        wanted[sku] += positive_int(quantity, "quantity")
    with database.transaction() as conn:
        if rows.customer_by_id(conn, customer_id) is None:
            raise not_found(f"customer {customer_id}")
        products = {}
        for sku, quantity in wanted.items():
            product = rows.product_by_sku(conn, sku)
            if product is None:
                raise not_found(f"product {sku}")
            if product.stock < quantity:
                raise out_of_stock(product, quantity)
            products[sku] = product
        for sku, quantity in wanted.items():
            take_stock(conn, products[sku].id, quantity)  # type: ignore[arg-type]
        order_id = rows.insert_order_rows(
            conn,
            customer_id,
            [
                (products[sku].id, quantity, products[sku].price_pence)
                for sku, quantity in wanted.items()
            ],  # type: ignore[misc]
            now(),
        )
        return rows.order_by_id(conn, order_id)  # type: ignore[return-value]


def take_stock(conn: sqlite3.Connection, product_id: int, quantity: int) -> None:
    conn.execute("UPDATE products SET stock = stock - ? WHERE id = ?", (quantity, product_id))


def put_back_in_stock(conn: sqlite3.Connection, product_id: int, quantity: int) -> None:
    conn.execute("UPDATE products SET stock = stock + ? WHERE id = ?", (quantity, product_id))


# -- returns and exchanges ----------------------------------------------------------------


@dataclass
class ReturnOutcome:
    record: Return
    order: Order
    product: Product  # the returned product, stock as it is now
    replacement: Product | None = None

    def summary(self) -> str:
        """One sentence for the person at the till."""
        item = f"{self.record.quantity} × {self.product.display_name}"
        if self.record.kind == "exchange" and self.replacement is not None:
            text = f"Exchanged {item} for {self.replacement.display_name}"
        else:
            text = f"Returned {item}"
        money = []
        if self.record.refund_pence:
            money.append(f"refunded {format_money(self.record.refund_pence)}")
        if self.record.charge_pence:
            money.append(f"customer pays {format_money(self.record.charge_pence)}")
        if money:
            text += ": " + ", ".join(money)
        if not self.record.restocked:
            text += " (damaged: not put back in stock)"
        return text + "."

    def to_json(self) -> dict[str, Any]:
        return {
            "return": self.record.to_json(),
            "order": self.order.to_json(),
            "product": self.product.to_json(),
            "replacement": self.replacement.to_json() if self.replacement else None,
            "summary": self.summary(),
        }


def record_return(
    database: Database,
    order_id: int,
    sku: str,
    *,
    quantity: object = 1,
    kind: str = "refund",
    condition: str = "resellable",
    replacement_sku: str | None = None,
) -> ReturnOutcome:
    """Take back ``quantity`` of ``sku`` from an order, for a refund or an exchange.

    Resellable items go back in stock; damaged ones do not. A refund never pays back more
    than the order has left to refund (partial refunds count). An exchange takes the
    replacement from stock (refused if there is not enough) and settles the price
    difference either way.
    """
    count = positive_int(quantity, "quantity")
    if kind not in KINDS:
        raise StoreError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if condition not in CONDITIONS:
        raise StoreError(f"condition must be one of {', '.join(CONDITIONS)}, not {condition!r}")
    if kind == "exchange" and not replacement_sku:
        raise StoreError("an exchange needs a replacement product")
    with database.transaction() as conn:
        order = rows.order_by_id(conn, order_id)
        if order is None:
            raise not_found(f"order {order_id}")
        line = order.line_for(sku)
        if line is None:
            raise StoreError(f"order {order_id} has no {sku} to return", code="not_on_order")
        if count > line.returnable:
            raise StoreError(
                f"only {line.returnable} {line.product_name} from order {order_id}"
                f" can still be returned, not {count}",
                code="too_many",
            )
        restocked = condition == "resellable"
        if restocked:
            put_back_in_stock(conn, line.product_id, count)
        refund = charge = 0
        replacement = None
        if kind == "exchange":
            replacement = rows.product_by_sku(conn, replacement_sku)  # type: ignore[arg-type]
            if replacement is None:
                raise not_found(f"product {replacement_sku}")
            if replacement.stock < count:
                raise out_of_stock(replacement, count)
            take_stock(conn, replacement.id, count)  # type: ignore[arg-type]
            difference = (replacement.price_pence - line.unit_price_pence) * count
            if difference > 0:
                charge = difference
                conn.execute(
                    "UPDATE orders SET paid_pence = paid_pence + ? WHERE id = ?", (charge, order_id)
                )
            else:
                refund = min(-difference, order.refundable_pence)
        else:
            refund = min(count * line.unit_price_pence, order.refundable_pence)
        cursor = conn.execute(
            "INSERT INTO returns (order_line_id, quantity, kind, condition, restocked,"
            " refund_pence, charge_pence, replacement_product_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                line.id,
                count,
                kind,
                condition,
                int(restocked),
                refund,
                charge,
                replacement.id if replacement else None,
                now(),
            ),
        )
        return_id = cursor.lastrowid
        if replacement is not None:
            conn.execute(
                "INSERT INTO order_lines (order_id, product_id, quantity, unit_price_pence,"
                " exchanged_from_line_id) VALUES (?, ?, ?, ?, ?)",
                (order_id, replacement.id, count, replacement.price_pence, line.id),
            )
        if refund:
            reason = "price difference" if kind == "exchange" else "returned"
            conn.execute(
                "INSERT INTO refunds (order_id, amount_pence, reason, return_id, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (order_id, refund, f"{reason}: {count} × {line.product_name}", return_id, now()),
            )
        record = rows.return_from_row(
            conn.execute(
                "SELECT r.*, p.sku AS replacement_sku FROM returns r"
                " LEFT JOIN products p ON p.id = r.replacement_product_id WHERE r.id = ?",
                (return_id,),
            ).fetchone()
        )
        return ReturnOutcome(
            record=record,
            order=rows.order_by_id(conn, order_id),  # type: ignore[arg-type]
            product=rows.product_by_id(conn, line.product_id),  # type: ignore[arg-type]
            replacement=rows.product_by_sku(conn, replacement_sku) if replacement else None,
        )


# -- partial refunds ----------------------------------------------------------------------


def refund_part(database: Database, order_id: int, amount_pence: object, reason: str) -> Order:
    """Give money back without taking goods back (a discount for a flaw, a late delivery)."""
    amount = positive_int(amount_pence, "amount_pence")
    reason = (reason or "").strip()
    if not reason:
        raise StoreError("a partial refund needs a reason")
    with database.transaction() as conn:
        order = rows.order_by_id(conn, order_id)
        if order is None:
            raise not_found(f"order {order_id}")
        if amount > order.refundable_pence:
            raise StoreError(
                f"cannot refund {format_money(amount)}: only"
                f" {format_money(order.refundable_pence)} of order {order_id} is left to refund",
                code="exceeds_paid",
            )
        conn.execute(
            "INSERT INTO refunds (order_id, amount_pence, reason, created_at) VALUES (?, ?, ?, ?)",
            (order_id, amount, reason, now()),
        )
        return rows.order_by_id(conn, order_id)  # type: ignore[return-value]


def refunds_of_order(conn: sqlite3.Connection, order_id: int) -> list[dict[str, Any]]:
    found = conn.execute(
        "SELECT amount_pence, reason, created_at FROM refunds WHERE order_id = ? ORDER BY id",
        (order_id,),
    ).fetchall()
    return [dict(row) for row in found]


# -- the stock report ---------------------------------------------------------------------


def stock_report(database: Database) -> dict[str, Any]:
    """Per product: stock, units sold, returned, written off (damaged), and stock value."""
    with database.connect() as conn:
        found = conn.execute(
            "SELECT p.*,"
            " (SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l"
            "  WHERE l.product_id = p.id) AS sold,"
            " (SELECT COALESCE(SUM(r.quantity), 0) FROM returns r"
            "  JOIN order_lines l ON l.id = r.order_line_id WHERE l.product_id = p.id) AS returned,"
            " (SELECT COALESCE(SUM(r.quantity), 0) FROM returns r"
            "  JOIN order_lines l ON l.id = r.order_line_id"
            "  WHERE l.product_id = p.id AND r.restocked = 0) AS written_off"
            " FROM products p ORDER BY p.name, p.colour, p.size, p.sku"
        ).fetchall()
    report_rows = []
    for row in found:
        product = rows.product_from_row(row)
        report_rows.append(
            {
                "sku": product.sku,
                "product": product.display_name,
                "stock": product.stock,
                "sold": row["sold"],
                "returned": row["returned"],
                "written_off": row["written_off"],
                "return_rate": round(row["returned"] / row["sold"], 3) if row["sold"] else 0.0,
                "stock_value_pence": product.stock * product.price_pence,
                "stock_value": format_money(product.stock * product.price_pence),
            }
        )
    total_value = sum(row["stock_value_pence"] for row in report_rows)
    return {
        "rows": report_rows,
        "total_units": sum(row["stock"] for row in report_rows),
        "total_value_pence": total_value,
        "total_value": format_money(total_value),
        "generated_at": now(),
    }
