"""parallel_bdd.contrib.selenium against a real headless Chromium and a real local server.

The pages below change themselves by JavaScript after a delay, as real apps do, so the
explicit waits are tested against the thing they exist for. Needs Debian's chromium and
chromium-driver (or PBDD_CHROMIUM / PBDD_CHROMEDRIVER); skipped when they are missing.
"""

from __future__ import annotations

import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from suite_helpers import Suite

from parallel_bdd.contrib import _chromium
from parallel_bdd.contrib import selenium as adaptor
from parallel_bdd.contrib.selenium import (
    Browser,
    BrowserNotInstalled,
    BrowserTimeout,
    safe_file_name,
    start_chromium,
)

try:
    adaptor.find_executables()
    HAVE_CHROMIUM = True
except BrowserNotInstalled:
    HAVE_CHROMIUM = False

needs_chromium = pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium/chromedriver not installed")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

PAGES = {
    "/": """<!doctype html><title>waits</title>
<p id="late">waiting</p>
<p id="stock">14 in stock</p>
<p id="hidden" hidden>not yet</p>
<button id="later" disabled>Later</button>
<p id="clicked"></p>
<input id="name" value="old">
<select id="size"><option value="s">Small</option><option value="l">Large</option></select>
<script>
  setTimeout(function () { document.getElementById("late").textContent = "ready"; }, 600);
  setTimeout(function () { document.getElementById("hidden").hidden = false; }, 400);
  setTimeout(function () { document.getElementById("later").disabled = false; }, 400);
  document.getElementById("later").addEventListener("click", function () {
    document.getElementById("clicked").textContent = "clicked";
  });
</script>""",
    "/second": "<!doctype html><title>second</title><h1 id='title'>Second page</h1>",
}


class PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        page = PAGES.get(self.path)
        body = (page or "not found").encode()
        self.send_response(200 if page else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(server_url):
    if not HAVE_CHROMIUM:
        pytest.skip("chromium/chromedriver not installed")
    browser = start_chromium(base_url=server_url, timeout=3)
    yield browser
    browser.quit()


@pytest.fixture
def page(browser):
    browser.visit("/")
    return browser


# -- processes, seen independently of the adaptor's own bookkeeping --------------------------


def live_processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, command line) of every non-zombie process."""
    try:
        import psutil
    except ImportError:
        psutil = None
    found = {}
    if psutil is not None:
        for process in psutil.process_iter(["pid", "ppid", "cmdline", "status"]):
            if process.info["status"] != psutil.STATUS_ZOMBIE:
                found[process.info["pid"]] = (
                    process.info["ppid"],
                    " ".join(process.info["cmdline"] or ()),
                )
        return found
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if fields[0] != "Z":
                found[int(entry.name)] = (int(fields[1]), command)
    return found


def browser_processes(driver_pid: int, profile: str) -> set[int]:
    table = live_processes()
    family = {driver_pid}
    grew = True
    while grew:
        more = {pid for pid, (parent, _) in table.items() if parent in family} - family
        family |= more
        grew = bool(more)
    family |= {pid for pid, (_, command) in table.items() if profile in command}
    return family & set(table)


# -- the explicit waits -----------------------------------------------------------------------


@needs_chromium
def test_wait_text_waits_for_the_page_script(page):
    assert page.text_of("#late") == "waiting"

    assert page.wait_text("#late", "ready") == "ready"

    # it returned once the script had run, not merely with the text it was given
    assert page.text_of("#late") == "ready"


@needs_chromium
def test_exact_text_does_not_match_part_of_a_number(page):
    assert page.wait_text("#stock", "4 in stock") == "14 in stock"
    with pytest.raises(BrowserTimeout) as failure:
        page.wait_text("#stock", "4 in stock", timeout=0.3, exact=True)
    message = str(failure.value)
    assert "waited 0.3s for '#stock' to be '4 in stock'" in message
    assert "it shows '14 in stock'" in message
    assert "/" in message  # the page it was on


@needs_chromium
def test_wait_visible_and_clickable(page):
    assert page.wait_visible("#hidden").text == "not yet"
    assert page.wait_clickable("#later").is_enabled()


@needs_chromium
def test_click_waits_for_a_disabled_button(page):
    page.click("#later")
    assert page.wait_text("#clicked", "clicked") == "clicked"


@needs_chromium
def test_timeouts_say_what_was_missing(page):
    with pytest.raises(BrowserTimeout, match="to be visible; no element matches"):
        page.wait_visible("#nothing", timeout=0.2)
    assert isinstance(BrowserTimeout("x"), AssertionError)  # a failed step, not an error


@needs_chromium
def test_fill_select_and_navigate(page):
    page.fill("#name", "Ada")
    assert page.find("#name").get_attribute("value") == "Ada"
    page.select("#size", "large")
    assert page.find("#size").get_attribute("value") == "l"
    page.select("#size", value="s")
    assert page.find("#size").get_attribute("value") == "s"
    with pytest.raises(AssertionError, match="no option containing 'huge'"):
        page.select("#size", "huge")

    page.visit("/second")
    assert page.wait_url("/second").endswith("/second")
    assert page.text_of("#title") == "Second page"
    page.wait_gone("#late")
    assert not page.exists("#late")


def test_relative_urls_join_the_base_url():
    browser = Browser(driver=None, base_url="http://127.0.0.1:8181/")  # type: ignore[arg-type]
    assert browser.url("/orders/1") == "http://127.0.0.1:8181/orders/1"
    assert browser.url("orders/1") == "http://127.0.0.1:8181/orders/1"
    assert browser.url("about:blank") == "about:blank"
    assert browser.url("http://example.com/x") == "http://example.com/x"


# -- failure artifacts ------------------------------------------------------------------------


@needs_chromium
def test_failure_artifacts_are_a_png_and_the_page_source(page, tmp_path):
    page.wait_text("#late", "ready")

    written = page.save_failure_artifacts(tmp_path / "artifacts", "Returns: 4 > 3 / refund?")

    assert [Path(p).name for p in written] == ["Returns-4-3-refund.png", "Returns-4-3-refund.html"]
    png, html = (Path(p) for p in written)
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert png.stat().st_size > 1000
    source = html.read_text(encoding="utf-8")
    assert "ready" in source
    assert source.startswith("<!-- http://127.0.0.1:")


def test_safe_file_name():
    assert safe_file_name("features/returns.feature::Refunded items") == (
        "features-returns.feature-Refunded-items"
    )
    assert safe_file_name("???").startswith("browser-")
    assert len(safe_file_name("x" * 500)) == 120


# -- starting and quitting --------------------------------------------------------------------


def test_missing_browser_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PBDD_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("PBDD_CHROMEDRIVER", str(tmp_path / "no-chromedriver"))

    with pytest.raises(BrowserNotInstalled) as failure:
        start_chromium()

    text = str(failure.value)  # what a hook failure report shows
    assert f"Chromium not found at {tmp_path / 'no-chromium'}" in text
    assert f"chromedriver not found at {tmp_path / 'no-chromedriver'}" in text
    assert "apt-get install -y chromium chromium-driver" in text
    assert failure.value.exit_code == 2


@needs_chromium
def test_missing_chromedriver_alone_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PBDD_CHROMEDRIVER", str(tmp_path / "chromedriver"))
    with pytest.raises(BrowserNotInstalled) as failure:
        start_chromium()
    assert "Chromium not found" not in failure.value.message
    assert "chromedriver not found" in failure.value.message


@needs_chromium
def test_quit_leaves_no_process_and_no_profile(server_url):
    browser = start_chromium(base_url=server_url)
    browser.visit("/")
    browser.wait_text("#late", "ready")
    driver_pid = browser.driver.service.process.pid
    profile = browser._profile_dir
    before = browser_processes(driver_pid, profile)
    assert driver_pid in before
    assert len(before) > 2  # chromedriver, the browser and its helpers

    browser.quit()
    browser.quit()  # twice is fine

    assert browser_processes(driver_pid, profile) == set()
    assert not os.path.exists(profile)


DEEP_TMPDIR_TERRAIN = """
import os
from parallel_bdd import after, before, world
from parallel_bdd.contrib.selenium import start_chromium

