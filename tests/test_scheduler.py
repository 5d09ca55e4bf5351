"""Unit tests of parallel_bdd.scheduler: estimates, longest first, sharding, predictions."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from parallel_bdd.errors import UsageError
from parallel_bdd.history import HistoryEntry
from parallel_bdd.messages import FeatureData, WorkItem, updated
from parallel_bdd.scheduler import (
    CHUNK_MAX,
    CHUNK_TARGET_SECONDS,
    UNKNOWN_CHUNK_MAX,
    feature_groups,
    file_order,
    longest_first,
    parse_shard,
    predicted_makespan,
    queue_entries,
    shard,
    shard_all,
    with_estimates,
)


def make_item(
    scenario_id: str, estimate: float = 0.0, order: int = 0, feature: str = "a.feature"
) -> WorkItem:
    return WorkItem(
        scenario_id=scenario_id,
        feature=FeatureData(path=feature, name=feature, line=1),
        name=scenario_id,
        line=order + 1,
        order=order,
        estimate=estimate,
    )


def entry(duration: float) -> HistoryEntry:
    return HistoryEntry(duration=duration, status="passed", runs=1, last_run="2024-05-01T10:00:00Z")


def ids(items: list[WorkItem]) -> list[str]:
    return [item.scenario_id for item in items]


def suite(estimates: list[float]) -> list[WorkItem]:
    return [make_item(f"s{n}", estimate, order=n) for n, estimate in enumerate(estimates)]


# updated (the fast dataclasses.replace the loader and the scheduler use)


def test_updated_copies_a_record_with_the_changes_and_leaves_it_alone() -> None:
    item = make_item("s0", estimate=1.0, order=4)
    copy = updated(item, estimate=2.5)
    assert copy == replace(item, estimate=2.5)
    assert copy is not item and item.estimate == 1.0
    assert hash(copy) == hash(replace(item, estimate=2.5))
    with pytest.raises(AttributeError):
        copy.estimate = 3.0  # type: ignore[misc]  # still frozen


def test_updated_refuses_a_field_the_record_does_not_have() -> None:
    with pytest.raises(TypeError, match="'estimat'"):
        updated(make_item("s0"), estimat=2.0)


# with_estimates


def test_with_estimates_uses_recorded_durations_and_keeps_order() -> None:
    items = suite([0, 0, 0])
    history = {"s0": entry(3.0), "s1": entry(1.0), "s2": entry(2.0)}
    estimated = with_estimates(items, history)
    assert ids(estimated) == ["s0", "s1", "s2"]
    assert [item.estimate for item in estimated] == [3.0, 1.0, 2.0]


def test_with_estimates_returns_copies() -> None:
    items = suite([0])
    estimated = with_estimates(items, {"s0": entry(5.0)})
    assert items[0].estimate == 0.0
    assert estimated[0] is not items[0]
    assert estimated[0] == replace(items[0], estimate=5.0)


def test_unknown_scenarios_get_the_median_of_the_known_ones_in_the_selection() -> None:
    items = suite([0, 0, 0, 0])
    history = {"s0": entry(1.0), "s1": entry(10.0), "s2": entry(4.0), "other": entry(1000.0)}
    estimated = with_estimates(items, history)
    assert estimated[3].estimate == 4.0  # median of 1, 10, 4; the unselected 1000 is ignored


def test_unknown_selection_gets_the_median_of_the_whole_history() -> None:
    items = suite([0, 0])
    history = {"x": entry(2.0), "y": entry(6.0), "z": entry(100.0), "w": entry(8.0)}
    estimated = with_estimates(items, history)
    assert [item.estimate for item in estimated] == [7.0, 7.0]


def test_empty_history_estimates_zero() -> None:
    estimated = with_estimates(suite([5.0, 6.0]), {})
    assert [item.estimate for item in estimated] == [0.0, 0.0]


# longest_first and policies


def test_longest_first_sorts_by_descending_estimate() -> None:
    items = suite([1.0, 5.0, 3.0])
    assert ids(longest_first(items)) == ["s1", "s2", "s0"]


def test_longest_first_breaks_ties_by_file_order() -> None:
    items = [make_item("late", 2.0, order=9), make_item("early", 2.0, order=1)]
    items.append(make_item("long", 3.0, order=5))
    assert ids(longest_first(items)) == ["long", "early", "late"]


def test_file_order_is_the_order_in_the_files() -> None:
    items = suite([1.0, 5.0, 3.0])
    assert ids(file_order(list(reversed(items)))) == ["s0", "s1", "s2"]


def test_feature_groups_keep_a_feature_together_longest_feature_first() -> None:
    items = [
        make_item("a1", 1.0, order=0, feature="a.feature"),
        make_item("b1", 5.0, order=1, feature="b.feature"),
        make_item("a2", 2.0, order=2, feature="a.feature"),
        make_item("b2", 0.5, order=3, feature="b.feature"),
    ]
    groups = feature_groups(items)
    assert [ids(group) for group in groups] == [["b1", "b2"], ["a1", "a2"]]


# shard


def test_shard_packs_longest_first_into_the_least_loaded_shard() -> None:
    items = suite([8.0, 7.0, 6.0, 5.0, 4.0])
    # 8 -> 1; 7 -> 2; 6 -> 2 (7 < 8); 5 -> 1 (8 < 13); 4 -> 1 (13 = 13, same count, lower number)
    assert ids(shard(items, 1, 2)) == ["s0", "s3", "s4"]
    assert ids(shard(items, 2, 2)) == ["s1", "s2"]


@pytest.mark.parametrize("total", [1, 2, 3, 5, 8])
def test_shards_cover_every_item_exactly_once(total: int) -> None:
    rng = random.Random(total)
    items = suite([round(rng.uniform(0, 30), 2) for _ in range(37)])
    shards = [shard(items, index, total) for index in range(1, total + 1)]
    chosen = [item.scenario_id for part in shards for item in part]
    assert sorted(chosen) == sorted(ids(items))
    assert len(chosen) == len(set(chosen))
    for part in shards:
        assert part == longest_first(part)


def test_shards_are_balanced_by_estimate() -> None:
    rng = random.Random(3)
    items = suite([rng.uniform(1, 20) for _ in range(60)])
    loads = [sum(item.estimate for item in part) for part in shard_all(items, 4)]
    # Greedy packing leaves the shards at most one scenario apart.
    assert max(loads) - min(loads) <= max(item.estimate for item in items)


def test_shard_is_deterministic_whatever_the_input_order() -> None:
    rng = random.Random(5)
    items = suite([rng.choice([1.0, 2.0, 3.0]) for _ in range(30)])
    shuffled = list(items)
    random.Random(11).shuffle(shuffled)
    for index in (1, 2, 3):
        assert ids(shard(items, index, 3)) == ids(shard(shuffled, index, 3))


def test_shard_without_history_deals_round_robin_in_file_order() -> None:
    items = suite([0.0] * 10)
    assert ids(shard(items, 1, 3)) == ["s0", "s3", "s6", "s9"]
    assert ids(shard(items, 2, 3)) == ["s1", "s4", "s7"]
    assert ids(shard(items, 3, 3)) == ["s2", "s5", "s8"]


def test_more_shards_than_scenarios_leaves_some_empty() -> None:
    items = suite([1.0, 2.0])
    assert [ids(part) for part in shard_all(items, 3)] == [["s1"], ["s0"], []]


def test_shard_can_keep_features_whole() -> None:
    items = [
        make_item(f"{feature}{n}", 1.0, order=order, feature=f"{feature}.feature")
        for order, (feature, n) in enumerate((f, n) for f in "abcd" for n in range(3))
    ]
    parts = shard_all(items, 2, keep_features=True)
    for part in parts:
        features = {item.feature.path for item in part}
        assert len(part) == 3 * len(features)
    assert sorted(len(part) for part in parts) == [6, 6]


@pytest.mark.parametrize(("index", "total"), [(0, 3), (4, 3), (1, 0)])
def test_shard_rejects_an_impossible_shard(index: int, total: int) -> None:
    with pytest.raises(UsageError):
        shard(suite([1.0]), index, total)


# predicted_makespan


@pytest.mark.parametrize(
    ("durations", "processes", "expected"),
    [
        ([], 4, 0.0),
        ([5.0, 5.0, 5.0, 5.0], 2, 10.0),
        ([1.0, 10.0, 1.0, 1.0], 2, 10.0),
        ([1.0, 2.0, 3.0], 1, 6.0),
        ([1.0, 2.0, 3.0], 8, 3.0),
        ([2.0, 3.0, 2.0, 3.0, 2.0], 2, 7.0),  # 3|3, 2->5|5, 2->7
    ],
)
def test_predicted_makespan_simulates_longest_first_pull(
    durations: list[float], processes: int, expected: float
) -> None:
    assert predicted_makespan(durations, processes) == pytest.approx(expected)


def test_predicted_makespan_needs_a_process() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        predicted_makespan([1.0], 0)


# parse_shard


@pytest.mark.parametrize(
    ("text", "expected"), [("2/3", (2, 3)), ("1/1", (1, 1)), (" 3 / 4 ", (3, 4))]
)
def test_parse_shard_reads_i_of_n(text: str, expected: tuple[int, int]) -> None:
    assert parse_shard(text) == expected


def test_parse_shard_out_of_range_says_the_range() -> None:
    with pytest.raises(UsageError) as caught:
        parse_shard("4/3")
    assert caught.value.message == (
        "--shard '4/3': the shard number must be between 1 and 3 (write I/N, e.g. 1/3)"
    )


@pytest.mark.parametrize("text", ["0/3", "1/0", "3", "a/b", "1/3/4", "-1/3", "", "1.5/3", "٢/٣"])
def test_parse_shard_rejects_anything_else_quoting_it(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_shard(text)
    assert f"--shard '{text}'" in caught.value.message
    assert "I/N" in caught.value.message


# queue entries: what one worker takes at a time


def test_with_history_short_scenarios_are_chunked_by_known_work_and_long_ones_go_alone() -> None:
    instant = suite([0.0001] * 250)  # 2,000 of these would be 0.2 s of work
    entries = queue_entries(instant, 2)
    assert [len(entry) for entry in entries] == [CHUNK_MAX, CHUNK_MAX, 50]
    assert [item for entry in entries for item in entry] == instant  # order kept

    short = suite([0.02] * 6)  # two fit in CHUNK_TARGET_SECONDS, a third would not
    assert 2 * 0.02 <= CHUNK_TARGET_SECONDS < 3 * 0.02
    assert [len(entry) for entry in queue_entries(short, 2)] == [2, 2, 2]

    # (in longest-first order the short ones come last anyway)
    mixed = suite([3.0, 0.01, 0.01, 1.0, 0.01])
    assert [ids(list(entry)) for entry in queue_entries(mixed, 2)] == [
        ["s0"],
        ["s3"],
        ["s1", "s2", "s4"],
    ]


def test_without_history_a_large_selection_gets_smaller_chunks_that_shrink() -> None:
    unknown = suite([0.0] * 1000)
    sizes = [len(entry) for entry in queue_entries(unknown, 4)]
    assert sum(sizes) == 1000
    assert max(sizes) == UNKNOWN_CHUNK_MAX < CHUNK_MAX
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1
    assert [len(entry) for entry in queue_entries(suite([0.0] * 499), 4)] == [1] * 499
