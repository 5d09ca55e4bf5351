"""``--html PATH``: the self-contained HTML report, read in a real headless Chromium.

A temp suite run at ``-p 2 --retry 1`` with passes, a failure whose step attaches a PNG
screenshot and a scenario that passes on its retry; each attempt's first step writes the
scenario's name and the worker it ran on to ``ran.log``, which the timeline's lanes are
checked against. A 2,000-scenario report is built in-process from hand-made records. The
browser tests need Debian's chromium and chromium-driver (or PBDD_CHROMIUM /
PBDD_CHROMEDRIVER) and are skipped without them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from suite_helpers import Suite

from parallel_bdd.contrib import selenium as adaptor
from parallel_bdd.contrib.selenium import BrowserNotInstalled, start_chromium
from parallel_bdd.messages import (
    FAILED,
    PASSED,
    BatchSpan,
    FeatureData,
    ScenarioResult,
    StepData,
    StepResult,
    WorkItem,
)
from parallel_bdd.reporting import html as html_report
from parallel_bdd.reporting.registry import FinishedRun

try:
    adaptor.find_executables()
    HAVE_CHROMIUM = True
except BrowserNotInstalled:
    HAVE_CHROMIUM = False

needs_chromium = pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium/chromedriver not installed")

# Installed before every page's own script: the test reads what went wrong from here.
ERROR_HOOK = (
    "window.__pbddErrors = [];"
    "window.addEventListener('error', function (event) {"
    "  window.__pbddErrors.push(String(event.message || event.type)); }, true);"
)

CHECKOUT = """
Feature: Checkout
  Scenario: Add to basket
    Given "Add to basket" notes where it ran

  Scenario: Pay by <card> & "voucher"
    Given "Pay by card" notes where it ran

  @payments
  Scenario: Flaky payment
    Given "Flaky payment" notes where it ran
    And it fails the first time

  @receipts
  Scenario: Broken receipt
    Given "Broken receipt" notes where it ran
    And the receipt is checked
"""

STOCK = """
@stock
Feature: Stock
  Scenario: Count the shelves
    Given "Count the shelves" notes where it ran

  Scenario: Restock
    Given "Restock" notes where it ran

  Scenario: Order more
    Given "Order more" notes where it ran
