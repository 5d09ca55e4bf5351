"""The JUnit XML and Cucumber JSON reports, read back by the tools CI servers use.

Records are built by hand (no run): a feature with a Background and passing, failing,
undefined and ambiguous scenarios; a second feature with an errored, a not-run, a flaky
outline row (attempt 2 passed) and a scenario that failed on both attempts. JUnit XML (the
``pbdd`` family, whose extras these tests read; ``test_junit_schema.py`` checks the default
one against the schema) is read with ``junitparser``; Cucumber JSON with two npm tools installed under ``tests/consumers``
(``npm ci --prefix tests/consumers``): Cucumber's own ``@cucumber/cucumber-json-converter``
(schema validation) and ``multiple-cucumber-html-reporter`` (an HTML report and its counts).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from junitparser import JUnitXml, xunit2

from parallel_bdd.messages import (
    AMBIGUOUS,
    ERRORED,
    FAILED,
    NOT_RUN,
    PASSED,
    SKIPPED,
    UNDEFINED,
    FeatureData,
    ScenarioResult,
    StepData,
    StepResult,
    WorkItem,
)
from parallel_bdd.reporting.cucumber_json import write_cucumber_json
from parallel_bdd.reporting.junit import write_junit_xml, xml_safe

CONSUMERS = Path(__file__).parent / "consumers"

# A 1x1 transparent PNG.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
NASTY_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "features/steps.py", line 12, in check_total\n'
    "    assert total < 4 & ok\n"
    "AssertionError: \x1b[31mexpected <4> & got 5\x1b[0m\x00 done\n"
)

RETURNS = FeatureData(
    path="features/returns.feature",
    name="Returns go to stock",
    line=2,
    description="  Returned items are sold again.",
    tags=("returns",),
    background_name="an open store",
    background_line=5,
)
STOCK = FeatureData(path="features/stock/levels.feature", name="Stock levels", line=1)
BACKGROUND = StepData("Given ", "the store is open", 6, in_background=True)


def _item(feature: FeatureData, name: str, line: int, *steps: StepData, **extra: Any) -> WorkItem:
    scenario_id = f"{feature.path}::{name}"
    if extra.get("outline_index", -1) >= 0:
        scenario_id += f"::{extra['outline_index']}"
    tags = (*feature.tags, *extra.pop("tags", ()))
    return WorkItem(
        scenario_id=scenario_id,
        feature=feature,
        name=name,
        line=line,
        tags=tags,
        steps=steps,
        scenario_line=extra.pop("scenario_line", line),
        **extra,
    )


def _ran(data: StepData, status: str = PASSED, **extra: Any) -> StepResult:
    return StepResult(
        keyword=data.keyword,
        text=data.text,
        line=data.line,
        status=status,
        duration=extra.pop("duration", 0.25),
        definition=extra.pop("definition", "features/steps.py:3"),
        in_background=data.in_background,
        table=data.table,
        doc_string=data.doc_string,
        **extra,
    )


def _records(tmp_path: Path) -> list[tuple[WorkItem, ScenarioResult]]:
    screenshot = tmp_path / "shots" / "broken-till.png"
    screenshot.parent.mkdir()
    screenshot.write_bytes(TINY_PNG)
    page_source = tmp_path / "shots" / "broken-till.html"
    page_source.write_text("<html><script>alert(1)</script></html>")

    refund = (
        BACKGROUND,
        StepData("When ", "I return a kettle", 10, table=(("item", "qty"), ("kettle", "1"))),
        StepData(
            "Then ", "the stock has 4 kettles", 11, doc_string="4 kettles", doc_string_type="txt"
        ),
    )
    passing = _item(RETURNS, "Refund a returned item", 9, *refund, tags=("smoke",))
    till = (
        BACKGROUND,
        StepData("When ", "I open the till", 14),
        StepData("Then ", "it adds up", 15),
    )
    failing = _item(RETURNS, "Broken till", 13, *till)
    unknown = (BACKGROUND, StepData("When ", "I juggle", 18), StepData("Then ", "nothing", 19))
    undefined = _item(RETURNS, "Unknown step", 17, *unknown)
    twice = (BACKGROUND, StepData("When ", "I count twice", 22))
    ambiguous = _item(RETURNS, "Two definitions", 21, *twice)

    slow = (StepData("Given ", "a slow supplier", 4), StepData("When ", "I wait for it", 5))
    errored = _item(STOCK, "Supplier times out", 3, *slow)
    never = _item(STOCK, "Never dispatched", 7, StepData("Given ", "nothing", 8))
    restock = StepData("When ", "I restock 3 items", 12, original_text="I restock <n> items")
    row1 = _item(
        STOCK,
        "Restock 3 items",
        20,
        restock,
        keyword="Scenario Outline",
        scenario_line=11,
        template_name="Restock <n> items",
        outline_keys=("n",),
        outline_values=("3",),
        outline_index=0,
    )
    restock5 = StepData("When ", "I restock 5 items", 12, original_text="I restock <n> items")
    row2 = _item(
        STOCK,
        "Restock 5 items",
        21,
        restock5,
        keyword="Scenario Outline",
        scenario_line=11,
        template_name="Restock <n> items",
        outline_keys=("n",),
        outline_values=("5",),
        outline_index=1,
    )
    doomed = _item(STOCK, "Always broken", 24, StepData("Then ", "it breaks", 25))

    return [
        (
            passing,
            ScenarioResult(
                passing.scenario_id,
                PASSED,
                steps=tuple(_ran(step) for step in refund),
                duration=0.8,
                started_at=1_700_000_000.0,
                worker_id=0,
                stdout="hello from the till\n",
                log="INFO store: kettle restocked\n",
            ),
        ),
        (
            failing,
            ScenarioResult(
                failing.scenario_id,
                FAILED,
                steps=(
                    _ran(till[0]),
                    _ran(
                        till[1],
                        FAILED,
                        error="AssertionError: expected <4> & got 5",
                        traceback=NASTY_TRACEBACK,
                    ),
                    _ran(till[2], SKIPPED, duration=0.0),
                ),
                duration=1.5,
                started_at=1_700_000_001.0,
                worker_id=1,
                stderr="warning: \x1b[33mlow paper\x1b[0m\n",
                artifacts=(str(screenshot), str(page_source)),
            ),
        ),
        (
            undefined,
            ScenarioResult(
                undefined.scenario_id,
                UNDEFINED,
                steps=(
                    _ran(unknown[0]),
                    _ran(unknown[1], UNDEFINED, definition="", duration=0.0),
                    _ran(unknown[2], SKIPPED, definition="", duration=0.0),
                ),
                duration=0.3,
                worker_id=0,
            ),
        ),
        (
            ambiguous,
            ScenarioResult(
                ambiguous.scenario_id,
                AMBIGUOUS,
                steps=(
                    _ran(twice[0]),
                    _ran(
                        twice[1],
                        AMBIGUOUS,
                        definition="",
                        error="2 definitions match",
                        candidates=("I count (.*)  # steps.py:7", "I count twice  # steps.py:9"),
                    ),
                ),
                duration=0.2,
                worker_id=1,
            ),
        ),
        (
            errored,
            ScenarioResult(
                errored.scenario_id,
                ERRORED,
                steps=(_ran(slow[0], duration=0.5),),
                duration=30.5,
                worker_id=1,
                error="TimeoutError: scenario exceeded --timeout 30s",
                error_traceback=(
                    '  File "features/steps.py", line 40, in wait\n    time.sleep(60)\n'
                ),
            ),
        ),
        (never, ScenarioResult(never.scenario_id, NOT_RUN)),
        (
            row1,
            ScenarioResult(
                row1.scenario_id, PASSED, steps=(_ran(restock),), duration=0.1, worker_id=0
            ),
        ),
        (
            row2,
            ScenarioResult(
                row2.scenario_id,
                FAILED,
                steps=(_ran(restock5, FAILED, error="ValueError: shelf full", traceback="tb1"),),
                duration=0.4,
                worker_id=0,
                stdout="first try\n",
            ),
        ),
        (
            doomed,
            ScenarioResult(
                doomed.scenario_id,
                FAILED,
                steps=(_ran(doomed.steps[0], FAILED, error="RuntimeError: one", traceback="tb-a"),),
                duration=0.2,
                worker_id=1,
            ),
        ),
        # Retries come back at the end, after the first pass over the queue.
        (
            row2,
            ScenarioResult(
                row2.scenario_id,
                PASSED,
                steps=(_ran(restock5),),
                duration=0.3,
                worker_id=1,
                attempt=2,
                stdout="second try\n",
            ),
        ),
        (
            doomed,
            ScenarioResult(
                doomed.scenario_id,
                FAILED,
                steps=(_ran(doomed.steps[0], FAILED, error="RuntimeError: two", traceback="tb-b"),),
                duration=0.2,
                worker_id=0,
                attempt=2,
            ),
        ),
    ]


# --------------------------------------------------------------------------- JUnit XML


@pytest.fixture
def junit_report(tmp_path: Path) -> Path:
    path = tmp_path / "reports" / "nested" / "junit.xml"
    write_junit_xml(
        path, _records(tmp_path), wall_time=12.5, suite_name="store suite", family="pbdd"
    )
    return path


def _cases(suite: Any) -> dict[str, Any]:
    return {case.name: case for case in suite}


def _properties(case: xunit2.TestCase) -> dict[str, str]:
    return {prop.name: prop.value for prop in case.properties()}


def test_junit_counts_one_suite_per_feature_one_case_per_scenario(junit_report: Path) -> None:
    xml = JUnitXml.fromfile(str(junit_report))
    assert xml.name == "store suite"
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (9, 4, 1, 1)
    assert xml.time == pytest.approx(12.5)

    returns, stock = list(xml)
    assert (returns.name, returns.tests, returns.failures, returns.errors, returns.skipped) == (
        "Returns go to stock",
        4,
        3,
        0,
        0,
    )
    assert (stock.name, stock.tests, stock.failures, stock.errors, stock.skipped) == (
        "Stock levels",
        5,
        1,
        1,
        1,
    )
    assert returns.time == pytest.approx(0.8 + 1.5 + 0.3 + 0.2)
    assert [case.name for case in returns] == [
        "Refund a returned item",
        "Broken till",
        "Unknown step",
        "Two definitions",
    ]
    assert [case.name for case in stock] == [
        "Supplier times out",
        "Never dispatched",
        "Restock 3 items",
        "Restock 5 items",
        "Always broken",
    ]
    assert {case.classname for case in returns} == {"Returns go to stock"}
    assert {case.classname for case in stock} == {"Stock levels"}


def test_junit_case_attributes_output_and_properties(junit_report: Path) -> None:
    returns = next(iter(xunit2.JUnitXml.fromfile(str(junit_report))))
    cases = _cases(returns)
    passing = cases["Refund a returned item"]
    assert passing.is_passed
    assert passing._elem.get("file") == "features/returns.feature"
    assert passing._elem.get("line") == "9"
    assert passing.time == pytest.approx(0.8)
    assert "hello from the till" in passing.system_out
    assert "INFO store: kettle restocked" in passing.system_out
    assert _properties(passing) == {
        "scenario_id": "features/returns.feature::Refund a returned item",
        "status": "passed",
        "worker_id": "0",
        "attempt": "1",
        "attempts": "1",
        "tags": "@returns @smoke",
    }


def test_junit_failure_carries_step_location_and_escaped_traceback(
    junit_report: Path, tmp_path: Path
) -> None:
    raw = junit_report.read_bytes()
    assert b"\x1b" not in raw and b"\x00" not in raw
    ET.fromstring(raw)  # well-formed despite <, & and control characters in the traceback

    cases = _cases(next(iter(JUnitXml.fromfile(str(junit_report)))))
    (failure,) = cases["Broken till"].result
    assert failure._tag == "failure"
    assert failure.message == "AssertionError: expected <4> & got 5"
    assert failure.type == "AssertionError"
    assert "Step: When I open the till" in failure.text
    assert "At: features/returns.feature:14" in failure.text
    assert "assert total < 4 & ok" in failure.text
    assert "AssertionError: expected <4> & got 5 done" in failure.text
    assert "warning: low paper" in cases["Broken till"].system_err
    out = cases["Broken till"].system_out
    assert f"[[ATTACHMENT|{tmp_path / 'shots' / 'broken-till.png'}]]" in out

    (undefined,) = cases["Unknown step"].result
    assert (undefined.type, undefined.message) == ("undefined", "Undefined step: When I juggle")
    (ambiguous,) = cases["Two definitions"].result
    assert ambiguous.type == "ambiguous"
    assert "I count twice  # steps.py:9" in ambiguous.text


def test_junit_errored_not_run_and_retries(junit_report: Path) -> None:
    stock = list(xunit2.JUnitXml.fromfile(str(junit_report)))[1]
    cases = _cases(stock)

    (error,) = cases["Supplier times out"].result
    assert error._tag == "error"
    assert error.type == "TimeoutError"
    assert error.message == "TimeoutError: scenario exceeded --timeout 30s"
    assert "time.sleep(60)" in error.text

    (skipped,) = cases["Never dispatched"].result
    assert skipped._tag == "skipped" and skipped.message == "not run"

    flaky = cases["Restock 5 items"]
    assert flaky.is_passed and flaky.is_flaky and not flaky.is_rerun
    assert flaky.time == pytest.approx(0.7)
    (earlier,) = flaky.flaky_failures()
    assert earlier.message == "attempt 1: ValueError: shelf full"
    assert "tb1" in earlier.stack_trace
    assert earlier.system_out.strip() == "first try"
    assert flaky.system_out.strip() == "second try"
    assert _properties(flaky)["flaky"] == "true"
    assert _properties(flaky)["attempt"] == "2"
    assert _properties(flaky)["worker_id"] == "1"

    doomed = cases["Always broken"]
    assert doomed.is_failure and doomed.is_rerun and not doomed.is_flaky
    assert doomed.result[0].message == "RuntimeError: two"
    assert [r.message for r in doomed.rerun_failures()] == ["attempt 1: RuntimeError: one"]
    assert "flaky" not in _properties(doomed)


def test_junit_outline_rows_without_placeholders_in_name_show_their_values(
    tmp_path: Path,
) -> None:
    steps = (StepData("Given ", "x", 5),)
    rows = [
        _item(
            STOCK,
            "Restock",
            8 + i,
            *steps,
            template_name="Restock",
            outline_keys=("count", "colour"),
            outline_values=(str(3 + i), "red"),
            outline_index=i,
        )
        for i in range(2)
    ]
    records = [(row, ScenarioResult(row.scenario_id, PASSED)) for row in rows]
    write_junit_xml(tmp_path / "j.xml", records, wall_time=1.0)
    suite = next(iter(JUnitXml.fromfile(str(tmp_path / "j.xml"))))
    assert [case.name for case in suite] == ["Restock [3, red]", "Restock [4, red]"]


def test_reports_are_written_atomically_and_replace_old_ones(tmp_path: Path) -> None:
    records = _records(tmp_path)
    target = tmp_path / "out"
    for _ in range(2):
        write_junit_xml(target / "junit.xml", records, wall_time=1.0)
        write_cucumber_json(target / "cucumber.json", records)
    assert sorted(p.name for p in target.iterdir()) == ["cucumber.json", "junit.xml"]

    write_junit_xml(target / "junit.xml", [], wall_time=0.0)
    write_cucumber_json(target / "cucumber.json", [])
    assert JUnitXml.fromfile(str(target / "junit.xml")).tests == 0
    assert json.loads((target / "cucumber.json").read_text()) == []


def test_xml_safe_drops_ansi_and_forbidden_characters() -> None:
    assert xml_safe("a\x1b[31mred\x1b[0m\x00\x08b\tc\n\ufffe\ud800 é 🥒") == "aredb\tc\n é 🥒"
    assert xml_safe("\x1b]0;title\x07x\x1bcy") == "xy"


def test_junit_keeps_quotes_markup_and_whitespace_in_names_and_output(tmp_path: Path) -> None:
    feature = FeatureData(path="features/odd <names>.feature", name='The "odd" & <rare>', line=1)
    name = 'Pay 5 > 4 & say "it\'s"\tdone\r\nnow'
    item = _item(feature, name, 3, StepData("Given ", "x", 4))
    stdout = "<b>bold</b> & 'quoted' \"text\"\n\tindented\n"
    records = [(item, ScenarioResult(item.scenario_id, PASSED, stdout=stdout, worker_id=0))]
    write_junit_xml(tmp_path / "j.xml", records, wall_time=1.0, family="pbdd")

    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("name"), suite.get("file")) == (feature.name, feature.path)
    case = suite.find("testcase")
    assert case is not None
    assert case.get("name") == name  # tab, CR and LF survive as character references
    assert case.get("classname") == feature.name
    assert case.findtext("system-out") == stdout
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["scenario_id"] == item.scenario_id
    assert properties["status"] == PASSED
    assert properties["worker_id"] == "0"


# ---------------------------------------------------------------------- Cucumber JSON


@pytest.fixture
def cucumber_report(tmp_path: Path) -> Path:
    path = tmp_path / "reports" / "cucumber.json"
    write_cucumber_json(path, _records(tmp_path))
    return path


def _elements(features: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Scenario elements by (feature name, scenario name)."""
    return {
        (feature["name"], element["name"]): element
        for feature in features
        for element in feature["elements"]
        if element["type"] == "scenario"
    }


