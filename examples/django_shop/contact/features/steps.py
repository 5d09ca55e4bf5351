"""Steps of the contact features: the page in this worker's browser (``world.browser``,
opened by ``terrain.py`` for ``@browser`` scenarios) on this worker's server."""

import lettuce.django.steps.mail  # noqa: F401  (I have sent 1 email, ...)
from lettuce import step, world


@step(r"I open the contact page in the browser")
def open_contact_page(step):
    world.browser.visit("/contact/")
    world.browser.wait_visible("form#contact")


@step(r"I fill in the contact form with:")
def fill_in_contact_form(step):
    for row in step.hashes:
        world.browser.fill(f"#id_{row['field']}", row["value"])


@step(r"I send the contact form")
def send_contact_form(step):
    world.browser.click("form#contact button[type=submit]")


@step(r'the browser shows "([^"]*)"')
def browser_shows(step, text):
    world.browser.wait_text("main", text)
