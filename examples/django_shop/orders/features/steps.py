"""Steps of the ordering features: the order form posted to this worker's server."""

from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import urlopen

import lettuce.django.steps.mail  # noqa: F401  (I have sent 1 email, ...)
import lettuce.django.steps.models  # noqa: F401
from lettuce import step, world
from lettuce.django import django_url


@step(r'I order (\d+) "([^"]*)" for "([^"]*)"')
def order(step, quantity, product, email):
    form = urlencode({"product": product, "quantity": quantity, "email": email}).encode()
    try:
        with urlopen(django_url("/order/"), data=form, timeout=30) as response:
            world.page = response.read().decode("utf-8")
    except HTTPError as error:  # the form with its errors comes back as 400
        world.page = error.read().decode("utf-8")


@step(r'the page says "([^"]*)"')
def page_says(step, text):
    assert text in world.page, f"{text!r} is not on the page:\n{world.page}"