"""

STEPS = '''
import os
import struct
import zlib

from parallel_bdd import scenario, step, world


def write_png(path, width=4, height=3):
    """A tiny valid PNG: red pixels, one filter byte per row."""
    def chunk(kind, body):
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = b"".join(b"\\x00" + b"\\xcc\\x22\\x22" * width for _ in range(height))
    with open(path, "wb") as out:
        out.write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header)
                  + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b""))


@step(r'"(.*)" notes where it ran')
def notes_where(step, name):
    descriptor = os.open("ran.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(descriptor, f"{name}\\t{world.worker_id}\\n".encode())
    os.close(descriptor)


@step("it fails the first time")
def fails_first_time(step):
    try:
        os.close(os.open("flaky.marker", os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return
    raise AssertionError("the card reader was busy")


@step("the receipt is checked")
def receipt_checked(step):
    print("printing the receipt")
    os.makedirs("shots", exist_ok=True)
    write_png("shots/receipt.png")
    scenario.attach("shots/receipt.png")
    assert 4 < 3, "receipt total <4> & not 3"
'''


@pytest.fixture(scope="module")
def browser():
    if not HAVE_CHROMIUM:
        pytest.skip("chromium/chromedriver not installed")
    browser = start_chromium(timeout=5, window_size=(1300, 1000))
    browser.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ERROR_HOOK})
    yield browser
    browser.quit()


def open_report(browser, path: Path):
    """Load the report; the page's own errors and the browser's severe log entries must
    both be empty."""
    driver = browser.driver
    driver.get_log("browser")  # drop what earlier pages left
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return window.__pbddErrors") == []
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
    return driver


def assert_nothing_fetched(driver) -> None:
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    references = driver.execute_script(
        "return Array.from(document.querySelectorAll('[src], [href]'))"
        ".map(function (node) { return node.getAttribute('src') || node.getAttribute('href'); })"
    )
    assert references, "the report has its screenshot and in-page links"
    for reference in references:
        assert not re.match(r"^[a-z][a-z0-9+.-]*:", reference) or reference.startswith("data:")


@pytest.fixture(scope="module")
def pool_run(tmp_path_factory):
    suite = Suite(tmp_path_factory.mktemp("html"))
    suite.feature("checkout.feature", CHECKOUT)
    suite.feature("stock.feature", STOCK)
    suite.steps(STEPS)
    run = suite.run("features", "-p", "2", "--html", "reports/report.html", "--retry", "1")
    assert run.returncode == 1, run.output
    return suite, run


def test_html_report_written_at_the_end_of_a_pool_run(pool_run):
    suite, run = pool_run
    page = (suite.root / "reports" / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    # the scenario's name is text, never markup, in the HTML and in the script's data
    assert "Pay by &lt;card&gt; &amp; &quot;voucher&quot;" in page
    assert "<card>" not in page
    data = page.split('<script type="application/json" id="pbdd-data">')[1].split("</script>")[0]
    assert "</" not in data
    assert json.loads(data)["scenarios"][1]["name"] == 'Pay by <card> & "voucher"'


def bars_in_the_page(driver) -> list[tuple[str, int, int]]:
    """(scenario name, attempt, lane's worker id) of every bar the timeline drew."""
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg .bar[data-bar]')).map(function (bar) {"
        "  var row = document.getElementById('scenario-' + bar.getAttribute('data-sid'));"
        "  return [row.cells[1].textContent, Number(bar.getAttribute('data-attempt')),"
        "          Number(bar.getAttribute('data-lane'))]; })"
    )
    return sorted((name, attempt, worker) for name, attempt, worker in rows)


def attempts_in_the_log(suite: Suite) -> list[tuple[str, int, int]]:
    """The same, from what each attempt's first step wrote (attempts of one scenario run
    one after the other, so their lines are in attempt order)."""
    seen: Counter[str] = Counter()
    found = []
    for line in (suite.root / "ran.log").read_text().splitlines():
        name, worker = line.split("\t")
        seen[name] += 1
        found.append((name, seen[name], int(worker)))
    return found


@pytest.mark.browser
@needs_chromium
def test_html_report_in_chromium_counts_timeline_failure_and_filter(pool_run, browser):
    suite, run = pool_run
    driver = open_report(browser, suite.root / "reports" / "report.html")
    assert_nothing_fetched(driver)

    # lettuce's counts, as the console printed them
    counts = driver.find_element("id", "counts").text.splitlines()
    assert counts == [line for line in run.stdout.splitlines() if line in counts]
    assert counts[1] == "7 scenarios (1 failed, 6 passed)"

    # one bar per attempt (7 scenarios, 2 of them twice), in the lane of its worker
    log = attempts_in_the_log(suite)
    expected = sorted(
        (name.replace("Pay by card", 'Pay by <card> & "voucher"'), attempt, worker)
        for name, attempt, worker in log
    )
    assert len(expected) == 9
    assert bars_in_the_page(driver) == expected
    lanes = driver.execute_script(
        "return Array.from(document.querySelectorAll('#timeline-lanes [data-lane]'))"
        ".map(function (lane) { return Number(lane.getAttribute('data-lane')); })"
    )
    # a lane per worker that started, whether or not a scenario came its way
    hooked = [lane for lane, hook in batch_bars(driver) if hook == "before.batch"]
    assert lanes == hooked
    assert {worker for _, _, worker in log} <= set(lanes)
    assert len(driver.find_elements("css selector", "#timeline-lanes .critical")) == 1

    # the failure, with its traceback and its screenshot
    failures = driver.find_elements("css selector", "#failures article.failure")
    assert len(failures) == 1
    failure = failures[0]
    assert "Broken receipt" in failure.find_element("tag name", "h3").text
    traceback = failure.find_element("css selector", "pre.traceback").text
    assert "Traceback (most recent call last)" in traceback
    assert "AssertionError: receipt total <4> & not 3" in traceback
    assert "printing the receipt" in failure.text
    image = failure.find_element("css selector", "img.shot")
    assert driver.execute_script("return arguments[0].naturalWidth", image) == 4
    assert "Flaky payment" in driver.find_element("id", "flaky").text

    # focusing a bar tells what it is
    driver.execute_script("document.querySelector('svg .bar[tabindex=\"0\"]').focus()")
    tip = driver.find_element("id", "tip")
    assert tip.is_displayed()
    assert re.search(r"features/\w+\.feature:\d+", tip.text)
    assert "attempt" in tip.text and ("worker" in tip.text)

    # the filter: without "passed", only the failure is left
    passed_row = driver.find_element("css selector", "#scenarios tbody tr")
    assert passed_row.is_displayed()
    driver.find_element("id", "filter-passed").click()
    rows = driver.find_elements("css selector", "#scenarios tbody tr")
    shown = [row.text for row in rows if row.is_displayed()]
    assert len(shown) == 1 and "Broken receipt" in shown[0]
    assert not passed_row.is_displayed()
    dimmed = driver.find_elements("css selector", "svg .bar.dim")
    assert len(dimmed) == 9 - 2  # every attempt but the failed scenario's two
    assert driver.find_element("id", "filter-count").text == "showing 1 of 7 scenarios"
    driver.find_element("id", "filter-reset").click()
    assert all(row.is_displayed() for row in rows)


