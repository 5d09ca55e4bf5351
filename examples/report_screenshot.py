"""``make screenshot``: the README's picture of the HTML report, ``docs/html-report.png``.

Runs the example store suite (``features/``, from the project's root) on 4 workers twice
with ``--html`` in a temporary directory, the second run ordered by the history the first
one wrote, as a CI run would be. Then opens the second report in headless Chromium through
``parallel_bdd.contrib.selenium`` (the browser the tests use) with a 1200x800 page and
saves what it shows: the summary and the worker timeline.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from parallel_bdd.contrib.selenium import start_chromium

REPO = Path(__file__).resolve().parent.parent
PICTURE = REPO / "docs" / "html-report.png"
WINDOW = (1200, 800)
WORKERS = "4"


def run_example(work: Path) -> Path:
    """The example suite with its report and history in ``work``; the report's path."""
    report = work / "report.html"
    command = [
        *(sys.executable, "-m", "parallel_bdd", "features", "-p", WORKERS, "-v", "1"),
        *("--html", str(report), "--history", str(work / "history.json")),
        *("--artifacts-dir", str(work / "artifacts")),
    ]
    done = subprocess.run(command, cwd=REPO, check=False)
    if done.returncode not in (0, 1) or not report.exists():
        raise SystemExit(f"the example suite did not run: pbdd exited {done.returncode}")
    return report


def photograph(report: Path, picture: Path) -> None:
    """The report in a 1200x800 page, once its script drew the timeline."""
    browser = start_chromium(window_size=WINDOW)
    try:
        driver = browser.driver
        # the window's size includes the browser's own frame: grow it by that much
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        driver.set_window_size(2 * WINDOW[0] - inner[0], 2 * WINDOW[1] - inner[1])
        browser.visit(report.as_uri())
        browser.wait_visible("#timeline-scroll svg")
        driver.save_screenshot(str(picture))
    finally:
        browser.quit()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pbdd-screenshot-") as work:
        run_example(Path(work))  # writes the history the second run is ordered by
        photograph(run_example(Path(work)), PICTURE)
    print(f"{PICTURE.relative_to(REPO)}: {PICTURE.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
