"""A headless Chromium for suites, with explicit waits and screenshots on failure.

Called from a suite's ``terrain.py`` (usually ``@before.batch``: one browser per worker)::

    from parallel_bdd.contrib.selenium import start_chromium

    world.browser = start_chromium(base_url=f"http://127.0.0.1:{world.port_number}")
    world.browser.visit("/orders/1")
    world.browser.click("a.return-link")
    world.browser.wait_text("#stock-level", "4 in stock")   # waits for the page's JavaScript
    ...
    world.browser.quit()        # the browser, chromedriver and every helper process: gone

Uses the system's Chromium and chromedriver (Debian: ``/usr/bin/chromium``,
``/usr/bin/chromedriver``; set ``PBDD_CHROMIUM`` / ``PBDD_CHROMEDRIVER`` to use others) and
never lets Selenium download a browser or driver. With ``PBDD_WEBDRIVER_URL`` set, the same
call opens a session on that Selenium Grid or W3C remote end instead (``_remote.py``).
Imports selenium only when a browser is started, so ``parallel_bdd`` itself does not need
it. This module holds the public entry points and ``Browser``; ``_chromium.py`` starts a
local browser and ends its processes. Imports nothing from the runner but ``world``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Self, TypeVar
from urllib.parse import urljoin

from .. import files
from ._chromium import (
    CHROMIUM_ARGS,
    DEFAULT_CHROMEDRIVER,
    DEFAULT_CHROMIUM,
    BrowserNotInstalled,
    end_processes,
    find_executables,
    owned_processes,
    start_local_chromium,
)
from ._remote import (
    RemoteBrowserError,
    quit_when_process_ends,
    reachable_base_url,
    remote_url_from,
    start_remote_chromium,
)

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

T = TypeVar("T")


class BrowserTimeout(AssertionError):
    """An explicit wait ran out: the page never showed what the step waited for.

    An ``AssertionError``, so a step that times out is reported as a failed step with this
    message, not as an unexpected error.
    """


def start_chromium(
    headless: bool = True,
    *,
    base_url: str = "",
    timeout: float = 5.0,
    window_size: tuple[int, int] = (1280, 900),
    extra_args: Iterable[str] = (),
    chromium_path: str | None = None,
    chromedriver_path: str | None = None,
    page_load_timeout: float = 30.0,
    remote_url: str | None = None,
    browser_host: str | None = None,
    session_name: str | None = None,
    connect_timeout: float = 10.0,
) -> Browser:
    """Start Chromium, here or on a WebDriver remote end, and return a ``Browser`` around it.

    ``base_url``: relative URLs given to ``visit`` are joined to it. ``timeout``: how long
    the explicit waits wait by default. A local browser gets a fresh profile directory,
    removed by ``quit()``.

    ``remote_url`` (default ``$PBDD_WEBDRIVER_URL``; "" forces a local browser): a Selenium
    Grid or any W3C remote end, reached within ``connect_timeout`` seconds. The session is
    named ``session_name`` (default ``pbdd worker <id> - <run>``); ``chromium_path``
    (default ``$PBDD_REMOTE_CHROMIUM``) is then the binary on the remote machine, and
    ``browser_host`` (default ``$PBDD_BROWSER_HOST``) replaces a loopback host in
    ``base_url``. ``quit()`` ends the session, and so does the end of this process.
    """
    remote = remote_url_from(remote_url)
    if not remote:
        driver, profile = start_local_chromium(
            headless=headless,
            window_size=window_size,
            extra_args=extra_args,
            chromium_path=chromium_path,
            chromedriver_path=chromedriver_path,
        )
        driver.set_page_load_timeout(page_load_timeout)
        return Browser(driver, base_url=base_url, timeout=timeout, profile_dir=profile)
    driver = start_remote_chromium(
        remote,
        headless=headless,
        window_size=window_size,
        extra_args=extra_args,
        chromium_path=chromium_path,
        session_name=session_name,
        connect_timeout=connect_timeout,
    )
    browser = Browser(driver, base_url=reachable_base_url(base_url, browser_host), timeout=timeout)
    quit_when_process_ends(browser.quit)
    try:
        driver.set_page_load_timeout(page_load_timeout)
    except BaseException:
        browser.quit()
        raise
    return browser


class Browser:
    """A WebDriver with explicit-wait helpers that take CSS selectors.

    Every helper waits (up to ``timeout`` seconds, default the browser's) for the page to be
    ready for it and raises ``BrowserTimeout`` saying what it waited for and what it saw.
    ``driver`` is the Selenium WebDriver for anything else.
    """

    def __init__(
        self,
        driver: WebDriver,
        *,
        base_url: str = "",
        timeout: float = 5.0,
        profile_dir: str | None = None,
    ) -> None:
        self.driver = driver
        self.base_url = base_url
        self.timeout = timeout
        self._profile_dir = profile_dir
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else self.base_url or "open"
        return f"<Browser {state}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.quit()

    # -- navigation ---------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """``path`` joined to ``base_url`` (absolute URLs are returned unchanged)."""
        if not self.base_url or re.match(r"^[a-z][a-z0-9+.-]*:", path):
            return path
        return urljoin(self.base_url.rstrip("/") + "/", path.lstrip("/"))

    def visit(self, url: str) -> None:
        self.driver.get(self.url(url))

    @property
    def current_url(self) -> str:
        return self.driver.current_url

    def wait_url(self, fragment: str, timeout: float | None = None) -> str:
        """Wait until the current URL contains ``fragment``; return the URL."""
        self.wait_until(
            lambda: fragment in self.driver.current_url,
            f"the URL to contain {fragment!r}",
            timeout,
            seen=lambda: f"the URL is {self.driver.current_url}",
        )
        return self.driver.current_url

    # -- waiting ------------------------------------------------------------------------------

    def wait_until(
        self,
        condition: Callable[[], T],
        what: str,
        timeout: float | None = None,
        *,
        seen: Callable[[], str] | None = None,
        interval: float = 0.05,
    ) -> T:
        """Call ``condition`` until it returns something truthy; return that.

        Selenium's transient errors (an element replaced by the page's JavaScript mid-check,
        a click landing on an overlay) count as "not yet".
        """
        from selenium.common.exceptions import (
            ElementClickInterceptedException,
            ElementNotInteractableException,
            NoSuchElementException,
            StaleElementReferenceException,
        )

        transient = (
            ElementClickInterceptedException,
            ElementNotInteractableException,
            NoSuchElementException,
            StaleElementReferenceException,
        )
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            try:
                value = condition()
            except transient:
                value = None
            if value:
                return value
            if time.monotonic() >= deadline:
                observed = ""
                if seen is not None:
                    with contextlib.suppress(Exception):
                        observed = f"; {seen()}"
                raise BrowserTimeout(
                    f"waited {limit:g}s for {what}{observed} (page: {self._safe_url()})"
                )
            time.sleep(interval)

    def find(self, css: str) -> WebElement:
        """The first element matching ``css`` now (no waiting)."""
        return self.driver.find_element("css selector", css)

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements("css selector", css)

    def exists(self, css: str) -> bool:
        return bool(self.find_all(css))

    def wait_visible(self, css: str, timeout: float | None = None) -> WebElement:
        def visible() -> WebElement | None:
            element = self.find(css)
            return element if element.is_displayed() else None

        return self.wait_until(
            visible, f"{css!r} to be visible", timeout, seen=lambda: self._presence(css)
        )

    def wait_clickable(self, css: str, timeout: float | None = None) -> WebElement:
        def clickable() -> WebElement | None:
            element = self.find(css)
            return element if element.is_displayed() and element.is_enabled() else None

        return self.wait_until(
            clickable, f"{css!r} to be clickable", timeout, seen=lambda: self._presence(css)
        )

    def wait_gone(self, css: str, timeout: float | None = None) -> None:
        """Wait until no element matching ``css`` is visible."""
        self.wait_until(
            lambda: not any(element.is_displayed() for element in self.find_all(css)),
            f"{css!r} to disappear",
            timeout,
        )

    def wait_text(
        self, css: str, text: str, timeout: float | None = None, *, exact: bool = False
    ) -> str:
        """Wait until the element's visible text contains ``text`` (``exact``: is ``text``).

        Returns the element's whole text. Use ``exact`` for numbers: "4 in stock" is part of
        "14 in stock".
        """

        def shows_text() -> str | None:
            element = self.find(css)
            current = element.text
            found = current.strip() == text.strip() if exact else text in current
            return current if element.is_displayed() and found else None

        return self.wait_until(
            shows_text,
            f"{css!r} to {'be' if exact else 'show'} {text!r}",
            timeout,
            seen=lambda: f"it shows {self.find(css).text!r}",
        )

    def text_of(self, css: str, timeout: float | None = None) -> str:
        """The visible text of the element, once it is visible."""
        return self.wait_visible(css, timeout).text

    # -- acting -------------------------------------------------------------------------------

    def click(self, css: str, timeout: float | None = None) -> None:
        def clicked() -> bool:
            element = self.find(css)
            if not (element.is_displayed() and element.is_enabled()):
                return False
            element.click()
            return True

        self.wait_until(
            clicked, f"{css!r} to be clickable", timeout, seen=lambda: self._presence(css)
        )

    def fill(self, css: str, text: str, timeout: float | None = None) -> None:
        """Replace the field's content with ``text``."""
        element = self.wait_clickable(css, timeout)
        element.clear()
        element.send_keys(str(text))

    def select(
        self,
        css: str,
        text: str | None = None,
        *,
        value: str | None = None,
        timeout: float | None = None,
    ) -> None:
        """Choose an option of a ``<select>`` by its value, or the first whose text contains ``text``."""
        from selenium.webdriver.support.select import Select

        element = self.wait_clickable(css, timeout)
        choice = Select(element)
        if value is not None:
            choice.select_by_value(value)
            return
        for option in choice.options:
            if text is not None and text.lower() in option.text.lower():
                option.click()
                return
        options = [option.text for option in choice.options]
        raise AssertionError(f"{css!r} has no option containing {text!r}; options: {options}")

    def reset(self) -> None:
        """Forget cookies and leave the current page: a clean start for the next scenario."""
        try:
            self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        except Exception:  # noqa: BLE001 - not a Chromium driver: this origin's cookies only
            self.driver.delete_all_cookies()
        self.driver.get("about:blank")

    # -- failure artifacts --------------------------------------------------------------------

    def save_failure_artifacts(self, directory: str | os.PathLike[str], name: str) -> list[str]:
        """Save a PNG screenshot and the page source as ``<directory>/<name>.png/.html``.

        ``name`` is made file-system safe. Returns the paths written (what could be saved: a
        browser that has crashed may give neither). Never raises: it runs while a failure is
        being reported, and must not hide that failure.
        """
        folder = Path(directory)
        stem = safe_file_name(name)
        written: list[str] = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return written
        screenshot = folder / f"{stem}.png"
        with contextlib.suppress(Exception):
            screenshot.write_bytes(self.driver.get_screenshot_as_png())
            written.append(str(screenshot))
        source = folder / f"{stem}.html"
        with contextlib.suppress(Exception):
            page = self.driver.page_source
            source.write_text(f"<!-- {self._safe_url()} -->\n{page}", encoding="utf-8")
            written.append(str(source))
        return written

    # -- closing ------------------------------------------------------------------------------

    def quit(self, grace: float = 5.0) -> None:
        """Close the browser and chromedriver, and make sure no process of theirs lives on.

        WebDriver's quit asks nicely; anything of this browser still running ``grace``
        seconds later (renderers, the crash handler, chromedriver) is killed. Then the
        profile directory is removed. Safe to call twice.
        """
        if self._closed:
            return
        self._closed = True
        service = getattr(self.driver, "service", None)
        # a remote session has neither: its processes are the remote end's to end
        local = service is not None or self._profile_dir is not None
        owned = owned_processes(service, self._profile_dir) if local else {}
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001 - a crashed browser: made sure of below
            with contextlib.suppress(Exception):
                service.stop()  # type: ignore[union-attr]
        end_processes(owned, grace)
        if self._profile_dir:
            shutil.rmtree(self._profile_dir, ignore_errors=True)

    # -- helpers ------------------------------------------------------------------------------

    def _safe_url(self) -> str:
        try:
            return self.driver.current_url
        except Exception:  # noqa: BLE001 - only used to describe a failure
            return "unknown"

    def _presence(self, css: str) -> str:
        elements = self.find_all(css)
        if not elements:
            return "no element matches"
        element = elements[0]
        state = "visible" if element.is_displayed() else "hidden"
        enabled = "" if element.is_enabled() else ", disabled"
        return f"{len(elements)} element(s) match, the first is {state}{enabled}"


def safe_file_name(name: str, limit: int = 120) -> str:
    """``"Refunded items: 4 > 3"`` → ``"Refunded-items-4-3"`` (``files.safe_file_name``:
    no ``/``, ``..`` or NUL, at most ``limit`` characters)."""
    return files.safe_file_name(name, limit, empty="browser")


__all__ = [
    "CHROMIUM_ARGS",
    "DEFAULT_CHROMEDRIVER",
    "DEFAULT_CHROMIUM",
    "Browser",
    "BrowserNotInstalled",
    "BrowserTimeout",
    "RemoteBrowserError",
    "find_executables",
    "safe_file_name",
    "start_chromium",
]
