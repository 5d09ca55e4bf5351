"""The shared Redis queue, against a real ``redis-server``, driven the way several machines
would: several ``RedisQueue``s with their own worker names, and processes of their own
(``queue_machine.py``). Time passes on the server's clock (``wait_for_server_time``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from queue_machine import FEATURE, items
from redis_server import redis_aof_server, redis_server  # noqa: F401

from parallel_bdd.errors import QueueError
from parallel_bdd.messages import FAILED, PASSED, ScenarioResult, WorkItem
from parallel_bdd.queue import redis_queue as redis_queue_module
from parallel_bdd.queue.keys import BuildKeys
from parallel_bdd.queue.redis_queue import RedisQueue

pytest.importorskip("redis")

SHORT = 0.3  # seconds: the heartbeat timeout of the tests that let a lease expire
HERE = Path(__file__).parent
_builds = iter(range(10**6))


def new_build() -> str:
    return f"build-{next(_builds)}-{time.monotonic_ns()}"


def machine(server, build: str, worker: str, **options) -> RedisQueue:  # type: ignore[no-untyped-def]
    return RedisQueue(server.url(), build, worker, **options)


def passed(scenario_id: str, worker_id: int = 0) -> ScenarioResult:
    return ScenarioResult(scenario_id, PASSED, duration=0.5, worker_id=worker_id)


def server_ms(queue: RedisQueue) -> int:
    seconds, micros = queue.client.time()
    return seconds * 1000 + micros // 1000


def wait_for_server_time(queue: RedisQueue, seconds: float) -> None:
    """Until the server's own clock has moved ``seconds`` on (a poll with a deadline)."""
    target = server_ms(queue) + int(seconds * 1000) + 1
    deadline = time.monotonic() + 30
    while server_ms(queue) < target:
        assert time.monotonic() < deadline, "the server's clock did not move"
        time.sleep(0.01)  # a poll interval


def drain(queue: RedisQueue, worker_id: int = 0) -> list[str]:
    recorded = []
    while (reservation := queue.reserve()) is not None:
        for scenario_id in reservation.scenario_ids:
            if queue.ack(reservation.entry_id, reservation.lease, passed(scenario_id, worker_id)):
                recorded.append(scenario_id)
    return recorded


