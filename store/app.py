"""The Flask app: ``create_app(db_path)`` builds it; the HTML pages live here, the API in api.py.

Pages: the catalogue (``/``), a product page with a buy form, an order page (lines,
refunds, a partial-refund form), a return form for one order line (submitted by
JavaScript; the stock level on it refreshes a moment later), a customer page and the stock
report (built in the background, the page polls until it is ready).
"""

from __future__ import annotations

import os
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, abort, flash, jsonify, redirect, render_template, request, url_for

from . import db as rows
from . import service
from .api import api
from .db import Database, open_database
from .models import format_money
from .reports import ReportJobs
from .service import StoreError


def create_app(
    db_path: str | os.PathLike[str],
    *,
    report_seconds: float = 2.5,
    restock_refresh_ms: tuple[int, int] = (300, 800),
    create_tables: bool = True,
) -> Flask:
    """The store app on the SQLite file ``db_path`` (created with its tables if missing), or
    on the PostgreSQL database of a ``postgresql://`` URL (``db.open_database``).

    ``report_seconds``: how long the stock report takes. ``restock_refresh_ms``: the
    return page re-reads the stock level this long (a random delay in the range) after a
    return is recorded, as the warehouse count would arrive.
    """
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_hex(16),
        REPORT_SECONDS=report_seconds,
        RESTOCK_REFRESH_MS=restock_refresh_ms,
    )
    database = open_database(db_path)
    if create_tables:
        database.create()
    app.extensions["store.database"] = database
    app.extensions["store.reports"] = ReportJobs(database, report_seconds)
    app.register_blueprint(api)
    app.jinja_env.filters["money"] = format_money

    def db() -> Database:
        return app.extensions["store.database"]

    @app.errorhandler(404)
    def not_found(error: Exception) -> Any:
        if request.path.startswith("/api/"):
            return jsonify({"error": "not_found", "message": f"no such URL: {request.path}"}), 404
        return error

    @app.get("/")
    def catalogue() -> Any:
        return render_template("catalogue.html", products=db().products())

    @app.get("/products/<sku>")
    def product_page(sku: str) -> Any:
        return render_product(sku)

    def render_product(sku: str, error: str = "", status: int = 200) -> Any:
        with db().connect() as conn:
            product = rows.product_by_sku(conn, sku)
            if product is None:
                abort(404)
            customers = rows.all_customers(conn)
        page = render_template("product.html", product=product, customers=customers, error=error)
        return page, status

    @app.post("/products/<sku>/buy")
    def buy(sku: str) -> Any:
        try:
            customer_id = service.positive_int(request.form.get("customer_id"), "customer")
            order = service.place_order(
                db(), customer_id, [(sku, request.form.get("quantity", "1"))]
            )
        except StoreError as error:
            return render_product(sku, error.message, error.status)
        flash(f"Thank you! Order #{order.id} is placed.")
        return redirect(url_for("order_page", order_id=order.id))

    @app.get("/customers/<int:customer_id>")
    def customer_page(customer_id: int) -> Any:
        with db().connect() as conn:
            customer = rows.customer_by_id(conn, customer_id)
            if customer is None:
                abort(404)
            orders = rows.orders_of_customer(conn, customer_id)
        return render_template("customer.html", customer=customer, orders=orders)

    @app.get("/orders/<int:order_id>")
    def order_page(order_id: int) -> Any:
        return render_order(order_id)

    def render_order(order_id: int, error: str = "", status: int = 200) -> Any:
        with db().connect() as conn:
            order = rows.order_by_id(conn, order_id)
            if order is None:
                abort(404)
            customer = rows.customer_by_id(conn, order.customer_id)
            returns = rows.returns_of_order(conn, order_id)
            refunds = service.refunds_of_order(conn, order_id)
        page = render_template(
            "order.html",
            order=order,
            customer=customer,
            returns=returns,
            refunds=refunds,
            error=error,
        )
        return page, status

    @app.post("/orders/<int:order_id>/refunds")
    def partial_refund(order_id: int) -> Any:
        try:
            amount = pence_from_form(request.form.get("amount", ""))
            service.refund_part(db(), order_id, amount, request.form.get("reason", ""))
        except StoreError as error:
            return render_order(order_id, error.message, error.status)
        flash(f"Refunded {format_money(amount)}.")
        return redirect(url_for("order_page", order_id=order_id))

    @app.get("/orders/<int:order_id>/lines/<int:line_id>/return")
    def return_page(order_id: int, line_id: int) -> Any:
        with db().connect() as conn:
            order = rows.order_by_id(conn, order_id)
            line = next((ln for ln in order.lines if ln.id == line_id), None) if order else None
            if line is None:
                abort(404)
            product = rows.product_by_id(conn, line.product_id)
            replacements = rows.all_products(conn)
        low, high = app.config["RESTOCK_REFRESH_MS"]
        return render_template(
            "return.html",
            order=order,
            line=line,
            product=product,
            replacements=replacements,
            refresh_min_ms=low,
            refresh_max_ms=high,
        )

    @app.get("/reports/stock")
    def report_page() -> Any:
        return render_template("report.html")

    return app


def pence_from_form(text: str) -> int:
    """``"5"``, ``"5.50"``, ``"£5.50"`` → pence."""
    cleaned = text.strip().lstrip("£").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise StoreError(f"amount must be in pounds, like 5.50, not {text!r}") from None
    if amount != amount.quantize(Decimal("0.01")):
        raise StoreError(f"amount cannot have fractions of a penny: {text!r}")
    return int(amount * 100)
