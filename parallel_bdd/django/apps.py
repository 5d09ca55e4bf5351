"""The Django app behind ``'parallel_bdd.django'`` and ``'lettuce.django'`` in INSTALLED_APPS.

Django loads it while setting up; its only job is to make ``manage.py harvest`` (in
``management/commands``) visible. Imports nothing from cli or reporting.
"""

from __future__ import annotations

from django.apps import AppConfig


class PbddDjangoConfig(AppConfig):
    name = "parallel_bdd.django"
    label = "parallel_bdd_django"  # "django", lettuce's implicit label, reads as Django itself
    verbose_name = "pbdd (lettuce harvest)"
