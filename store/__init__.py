"""The "Returns go to stock" store: the example app that pbdd's example suite tests.

A Flask + SQLite shop with products and stock levels, customers, orders, returns for
refund (resellable items go back in stock), exchanges, partial refunds and out-of-stock
rules; HTML pages and a JSON API. Run it with ``python -m store --port 8000``; a test
process starts it in a thread with ``StoreServer(port, db_path).start()``.
"""

from .app import create_app
from .db import Database
from .server import StoreServer

__all__ = ["Database", "StoreServer", "create_app"]
