"""Remote browsers: ``start_chromium`` on a W3C WebDriver remote end, here Debian's own
``chromedriver --port=N`` (the same protocol a Selenium Grid speaks).

``chromedriver_server.py`` starts chromedriver with a log file; what a session asked for
(its ``goog:chromeOptions``, its ``se:name``) and when it was ended are read back from that
log and from chromedriver's ``/sessions``, independently of the adaptor's own bookkeeping.
The tests that need it are marked ``browser`` and skipped when chromium or chromedriver is
missing; the others need neither.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from chromedriver_server import Chromedriver, chromedriver_fixture, free_port  # noqa: F401
from suite_helpers import Suite, free_base_port

from parallel_bdd.contrib._chromium import CHROMIUM_ARGS, DEFAULT_CHROMIUM
from parallel_bdd.contrib._remote import RemoteEnd, default_session_name, reachable_base_url
from parallel_bdd.contrib.selenium import (
    BrowserNotInstalled,
    RemoteBrowserError,
    start_chromium,
)

PASSWORD = "s3cret-pw"


@pytest.fixture
def page_server() -> Iterator[str]:
    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>remote</title><p id='hello'>Hello from pbdd</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


# -- without a browser ------------------------------------------------------------------------


def test_the_url_loses_its_credentials_and_messages_mask_the_password() -> None:
    end = RemoteEnd.parse(f" https://ci:{PASSWORD}@grid.example:4444/wd/hub/ ")
    assert end.url == "https://grid.example:4444/wd/hub"
    assert (end.username, end.password) == ("ci", PASSWORD)
    assert end.shown == "https://ci:***@grid.example:4444/wd/hub/"
    assert end.auth_headers()["Authorization"].startswith("Basic ")

    with pytest.raises(RemoteBrowserError) as failure:
        RemoteEnd.parse(f"grid:{PASSWORD}@example:4444")
    assert "must look like http://grid:4444" in failure.value.format_message()


def test_browser_host_replaces_only_a_loopback_host(monkeypatch) -> None:
    monkeypatch.delenv("PBDD_BROWSER_HOST", raising=False)
    assert reachable_base_url("http://127.0.0.1:8182/", None) == "http://127.0.0.1:8182/"
    assert reachable_base_url("http://127.0.0.1:8182/", "ci-7") == "http://ci-7:8182/"
    assert reachable_base_url("http://localhost:8182/x", "10.0.0.5") == "http://10.0.0.5:8182/x"
    assert reachable_base_url("http://app.test:80/", "ci-7") == "http://app.test:80/"
    monkeypatch.setenv("PBDD_BROWSER_HOST", "host.docker.internal")
    assert reachable_base_url("http://127.0.0.1:8182", None) == "http://host.docker.internal:8182"
    assert reachable_base_url("http://127.0.0.1:8182", "") == "http://127.0.0.1:8182"


def test_the_session_is_named_after_the_worker_and_the_run(monkeypatch) -> None:
    from parallel_bdd import world

    monkeypatch.setattr(world, "worker_id", 3, raising=False)
    monkeypatch.delenv("PBDD_RUN_NAME", raising=False)
    assert re.fullmatch(r"pbdd worker 3 - .+ \(pid \d+ on .+\)", default_session_name())
    monkeypatch.setenv("PBDD_RUN_NAME", "build 981")
    assert default_session_name() == "pbdd worker 3 - build 981"


def test_a_remote_end_that_never_answers_fails_within_the_connect_timeout() -> None:
    with socket.socket() as silent:  # the kernel accepts the connection; nobody answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(RemoteBrowserError) as failure:
            start_chromium(
                remote_url=f"http://pbdd:{PASSWORD}@127.0.0.1:{port}", connect_timeout=0.3
            )
    assert failure.value.format_message() == (
        f"cannot reach the WebDriver remote end at http://pbdd:***@127.0.0.1:{port}:"
        " no answer within 0.3s"
    )
    assert failure.value.exit_code == 2


def test_only_the_process_that_started_the_session_ends_it(tmp_path: Path) -> None:
    # a child forked from a worker (a step's helper, say) inherits its exit handlers
    script = """
import os, sys
from parallel_bdd.contrib._remote import quit_when_process_ends

