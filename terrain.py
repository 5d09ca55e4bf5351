"""Set-up for the example suite: each worker gets its own store, database and browser.

``@before.batch`` runs once in every worker process (and once in a serial run): it starts
the store on the worker's own port with an SQLite file in a temporary directory named
after the worker (or, with ``STORE_DATABASE=postgres``, the worker's own PostgreSQL
database), points the test-data factories at that file and opens a headless
Chromium. Nothing is shared between workers, so scenarios can run in any order on any
worker. Each scenario starts from an empty store; a failing ``@browser`` scenario leaves a
screenshot and the page source in the artifacts directory, listed in its report.
"""

import os
import shutil
import tempfile

from parallel_bdd import after, before, scenario, world
from parallel_bdd.contrib.selenium import safe_file_name, start_chromium
from store import StoreServer, factories
from store.client import StoreClient

# How long the stock report takes (the app's default); lower it to speed the suite up.
REPORT_SECONDS = float(os.environ.get("STORE_REPORT_SECONDS", "2.5"))
# Explicit waits give up after this long: generous, as CI machines are often busy.
BROWSER_TIMEOUT = 10.0


# STORE_DATABASE=postgres: the same scenarios on PostgreSQL (the server: $PBDD_POSTGRES_DSN),
# a template database made once and a copy per worker (parallel_bdd.contrib.postgres);
# otherwise an SQLite file per worker.
ON_POSTGRES = os.environ.get("STORE_DATABASE", "sqlite") == "postgres"

if ON_POSTGRES:
    from parallel_bdd.contrib.postgres import use_postgres
    from store.pg_db import postgres_schema

    def make_schema(conn):
        conn.execute(postgres_schema())

    # Registered before the hooks below, so a worker's database exists when its store
    # starts; each scenario empties it through world.store.reset(), as on SQLite.
    use_postgres(make_schema, name_prefix="store", reset="none")


@before.batch
def start_store_and_browser():
    world.store_dir = tempfile.mkdtemp(prefix=f"pbdd-store-worker{world.worker_id}-")
    if ON_POSTGRES:
        database = world.database_url
    else:
        database = os.path.join(world.store_dir, "store.sqlite3")
    server = StoreServer(world.port_number, database, report_seconds=REPORT_SECONDS)
    try:
        world.store = server.start()
    except RuntimeError as error:
        shutil.rmtree(world.spew("store_dir"), ignore_errors=True)
        raise RuntimeError(
            f"{error} (is another run using these ports? try --base-port)"
        ) from error
    factories.bind(world.store.database)
    world.api = StoreClient(world.store.url)
    try:
        world.browser = start_chromium(base_url=world.store.url, timeout=BROWSER_TIMEOUT)
    except BaseException:
        stop_store()
        raise


@before.each_scenario
def empty_store(this_scenario):
    world.store.reset()
    # Steps that can act through the browser or the API ask the scenario which to use.
    scenario.channel = "browser" if "browser" in this_scenario.tags else "api"
    if scenario.channel == "browser":
        world.browser.reset()


@after.each_scenario
def keep_browser_evidence(this_scenario):
    if not this_scenario.failed or getattr(scenario, "channel", None) != "browser":
        return
    directory = getattr(world, "artifacts_dir", None) or "pbdd-artifacts"
    scenario_id = getattr(this_scenario, "id", this_scenario.name)
    name = safe_file_name(f"{scenario_id}-w{world.worker_id}")
    for path in world.browser.save_failure_artifacts(directory, name):
        scenario.attach(path)


@after.batch
def stop_browser_and_store():
    browser = world.spew("browser")
    try:
        if browser is not None:
            browser.quit()
    finally:
        stop_store()


def stop_store():
    store = world.spew("store")
    if store is not None:
        store.stop()
    factories.bind(None)
    store_dir = world.spew("store_dir")
    if store_dir:
        shutil.rmtree(store_dir, ignore_errors=True)