def _statuses(element: dict[str, Any]) -> list[str]:
    return [step["result"]["status"] for step in element["steps"]]


def test_cucumber_json_features_elements_and_ids(cucumber_report: Path) -> None:
    returns, stock = json.loads(cucumber_report.read_text())
    assert {key: returns[key] for key in ("uri", "id", "keyword", "name", "line")} == {
        "uri": "features/returns.feature",
        "id": "returns-go-to-stock",
        "keyword": "Feature",
        "name": "Returns go to stock",
        "line": 2,
    }
    assert returns["description"] == "  Returned items are sold again."
    assert returns["tags"] == [{"name": "@returns", "line": 1}]
    # cucumber-ruby/jvm shape: the background element before each scenario element.
    assert [e["type"] for e in returns["elements"]] == ["background", "scenario"] * 4
    background, refund = returns["elements"][:2]
    assert background["name"] == "an open store" and background["line"] == 5
    assert [step["name"] for step in background["steps"]] == ["the store is open"]
    assert refund["id"] == "returns-go-to-stock;refund-a-returned-item"
    assert refund["tags"] == [{"name": "@returns", "line": 1}, {"name": "@smoke", "line": 8}]
    assert refund["start_timestamp"] == "2023-11-14T22:13:20.000Z"
    when, then = refund["steps"]
    assert when["keyword"] == "When " and when["line"] == 10
    assert when["match"] == {"location": "features/steps.py:3"}
    assert when["result"] == {"status": "passed", "duration": 250_000_000}
    assert when["rows"] == [{"cells": ["item", "qty"]}, {"cells": ["kettle", "1"]}]
    assert then["doc_string"] == {"value": "4 kettles", "line": 12, "content_type": "txt"}

    assert [e["type"] for e in stock["elements"]] == ["scenario"] * 5
    row = _elements([stock])[("Stock levels", "Restock 3 items")]
    assert row["id"] == "stock-levels;restock-<n>-items;;2"
    assert row["keyword"] == "Scenario Outline" and row["line"] == 20