def test_first_machine_fills_the_queue_and_the_others_join_it(redis_server) -> None:  # noqa: F811
    build = new_build()
    machines = [
        subprocess.Popen(
            [sys.executable, str(HERE / "queue_machine.py"), redis_server.url(), build, name, "40"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=HERE.parent,
            env={**os.environ, "PYTHONPATH": str(HERE.parent)},
        )
        for name in ("m1", "m2", "m3")
    ]
    reports = []
    for process in machines:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        reports.append(json.loads(out))
    assert sorted(report["filled"] for report in reports) == [False, False, True]
    recorded = [sid for report in reports for sid in report["recorded"]]
    assert sorted(recorded) == sorted(f"features/shop.feature::s{n}" for n in range(40))
    late = machine(redis_server, build, "m4")
    assert late.fill_or_wait(items(40)).filled is False
    assert late.drained() and late.reserve() is None and late.remaining() == 0


def test_entries_go_out_in_the_order_the_filler_gave(redis_server) -> None:  # noqa: F811
    build = new_build()
    first, second = machine(redis_server, build, "a"), machine(redis_server, build, "b")
    entries = list(reversed(items(3)))
    first.fill_or_wait(entries)
    second.fill_or_wait(items(3))  # another order of the same selection is the same
    got = [first.reserve(), second.reserve(), first.reserve(), second.reserve()]
    assert [r.scenario_ids[0][-2:] if r else None for r in got] == ["s2", "s1", "s0", None]


def test_a_machine_with_another_selection_is_refused_saying_what_differs(
    redis_server,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build = new_build()
    machine(redis_server, build, "a").fill_or_wait(items(4))
    with pytest.raises(QueueError, match=r"scenario count: 4 there, 3 here"):
        machine(redis_server, build, "b").fill_or_wait(items(3))
    other = [(WorkItem(f"x::{n}", FEATURE, f"x{n}", 1),) for n in range(4)]
    with pytest.raises(QueueError, match=r"scenarios: other ones, 4 on both"):
        machine(redis_server, build, "c").fill_or_wait(other)
    monkeypatch.setattr(redis_queue_module, "__version__", "9.9.9")
    with pytest.raises(QueueError, match=r"pbdd version: \S+ there, 9.9.9 here") as refused:
        machine(redis_server, build, "d").fill_or_wait(items(4))
    assert refused.value.exit_code == 2 and "filled by worker a" in refused.value.message


def test_a_filler_that_never_finishes_is_named_after_the_init_timeout(redis_server) -> None:  # noqa: F811
    build = new_build()
    redis_server.client().set(BuildKeys(build).status, "setup:ghost")
    with pytest.raises(QueueError, match="worker ghost has been filling the queue"):
        machine(redis_server, build, "b").fill_or_wait(items(2), init_timeout=0.3)


def test_a_paused_machine_loses_its_entry_and_its_late_ack_is_ignored(redis_server) -> None:  # noqa: F811
    build = new_build()
    paused = machine(redis_server, build, "paused", heartbeat_timeout=SHORT)
    other = machine(redis_server, build, "other", heartbeat_timeout=SHORT)
    paused.fill_or_wait(items(2))
    other.fill_or_wait(items(2))
    lost = paused.reserve()
    assert lost is not None
    wait_for_server_time(other, SHORT)
    taken = other.reserve()
    assert taken is not None and taken.entry_id == lost.entry_id
    assert taken.reclaimed_from == "paused" and taken.lease > lost.lease
    assert paused.heartbeat() == (lost.entry_id,)
    late = ScenarioResult(lost.scenario_ids[0], FAILED, worker_id=7)
    assert paused.ack(lost.entry_id, lost.lease, late) is False
    assert paused.requeue(lost.entry_id, lost.lease) is False
    assert other.ack(taken.entry_id, taken.lease, passed(taken.scenario_ids[0], 1)) is True
    assert drain(other) == [items(2)[1][0].scenario_id]
    results = redis_server.client().hgetall(BuildKeys(build).results)
    assert len(results) == 2
    assert json.loads(results[lost.scenario_ids[0].encode()])["status"] == PASSED
    assert other.drained()


def test_heartbeats_keep_an_entry_past_the_timeout(redis_server) -> None:  # noqa: F811
    build = new_build()
    holder = machine(redis_server, build, "holder", heartbeat_timeout=SHORT)
    other = machine(redis_server, build, "other", heartbeat_timeout=SHORT)
    holder.fill_or_wait(items(1))
    other.fill_or_wait(items(1))
    held = holder.reserve()
    assert held is not None
    for _ in range(3):
        wait_for_server_time(holder, SHORT / 2)
        assert holder.heartbeat() == ()
    assert other.reserve() is None
    assert other.remaining() == 1  # held by another: taken over if that one stops
    assert holder.ack(held.entry_id, held.lease, passed(held.scenario_ids[0]))


def test_ctrl_c_gives_back_unstarted_entries_at_the_front_in_order(redis_server) -> None:  # noqa: F811
    build = new_build()
    stopping, other = machine(redis_server, build, "stopping"), machine(redis_server, build, "o")
    stopping.fill_or_wait(items(5))
    other.fill_or_wait(items(5))
    running, *unstarted = [stopping.reserve() for _ in range(3)]
    assert stopping.release_all(keep=[running.entry_id]) == 2
    assert stopping.held() == {running.entry_id: running.lease}
    assert [other.reserve().entry_id for _ in range(3)] == [r.entry_id for r in unstarted] + ["3"]
    assert stopping.release_all() == 1
    assert other.reserve().entry_id == running.entry_id


def test_requeue_goes_to_the_end_without_the_scenarios_already_recorded(redis_server) -> None:  # noqa: F811
    build = new_build()
    a, b = machine(redis_server, build, "a"), machine(redis_server, build, "b")
    chunk = tuple(item for entry in items(3) for item in entry)[:2]
    a.fill_or_wait([chunk, items(3)[2]])
    b.fill_or_wait([chunk, items(3)[2]])
    got = a.reserve()
    assert got.scenario_ids == tuple(item.scenario_id for item in chunk)
    assert a.ack(got.entry_id, got.lease, passed(chunk[0].scenario_id))
    assert a.requeue(got.entry_id, got.lease) is True
    assert b.reserve().entry_id == "1"
    again = b.reserve()
    assert again.entry_id == got.entry_id and again.scenario_ids == (chunk[1].scenario_id,)


def test_a_retry_that_passes_on_another_machine_is_flaky(redis_server) -> None:  # noqa: F811
    build = new_build()
    a, b = machine(redis_server, build, "a"), machine(redis_server, build, "b")
    a.fill_or_wait(items(1))
    b.fill_or_wait(items(1))
    first = a.reserve()
    sid = first.scenario_ids[0]
    assert a.ack(first.entry_id, first.lease, ScenarioResult(sid, FAILED), final=False)
    assert a.requeue(first.entry_id, first.lease)
    retry = b.reserve()
    assert b.ack(retry.entry_id, retry.lease, passed(sid))
    # a second final result for the scenario is ignored: the first one wins
    assert b.ack(retry.entry_id, retry.lease, ScenarioResult(sid, FAILED)) is False
    keys, client = BuildKeys(build), redis_server.client()
    assert client.smembers(keys.flaky) == {sid.encode()}
    assert client.hlen(keys.attempts) == 2 and b.drained()


def test_two_builds_on_one_redis_never_see_each_other(redis_server) -> None:  # noqa: F811
    one, two = new_build(), new_build()
    a = machine(redis_server, one, "a")
    b = machine(redis_server, two, "a")
    a.fill_or_wait(items(3))
    b.fill_or_wait(items(5))  # the same worker name, another selection: no conflict
    assert len(drain(a)) == 3 and a.drained() and not b.drained()
    assert len(drain(b)) == 5
    client = redis_server.client()
    for build in (one, two):
        keys = client.keys(f"pbdd:{{{build}}}:*")
        assert keys and all(key.startswith(f"pbdd:{{{build}}}:".encode()) for key in keys)


def test_every_key_is_in_one_slot_expires_and_holds_json_never_pickles(redis_server) -> None:  # noqa: F811
    build = new_build()
    queue = machine(redis_server, build, "a", ttl=600)
    queue.fill_or_wait(items(3))
    got = queue.reserve()
    queue.ack(got.entry_id, got.lease, ScenarioResult(got.scenario_ids[0], FAILED), final=False)
    drain(queue)
    client = redis_server.client()
    keys = client.keys(f"pbdd:{{{build}}}:*")
    from redis.crc import key_slot  # Redis Cluster's CRC16 of the hash tag

    assert len({key_slot(key) for key in keys}) == 1
    for key in keys:
        assert 0 < client.ttl(key) <= 600, key
        kind = client.type(key)
        values = {
            b"string": lambda k: [client.get(k)],
            b"hash": lambda k: client.hvals(k),
            b"list": lambda k: client.lrange(k, 0, -1),
            b"set": lambda k: list(client.smembers(k)),
            b"zset": lambda k: client.zrange(k, 0, -1),
        }[kind](key)
        for value in values:
            assert not value.startswith(b"\x80"), f"{key!r} holds a pickle"
            if key.endswith((b":results", b":attempts", b":items", b":entries")):
                json.loads(value)


def test_redis_restarted_mid_run_reloads_the_scripts(redis_aof_server) -> None:  # noqa: F811
    build = new_build()
    queue = machine(redis_aof_server, build, "a", queue_timeout=30)
    queue.fill_or_wait(items(3))
    got = queue.reserve()
    redis_aof_server.restart()
    assert queue.client.script_exists(queue.scripts.ack.sha) == [False]
    assert queue.ack(got.entry_id, got.lease, passed(got.scenario_ids[0]))
    assert queue.heartbeat() == ()
    assert len(drain(queue)) == 2 and queue.drained()


def test_redis_lost_for_longer_than_the_queue_timeout_is_a_queue_error(redis_aof_server) -> None:  # noqa: F811
    queue = machine(redis_aof_server, new_build(), "a", queue_timeout=0.5)
    queue.fill_or_wait(items(1))
    redis_aof_server.stop()
    with pytest.raises(QueueError, match=r"lost Redis at redis://127\.0\.0\.1:\d+/0 for more"):
        queue.reserve()


def test_unreachable_redis_at_start_names_the_url_with_the_password_masked() -> None:
    from suite_helpers import free_port

    queue = RedisQueue(f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0", "b", "a")
    with pytest.raises(QueueError) as refused:
        queue.check()
    shown = refused.value.format_message()
    assert "cannot reach Redis at redis://:***@127.0.0.1:" in shown
    assert "s3cret-pw" not in shown and "s3cret-pw" not in str(refused.value)


def test_a_server_that_may_evict_keys_is_warned_about(redis_server) -> None:  # noqa: F811
    queue = machine(redis_server, new_build(), "a")
    client = redis_server.client()
    assert queue.check() == []
    client.config_set("maxmemory", "512mb")
    try:
        for policy in ("allkeys-lru", "volatile-lru"):
            client.config_set("maxmemory-policy", policy)
            (warning,) = queue.check()
            assert f"maxmemory-policy {policy}" in warning
        client.config_set("maxmemory-policy", "noeviction")
        assert queue.check() == []
    finally:
        client.config_set("maxmemory", "0")
        client.config_set("maxmemory-policy", "noeviction")