def test_html_report_of_an_interrupted_run_lists_what_did_not_run(tmp_path):
    suite = Suite(tmp_path)
    suite.feature(
        "a.feature",
        """
        Feature: Interrupted
          Scenario: First
            Given it passes
          Scenario: Press Ctrl-C
            Given the user presses Ctrl-C
          Scenario: Third
            Given it passes
        """,
    )
    suite.steps(
        """
        import os
        import signal

        from parallel_bdd import step

        @step("it passes")
        def passes(step):
            pass

        @step("the user presses Ctrl-C")
        def ctrl_c(step):
            os.kill(os.getpid(), signal.SIGINT)
        """
    )
    suite.write("pyproject.toml", '[tool.pbdd]\nhtml = "report.html"\n')
    run = suite.run("features", "-p", "1")
    assert run.returncode == 130, run.output
    page = (suite.root / "report.html").read_text(encoding="utf-8")
    assert "<title>pbdd report: interrupted</title>" in page
    assert "Interrupted: 1 scenario not run" in page
    not_run = page.split('<section id="not-run">')[1].split("</section>")[0]
    assert "Not run (Interrupted): 1" in not_run
    assert "Third" in not_run and "First" not in not_run


# -- before.batch and after.batch on the timeline ---------------------------------------

BATCH_TERRAIN = """
import time

from parallel_bdd import after, before


@before.batch
def open_the_shop():
    time.sleep(0.2)


@after.batch
def close_the_shop():
    time.sleep(0.1)
"""

BATCH_FEATURE = """
Feature: Opening hours
  Scenario: Morning
    Given the shop is open
  Scenario: Noon
    Given the shop is open
  Scenario: Evening
    Given the shop is open
  Scenario: Night
    Given the shop is open
"""

BATCH_STEPS = """
from parallel_bdd import step

@step("the shop is open")
def shop_open(step):
    pass
"""


def batch_suite(root: Path) -> Suite:
    suite = Suite(root)
    suite.terrain(BATCH_TERRAIN)
    suite.feature("hours.feature", BATCH_FEATURE)
    suite.steps(BATCH_STEPS)
    return suite


def page_json(path: Path) -> dict:
    page = path.read_text(encoding="utf-8")
    return json.loads(page.split('id="pbdd-data">')[1].split("</script>")[0])


BATCH_BARS = "#timeline-scroll .batch"  # the legend's swatches have the class too


