"""The shop suite's shared set-up: every scenario starts with empty tables, and each
``@browser`` scenario with a clean headless Chromium on this worker's own server.

The browser (``parallel_bdd.contrib.selenium``) is opened by the first ``@browser``
scenario a worker runs, so a run without one (``-t -browser``) never starts Chromium, and
closed with the worker's batch. A failing ``@browser`` scenario leaves a screenshot and the
page source in the artifacts directory, listed under the failure.
"""

from lettuce import after, before, world
from lettuce.django import django_url
from lettuce.django.steps.models import clean_db

from parallel_bdd import scenario
from parallel_bdd.contrib.selenium import safe_file_name, start_chromium

# Explicit waits give up after this long: generous, as CI machines are often busy.
BROWSER_TIMEOUT = 10.0

before.each_scenario(clean_db)


@before.each_scenario
def clean_browser(this_scenario):
    if "browser" not in (this_scenario.tags or ()):
        return
    if getattr(world, "browser", None) is None:
        world.browser = start_chromium(base_url=django_url("/"), timeout=BROWSER_TIMEOUT)
    else:
        world.browser.reset()


@after.each_scenario
def keep_browser_evidence(this_scenario):
    browser = getattr(world, "browser", None)
    if browser is None or not this_scenario.failed or "browser" not in this_scenario.tags:
        return
    name = safe_file_name(f"{this_scenario.name}-w{getattr(world, 'worker_id', 0)}")
    directory = getattr(world, "artifacts_dir", None) or "pbdd-artifacts"
    for path in browser.save_failure_artifacts(directory, name):
        scenario.attach(path)


@after.batch
def close_browser():
    browser = world.spew("browser")
    if browser is not None:
        browser.quit()
