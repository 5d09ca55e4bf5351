"""One "machine" of a build, as a process of its own: ``python queue_machine.py URL BUILD
WORKER COUNT``. Joins the build with COUNT scenarios (one per entry), reserves and acks a
passing result for each entry it gets until none is left, and prints one JSON line: whether
it filled the queue and which scenarios it recorded. Used by ``test_redis_queue.py``."""

from __future__ import annotations

import json
import sys

from parallel_bdd.messages import PASSED, FeatureData, ScenarioResult, WorkItem
from parallel_bdd.queue.redis_queue import RedisQueue

FEATURE = FeatureData("features/shop.feature", "Shop", 1)


def items(count: int) -> list[tuple[WorkItem, ...]]:
    """The selection: ``count`` scenarios, one entry each."""
    return [
        (WorkItem(f"features/shop.feature::s{n}", FEATURE, f"s{n}", 3 + n, order=n),)
        for n in range(count)
    ]


def main(url: str, build: str, worker: str, count: int) -> None:
    queue = RedisQueue(url, build, worker, heartbeat_timeout=30)
    queue.check()
    joined = queue.fill_or_wait(items(count), init_timeout=30)
    recorded = []
    while (reservation := queue.reserve()) is not None:
        for scenario_id in reservation.scenario_ids:
            result = ScenarioResult(scenario_id, PASSED, duration=0.01)
            if queue.ack(reservation.entry_id, reservation.lease, result):
                recorded.append(scenario_id)
    print(json.dumps({"worker": worker, "filled": joined.filled, "recorded": recorded}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