def quit():
    with open(sys.argv[1], "a") as ended:
        ended.write(f"{os.getpid()}\\n")

quit_when_process_ends(quit)
child = os.fork()
if child == 0:
    sys.exit(0)  # a normal exit: the inherited atexit handlers run
os.waitpid(child, 0)
print(os.getpid())
"""
    ended = tmp_path / "ended.txt"
    suite = Suite(tmp_path)
    run = subprocess.run(
        [sys.executable, "-c", script, str(ended)],
        env=suite.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert ended.read_text().split() == [run.stdout.strip()]


def test_an_empty_remote_url_keeps_the_local_browser(monkeypatch) -> None:
    monkeypatch.setenv("PBDD_WEBDRIVER_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("PBDD_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(BrowserNotInstalled):  # the local path, not the remote end
        start_chromium(remote_url="")


# -- against chromedriver --port=N ------------------------------------------------------------


@pytest.mark.browser
def test_pbdd_webdriver_url_opens_a_named_session_on_the_remote_end(
    chromedriver: Chromedriver, page_server: str, monkeypatch
) -> None:
    monkeypatch.setenv("PBDD_WEBDRIVER_URL", chromedriver.url)
    monkeypatch.setenv("PBDD_REMOTE_CHROMIUM", DEFAULT_CHROMIUM)
    browser = start_chromium(base_url=page_server, session_name="pbdd worker 7 - unit")
    try:
        browser.visit("/")
        assert browser.wait_text("#hello", "Hello from pbdd") == "Hello from pbdd"
        session = browser.driver.session_id
        assert chromedriver.open_sessions() == [session]
        assert getattr(browser.driver, "service", None) is None  # nothing started here
    finally:
        browser.quit()
    browser.quit()  # twice is fine

    assert chromedriver.open_sessions() == []
    assert chromedriver.quit_sessions() == {session}
    asked = chromedriver.new_sessions()[session]
    assert asked["se:name"] == "pbdd worker 7 - unit"
    options = asked["goog:chromeOptions"]
    assert options["binary"] == DEFAULT_CHROMIUM
    assert options["args"][: len(CHROMIUM_ARGS)] == list(CHROMIUM_ARGS)
    assert "--window-size=1280,900" in options["args"]
    assert not any(arg.startswith("--user-data-dir") for arg in options["args"])


@pytest.mark.browser
def test_a_session_the_remote_end_refuses_is_one_clear_error(chromedriver: Chromedriver) -> None:
    with pytest.raises(RemoteBrowserError) as failure:
        start_chromium(remote_url=chromedriver.url, chromium_path="/nonexistent/chromium")
    message = failure.value.format_message()
    assert message.startswith(
        f"the WebDriver remote end at {chromedriver.url} did not start a session: "
    )
    assert message.endswith("no chrome binary at /nonexistent/chromium")  # chromedriver's words
    assert "\n" not in message
    assert chromedriver.open_sessions() == []


# -- end to end: pbdd -p 2 on the remote end ------------------------------------------------

TERRAIN = """
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from parallel_bdd import after, before, world
from parallel_bdd.contrib.selenium import start_chromium


