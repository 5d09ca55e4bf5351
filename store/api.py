"""The store's JSON HTTP API, mounted under ``/api`` by ``app.create_app``.

Every error is JSON: ``{"error": code, "message": text}`` with a fitting status (404
unknown thing, 409 out of stock, 422 a rule says no, 400 a malformed request).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from . import db as rows
from . import service
from .service import StoreError

api = Blueprint("api", __name__, url_prefix="/api")


def database() -> rows.Database:
    return current_app.extensions["store.database"]


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise StoreError("send a JSON object as the request body", status=400, code="bad_request")
    return data


def required(data: dict[str, Any], name: str) -> Any:
    if data.get(name) in (None, ""):
        raise StoreError(f"{name!r} is required", status=400, code="bad_request")
    return data[name]


@api.errorhandler(StoreError)
def store_error(error: StoreError) -> Any:
    return jsonify(error.to_json()), error.status


@api.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Any:
    return jsonify({"error": error.name.lower().replace(" ", "_"), "message": error.description}), (
        error.code
    )


@api.get("/health")
def health() -> Any:
    return jsonify({"ok": True})


# -- products -----------------------------------------------------------------------------


@api.get("/products")
def list_products() -> Any:
    return jsonify([product.to_json() for product in database().products()])


@api.post("/products")
def create_product() -> Any:
    data = body()
    fields = {
        "sku": str(required(data, "sku")),
        "name": str(required(data, "name")),
        "colour": str(data.get("colour", "")),
        "size": str(data.get("size", "")),
        "price_pence": service.positive_int(required(data, "price_pence"), "price_pence"),
        "stock": int(data.get("stock", 0)),
    }
    if database().product(fields["sku"]) is not None:
        raise StoreError(f"SKU {fields['sku']} already exists", status=409, code="duplicate")
    product = database().insert_product(**fields)
    return jsonify(product.to_json()), 201


@api.get("/products/<sku>")
def show_product(sku: str) -> Any:
    product = database().product(sku)
    if product is None:
        raise service.not_found(f"product {sku}")
    return jsonify(product.to_json())


@api.put("/products/<sku>/stock")
def set_stock(sku: str) -> Any:
    data = body()
    try:
        stock = int(required(data, "stock"))
    except ValueError:
        raise StoreError("stock must be a whole number") from None
    if stock < 0:
        raise StoreError("stock cannot be negative")
    try:
        database().set_stock(sku, stock)
    except LookupError:
        raise service.not_found(f"product {sku}") from None
    return jsonify(database().product(sku).to_json())  # type: ignore[union-attr]


# -- customers and orders -----------------------------------------------------------------


@api.post("/customers")
def create_customer() -> Any:
    data = body()
    name, email = str(required(data, "name")), str(required(data, "email"))
    with database().connect() as conn:
        if rows.customer_by_email(conn, email) is not None:
            raise StoreError(f"{email} is already a customer", status=409, code="duplicate")
    customer = database().insert_customer(name=name, email=email)
    return jsonify(customer.to_json()), 201


@api.get("/customers/<int:customer_id>")
def show_customer(customer_id: int) -> Any:
    with database().connect() as conn:
        customer = rows.customer_by_id(conn, customer_id)
        if customer is None:
            raise service.not_found(f"customer {customer_id}")
        orders = rows.orders_of_customer(conn, customer_id)
    return jsonify({**customer.to_json(), "orders": [order.to_json() for order in orders]})


@api.post("/orders")
def create_order() -> Any:
    data = body()
    customer_id = service.positive_int(required(data, "customer_id"), "customer_id")
    lines = data.get("lines")
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise StoreError(
            "'lines' must be a list of {sku, quantity}", status=400, code="bad_request"
        )
    items = [(str(required(line, "sku")), line.get("quantity", 1)) for line in lines]
    order = service.place_order(database(), customer_id, items)
    return jsonify(order.to_json()), 201


@api.get("/orders/<int:order_id>")
def show_order(order_id: int) -> Any:
    with database().connect() as conn:
        order = rows.order_by_id(conn, order_id)
        if order is None:
            raise service.not_found(f"order {order_id}")
        returns = rows.returns_of_order(conn, order_id)
        refunds = service.refunds_of_order(conn, order_id)
    return jsonify(
        {**order.to_json(), "returns": [r.to_json() for r in returns], "refunds": refunds}
    )


@api.post("/orders/<int:order_id>/refunds")
def create_partial_refund(order_id: int) -> Any:
    data = body()
    order = service.refund_part(
        database(), order_id, required(data, "amount_pence"), str(data.get("reason", ""))
    )
    return jsonify(order.to_json()), 201


@api.post("/returns")
def create_return() -> Any:
    data = body()
    outcome = service.record_return(
        database(),
        service.positive_int(required(data, "order_id"), "order_id"),
        str(required(data, "sku")),
        quantity=data.get("quantity", 1),
        kind=str(data.get("kind", "refund")),
        condition=str(data.get("condition", "resellable")),
        replacement_sku=data.get("replacement_sku") or None,
    )
    return jsonify(outcome.to_json()), 201


# -- the stock report (slow: see reports.py) ----------------------------------------------


@api.post("/reports/stock")
def start_stock_report() -> Any:
    job_id = current_app.extensions["store.reports"].start()
    url = url_for("api.show_report", job_id=job_id)
    return jsonify({"id": job_id, "status": "running", "url": url}), 202, {"Location": url}


@api.get("/reports/<int:job_id>")
def show_report(job_id: int) -> Any:
    job = current_app.extensions["store.reports"].get(job_id)
    if job is None:
        raise service.not_found(f"report {job_id}")
    return jsonify(job)
