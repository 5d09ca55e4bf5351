"""factory_boy factories that write test data straight into a store database.

Bind them to the database once (a suite's ``@before.batch`` does this for its worker),
then build data in Given steps::

    factories.bind(server.database)
    sweater = ProductFactory(name="sweater", colour="black", stock=3)
    order = OrderFactory(product=sweater, quantity=1)   # a past sale: stock untouched

``create`` (the default strategy) inserts rows; ``build`` makes unsaved records.
"""

from __future__ import annotations

import re
from typing import Any

import factory

from .db import Database
from .models import Customer, Order, Product

_bound: Database | None = None


def bind(database: Database | None) -> None:
    """Make every factory write to ``database`` (None: unbind)."""
    global _bound
    _bound = database


def bound_database() -> Database:
    if _bound is None:
        raise RuntimeError(
            "store factories are not bound to a database: call store.factories.bind(database)"
        )
    return _bound


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", ".", text.lower()).strip(".") or "customer"


class ProductFactory(factory.Factory):
    class Meta:
        model = Product

    name = "sweater"
    colour = "black"
    size = "M"
    price_pence = 4000
    stock = 10
    sku = factory.LazyAttributeSequence(
        lambda o, n: (
            "-".join(part[:3].upper() for part in (o.name, o.colour, o.size) if part).replace(
                " ", ""
            )
            + f"-{n:03d}"
        )
    )

    @classmethod
    def _create(cls, model_class: type[Product], *args: Any, **kwargs: Any) -> Product:
        return bound_database().insert_product(**kwargs)


class CustomerFactory(factory.Factory):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    email = factory.LazyAttributeSequence(lambda o, n: f"{_slug(o.name)}.{n}@example.com")

    @classmethod
    def _create(cls, model_class: type[Customer], *args: Any, **kwargs: Any) -> Customer:
        return bound_database().insert_customer(**kwargs)


class OrderFactory(factory.Factory):
    """A past order of ``quantity`` × ``product`` at ``unit_price_pence``, plus ``more_lines``.

    ``more_lines``: extra ``(product, quantity)`` pairs, sold at each product's price.
    """

    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    unit_price_pence = factory.LazyAttribute(lambda o: o.product.price_pence)
    more_lines: tuple[tuple[Product, int], ...] = ()

    @classmethod
    def _lines(cls, kwargs: dict[str, Any]) -> list[tuple[int, int, int]]:
        lines = [(kwargs["product"].id, kwargs["quantity"], kwargs["unit_price_pence"])]
        lines += [
            (product.id, count, product.price_pence) for product, count in kwargs["more_lines"]
        ]
        return lines

    @classmethod
    def _create(cls, model_class: type[Order], *args: Any, **kwargs: Any) -> Order:
        return bound_database().insert_order(kwargs["customer"].id, cls._lines(kwargs))

    @classmethod
    def _build(cls, model_class: type[Order], *args: Any, **kwargs: Any) -> Order:
        lines = [(kwargs["product"], kwargs["quantity"], kwargs["unit_price_pence"])]
        lines += [(product, count, product.price_pence) for product, count in kwargs["more_lines"]]
        return Order(
            id=0,
            customer_id=kwargs["customer"].id or 0,
            placed_at="",
            paid_pence=sum(count * price for _, count, price in lines),
        )