def batch_bars(driver, selector: str = BATCH_BARS) -> list[tuple[int, str]]:
    """(lane's worker id, hook) of every element ``selector`` finds."""
    pairs = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(function (node) {"
        "  return [Number(node.getAttribute('data-lane')), node.getAttribute('data-hook')]; })",
        selector,
    )
    return sorted((lane, hook) for lane, hook in pairs)


def zoom_until_labels_fit(driver) -> None:
    """Zoom in (the page's + button) until every batch bar is wide enough for its name."""
    for _ in range(6):  # 64 times at most, the page's own limit
        narrowest = driver.execute_script(
            "return Math.min.apply(null, Array.from(document.querySelectorAll(arguments[0]))"
            ".map(function (bar) { return bar.getBBox().width; }))",
            BATCH_BARS,
        )
        if narrowest >= 80:
            return
        driver.find_element("id", "zoom-in").click()


@pytest.mark.browser
@needs_chromium
def test_timeline_shows_each_workers_before_batch_and_after_batch_as_labelled_bars(
    tmp_path, browser
):
    suite = batch_suite(tmp_path)
    run = suite.run("features", "-p", "2", "--html", "report.html")
    assert run.returncode == 0, run.output
    driver = open_report(browser, suite.root / "report.html")

    lanes = driver.execute_script(
        "return Array.from(document.querySelectorAll('#timeline-lanes [data-lane]'))"
        ".map(function (lane) { return Number(lane.getAttribute('data-lane')); })"
    )
    assert lanes == [0, 1]
    expected = [(lane, hook) for lane in lanes for hook in ("after.batch", "before.batch")]
    assert batch_bars(driver) == expected
    # a name for the screen reader and the tooltip, whatever the bar's width
    labels = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".map(function (bar) { return bar.getAttribute('aria-label'); })",
        BATCH_BARS,
    )
    assert sorted(label.split(",")[0] for label in labels) == [
        f"{hook} on worker {lane}" for hook in ("after.batch", "before.batch") for lane in lanes
    ]
    # not scenario bars: the table's counts and the scenario bars are the four scenarios
    assert len(driver.find_elements("css selector", "svg .bar[data-bar]")) == 4
    legend = driver.find_element("id", "legend").text
    assert "before.batch" in legend and "after.batch" in legend and "idle" in legend

    # wide enough, each bar shows its hook's name on it
    zoom_until_labels_fit(driver)
    assert batch_bars(driver, "#timeline-scroll text.batch-label") == expected
    texts = driver.execute_script(
        "return Array.from(document.querySelectorAll('#timeline-scroll text.batch-label'))"
        ".map(function (text) { return [text.getAttribute('data-hook'), text.textContent]; })"
    )
    assert all(hook == shown for hook, shown in texts)

    # focusing a batch bar tells what it is
    driver.execute_script(
        "document.querySelector('#timeline-scroll .batch[data-hook=\"after.batch\"]').focus()"
    )
    tip = driver.find_element("id", "tip")
    assert tip.is_displayed() and tip.text.startswith("after.batch on worker ")


def test_serial_run_report_has_its_before_batch_and_after_batch(tmp_path):
    suite = batch_suite(tmp_path)
    run = suite.run("features", "-p", "1", "--html", "report.html")
    assert run.returncode == 0, run.output
    timeline = page_json(suite.root / "report.html")["timeline"]
    assert [lane["worker"] for lane in timeline["lanes"]] == [0]
    assert [(hook["hook"], hook["lane"]) for hook in timeline["hooks"]] == [
        ("before.batch", 0),
        ("after.batch", 0),
    ]
    before, after = timeline["hooks"]
    first_bar = min(bar["start"] for bar in timeline["bars"])
    last_end = max(bar["start"] + bar["duration"] for bar in timeline["bars"])
    assert before["start"] + before["duration"] <= first_bar
    assert after["start"] >= last_end