def test_cucumber_json_statuses_errors_and_embeddings(cucumber_report: Path) -> None:
    elements = _elements(json.loads(cucumber_report.read_text()))
    broken = elements[("Returns go to stock", "Broken till")]
    assert _statuses(broken) == [FAILED, SKIPPED]
    failed_step = broken["steps"][0]
    assert "assert total < 4 & ok" in failed_step["result"]["error_message"]
    assert "\x1b" not in failed_step["result"]["error_message"]
    assert "\x00" not in failed_step["result"]["error_message"]
    # Artifacts land on the step that failed: the screenshot as itself, the page source
    # as a note naming its file (never rendered as HTML).
    png, html = failed_step["embeddings"]
    assert png["mime_type"] == "image/png" and base64.b64decode(png["data"]) == TINY_PNG
    assert html["mime_type"] == "text/plain"
    assert base64.b64decode(html["data"]).decode().endswith("shots/broken-till.html")

    assert _statuses(elements[("Returns go to stock", "Unknown step")]) == [UNDEFINED, SKIPPED]
    ambiguous = elements[("Returns go to stock", "Two definitions")]["steps"][0]
    assert ambiguous["result"]["status"] == AMBIGUOUS
    assert "steps.py:9" in ambiguous["result"]["error_message"]
    assert ambiguous["match"] == {"location": "features/returns.feature:22"}

    timeout = elements[("Stock levels", "Supplier times out")]
    assert _statuses(timeout) == [PASSED, SKIPPED]
    (hook,) = timeout["after"]
    assert hook["result"]["status"] == FAILED
    assert hook["result"]["duration"] == 30_000_000_000
    assert "exceeded --timeout 30s" in hook["result"]["error_message"]
    assert hook["match"] == {"location": "features/steps.py:40"}

    assert _statuses(elements[("Stock levels", "Never dispatched")]) == [SKIPPED]


