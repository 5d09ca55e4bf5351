"""``python -m store [--port 8000] [--db store.sqlite3] [--demo]``: run the store in the foreground."""

from __future__ import annotations

import argparse

from .app import create_app
from .db import Database


def add_demo_data(database: Database) -> None:
    from . import factories

    if database.products():
        return  # demo data is only for an empty store
    factories.bind(database)
    sweater = factories.ProductFactory(name="sweater", colour="black", stock=3)
    factories.ProductFactory(name="sweater", colour="black", size="L", stock=0)
    factories.ProductFactory(name="jacket", colour="green", price_pence=9500, stock=5)
    factories.OrderFactory(product=sweater, quantity=1)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m store", description="Run the example store in the foreground."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", default="store.sqlite3", help="SQLite file (created if missing)")
    parser.add_argument(
        "--demo", action="store_true", help="add a few products and an order to an empty store"
    )
    options = parser.parse_args()
    app = create_app(options.db)
    if options.demo:
        add_demo_data(app.extensions["store.database"])
    app.run(host=options.host, port=options.port)


if __name__ == "__main__":
    main()
