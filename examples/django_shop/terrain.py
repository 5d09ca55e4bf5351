"""The shop suite's shared set-up: every scenario starts with empty tables."""

from lettuce import before
from lettuce.django.steps.models import clean_db

before.each_scenario(clean_db)
