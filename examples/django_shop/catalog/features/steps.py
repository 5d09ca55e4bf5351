"""Steps of the catalog features: pages fetched from this worker's server."""

from urllib.request import urlopen

import lettuce.django.steps.models  # noqa: F401  (I have products in the database: ...)
from lettuce import step, world
from lettuce.django import django_url


@step(r"I open the product list")
def open_product_list(step):
    with urlopen(django_url("/products/"), timeout=30) as response:
        world.page = response.read().decode("utf-8")


@step(r'the page lists "([^"]*)"')
def page_lists(step, text):
    assert text in world.page, f"{text!r} is not on the page:\n{world.page}"
