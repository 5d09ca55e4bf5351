"""End-to-end: ``--junit-xml`` validates against the Jenkins JUnit schema (``junit-10.xsd``, the
one pytest's ``xunit2`` output is checked against), read with a real validator (``xmlschema``);
``--junit-family pbdd`` is that report plus the extras the schema has no place for.

The schema is third-party and not kept in this repository: the ``junit_schema`` fixture takes
it from pytest's source distribution on PyPI once and keeps it in pytest's cache directory.
Without a network, the tests are skipped, or fail when ``CI`` is set.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema

PYTEST_SDIST = "pytest==8.3.4"  # any sdist with testing/example_scripts/junit-10.xsd
SCHEMA_MEMBER = "testing/example_scripts/junit-10.xsd"

FEATURE = """
Feature: Checkout
  Scenario: pays
    Given I pay with output and a receipt
  Scenario: the till jams
    Given the till jams
  Scenario: the worker dies
    Given the worker dies
  Scenario: nobody taught me
    Given I juggle
  Scenario: the card reader wakes up
    Given the card reader works on the second try
"""
STEPS = """
import logging, os, pathlib, sys
from parallel_bdd import scenario, step

@step("I pay with output and a receipt")
def pay(step):
    print("paid <5> & thanked")
    print("a note", file=sys.stderr)
    logging.getLogger("till").warning("receipt printed")
    receipt = pathlib.Path("receipts/receipt.png").resolve()
    receipt.parent.mkdir(exist_ok=True)
    receipt.write_bytes(b"png")
    scenario.attach(receipt)

@step("the till jams")
def jams(step):
    assert False, "jammed at <total> & stuck"

@step("the worker dies")
def dies(step):
    os._exit(3)

@step("the card reader works on the second try")
def reader(step):
    tries = pathlib.Path("reader-tries")
    count = int(tries.read_text()) if tries.exists() else 0
    tries.write_text(str(count + 1))
    print(f"try {count + 1}")
    assert count >= 1, "card reader asleep"
