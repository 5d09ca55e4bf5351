"""The example store app on its own: rules, JSON API and pages through Flask's test client.

Fast (no browser, no real port except one server test); the example suite drives the same
app end to end in Chromium.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `store` is the example app at the top of the repository
    sys.path.insert(0, str(REPO))

from store import StoreServer, create_app, factories  # noqa: E402
from store.client import StoreClient  # noqa: E402
from store.factories import CustomerFactory, OrderFactory, ProductFactory  # noqa: E402
from store.models import format_money, stock_label  # noqa: E402
from store.testing import find_product, number, pence, product_for, split_quantity  # noqa: E402


@pytest.fixture
def app(tmp_path):
    app = create_app(tmp_path / "store.sqlite3", report_seconds=0)
    factories.bind(app.extensions["store.database"])
    yield app
    factories.bind(None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    return app.extensions["store.database"]


def stock(client, sku):
    return client.get(f"/api/products/{sku}").get_json()["stock"]


def give_back(client, order, sku, **fields):
    return client.post("/api/returns", json={"order_id": order.id, "sku": sku, **fields})


# -- returns for refund ---------------------------------------------------------------------


def test_refunded_item_goes_back_to_stock(client):
    sweater = ProductFactory(name="sweater", colour="black", stock=3)
    order = OrderFactory(product=sweater)

    answer = give_back(client, order, sweater.sku)

    assert answer.status_code == 201
    body = answer.get_json()
    assert body["product"]["stock"] == 4
    assert body["return"]["refund_pence"] == 4000
    assert body["return"]["restocked"] is True
    assert body["summary"] == "Returned 1 × black sweater (M): refunded £40.00."
    assert stock(client, sweater.sku) == 4


def test_damaged_item_is_refunded_but_not_restocked(client):
    sweater = ProductFactory(stock=3)
    order = OrderFactory(product=sweater)

    body = give_back(client, order, sweater.sku, condition="damaged").get_json()

    assert body["return"]["refund_pence"] == 4000
    assert stock(client, sweater.sku) == 3
    assert "not put back in stock" in body["summary"]


def test_cannot_return_more_than_was_bought(client):
    sweater = ProductFactory(stock=3)
    order = OrderFactory(product=sweater, quantity=2)
    assert give_back(client, order, sweater.sku, quantity=1).status_code == 201

    answer = give_back(client, order, sweater.sku, quantity=2)

    assert answer.status_code == 422
    assert answer.get_json()["error"] == "too_many"
    assert "only 1 black sweater (M)" in answer.get_json()["message"]
    assert stock(client, sweater.sku) == 4


def test_cannot_return_what_is_not_on_the_order(client):
    order = OrderFactory()
    other = ProductFactory()

    answer = give_back(client, order, other.sku)

    assert answer.status_code == 422
    assert answer.get_json()["error"] == "not_on_order"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quantity": 0}, "quantity must be at least 1"),
        ({"quantity": "many"}, "quantity must be a whole number"),
        ({"kind": "swap"}, "kind must be one of refund, exchange"),
        ({"condition": "used"}, "condition must be one of resellable, damaged"),
        ({"kind": "exchange"}, "an exchange needs a replacement product"),
    ],
)
def test_bad_return_requests_are_refused_with_a_reason(client, fields, message):
    sweater = ProductFactory(stock=1)
    order = OrderFactory(product=sweater)

    answer = give_back(client, order, sweater.sku, **fields)

    assert answer.status_code == 422
    assert message in answer.get_json()["message"]
    assert stock(client, sweater.sku) == 1


def test_unknown_order_and_malformed_body(client):
    assert client.post("/api/returns", json={"order_id": 99, "sku": "X"}).status_code == 404
    answer = client.post("/api/returns", data="not json", content_type="text/plain")
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "bad_request"
    assert client.get("/api/nothing-here").get_json()["error"] == "not_found"


# -- exchanges ------------------------------------------------------------------------------


def test_exchange_for_same_price_moves_stock_both_ways(client):
    medium = ProductFactory(sku="SWT-M", size="M", stock=3)
    large = ProductFactory(sku="SWT-L", size="L", stock=2)
    order = OrderFactory(product=medium)

    body = give_back(client, order, "SWT-M", kind="exchange", replacement_sku="SWT-L").get_json()

    assert (stock(client, "SWT-M"), stock(client, "SWT-L")) == (4, 1)
    assert (body["return"]["refund_pence"], body["return"]["charge_pence"]) == (0, 0)
    assert body["summary"] == "Exchanged 1 × black sweater (M) for black sweater (L)."
    lines = body["order"]["lines"]
    assert [line["sku"] for line in lines] == ["SWT-M", "SWT-L"]
    assert lines[1]["exchanged_from_line_id"] == lines[0]["id"]
    assert large.sku == "SWT-L"


def test_exchange_for_dearer_item_charges_the_difference(client):
    order = OrderFactory(product=ProductFactory(sku="SWT", price_pence=4000))
    ProductFactory(sku="JKT", name="jacket", price_pence=9500, stock=1)

    body = give_back(client, order, "SWT", kind="exchange", replacement_sku="JKT").get_json()

    assert body["return"]["charge_pence"] == 5500
    assert body["order"]["paid_pence"] == 9500
    assert "customer pays £55.00" in body["summary"]


def test_exchange_for_cheaper_item_refunds_the_difference(client):
    order = OrderFactory(product=ProductFactory(sku="SWT", price_pence=4000))
    ProductFactory(sku="HAT", name="hat", price_pence=1500, stock=6)

    body = give_back(client, order, "SWT", kind="exchange", replacement_sku="HAT").get_json()

    assert body["return"]["refund_pence"] == 2500
    assert body["order"]["refunded_pence"] == 2500
    assert stock(client, "HAT") == 5


def test_exchange_for_out_of_stock_item_changes_nothing(client):
    order = OrderFactory(product=ProductFactory(sku="SWT", stock=3))
    ProductFactory(sku="RED", colour="red", stock=0)

    answer = give_back(client, order, "SWT", kind="exchange", replacement_sku="RED")

    assert answer.status_code == 409
    assert answer.get_json() == {
        "error": "out_of_stock",
        "message": "red sweater (M) is out of stock",
    }
    assert (stock(client, "SWT"), stock(client, "RED")) == (3, 0)
    assert client.get(f"/api/orders/{order.id}").get_json()["returns"] == []


def test_item_received_in_an_exchange_can_be_returned(client):
    order = OrderFactory(product=ProductFactory(sku="SWT-M", stock=3))
    ProductFactory(sku="SWT-L", size="L", stock=2)
    give_back(client, order, "SWT-M", kind="exchange", replacement_sku="SWT-L")

    body = give_back(client, order, "SWT-L").get_json()

    assert body["return"]["refund_pence"] == 4000
    assert stock(client, "SWT-L") == 2


# -- partial refunds ------------------------------------------------------------------------


def test_partial_refunds_are_capped_at_what_was_paid(client):
    order = OrderFactory(product=ProductFactory(price_pence=4000), quantity=3)
    url = f"/api/orders/{order.id}/refunds"

    assert client.post(url, json={"amount_pence": 7000, "reason": "late"}).status_code == 201
    answer = client.post(url, json={"amount_pence": 5001, "reason": "goodwill"})

    assert answer.status_code == 422
    assert answer.get_json()["message"] == (
        f"cannot refund £50.01: only £50.00 of order {order.id} is left to refund"
    )
    assert client.post(url, json={"amount_pence": 500, "reason": " "}).status_code == 422


def test_return_after_partial_refund_pays_back_only_what_is_left(client):
    sweater = ProductFactory(price_pence=4000, stock=0)
    order = OrderFactory(product=sweater)
    client.post(f"/api/orders/{order.id}/refunds", json={"amount_pence": 3000, "reason": "late"})

    body = give_back(client, order, sweater.sku).get_json()

    assert body["return"]["refund_pence"] == 1000
    assert body["order"]["refunded_pence"] == 4000
    assert body["product"]["stock"] == 1


# -- selling and out-of-stock rules ---------------------------------------------------------


def test_order_takes_stock(client):
    jacket = ProductFactory(name="jacket", colour="green", stock=1)
    customer = CustomerFactory()

    answer = client.post(
        "/api/orders", json={"customer_id": customer.id, "lines": [{"sku": jacket.sku}]}
    )

    assert answer.status_code == 201
    assert answer.get_json()["paid_pence"] == jacket.price_pence
    product = client.get(f"/api/products/{jacket.sku}").get_json()
    assert (product["stock"], product["stock_label"]) == (0, "Out of stock")


def test_order_short_of_stock_is_refused_as_a_whole(client):
    ProductFactory(sku="HAT", name="hat", colour="grey", size="", stock=5)
    ProductFactory(sku="SCF", name="scarf", colour="blue", size="", stock=1)
    customer = CustomerFactory()
    lines = [{"sku": "HAT", "quantity": 2}, {"sku": "SCF", "quantity": 2}]

    answer = client.post("/api/orders", json={"customer_id": customer.id, "lines": lines})

    assert answer.status_code == 409
    assert answer.get_json()["message"] == "only 1 blue scarf left, 2 wanted"
    assert (stock(client, "HAT"), stock(client, "SCF")) == (5, 1)


def test_same_sku_on_two_lines_counts_together(client):
    ProductFactory(sku="HAT", stock=3)
    customer = CustomerFactory()
    lines = [{"sku": "HAT", "quantity": 2}, {"sku": "HAT", "quantity": 2}]

    answer = client.post("/api/orders", json={"customer_id": customer.id, "lines": lines})

    assert answer.status_code == 409
    assert stock(client, "HAT") == 3


@pytest.mark.parametrize(
    ("count", "label"),
    [(0, "Out of stock"), (1, "Only 1 left"), (2, "Only 2 left"), (3, "3 in stock")],
)
def test_stock_labels(count, label):
    assert stock_label(count) == label


def test_money_format():
    assert [format_money(p) for p in (0, 5, 4000, 123456, -250)] == [
        "£0.00",
        "£0.05",
        "£40.00",
        "£1234.56",
        "-£2.50",
    ]


def test_product_and_customer_api(client):
    created = client.post(
        "/api/products", json={"sku": "CAP", "name": "cap", "price_pence": 1200, "stock": 2}
    )
    assert created.status_code == 201
    assert created.get_json()["stock_label"] == "Only 2 left"
    duplicate = client.post("/api/products", json={"sku": "CAP", "name": "cap", "price_pence": 1})
    assert duplicate.status_code == 409
    assert client.put("/api/products/CAP/stock", json={"stock": 9}).get_json()["stock"] == 9
    assert client.put("/api/products/CAP/stock", json={"stock": -1}).status_code == 422
    assert client.put("/api/products/NOPE/stock", json={"stock": 1}).status_code == 404
    assert [p["sku"] for p in client.get("/api/products").get_json()] == ["CAP"]

    ada = client.post("/api/customers", json={"name": "Ada", "email": "ada@example.com"})
    assert ada.status_code == 201
    again = client.post("/api/customers", json={"name": "Ada", "email": "ada@example.com"})
    assert again.status_code == 409
    shown = client.get(f"/api/customers/{ada.get_json()['id']}").get_json()
    assert (shown["name"], shown["orders"]) == ("Ada", [])


# -- pages ----------------------------------------------------------------------------------


def test_catalogue_and_product_page_show_stock(client):
    ProductFactory(sku="JKT", name="jacket", colour="green", stock=0)
    ProductFactory(sku="SWT", stock=7)

    catalogue = client.get("/").get_data(as_text=True)
    assert 'data-sku="JKT" class="out-of-stock"' in catalogue
    assert "7 in stock" in catalogue

    page = client.get("/products/JKT").get_data(as_text=True)
    assert 'id="out-of-stock-badge"' in page
    assert 'id="buy-button" type="submit" disabled' in page
    assert 'id="buy-button" type="submit">' in client.get("/products/SWT").get_data(as_text=True)
    assert client.get("/products/NOPE").status_code == 404


def test_buying_through_the_product_page(client):
    sweater = ProductFactory(stock=3)
    ada = CustomerFactory(name="Ada Lovelace")

    answer = client.post(
        f"/products/{sweater.sku}/buy",
        data={"customer_id": ada.id, "quantity": "2"},
        follow_redirects=True,
    )

    page = answer.get_data(as_text=True)
    assert "Thank you! Order #1 is placed." in page
    assert 'class="quantity">2<' in page
    assert stock(client, sweater.sku) == 1
    assert "Order #1" in client.get(f"/customers/{ada.id}").get_data(as_text=True)


def test_buying_more_than_in_stock_shows_the_refusal(client):
    sweater = ProductFactory(stock=1)
    ada = CustomerFactory()

    answer = client.post(
        f"/products/{sweater.sku}/buy", data={"customer_id": ada.id, "quantity": "2"}
    )

    assert answer.status_code == 409
    assert "only 1 black sweater (M) left, 2 wanted" in answer.get_data(as_text=True)


def test_partial_refund_form_takes_pounds(client):
    order = OrderFactory(product=ProductFactory(price_pence=4000))
    url = f"/orders/{order.id}/refunds"

    done = client.post(url, data={"amount": "£12.50", "reason": "button"}, follow_redirects=True)
    assert "Refunded £12.50." in done.get_data(as_text=True)
    assert 'id="refunded">£12.50<' in done.get_data(as_text=True)

    for amount, message in [("lots", "amount must be in pounds"), ("1.005", "fractions")]:
        answer = client.post(url, data={"amount": amount, "reason": "x"})
        assert answer.status_code == 422
        assert message in answer.get_data(as_text=True)


def test_return_page_carries_what_its_script_needs(app, client):
    sweater = ProductFactory(stock=3)
    order = OrderFactory(product=sweater)
    line = order.lines[0]

    page = client.get(f"/orders/{order.id}/lines/{line.id}/return").get_data(as_text=True)

    assert f'data-order-id="{order.id}" data-sku="{sweater.sku}"' in page
    assert 'data-refresh-min-ms="300" data-refresh-max-ms="800"' in page
    assert f'id="stock-level" data-sku="{sweater.sku}">3 in stock<' in page
    assert client.get(f"/orders/{order.id}/lines/999/return").status_code == 404
    assert client.get("/static/returns.js").status_code == 200


def test_stock_report(client):
    sweater = ProductFactory(sku="SWT", stock=3)
    hat = ProductFactory(sku="HAT", name="hat", size="", price_pence=1500, stock=6)
    order = OrderFactory(product=sweater, quantity=2, more_lines=((hat, 1),))
    give_back(client, order, "SWT")
    give_back(client, order, "HAT", condition="damaged")

    job = client.post("/api/reports/stock")
    assert job.status_code == 202
    deadline = time.monotonic() + 5
    while (state := client.get(job.get_json()["url"]).get_json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.02)

    report = state["report"]
    rows = {row["sku"]: row for row in report["rows"]}
    assert (rows["SWT"]["stock"], rows["SWT"]["sold"], rows["SWT"]["returned"]) == (4, 2, 1)
    assert (rows["HAT"]["written_off"], rows["HAT"]["stock_value"]) == (1, "£90.00")
    assert report["total_value"] == "£250.00"
    assert client.get("/api/reports/99").status_code == 404
    assert "Preparing report" in client.get("/reports/stock").get_data(as_text=True)


# -- factories and the helpers steps use ----------------------------------------------------


def test_order_factory_records_history_without_taking_stock(db):
    sweater = ProductFactory(stock=3)
    order = OrderFactory(product=sweater, quantity=2)

    assert db.product(sweater.sku).stock == 3
    assert (order.paid_pence, order.lines[0].quantity) == (8000, 2)
    assert OrderFactory.build(product=sweater, quantity=2).paid_pence == 8000


def test_unbound_factories_say_what_to_do():
    factories.bind(None)
    with pytest.raises(RuntimeError, match=r"call store.factories.bind\(database\)"):
        ProductFactory()


def test_step_wording_helpers(db):
    assert [number(w) for w in ("no", "a", "four", "12")] == [0, 1, 4, 12]
    with pytest.raises(ValueError, match="try digits"):
        number("umpteen")
    assert pence("£39.99") == 3999
    assert split_quantity("two of the sweaters") == (2, "sweaters")
    assert split_quantity("the SWT-BK-M") == (1, "SWT-BK-M")

    created = product_for(db, "green jackets", stock=0)
    assert (created.colour, created.name, created.stock) == ("green", "jacket", 0)
    assert find_product(db, "green jacket").sku == created.sku
    assert find_product(db, created.sku.lower()).sku == created.sku
    ProductFactory(name="jacket", colour="green", size="L")
    with pytest.raises(AssertionError, match="could mean any of"):
        find_product(db, "green jacket")
    assert find_product(db, "green jacket (L)").size == "L"


def test_server_on_a_real_port(tmp_path):
    with StoreServer(0, tmp_path / "store.sqlite3", report_seconds=0) as server:
        factories.bind(server.database)
        try:
            ProductFactory(sku="SWT", stock=2)
            api = StoreClient(server.url)
            assert api.get("/api/health").data == {"ok": True}
            assert api.product("SWT")["stock_label"] == "Only 2 left"
            assert api.get("/api/products/NOPE", check=False).status == 404
            assert api.stock_report(poll=0.02)["total_units"] == 2
            server.reset()
            assert api.get("/api/products").data == []
        finally:
            factories.bind(None)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.port


def test_port_in_use_is_an_error_not_an_exit(tmp_path):
    with StoreServer(0, tmp_path / "a.sqlite3") as first:
        second = StoreServer(first.port, tmp_path / "b.sqlite3")
        with pytest.raises(RuntimeError, match=f"cannot start the store on 127.0.0.1:{first.port}"):
            second.start()