@before.batch
def open_browser():
    world.browser = start_chromium(base_url=os.environ["PAGE_URL"])

@after.batch
def close_browser():
    world.browser.quit()
"""

DEEP_TMPDIR_STEPS = """
from parallel_bdd import step, world

@step("the page script has run")
def page_script_ran(step):
    world.browser.visit("/")
    world.browser.wait_text("#late", "ready")
    with open("profile.txt", "w") as f:
        f.write(world.browser._profile_dir)
"""


@needs_chromium
@pytest.mark.browser
def test_chromium_starts_under_a_deep_tmpdir_and_leaves_nothing(server_url, tmp_path):
    deep = tmp_path / ("tmp-" + "d" * max(1, 120 - len(str(tmp_path)) - 5))
    deep.mkdir()
    assert len(str(deep)) >= 120  # too deep for Chromium's lock socket (107 bytes at most)
    suite = Suite(tmp_path / "suite")
    suite.feature(
        "page.feature", "Feature: Page\n  Scenario: Load\n    Then the page script has run\n"
    )
    suite.steps(DEEP_TMPDIR_STEPS)
    suite.terrain(DEEP_TMPDIR_TERRAIN)

    run = suite.run(
        "features", "--no-history", env={**suite.env(), "TMPDIR": str(deep), "PAGE_URL": server_url}
    )

    assert run.returncode == 0, run.output
    assert "1 scenario (1 passed)" in run.stdout
    assert list(deep.iterdir()) == []
    profile = (suite.root / "profile.txt").read_text()
    assert Path(profile).name.startswith("pbdd-chromium-")
    assert not os.path.exists(profile)
    assert [command for _, command in live_processes().values() if profile in command] == []


def test_process_table_without_psutil(monkeypatch):
    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc")
    monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil now raises ImportError
    table = _chromium._process_table()
    me = table[os.getpid()]
    assert me.parent == os.getppid()
    assert "pytest" in me.command or "python" in me.command
    assert not me.zombie
