"""Steps about taking things back: returns for refund, exchanges and partial refunds.

Actions written in the present ("he returns ...") go through the browser in ``@browser``
scenarios and through the JSON API otherwise; the past tense ("he returned ...") sets a
scenario up through the API either way and must succeed. Money is always checked through
the API: what was refunded or charged since the last action.
"""

from parallel_bdd import scenario, step, world
from store.models import format_money
from store.testing import find_product, pence, split_quantity


def in_browser():
    return getattr(scenario, "channel", "api") == "browser"


def current_order():
    return world.api.order(scenario.order_id)


def money_now():
    order = current_order()
    return {"paid": order["paid_pence"], "refunded": order["refunded_pence"]}


def order_line(order, phrase):
    skus = {line["sku"] for line in order["lines"]}
    product = find_product(world.store.database, phrase, among=skus)
    assert product is not None, f"order {order['id']} has no {phrase!r} (it has {sorted(skus)})"
    lines = [line for line in order["lines"] if line["sku"] == product.sku]
    return next((line for line in lines if line["returnable"] > 0), lines[0])


def take_back(phrase, *, count, kind, condition="resellable", replacement=None, arranged=False):
    order = current_order()
    line = order_line(order, phrase)
    scenario.money_before = money_now()
    if in_browser() and not arranged:
        scenario.answer = None
        take_back_at_the_till(order["id"], line["id"], count, kind, condition, replacement)
        return
    request = {
        "order_id": order["id"],
        "sku": line["sku"],
        "quantity": count,
        "kind": kind,
        "condition": condition,
        "replacement_sku": replacement,
    }
    scenario.answer = world.api.post("/api/returns", request)
    if arranged:
        assert scenario.answer.ok, f"could not set up the return: {scenario.answer.message}"


def take_back_at_the_till(order_id, line_id, count, kind, condition, replacement):
    browser = world.browser
    browser.visit(f"/orders/{order_id}")
    browser.click(f'a.return-link[data-line-id="{line_id}"]')
    browser.fill("#return-quantity", count)
    browser.select("#return-kind", value=kind)
    browser.select("#return-condition", value=condition)
    if replacement:
        browser.select("#replacement", value=replacement)
    browser.click("#submit-return")
    browser.wait_until(
        lambda: any(e.is_displayed() for e in browser.find_all("#return-result, #return-error")),
        "the return to be recorded or refused",
    )


def refund_part(amount, reason, *, arranged=False):
    scenario.money_before = money_now()
    if in_browser() and not arranged:
        scenario.answer = None
        browser = world.browser
        browser.visit(f"/orders/{scenario.order_id}")
        browser.fill("#refund-amount", amount)
        browser.fill("#refund-reason", reason)
        browser.click("#refund-button")
        browser.wait_until(
            lambda: browser.exists("#flash") or browser.exists("#error"),
            "the refund to be given or refused",
        )
        return
    scenario.answer = world.api.post(
        f"/api/orders/{scenario.order_id}/refunds",
        {"amount_pence": pence(amount), "reason": reason},
    )
    if arranged:
        assert scenario.answer.ok, f"could not set up the refund: {scenario.answer.message}"


def money_since_last_action():
    before, now = scenario.money_before, money_now()
    return now["refunded"] - before["refunded"], now["paid"] - before["paid"]


@step(
    r"^(?:he|she|they) (?P<verb>returns|returned) (?P<what>[\w -]+?) for a refund"
    r"(?P<damaged>, saying it is damaged)?$"
)
def returns_for_refund(step, verb, what, damaged):
    count, item = split_quantity(what)
    condition = "damaged" if damaged else "resellable"
    take_back(item, count=count, kind="refund", condition=condition, arranged=verb == "returned")


@step(
    r"^(?:he|she|they) (?P<verb>exchanges|exchanged) the (?P<old>[\w -]+?) for an? (?P<new>[\w-]+)$"
)
def exchanges(step, verb, old, new):
    replacement = find_product(world.store.database, new)
    assert replacement is not None, f"the store has no {new!r}"
    take_back(
        old, count=1, kind="exchange", replacement=replacement.sku, arranged=verb == "exchanged"
    )


@step(
    r'^I (?P<verb>refund|refunded) (?:him|her|them) £(?P<amount>[\d.]+) because "(?P<reason>[^"]*)"$'
)
def partial_refund(step, verb, amount, reason):
    refund_part(amount, reason, arranged=verb == "refunded")


@step(r"^I make these partial refunds:$")
def partial_refunds(step):
    before = money_now()
    for row in step.hashes:
        refund_part(row["amount"], row["reason"])
        assert scenario.answer is None or scenario.answer.ok, scenario.answer.message
    scenario.money_before = before


@step(r"^(?:he|she|they) should be refunded £(?P<amount>[\d.]+)$")
def refunded_amount(step, amount):
    refunded, _ = money_since_last_action()
    assert refunded == pence(amount), f"refunded {format_money(refunded)}, not £{amount}"


@step(r"^(?:he|she|they) should be refunded £(?P<amount>[\d.]+) in total$")
def refunded_in_total(step, amount):
    refunded = money_now()["refunded"]
    assert refunded == pence(amount), f"refunded {format_money(refunded)} in all, not £{amount}"


@step(r"^(?:he|she|they) should pay £(?P<amount>[\d.]+) more$")
def pays_more(step, amount):
    refunded, paid = money_since_last_action()
    assert (paid, refunded) == (pence(amount), 0), (
        f"the customer paid {format_money(paid)} more and got {format_money(refunded)} back"
    )


@step(r"^no money should change hands$")
def no_money(step):
    refunded, paid = money_since_last_action()
    assert (paid, refunded) == (0, 0), (
        f"the customer paid {format_money(paid)} more and got {format_money(refunded)} back"
    )


@step(r"^the customer's balance for the exchange should be (?P<balance>.+)$")
def exchange_balance(step, balance):
    refunded, paid = money_since_last_action()
    if paid:
        actual = f"pays {format_money(paid)}"
    elif refunded:
        actual = f"gets {format_money(refunded)} back"
    else:
        actual = "nothing"
    assert actual == balance, f"the customer's balance is {actual!r}, not {balance!r}"


@step(r'^the return should be confirmed with "(?P<text>[^"]+)"$')
def return_confirmed(step, text):
    world.browser.wait_text("#return-result", text)


@step(r'^the order page should show "(?P<text>[^"]+)"$')
def order_page_shows(step, text):
    world.browser.wait_text("main", text)