def test_cucumber_json_reports_the_last_attempt_and_tags_flaky(cucumber_report: Path) -> None:
    stock = json.loads(cucumber_report.read_text())[1]
    names = [element["name"] for element in stock["elements"]]
    assert names.count("Restock 5 items") == 1 and names.count("Always broken") == 1
    elements = _elements([stock])
    flaky = elements[("Stock levels", "Restock 5 items")]
    assert _statuses(flaky) == [PASSED]
    assert {"name": "@flaky", "line": 10} in flaky["tags"]
    assert flaky["description"] == "Attempt 1: failed (ValueError: shelf full)\nAttempt 2: passed"
    doomed = elements[("Stock levels", "Always broken")]
    assert _statuses(doomed) == [FAILED]
    assert "tb-b" in doomed["steps"][0]["result"]["error_message"]
    assert all(tag["name"] != "@flaky" for tag in doomed["tags"])


def test_cucumber_json_not_run_scenario_without_results_lists_its_steps(tmp_path: Path) -> None:
    item = _item(RETURNS, "Queued", 30, BACKGROUND, StepData("When ", "a", 31))
    write_cucumber_json(tmp_path / "c.json", [(item, ScenarioResult(item.scenario_id, NOT_RUN))])
    (feature,) = json.loads((tmp_path / "c.json").read_text())
    background, scenario = feature["elements"]
    assert _statuses(background) == [SKIPPED] and _statuses(scenario) == [SKIPPED]


