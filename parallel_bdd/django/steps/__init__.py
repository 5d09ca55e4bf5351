"""lettuce's ready-made Django steps: ``steps.models`` (rows from tables) and ``steps.mail``.

A suite imports the module whose steps it wants (``from lettuce.django.steps.models import
*`` or plainly ``import lettuce.django.steps.mail``), in any process of a harvest run.
"""
