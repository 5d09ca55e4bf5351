"""The store's records: products, customers, orders and their lines, returns.

Built by ``db.py`` from SQLite rows and by ``factories.py``; read by ``service.py``, the
pages and the JSON API. Plain dataclasses, money in pence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# At or below this many left, a product page says "Only N left" instead of "N in stock".
LOW_STOCK = 2


def stock_label(stock: int) -> str:
    if stock <= 0:
        return "Out of stock"
    if stock <= LOW_STOCK:
        return f"Only {stock} left"
    return f"{stock} in stock"


def format_money(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}£{pounds}.{rest:02d}"


@dataclass
class Product:
    sku: str
    name: str
    price_pence: int
    stock: int = 0
    colour: str = ""
    size: str = ""
    id: int | None = None

    @property
    def description(self) -> str:
        """What a person calls it: "black sweater"."""
        return " ".join(part for part in (self.colour, self.name) if part)

    @property
    def display_name(self) -> str:
        return f"{self.description} ({self.size})" if self.size else self.description

    @property
    def stock_label(self) -> str:
        return stock_label(self.stock)

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            description=self.description,
            display_name=self.display_name,
            stock_label=self.stock_label,
            price=format_money(self.price_pence),
        )
        return data


@dataclass
class Customer:
    name: str
    email: str
    id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class OrderLine:
    id: int
    order_id: int
    product_id: int
    sku: str
    product_name: str
    quantity: int
    unit_price_pence: int
    returned: int = 0
    exchanged_from_line_id: int | None = None

    @property
    def returnable(self) -> int:
        return self.quantity - self.returned

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["returnable"] = self.returnable
        return data


@dataclass
class Order:
    id: int
    customer_id: int
    placed_at: str
    paid_pence: int
    refunded_pence: int = 0
    lines: list[OrderLine] = field(default_factory=list)

    @property
    def refundable_pence(self) -> int:
        return self.paid_pence - self.refunded_pence

    def line_for(self, sku: str) -> OrderLine | None:
        """The order's first line for ``sku`` that still has something to return."""
        candidates = [line for line in self.lines if line.sku == sku]
        for line in candidates:
            if line.returnable > 0:
                return line
        return candidates[0] if candidates else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "placed_at": self.placed_at,
            "paid_pence": self.paid_pence,
            "refunded_pence": self.refunded_pence,
            "refundable_pence": self.refundable_pence,
            "lines": [line.to_json() for line in self.lines],
        }


@dataclass
class Return:
    id: int
    order_line_id: int
    quantity: int
    kind: str  # "refund" or "exchange"
    condition: str  # "resellable" or "damaged"
    restocked: bool
    refund_pence: int = 0
    charge_pence: int = 0
    replacement_sku: str | None = None
    created_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
