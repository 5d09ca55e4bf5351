"""lettuce's Django integration on Python 3: ``manage.py harvest``, a server and a test
database per worker, ``django_url``, ``mail`` and the model and mail steps.

Users put ``'parallel_bdd.django'`` (or ``'lettuce.django'``, see ``alias.py``) in
``INSTALLED_APPS`` and import ``django_url`` / ``mail`` from here or from ``lettuce.django``.
Importing this package imports nothing from Django, cli or reporting: the heavy parts are
imported by the ``harvest`` command and by ``prelude.py`` in every process of its run.
"""

from __future__ import annotations

from . import alias
from .urls import django_url, server_port

alias.install()

__all__ = ["django_url", "server_port"]
