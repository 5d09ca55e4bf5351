"""Helpers for tests of the store: turning step wording into numbers, money and products.

Used by the example suite's step files (``features/steps/*.py``), which the runner imports
each on its own, so what they share lives here rather than in one of them::

    number("four")                       # 4
    pence("£40.00")                      # 4000
    split_quantity("two of the sweaters")    # (2, "sweaters")
    find_product(database, "black sweaters") # the Product, by SKU or by what people call it
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from .db import Database
from .models import Product

NUMBERS = {
    "no": 0,
    "none": 0,
    "zero": 0,
    "a": 1,
    "an": 1,
    "the": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
}

COLOURS = frozenset(
    ("black", "white", "grey", "gray", "red", "green", "blue", "navy")
    + ("yellow", "brown", "pink", "purple", "orange", "beige")
)


def number(word: str) -> int:
    """``"four"`` → 4, ``"12"`` → 12, ``"no"`` → 0."""
    text = word.strip().lower()
    if text.isdigit():
        return int(text)
    if text in NUMBERS:
        return NUMBERS[text]
    raise ValueError(f"{word!r} is not a number this suite understands (try digits)")


def pence(text: str) -> int:
    """``"£40.00"``, ``"40"``, ``"12.5"`` → pence."""
    cleaned = text.strip().lstrip("£").replace(",", "")
    try:
        return int(Decimal(cleaned) * 100)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount of money") from None


def split_quantity(phrase: str) -> tuple[int, str]:
    """``"the sweater"`` → (1, "sweater"); ``"two of the sweaters"`` → (2, "sweaters")."""
    words = phrase.strip().split()
    count = 1
    if words and (words[0].lower() in NUMBERS or words[0].isdigit()):
        count = number(words.pop(0))
    rest = " ".join(words)
    for prefix in ("of the ", "the "):
        if rest.lower().startswith(prefix):
            rest = rest[len(prefix) :]
    return count, rest


def singular(phrase: str) -> str:
    """``"black sweaters"`` → ``"black sweater"`` (this shop sells nothing with odd plurals)."""
    words = phrase.strip().split()
    if words and words[-1].lower().endswith("s") and not words[-1].lower().endswith("ss"):
        words[-1] = words[-1][:-1]
    return " ".join(words)


def product_words(phrase: str) -> dict[str, str]:
    """``"black sweaters"`` → ``{"colour": "black", "name": "sweater"}``."""
    words = singular(phrase).lower().split()
    colour = words.pop(0) if len(words) > 1 and words[0] in COLOURS else ""
    return {"colour": colour, "name": " ".join(words)}


def describes(product: Product, phrase: str) -> bool:
    """Does ``phrase`` name this product: its SKU, "black sweater (M)", "black sweater", "sweater"?"""
    text = phrase.strip().lower()
    one = singular(text)
    return text == product.sku.lower() or one in {
        product.display_name.lower(),
        product.description.lower(),
        product.name.lower(),
    }


def find_product(
    database: Database, phrase: str, *, among: Iterable[str] | None = None
) -> Product | None:
    """The one product ``phrase`` names (None if none; an error if several do).

    ``among``: only consider these SKUs (the lines of an order, say).
    """
    allowed = set(among) if among is not None else None
    matches = [
        product
        for product in database.products()
        if (allowed is None or product.sku in allowed) and describes(product, phrase)
    ]
    if len(matches) > 1:
        names = ", ".join(f"{p.sku} ({p.display_name})" for p in matches)
        raise AssertionError(f"{phrase!r} could mean any of {names}: use the SKU")
    return matches[0] if matches else None


def product_for(database: Database, phrase: str, **defaults: object) -> Product:
    """The product ``phrase`` names, created (with ``defaults``) if the store has none yet."""
    from .factories import ProductFactory

    product = find_product(database, phrase)
    if product is not None:
        return product
    return ProductFactory(**{**product_words(phrase), **defaults})
