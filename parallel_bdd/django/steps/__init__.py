"""lettuce's ready-made Django steps: ``steps.models`` (rows from tables) and ``steps.mail``.

A suite imports the module whose steps it wants (``from lettuce.django.steps.models import
*`` or plainly ``import lettuce.django.steps.mail``), in any process of a harvest run.
Imported outside one (``pbdd`` on a Django app's features, no settings), they stop the run
with one error naming ``harvest`` rather than a Django traceback in every scenario.
"""

from __future__ import annotations

import os

from ...errors import StepLoadError


def require_django() -> None:
    """Raise ``StepLoadError`` unless Django's settings and apps are ready (a harvest run)."""
    from django.apps import apps
    from django.conf import ENVIRONMENT_VARIABLE, settings

    if apps.ready:
        return
    why = (
        "Django's apps are not loaded"
        if settings.configured or os.environ.get(ENVIRONMENT_VARIABLE)
        else "Django has no settings (DJANGO_SETTINGS_MODULE is not set)"
    )
    raise StepLoadError(
        f"lettuce.django's steps need a Django project, and {why}: "
        "these features are not being run by 'manage.py harvest'",
        hint="Run them from the project's directory: python manage.py harvest [PATHS].",
    )


require_django()
