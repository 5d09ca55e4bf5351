"""Prepares a process of a harvest run: Django set up for tests, and harvest's hooks.

Imported by the ``harvest`` command in the parent, and in every worker by
``discovery.import_suite`` (``harvest`` names this module in ``$PBDD_PRELUDE``, which the
workers inherit) before the suite's own files, so step files may import models. Importing
it twice is harmless. Imports nothing from cli or reporting.

The hooks, registered before ``terrain.py``'s so the server and database are there for the
suite's own ``before.batch``:

* ``before.all`` (parent, with ``-T`` and workers): registers one more ``before.all`` hook,
  which runs after the suite's own and makes one clone of the test databases per worker
  (with what those hooks wrote); the clones' settings go on ``world.django_clone_settings``
  (copied into every worker). The test databases themselves were made by the ``harvest``
  command before ``before.harvest``, as lettuce made them.
* ``before.batch`` (each worker, or the serial run): this worker's clone, then its server
  on ``world.port_number`` (also in ``$SERVER_NAME``/``$SERVER_PORT``, as lettuce set
  them); ``after.batch`` (registered then, so it runs after the suite's own) stops the
  server and closes the connections.
* ``before.each_scenario``: an empty ``mail.queue`` and ``mail.outbox``, so a scenario sees
  only its own mail whichever worker ran what before it.

It also names the selected apps' features directories to ``app_hooks`` (lettuce's
``before.each_app``/``after.each_app``).
"""

from __future__ import annotations

import os
from typing import Any

import django
from django.conf import settings

from .. import app_hooks
from ..hooks import after, before
from ..world import world
from . import databases, mail
from .harvest_config import HarvestConfig
from .server import Server, make_server

EMAIL_BACKEND = "parallel_bdd.django.mail.backends.QueueEmailBackend"
LOCAL_HOSTS = ("127.0.0.1", "localhost")

_state: dict[str, Any] = {"prepared": False, "server": None}


def prepare_django(config: HarvestConfig) -> None:
    """``django.setup()`` if needed, then the test environment lettuce's harvest set."""
    if _state["prepared"]:
        return
    _state["prepared"] = True
    from django.apps import apps
    from django.test.utils import setup_test_environment

    if not apps.ready:
        django.setup()
    setup_test_environment()  # Django's outbox, DEBUG off, ALLOWED_HOSTS + testserver
    settings.EMAIL_BACKEND = EMAIL_BACKEND
    settings.DEBUG = config.debug
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, *LOCAL_HOSTS]


def _in_a_worker() -> bool:
    """A pool worker, not the parent (which runs the serial batch on the test database)."""
    return os.getpid() != HarvestConfig.from_environment().parent_pid


@before.all
def _clone_after_the_suites_before_all() -> None:
    config = HarvestConfig.from_environment()
    if config.test_database and config.processes > 1:
        before.all(_clone_test_databases)  # called last in this run of before.all


def _clone_test_databases() -> None:
    world.django_clone_settings = databases.clone(HarvestConfig.from_environment().processes)


@before.batch
def _start_worker_services() -> None:
    config = HarvestConfig.from_environment()
    after.batch(_stop_worker_services)  # now: it runs after the suite's own after.batch
    clones = getattr(world, "django_clone_settings", None) or {}
    if _in_a_worker() and world.worker_id in clones:
        databases.use_clone(clones[world.worker_id])
    # where this process serves, as lettuce's harvest said it (with -S too)
    os.environ["SERVER_NAME"], os.environ["SERVER_PORT"] = LOCAL_HOSTS[0], str(world.port_number)
    if config.run_server:
        server: Server = make_server(world.port_number, config.server_class)
        server.start()
        _state["server"] = server


def _stop_worker_services() -> None:
    from django.db import connections

    server, _state["server"] = _state["server"], None
    try:
        if server is not None:
            server.stop()
    finally:
        connections.close_all()


@before.each_scenario
def _empty_the_outbox(scenario: Any) -> None:
    from django.core import mail as django_mail

    django_mail.outbox = []
    mail.empty_queue()


def name_the_apps(config: HarvestConfig) -> None:
    """Each selected app's features directory, for ``before.each_app``/``after.each_app``."""
    for directory, app in config.apps.items():
        app_hooks.register(directory, app)


_config = HarvestConfig.from_environment()
prepare_django(_config)
name_the_apps(_config)
