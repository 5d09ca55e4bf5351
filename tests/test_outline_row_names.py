"""End-to-end: the rows of a Scenario Outline are told apart by their values in every report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

FEATURE = """
Feature: Stock labels
  Scenario Outline: The shop tells customers how many are left
    Given I have <stock> jackets in <colour>
    Then the label says "<label>"

    Examples:
      | stock | colour | label                                               |
      | 0     | red    | Out of stock                                        |
      | 1     | green  | Only 1 left                                         |
      | 7     | blue   | 7 in stock, and many more on their way to the store |

  Scenario Outline: Jackets in <colour>
    Given I have 1 jackets in <colour>

    Examples:
      | colour |
      | red    |
      | green  |
"""
STEPS = """
from parallel_bdd import step, world

@step(r"I have (\\d+) jackets in (\\w+)")
def have(step, stock, colour):
    world.stock = int(stock)

@step(r'the label says "(.*)"')
def label(step, text):
    expected = "Out of stock" if world.stock == 0 else f"Only {world.stock} left"
    assert text == expected, f"{text!r} is not {expected!r}"
"""
OUTLINE = "The shop tells customers how many are left"
LONG_ROW = "[7, blue, 7 in stock, and many mo…]"  # a value is cut at 24 characters


def test_outline_rows_show_their_values_in_console_junit_and_cucumber_json(suite):
    suite.feature("labels.feature", FEATURE)
    suite.steps(STEPS)
    run = suite.run(
        "features",
        "-p",
        "2",
        "-v",
        "2",
        "--junit-xml",
        "junit.xml",
        "--cucumber-json",
        "cucumber.json",
    )
    assert run.returncode == 1, run.output

    assert f"{OUTLINE} [0, red, Out of stock] ... OK (" in run.stdout
    assert f"{OUTLINE} [1, green, Only 1 left] ... OK (" in run.stdout
    assert f"{OUTLINE} {LONG_ROW} ... FAILED (" in run.stdout
    # a name with <placeholders> is told apart by them already, as cucumber names it
    assert "Jackets in red ... OK (" in run.stdout
    assert "Jackets in green ... OK (" in run.stdout
    assert "Jackets in red [" not in run.stdout
    # the failure's details and the closing list name the row too
    row = f"Scenario Outline: {OUTLINE} {LONG_ROW}  # features/labels.feature:10"
    assert f"FAILED: {row}" in run.stdout
    assert f"  {row}" in run.stdout.split("List of failed scenarios:")[1]

    expected_names = [
        f"{OUTLINE} [0, red, Out of stock]",
        f"{OUTLINE} [1, green, Only 1 left]",
        f"{OUTLINE} {LONG_ROW}",
        "Jackets in red",
        "Jackets in green",
    ]
    cases = ET.parse(suite.root / "junit.xml").getroot().iter("testcase")
    assert [case.get("name") for case in cases] == expected_names

    (feature,) = json.loads((suite.root / "cucumber.json").read_text())
    scenarios = [element for element in feature["elements"] if element["type"] == "scenario"]
    assert [element["name"] for element in scenarios] == expected_names
    assert scenarios[0]["id"] == "stock-labels;the-shop-tells-customers-how-many-are-left;;2"

    # the history stays keyed by scenario id, not by the shown name
    history = json.loads((suite.root / ".scenarios").read_text())["scenarios"]
    assert f"features/labels.feature::{OUTLINE}::3" in history
    assert "features/labels.feature::Jackets in <colour>::2" in history