class Page(BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"<!doctype html><p id='hello'>Hello from worker {world.worker_id}</p>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@before.batch
def open_browser():
    world.server = ThreadingHTTPServer(("127.0.0.1", world.port_number), Page)
    threading.Thread(target=world.server.serve_forever, daemon=True).start()
    world.browser = start_chromium(base_url=f"http://127.0.0.1:{world.port_number}")
    with open("sessions.txt", "a") as sessions:
        sessions.write(f"{world.worker_id} {world.browser.driver.session_id}\\n")


@after.batch
def close_browser():
    if not os.environ.get("FORGET_TO_QUIT"):
        world.browser.quit()
    world.server.shutdown()
"""

STEPS = """
import os
import time

from parallel_bdd import step, world


@step("both workers are browsing")
def both_workers(step):
    # each scenario waits until both workers hold one: two scenarios run at once, one each
    os.makedirs("started", exist_ok=True)
    open(os.path.join("started", str(world.worker_id)), "w").close()
    deadline = time.monotonic() + 60
    while len(os.listdir("started")) < 2:
        assert time.monotonic() < deadline, "the other worker never started a scenario"
        time.sleep(0.05)


@step("I open the home page")
def open_home(step):
    world.browser.visit("/")


@step("it greets this worker")
def greets(step):
    world.browser.wait_text("#hello", f"Hello from worker {world.worker_id}", exact=True)
    with open("scenarios.txt", "a") as scenarios:
        scenarios.write(f"{world.worker_id} {world.browser.driver.session_id}\\n")
"""

FEATURE = """
Feature: Pages on a remote browser
""" + "".join(
    f"""
  Scenario: Greeting {number}
    Given both workers are browsing
    When I open the home page
    Then it greets this worker
"""
    for number in range(1, 5)
)


def remote_suite(suite: Suite) -> Suite:
    suite.terrain(TERRAIN)
    suite.steps(STEPS)
    suite.feature("remote.feature", FEATURE)
    return suite


def run_on(suite: Suite, remote_url: str, *args: str, **env: str):
    environment = suite.env() | {
        "PBDD_WEBDRIVER_URL": remote_url,
        "PBDD_REMOTE_CHROMIUM": DEFAULT_CHROMIUM,
        **env,
    }
    port = str(free_base_port(workers=2))
    return suite.run("features", "-p", "2", "--base-port", port, *args, env=environment)


def lines_of(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()]


@pytest.mark.browser
def test_two_workers_each_drive_their_own_named_session_on_the_remote_end(
    suite: Suite, chromedriver: Chromedriver
) -> None:
    run = run_on(remote_suite(suite), chromedriver.url, "--no-color")

    assert run.returncode == 0, run.output
    assert "4 scenarios (4 passed)" in run.output
    sessions = dict(lines_of(suite.root / "sessions.txt"))
    assert len(sessions) == 2 and len(set(sessions.values())) == 2  # two workers, two sessions
    ran = lines_of(suite.root / "scenarios.txt")
    assert len(ran) == 4
    assert {worker for worker, _ in ran} == set(sessions)  # both workers ran scenarios
    assert all(session == sessions[worker] for worker, session in ran)

    asked = chromedriver.new_sessions()
    for worker, session in sessions.items():
        name = asked[session]["se:name"]
        assert name.startswith(f"pbdd worker {worker} - suite (pid "), name
        options = asked[session]["goog:chromeOptions"]
        assert options["binary"] == DEFAULT_CHROMIUM
        assert {"--headless=new", "--no-sandbox"} <= set(options["args"])
    assert len({asked[session]["se:name"].split(" - ")[1] for session in sessions.values()}) == 1
    assert chromedriver.open_sessions() == []
    assert set(sessions.values()) <= chromedriver.quit_sessions()


@pytest.mark.browser
@pytest.mark.parametrize("start_method", ["spawn", "fork", "forkserver"])
def test_a_worker_that_never_quits_its_browser_still_ends_its_session(
    suite: Suite, chromedriver: Chromedriver, start_method: str
) -> None:
    run = run_on(
        remote_suite(suite), chromedriver.url, "--start-method", start_method, FORGET_TO_QUIT="1"
    )

    assert run.returncode == 0, run.output
    sessions = dict(lines_of(suite.root / "sessions.txt"))
    assert len(sessions) == 2
    assert chromedriver.open_sessions() == []
    assert set(sessions.values()) <= chromedriver.quit_sessions()


def test_an_unreachable_remote_end_is_exit_2_and_one_line_with_the_password_masked(
    suite: Suite,
) -> None:
    port = free_port()  # nothing listens there
    run = run_on(remote_suite(suite), f"http://pbdd:{PASSWORD}@127.0.0.1:{port}")

    assert run.returncode == 2, run.output
    reason = f"cannot reach the WebDriver remote end at http://pbdd:***@127.0.0.1:{port}"
    reports = [line for line in run.output.splitlines() if "WebDriver" in line]
    assert reports, run.output
    for line in reports:  # the hook failure and the worker's retirement, for each worker
        assert line.endswith(f"RemoteBrowserError: {reason}: connection refused"), line
        assert "before.batch" in line
    assert "Error: every worker failed in before.batch; nothing ran." in run.output
    assert PASSWORD not in run.output
    assert "Traceback" not in run.output
    assert "parallel_bdd/" not in run.output