def test_idle_gaps_run_from_a_lanes_first_bar_to_the_end_of_the_run():
    """Worker 0 waits 1 s between its before.batch and its scenario and ends 3 s before
    worker 1; worker 1's lane starts 2 s late (starting, not idle) and has no gap."""
    origin = 1_700_000_000.0
    feature = FeatureData("features/a.feature", "A", 1)
    item = WorkItem("features/a.feature::S", feature, "S", 2)
    other = WorkItem("features/a.feature::T", feature, "T", 4, order=1)
    report = FinishedRun(
        [
            (item, ScenarioResult(item.scenario_id, PASSED, (), 1.0, origin + 2.0, 0)),
            (other, ScenarioResult(other.scenario_id, PASSED, (), 4.0, origin + 3.0, 1)),
        ],
        8.0,
        processes=2,
        batch_spans=[
            BatchSpan("before.batch", 0, origin, 1.0),
            BatchSpan("after.batch", 0, origin + 3.0, 1.0),
            BatchSpan("before.batch", 1, origin + 2.0, 1.0),
            BatchSpan("after.batch", 1, origin + 7.0, 1.0),
        ],
    )
    timeline = html_report.page_data(
        [html_report.ScenarioAttempts(i, [r], r) for i, r in enumerate(report.records)],
        report.batch_spans,
    )["timeline"]
    assert timeline["span"] == 8.0
    assert [lane["idle"] for lane in timeline["lanes"]] == [[[1.0, 1.0], [4.0, 4.0]], []]
    assert [lane.get("critical", False) for lane in timeline["lanes"]] == [False, True]


# -- 2,000 scenarios ------------------------------------------------------------------------


def big_run(scenarios: int = 2000, workers: int = 4) -> FinishedRun:
    """Records as a 4-worker pool leaves them: 40 features, one scenario in 50 failed with
    a traceback and captured output, back-to-back attempts in each lane."""
    records = []
    lane_free = [1_700_000_000.0] * workers
    for number in range(scenarios):
        feature = FeatureData(f"features/area_{number % 40:02d}.feature", f"Area {number % 40}", 1)
        steps = (StepData("Given ", f"step {number}", 3),)
        item = WorkItem(
            f"{feature.path}::Scenario {number}",
            feature,
            f"Scenario {number} of the big suite",
            2 + number,
            tags=(f"team{number % 7}",),
            steps=steps,
            order=number,
            estimate=0.5,
        )
        failed = number % 50 == 7
        worker = min(range(workers), key=lambda lane: lane_free[lane])
        duration = 0.05 + (number % 13) * 0.02
        step = StepResult(
            "Given ",
            f"step {number}",
            3,
            FAILED if failed else PASSED,
            duration,
            error="AssertionError: no" if failed else "",
            traceback="Traceback (most recent call last):\n  ...\nAssertionError: no\n" * 3
            if failed
            else "",
        )
        result = ScenarioResult(
            item.scenario_id,
            FAILED if failed else PASSED,
            (step,),
            duration,
            lane_free[worker],
            worker,
            stdout="output line\n" * 20 if failed else "",
        )
        lane_free[worker] += duration + 0.001
        records.append((item, result))
    return FinishedRun(records, max(lane_free) - 1_700_000_000.0 + 0.5, processes=workers)


def test_two_thousand_scenario_report_stays_under_five_megabytes(tmp_path):
    path = tmp_path / "big.html"
    html_report.write(str(path), big_run())
    assert path.stat().st_size < 5_000_000
    assert "2000 scenarios (40 failed, 1960 passed)" in path.read_text(encoding="utf-8")


@pytest.mark.browser
@needs_chromium
def test_two_thousand_scenario_report_renders_without_a_script_error(tmp_path, browser):
    path = tmp_path / "big.html"
    html_report.write(str(path), big_run())
    driver = open_report(browser, path)
    assert (
        driver.execute_script("return document.querySelectorAll('svg .bar[data-bar]').length")
        == 2000
    )
    assert len(driver.find_elements("css selector", "#timeline-lanes [data-lane]")) == 4
    assert (
        driver.execute_script("return document.querySelectorAll('#scenarios tbody tr').length")
        == 2000
    )
    assert len(driver.find_elements("css selector", "#failures article.failure")) == 40
    assert len(driver.find_elements("css selector", "#slowest tbody tr")) == 20
    assert_nothing_fetched(driver)
