"""Steps about the stock report, which takes a few seconds to build (see store/reports.py)."""

from parallel_bdd import scenario, step, world

REPORT_COLUMNS = {
    "stock": "stock",
    "sold": "sold",
    "returned": "returned",
    "written off": "written_off",
    "stock value": "stock_value",
}


def in_browser():
    return getattr(scenario, "channel", "api") == "browser"


def report_page_ready():
    world.browser.wait_text("#report-status", "Report ready", timeout=20)


@step(r"^I run the stock report$")
def run_report(step):
    scenario.report = world.api.stock_report()


@step(r"^I open the stock report page$")
def open_report_page(step):
    world.browser.visit("/")
    world.browser.click("#nav-report")
    world.browser.wait_visible("#report-status")


@step(r"^the stock report should show:$")
def report_shows(step):
    if in_browser():
        report_page_ready()
    for expected in step.hashes:
        sku = expected["sku"]
        if in_browser():
            row = f'#stock-report tr[data-sku="{sku}"]'
            actual = {
                column: world.browser.text_of(f"{row} td.{key.replace('_', '-')}")
                for column, key in REPORT_COLUMNS.items()
                if column in expected
            }
        else:
            found = [line for line in scenario.report["rows"] if line["sku"] == sku]
            assert found, f"the report has no row for {sku}"
            actual = {
                column: str(found[0][key])
                for column, key in REPORT_COLUMNS.items()
                if column in expected
            }
        wanted = {column: value for column, value in expected.items() if column != "sku"}
        assert actual == wanted, f"{sku}: the report shows {actual}, expected {wanted}"


@step(r"^the report's total stock value should be (?P<amount>£[\d.]+)$")
def report_total(step, amount):
    if in_browser():
        report_page_ready()
        total = world.browser.text_of("#total-value")
    else:
        total = scenario.report["total_value"]
    assert total == amount, f"the report's total stock value is {total}, not {amount}"