# ------------------------------------------------- third-party readers of Cucumber JSON


def _node(*args: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the Cucumber JSON consumers are npm packages")
    if not (CONSUMERS / "node_modules").is_dir():
        pytest.fail("npm packages missing: run `npm ci --prefix tests/consumers` (make install)")
    return subprocess.run(
        [node, str(CONSUMERS / "cucumber_json.js"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cucumbers_own_converter_accepts_the_report(tmp_path: Path) -> None:
    # @cucumber/cucumber-json-converter 0.0.3 validates against JSON schemas written before
    # cucumber-jvm, -js and -ruby added "ambiguous" and before its authors modelled
    # "embeddings"; both are what those formatters write, so they are left out of this
    # check and covered by the HTML reporter below.
    records = [record for record in _records(tmp_path) if record[1].status != AMBIGUOUS]
    path = tmp_path / "cucumber.json"
    write_cucumber_json(path, records)
    document = json.loads(path.read_text())
    for feature in document:
        for element in feature["elements"]:
            for step in element["steps"]:
                step.pop("embeddings", None)
    path.write_text(json.dumps(document))

    completed = _node("validate", str(path))
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert summary["implementation"] == "cucumber-ruby"
    returns, stock = summary["features"]
    assert [e["type"] for e in returns["elements"]] == ["background", "scenario"] * 3
    by_name = {e["name"]: e["statuses"] for e in stock["elements"]}
    assert by_name == {
        "Supplier times out": [PASSED, SKIPPED, FAILED],  # the errored run's after hook
        "Never dispatched": [SKIPPED],
        "Restock 3 items": [PASSED],
        "Restock 5 items": [PASSED],
        "Always broken": [FAILED],
    }


def test_multiple_cucumber_html_reporter_counts_and_shows_the_screenshot(
    cucumber_report: Path, tmp_path: Path
) -> None:
    html_dir = tmp_path / "html"
    completed = _node("html", str(cucumber_report.parent), str(html_dir))
    assert completed.returncode == 0, completed.stderr
    assert (html_dir / "index.html").is_file()

    suite = json.loads((html_dir / "enriched-output.json").read_text())
    scenarios = {key: suite["scenarios"][key] for key in ("total", "passed", "failed")}
    assert scenarios == {"total": 9, "passed": 3, "failed": 3}  # errored counts as failed
    assert suite["scenarios"]["notDefined"] == 1
    assert suite["scenarios"]["ambiguous"] == 1
    assert suite["scenarios"]["skipped"] == 1
    assert suite["featureCount"]["failed"] == 2

    pages = list((html_dir / "features").glob("*.html"))
    screenshot = "data:image/png;base64," + base64.b64encode(TINY_PNG).decode()
    assert any(screenshot in page.read_text() for page in pages)
    assert not any("<script>alert(1)</script>" in page.read_text() for page in pages)
