"""Steps about products and stock levels.

Stock checks go through the JSON API, or, in ``@browser`` scenarios, read the stock level
the page shows: the return page refreshes it by JavaScript a moment after a return, so the
browser check waits for it explicitly.

Written as a lettuce suite would be (``from lettuce import step, world``): pbdd gives these
names the same objects as ``parallel_bdd``. ``scenario`` is pbdd's own addition.
"""

from lettuce import step, world

from parallel_bdd import scenario
from store.factories import ProductFactory
from store.models import stock_label
from store.testing import find_product, number, pence, product_for


def in_browser():
    return getattr(scenario, "channel", "api") == "browser"


def named_product(what):
    product = find_product(world.store.database, what)
    assert product is not None, f"the store has no {what!r}"
    return product


def stock_level_on_page(sku, label):
    """Wait for the page to show ``label`` as the stock of ``sku`` (on this page if it shows
    that product's stock, else on the product's page)."""
    browser = world.browser
    css = f'#stock-level[data-sku="{sku}"]'
    if not browser.exists(css):
        browser.visit(f"/products/{sku}")
    browser.wait_text(css, label, exact=True)


def expect_stock(product, count):
    if in_browser():
        stock_level_on_page(product.sku, stock_label(count))
        return
    actual = world.api.product(product.sku)["stock"]
    assert actual == count, (
        f"expected {count} {product.display_name} ({product.sku}) in stock, the store has {actual}"
    )


@step(r"^the store sells these products:$")
def store_sells(step):
    for row in step.hashes:
        ProductFactory(
            sku=row["sku"],
            name=row["name"],
            colour=row.get("colour", ""),
            size=row.get("size", ""),
            price_pence=pence(row["price"]),
            stock=int(row["stock"]),
        )


@step(r"^I currently have (?P<count>\w+) (?P<what>[\w -]+?) left in stock$")
def currently_in_stock(step, count, what):
    product = product_for(world.store.database, what)
    world.store.database.set_stock(product.sku, number(count))


@step(r"^I should have (?P<count>\w+) (?P<what>[\w -]+?) in stock$")
def should_have_in_stock(step, count, what):
    expect_stock(named_product(what), number(count))


@step(r"^the stock of (?P<sku>[\w-]+) should be (?P<count>\d+)$")
def stock_of_sku(step, sku, count):
    product = world.store.database.product(sku)
    assert product is not None, f"the store has no product {sku}"
    expect_stock(product, int(count))


@step(r'^the (?P<what>[\w -]+?) should be shown as "(?P<label>[^"]*)"$')
def shown_as(step, what, label):
    product = named_product(what)
    if in_browser():
        stock_level_on_page(product.sku, label)
        return
    shown = world.api.product(product.sku)["stock_label"]
    assert shown == label, f"{product.display_name} is shown as {shown!r}, not {label!r}"


@step(r"^a customer looks at the (?P<what>[\w -]+?) in the shop$")
def looks_at_product(step, what):
    product = named_product(what)
    world.browser.visit(f"/products/{product.sku}")
    world.browser.wait_text("#product-name", product.display_name)


@step(r"^the buy button should be disabled$")
def buy_button_disabled(step):
    button = world.browser.wait_visible("#buy-button")
    assert not button.is_enabled(), "the Buy button can be clicked although nothing is in stock"
