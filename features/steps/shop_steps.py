"""Whole journeys through the shop's pages (``@browser``): buy, take back, sell again."""

import re
from urllib.parse import urlparse

from parallel_bdd import scenario, step, world
from store.testing import find_product


def sku_of(display_name):
    product = find_product(world.store.database, display_name)
    assert product is not None, f"the store has no {display_name!r}"
    return product.sku


def open_order_page():
    if urlparse(world.browser.current_url).path != f"/orders/{scenario.order_id}":
        world.browser.visit(f"/orders/{scenario.order_id}")
    world.browser.wait_text("#order-title", f"Order #{scenario.order_id}")


@step(r'^(?P<name>\w+) buys (?P<count>\d+) of "(?P<product>[^"]+)" from the catalogue$')
def buys_from_catalogue(step, name, count, product):
    customer = scenario.customers[name]
    browser = world.browser
    browser.visit("/")
    browser.click(f'#catalogue tr[data-sku="{sku_of(product)}"] a.product-link')
    browser.wait_text("#product-name", product)
    browser.select("#customer", customer.name)
    browser.fill("#quantity", count)
    browser.click("#buy-button")
    browser.wait_text("#flash", "is placed")
    scenario.order_id = int(re.search(r"/orders/(\d+)", browser.current_url).group(1))
    scenario.shopper = customer


@step(
    r'^(?P<name>\w+) returns (?P<count>\d+) of "(?P<product>[^"]+)" from (?:his|her|their) order'
    r" page(?P<damaged>, saying it is damaged)?$"
)
def returns_from_order_page(step, name, count, product, damaged):
    browser = world.browser
    open_order_page()
    browser.click(f'#lines tr[data-sku="{sku_of(product)}"] a.return-link')
    browser.fill("#return-quantity", count)
    if damaged:
        browser.select("#return-condition", value="damaged")
    browser.click("#submit-return")
    browser.wait_text("#return-result", f"Returned {count} × {product}")


@step(r"^(?:his|her|their) customer page should show (?P<amount>£[\d.]+) refunded$")
def customer_page_shows_refund(step, amount):
    browser = world.browser
    browser.visit(f"/customers/{scenario.shopper.id}")
    browser.wait_text("#customer-name", scenario.shopper.name)
    browser.wait_text(f'#orders li[data-order-id="{scenario.order_id}"]', f"refunded {amount}")


@step(r"^(?:his|her|their) order page should list (?P<count>\d+) × (?P<product>.+)$")
def order_page_lists(step, count, product):
    open_order_page()
    row = f'#lines tr[data-sku="{sku_of(product)}"]'
    world.browser.wait_text(f"{row} td.product", product)
    world.browser.wait_text(f"{row} td.quantity", count, exact=True)


@step(r'^the catalogue should show "(?P<product>[^"]+)" as "(?P<label>[^"]+)"$')
def catalogue_shows(step, product, label):
    world.browser.visit("/")
    world.browser.wait_text(
        f'#catalogue tr[data-sku="{sku_of(product)}"] .stock-label', label, exact=True
    )