"""
# What --junit-family pbdd adds to the schema-valid report: attributes by element, and
# <properties> inside <testcase>.
RICH_ATTRIBUTES = {"testsuites": ("skipped", "timestamp"), "testcase": ("file", "line")}


def _download_schema(target: Path) -> None:
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
            + ["--no-binary", ":all:", PYTEST_SDIST, "-d", download],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        (sdist,) = Path(download).glob("pytest-*.tar.gz")
        with tarfile.open(sdist) as archive:
            member = archive.extractfile(f"{sdist.name.removesuffix('.tar.gz')}/{SCHEMA_MEMBER}")
            assert member is not None
            partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            partial.write_bytes(member.read())
    partial.replace(target)


@pytest.fixture(scope="session")
def junit_schema(request: pytest.FixtureRequest, tmp_path_factory: Any) -> xmlschema.XMLSchema:
    cache = getattr(request.config, "cache", None)
    directory = cache.mkdir("junit-10-xsd") if cache else tmp_path_factory.mktemp("xsd")
    path = Path(directory) / "junit-10.xsd"
    if not path.is_file():
        try:
            _download_schema(path)
        except subprocess.CalledProcessError as error:
            last_line = (error.stderr.strip().splitlines() or ["no output"])[-1]
            _unavailable(f"pip download {PYTEST_SDIST} failed: {last_line}")
        except (OSError, subprocess.SubprocessError, KeyError, ValueError, tarfile.TarError) as e:
            _unavailable(f"could not get {SCHEMA_MEMBER} from the {PYTEST_SDIST} sdist: {e}")
    return xmlschema.XMLSchema(str(path))


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"junit-10.xsd is needed on CI: {reason}")
    pytest.skip(f"junit-10.xsd not available (no network?): {reason}")


def _errors(schema: xmlschema.XMLSchema, path: Path) -> list[str]:
    return [f"{error.path}: {error.reason}" for error in schema.iter_errors(str(path))]


def _checkout_suite(suite: Any) -> None:
    suite.feature("checkout.feature", FEATURE)
    suite.steps(STEPS)


def _cases(path: Path) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in ET.parse(path).getroot().iter("testcase")}


def _tags(case: ET.Element) -> list[str]:
    return [child.tag for child in case]


def test_default_junit_xml_validates_against_the_jenkins_junit_schema(suite, junit_schema):
    _checkout_suite(suite)
    run = suite.run("features", "-p", "2", "--retry", "1", "--junit-xml", "out.xml", "--no-history")
    assert run.returncode == 1, run.output
    report = suite.root / "out.xml"
    assert _errors(junit_schema, report) == []

    root = ET.parse(report).getroot()
    assert set(root.attrib) == {"name", "tests", "failures", "errors", "time"}
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "2", "1")
    cases = _cases(report)
    assert list(cases) == [
        "pays",
        "the till jams",
        "the worker dies",
        "nobody taught me",
        "the card reader wakes up",
    ]
    assert all(set(case.attrib) == {"classname", "name", "time"} for case in cases.values())
    assert not root.findall(".//properties")
    assert _tags(cases["pays"]) == ["system-out", "system-err"]
    pays_out = cases["pays"].findtext("system-out", "")
    assert "paid <5> & thanked" in pays_out
    assert "receipt printed" in pays_out
    assert f"[[ATTACHMENT|{suite.root / 'receipts' / 'receipt.png'}]]" in pays_out
    assert "a note" in cases["pays"].findtext("system-err", "")
    assert _tags(cases["the till jams"])[:2] == ["failure", "rerunFailure"]
    assert _tags(cases["the worker dies"])[:2] == ["error", "rerunError"]
    assert cases["nobody taught me"].find("failure").get("type") == "undefined"
    assert _tags(cases["the card reader wakes up"]) == ["flakyFailure", "system-out"]
    assert cases["the card reader wakes up"].findtext("system-out", "").strip() == "try 2"


def test_default_junit_xml_with_scenarios_not_run_validates(suite, junit_schema):
    _checkout_suite(suite)
    run = suite.run("features", "--failfast", "--junit-xml", "out.xml", "--no-history")
    assert run.returncode == 1, run.output
    report = suite.root / "out.xml"
    assert _errors(junit_schema, report) == []
    cases = _cases(report)
    assert cases["pays"].find("failure") is None
    assert cases["the till jams"].find("failure") is not None
    for name in ("the worker dies", "nobody taught me", "the card reader wakes up"):
        assert cases[name].find("skipped").get("message") == "not run"
    assert ET.parse(report).getroot().find("testsuite").get("skipped") == "3"


def test_junit_family_pbdd_is_the_schema_valid_report_plus_locations_and_properties(
    suite, junit_schema
):
    _checkout_suite(suite)
    suite.write("pyproject.toml", '[tool.pbdd]\njunit_family = "pbdd"\n')
    run = suite.run(
        "features", "-p", "2", "--retry", "1", "--junit-xml", "rich.xml", "--no-history"
    )
    assert run.returncode == 1, run.output
    rich = suite.root / "rich.xml"
    assert _errors(junit_schema, rich) != []  # what the option is for: more than the schema

    tree = ET.parse(rich)
    root = tree.getroot()
    assert root.get("skipped") == "0" and root.get("timestamp")
    cases = _cases(rich)
    pays = cases["pays"]
    assert (pays.get("file"), pays.get("line")) == ("features/checkout.feature", "2")
    properties = {p.get("name"): p.get("value") for p in pays.iter("property")}
    assert properties["scenario_id"] == "features/checkout.feature::pays"
    assert properties["status"] == "passed"
    flaky = cases["the card reader wakes up"]
    assert {p.get("name"): p.get("value") for p in flaky.iter("property")}["flaky"] == "true"

    # without the extras, the rich report is a valid one
    for element in root.iter():
        for attribute in RICH_ATTRIBUTES.get(element.tag, ()):
            element.attrib.pop(attribute, None)
        if element.tag == "testcase":
            for properties_element in element.findall("properties"):
                element.remove(properties_element)
    stripped = suite.root / "stripped.xml"
    tree.write(stripped, encoding="utf-8", xml_declaration=True)
    assert _errors(junit_schema, stripped) == []


def test_junit_family_on_the_command_line_wins_and_unknown_ones_are_refused(suite):
    _checkout_suite(suite)
    suite.write("pyproject.toml", '[tool.pbdd]\njunit_family = "pbdd"\n')
    run = suite.run(
        "features/checkout.feature:2", "--junit-xml", "out.xml", "--junit-family", "xunit2"
    )
    assert run.returncode == 0, run.output
    (case,) = _cases(suite.root / "out.xml").values()
    assert "line" not in case.attrib and case.find("properties") is None

    bad = suite.run("features", "--junit-xml", "out.xml", "--junit-family", "xunit1")
    assert bad.returncode == 2
    assert "'xunit1' is not one of 'xunit2', 'pbdd'" in bad.stderr
