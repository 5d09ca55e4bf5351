"""Steps about customers and their orders: past purchases (test data) and new sales.

Imports the lettuce way, like stock_steps.py; the other step files use ``parallel_bdd``.
"""

from lettuce import step, world

from parallel_bdd import scenario
from store.factories import CustomerFactory, OrderFactory
from store.testing import find_product, number, pence, product_for, split_quantity


def remember_order(order):
    scenario.order_id = order.id
    scenario.customer = world.store.database.customer(order.customer_id)


def place_order(customer, items):
    scenario.customer = customer
    lines = [{"sku": sku, "quantity": quantity} for sku, quantity in items]
    scenario.answer = world.api.post("/api/orders", {"customer_id": customer.id, "lines": lines})
    if scenario.answer.ok:
        scenario.order_id = scenario.answer["id"]


@step(r"^a customer previously bought (?P<what>[\w -]+?) from me$")
def previously_bought(step, what):
    count, item = split_quantity(what)
    product = product_for(world.store.database, item)
    remember_order(OrderFactory(product=product, quantity=count))


@step(r"^a customer previously bought (?P<what>[\w -]+?) for £(?P<price>[\d.]+)$")
def previously_bought_at_price(step, what, price):
    count, item = split_quantity(what)
    product = product_for(world.store.database, item, price_pence=pence(price))
    remember_order(OrderFactory(product=product, quantity=count, unit_price_pence=pence(price)))


@step(r"^a customer previously bought these items from me:$")
def previously_bought_items(step):
    lines = []
    for row in step.hashes:
        product = world.store.database.product(row["sku"])
        assert product is not None, f"the store has no product {row['sku']}"
        lines.append((product, int(row["quantity"])))
    (product, quantity), *more = lines
    remember_order(OrderFactory(product=product, quantity=quantity, more_lines=tuple(more)))


@step(r'^a customer called "(?P<name>[^"]+)" is registered$')
def customer_called(step, name):
    customers = getattr(scenario, "customers", {})
    customers[name.split()[0]] = CustomerFactory(name=name)
    scenario.customers = customers


@step(r"^a customer orders (?P<count>\w+) (?P<what>[\w -]+)$")
def customer_orders(step, count, what):
    product = find_product(world.store.database, what)
    assert product is not None, f"the store has no {what!r}"
    place_order(CustomerFactory(), [(product.sku, number(count))])


@step(r"^a customer orders these items:$")
def customer_orders_items(step):
    place_order(CustomerFactory(), [(row["sku"], int(row["quantity"])) for row in step.hashes])


@step(r"^the order should be placed$")
def order_placed(step):
    answer = scenario.answer
    assert answer.ok, f"the order was refused ({answer.status}): {answer.message}"


@step(r'^the store should refuse with "(?P<text>[^"]+)"$')
def store_refuses(step, text):
    answer = getattr(scenario, "answer", None)
    if answer is None:  # acted through the browser: the page shows the refusal
        message = world.browser.wait_until(
            lambda: next(
                (
                    e.text
                    for e in world.browser.find_all("#return-error, #error")
                    if e.is_displayed()
                ),
                None,
            ),
            "an error message on the page",
        )
    else:
        assert not answer.ok, f"the store accepted it ({answer.status}): {answer.data}"
        message = answer.message
    assert text.lower() in message.lower(), f"the store refused, but said {message!r}"


@step(r"^(?:he|she|they) can still return (?P<count>\d+) (?P<what>[\w -]+)$")
def can_still_return(step, count, what):
    order = world.api.order(scenario.order_id)
    skus = {line["sku"] for line in order["lines"]}
    product = find_product(world.store.database, what, among=skus)
    assert product is not None, f"order {order['id']} has no {what!r}"
    returnable = sum(line["returnable"] for line in order["lines"] if line["sku"] == product.sku)
    assert returnable == int(count), f"{returnable} {product.display_name} can still be returned"
