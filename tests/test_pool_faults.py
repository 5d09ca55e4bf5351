"""End-to-end: faults the pool used to leave unsettled, now each ends in a record.

Written with the dispatcher (``parallel_bdd/dispatch``): every selected scenario gets
exactly one final record, so a run whose fault strands a scenario still ends by itself.
"""

from __future__ import annotations

import re

from suite_helpers import Suite

STEPS = """
import os
from parallel_bdd import before, step, world

os.makedirs("marks", exist_ok=True)
CRASHED = os.path.join("marks", "crashed-worker")

@step(r"I crash once")
def crash_once(step):
    if not os.path.exists(CRASHED):
        with open(CRASHED, "w") as f:
            f.write(str(world.worker_id))
        os._exit(3)

@step(r"I pass")
def passes(step):
    pass

@before.batch
def hang_in_the_crashed_workers_place():
    if os.path.exists(CRASHED) and open(CRASHED).read() == str(world.worker_id):
        import time
        time.sleep(120)
"""


def test_a_crashed_scenario_whose_fresh_worker_hangs_in_before_batch_is_errored(suite: Suite):
    # --requeue-crashed keeps the crashed scenario for the fresh worker in its slot; that
    # worker's before.batch hangs past --timeout, so the scenario is errored, and the run
    # ends by itself with what the other worker ran
    body = "  Scenario: flaky\n    Given I crash once\n" + "".join(
        f"  Scenario: fine {i}\n    Given I pass\n" for i in range(3)
    )
    suite.feature("flaky.feature", "Feature: Flaky\n" + body)
    suite.steps(STEPS)
    run = suite.run(
        "features", "-p", "2", "--requeue-crashed", "1", "--timeout", "3", "-v", "2", timeout=90
    )

    assert run.returncode == 1, run.output
    assert re.search(r"^flaky \.\.\. ERROR", run.stdout, re.M), run.output
    assert re.search(r"^flaky \[attempt 2\] \.\.\. ERROR", run.stdout, re.M), run.output
    assert "not re-run after its worker crashed: its fresh worker stopped" in run.stdout
    assert "did not finish within --timeout 3 s" in run.output
    assert "4 scenarios (1 errored, 3 passed)" in run.stdout
