"""``pbdd report``: the merged, read-only report of a build run through a real Redis, in
process with click's CliRunner (the machines are ``RedisQueue``s of the test)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from queue_machine import items
from redis_server import redis_server  # noqa: F401

from parallel_bdd.cli import pbdd
from parallel_bdd.messages import FAILED, PASSED, ScenarioResult, StepResult
from parallel_bdd.queue.redis_queue import RedisQueue

pytest.importorskip("redis")


def run_build(
    url: str, build: str, count: int, *, fail: set[int] = frozenset(), leave: int = 0
) -> None:
    """Two machines share ``count`` scenarios; ``fail``: which fail; ``leave``: how many of
    the last ones nobody records."""
    first, second = RedisQueue(url, build, "m1"), RedisQueue(url, build, "m2")
    first.fill_or_wait(items(count))
    second.fill_or_wait(items(count))
    machines = [first, second]
    for n in range(count - leave):
        queue = machines[n % 2]
        got = queue.reserve()
        status = FAILED if n in fail else PASSED
        step = StepResult(
            "Given ", "a step", 4, status, error="AssertionError: no" if n in fail else ""
        )
        result = ScenarioResult(got.scenario_ids[0], status, (step,), 0.25, time.time(), n % 2)
        assert queue.ack(got.entry_id, got.lease, result)


def report(url: str, build: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(pbdd, ["report", "--queue", url, "--build", build, *args])


def test_report_is_green_when_every_result_is_in_and_reads_the_same_twice(
    redis_server,  # noqa: F811
    tmp_path: Path,
) -> None:
    url, build = redis_server.url(), f"green-{time.monotonic_ns()}"
    run_build(url, build, 4)
    junit = tmp_path / "junit.xml"
    shown = report(url, build, "--timeout", "30", "--junit-xml", str(junit), "--no-color")
    assert shown.exit_code == 0, shown.output
    assert "4 scenarios (4 passed)" in shown.output
    xml = junit.read_text()
    assert xml.count("<testcase") == 4 and "<failure" not in xml
    again = report(url, build, "--timeout", "30", "--no-color")
    assert again.exit_code == 0
    assert again.output.split("Ran ")[0] == shown.output.split("Ran ")[0]


def test_report_fails_like_a_run_when_a_scenario_failed(redis_server, tmp_path: Path) -> None:  # noqa: F811
    url, build = redis_server.url(), f"red-{time.monotonic_ns()}"
    run_build(url, build, 3, fail={1})
    history = tmp_path / ".scenarios"
    shown = report(url, build, "--no-color", "--history", str(history))
    assert shown.exit_code == 1, shown.output
    assert "3 scenarios (1 failed, 2 passed)" in shown.output
    assert "AssertionError: no" in shown.output
    assert "features/shop.feature::s0" in history.read_text()


def test_report_never_goes_green_with_a_result_missing(redis_server) -> None:  # noqa: F811
    url, build = redis_server.url(), f"missing-{time.monotonic_ns()}"
    run_build(url, build, 4, leave=2)
    shown = report(url, build, "--timeout", "0.5")
    assert shown.exit_code == 1, shown.output
    assert "2 of 4 scenarios have no result (--timeout 0.5 s is over)" in shown.output
    assert "features/shop.feature::s2" in shown.output
    assert "features/shop.feature::s3" in shown.output


def test_report_gives_up_early_when_no_machine_is_seen(redis_server) -> None:  # noqa: F811
    url, build = redis_server.url(), f"inactive-{time.monotonic_ns()}"
    run_build(url, build, 2, leave=1)
    shown = report(url, build, "--timeout", "600", "--inactive-timeout", "0.2")
    assert shown.exit_code == 1, shown.output
    assert "no machine seen for 0.2 s" in shown.output
    assert "features/shop.feature::s1" in shown.output


def test_report_with_redis_unreachable_exits_2_with_the_password_masked() -> None:
    from suite_helpers import free_port

    url = f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0"
    shown = report(url, "b", "--timeout", "1")
    assert shown.exit_code == 2, shown.output
    assert "Error: cannot reach Redis at redis://:***@127.0.0.1:" in shown.output
    assert "s3cret-pw" not in shown.output
