"""Optional helpers for suites; each module imports its third-party library only when used.

``parallel_bdd.contrib.selenium``: a headless Chromium with explicit waits and failure
screenshots (``start_chromium``, ``Browser``), local or on a Selenium Grid
(``PBDD_WEBDRIVER_URL``).
``parallel_bdd.contrib.postgres``: a PostgreSQL database per worker cloned from a template
(``use_postgres``, ``PostgresTemplate``); import it by name, it needs psycopg.
"""

from .selenium import (
    Browser,
    BrowserNotInstalled,
    BrowserTimeout,
    RemoteBrowserError,
    start_chromium,
)

__all__ = [
    "Browser",
    "BrowserNotInstalled",
    "BrowserTimeout",
    "RemoteBrowserError",
    "start_chromium",
]
