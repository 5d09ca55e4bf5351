"""Unit tests of parallel_bdd.dispatch: the pool's bookkeeping driven by events, no processes.

One test per rule the pool keeps (retries, crash re-runs, timeouts, --failfast, Ctrl-C,
@serial, --dist feature, recycling, retiring), and a state machine (hypothesis) that
drives random interleavings and checks the invariants after every step.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from parallel_bdd import messages as m
from parallel_bdd.dispatch import (
    Decision,
    Dispatcher,
    LocalQueue,
    Rules,
    Send,
    SlotState,
    local_dispatcher,
)
from parallel_bdd.messages import FeatureData, ScenarioResult, WorkItem

CRASH = "killed by signal SIGKILL"


def make_item(
    scenario_id: str,
    *,
    tags: tuple[str, ...] = (),
    feature: str = "a.feature",
    estimate: float = 1.0,
    order: int = 0,
) -> WorkItem:
    return WorkItem(
        scenario_id=scenario_id,
        feature=FeatureData(path=feature, name=feature, line=1),
        name=f"name of {scenario_id}",
        line=order + 1,
        tags=tags,
        order=order,
        estimate=estimate,
    )


def make_items(*ids: str, **kwargs: object) -> list[WorkItem]:
    return [make_item(scenario_id, order=n, **kwargs) for n, scenario_id in enumerate(ids)]  # type: ignore[arg-type]


def outcome(scenario_id: str, status: str = m.PASSED, slot: int = 0) -> ScenarioResult:
    return ScenarioResult(scenario_id, status, worker_id=slot)


def sent(decision: Decision) -> list[tuple[int, tuple[str, ...]]]:
    return [(send.slot, tuple(item.scenario_id for item in send.entry)) for send in decision.sends]


def finals(decision: Decision) -> dict[str, ScenarioResult]:
    return {result.scenario_id: result for result in decision.final}


def ready(dispatcher: Dispatcher, *slots: int) -> list[tuple[int, tuple[str, ...]]]:
    handed: list[tuple[int, tuple[str, ...]]] = []
    for slot in slots:
        handed += sent(dispatcher.slot_ready(slot))
    return handed


def run_and_pass(dispatcher: Dispatcher, slot: int, scenario_id: str) -> Decision:
    dispatcher.started(slot, scenario_id, at=100.0)
    return dispatcher.result(slot, outcome(scenario_id, slot=slot))


# -- hand-out ------------------------------------------------------------------------------
def test_ready_slots_get_entries_in_the_schedulers_order() -> None:
    dispatcher = local_dispatcher(make_items("a", "b", "c"), 2, chunking=False)
    assert ready(dispatcher, 0, 1) == [(0, ("a",)), (1, ("b",))]
    decision = run_and_pass(dispatcher, 1, "b")
    assert sent(decision) == [(1, ("c",))]
    assert decision.final[0].scenario_id == "b"


def test_short_scenarios_go_out_as_one_chunk_and_are_held_until_each_has_a_record() -> None:
    dispatcher = local_dispatcher(make_items("a", "b", "c", estimate=0.001), 1)
    assert ready(dispatcher, 0) == [(0, ("a", "b", "c"))]
    run_and_pass(dispatcher, 0, "a")
    assert dispatcher.holding(0) == ("b", "c")


def test_an_idle_slot_waits_while_a_running_scenario_may_still_be_retried() -> None:
    dispatcher = local_dispatcher(make_items("a"), 2, Rules(retries=1))
    assert ready(dispatcher, 0, 1) == [(0, ("a",))]
    dispatcher.started(0, "a")
    decision = dispatcher.result(0, outcome("a", m.FAILED))
    assert [record.final for record in decision.records] == [False]
    assert sent(decision) == [(0, ("a",))]  # the retry goes to the first slot that can take it
    assert decision.stops == ()


def test_every_live_slot_is_stopped_once_every_scenario_has_its_final_record() -> None:
    dispatcher = local_dispatcher(make_items("a"), 3)
    ready(dispatcher, 0, 1)  # slot 2 is still starting
    decision = run_and_pass(dispatcher, 0, "a")
    assert decision.stops == (0, 1, 2)
    assert not decision.halt
    for slot in (0, 1, 2):
        dispatcher.slot_stopped(slot)
    assert dispatcher.over
    assert dispatcher.finish().records == ()


def test_dist_feature_hands_out_whole_features() -> None:
    items = [
        make_item("a1", feature="a.feature", order=0),
        make_item("b1", feature="b.feature", order=1),
        make_item("a2", feature="a.feature", order=2),
    ]
    dispatcher = local_dispatcher(items, 2, dist="feature")
    assert ready(dispatcher, 0, 1) == [(0, ("a1", "a2")), (1, ("b1",))]


def test_depth_two_keeps_the_next_entry_on_the_slot() -> None:
    dispatcher = local_dispatcher(make_items("a", "b", "c"), 1, Rules(depth=2), chunking=False)
    assert ready(dispatcher, 0) == [(0, ("a",)), (0, ("b",))]
    assert sent(run_and_pass(dispatcher, 0, "a")) == [(0, ("c",))]


# -- retries -------------------------------------------------------------------------------
def test_a_failed_scenario_is_retried_up_to_retry_times_then_final() -> None:
    dispatcher = local_dispatcher(make_items("a"), 1, Rules(retries=2))
    ready(dispatcher, 0)
    records = []
    for _ in range(3):
        dispatcher.started(0, "a")
        records += dispatcher.result(0, outcome("a", m.FAILED)).records
    assert [(r.result.attempt, r.final) for r in records] == [(1, False), (2, False), (3, True)]
    assert dispatcher.pending() == []


def test_a_later_pass_ends_the_retries() -> None:
    dispatcher = local_dispatcher(make_items("a"), 1, Rules(retries=2))
    ready(dispatcher, 0)
    dispatcher.result(0, outcome("a", m.FAILED))
    decision = dispatcher.result(0, outcome("a", m.PASSED))
    assert [(r.result.attempt, r.final) for r in decision.records] == [(2, True)]


def test_a_retry_tag_wins_over_the_retry_option() -> None:
    items = [make_item("a", tags=("retry(1)",)), make_item("b", tags=("retry=0",), order=1)]
    dispatcher = local_dispatcher(items, 2, Rules(retries=5), chunking=False)
    ready(dispatcher, 0, 1)
    assert not dispatcher.result(0, outcome("a", m.FAILED)).records[0].final
    assert dispatcher.result(0, outcome("a", m.FAILED)).records[0].final
    assert dispatcher.result(1, outcome("b", m.ERRORED)).records[0].final


def test_an_undefined_step_is_not_retried_but_errored_and_ambiguous_are() -> None:
    dispatcher = local_dispatcher(make_items("u", "e", "x"), 3, Rules(retries=1), chunking=False)
    ready(dispatcher, 0, 1, 2)
    assert dispatcher.result(0, outcome("u", m.UNDEFINED)).records[0].final
    assert not dispatcher.result(1, outcome("e", m.ERRORED, 1)).records[0].final
    assert not dispatcher.result(2, outcome("x", m.AMBIGUOUS, 2)).records[0].final


# -- crashes -------------------------------------------------------------------------------
def test_a_crashed_scenario_is_requeued_once_then_errored() -> None:
    dispatcher = local_dispatcher(make_items("a", "b"), 2, Rules(requeue_crashed=1))
    ready(dispatcher, 0, 1)
    dispatcher.started(0, "a", at=100.0)
    decision = dispatcher.slot_crashed(0, CRASH, "log tail", now=103.0)
    (record,) = decision.records
    assert not record.final and record.result.status == m.ERRORED
    assert record.result.error == f"worker 0 died ({CRASH})"
    assert record.result.error_traceback == "log tail"
    assert record.result.duration == pytest.approx(3.0)
    assert decision.restarts == (0,)
    assert "re-running it on a fresh worker (attempt 2)" in decision.notices[0]
    assert sent(dispatcher.slot_ready(0)) == [(0, ("a",))]  # on the fresh worker, first
    dispatcher.started(0, "a", at=104.0)
    decision = dispatcher.slot_crashed(0, CRASH, now=105.0)
    assert finals(decision)["a"].attempt == 2
    assert finals(decision)["a"].status == m.ERRORED
    assert decision.restarts == ()  # nothing is left to run for a fresh worker


def test_a_scenario_reserved_after_a_crash_goes_to_no_other_slot() -> None:
    dispatcher = local_dispatcher(make_items("a", "b", "c"), 2, Rules(requeue_crashed=1))
    ready(dispatcher, 0, 1)
    dispatcher.started(0, "a")
    dispatcher.slot_crashed(0, CRASH)
    assert sent(run_and_pass(dispatcher, 1, "b")) == [(1, ("c",))]


def test_a_crash_without_requeue_is_an_errored_record_that_retry_may_run_again() -> None:
    dispatcher = local_dispatcher(make_items("a", "b"), 1, Rules(retries=1))
    ready(dispatcher, 0)
    dispatcher.started(0, "a")
    decision = dispatcher.slot_crashed(0, CRASH)
    assert [(r.result.error, r.final) for r in decision.records] == [
        (f"worker 0 died ({CRASH})", False)
    ]
    assert decision.requeued == ("a",)
    assert decision.restarts == (0,)


def test_the_rest_of_a_crashed_chunk_goes_back_to_the_queue() -> None:
    dispatcher = local_dispatcher(make_items("a", "b", "c", estimate=0.001), 2)
    assert ready(dispatcher, 0) == [(0, ("a", "b", "c"))]
    run_and_pass(dispatcher, 0, "a")
    dispatcher.started(0, "b")
    decision = dispatcher.slot_crashed(0, CRASH)
    assert finals(decision)["b"].status == m.ERRORED
    assert decision.requeued == ("c",)
    assert ready(dispatcher, 1) == [(1, ("c",))]


def test_a_worker_that_dies_between_scenarios_gives_back_all_it_held() -> None:
    dispatcher = local_dispatcher(make_items("a", "b", estimate=0.001), 1)
    ready(dispatcher, 0)
    run_and_pass(dispatcher, 0, "a")
    decision = dispatcher.slot_crashed(0, CRASH)
    assert decision.records == () and decision.requeued == ("b",)
    assert decision.hook_failures[0].hook == "worker exit"
    assert decision.restarts == (0,)


def test_a_worker_that_dies_three_times_before_running_anything_retires() -> None:
    dispatcher = local_dispatcher(make_items("a"), 1)
    for _ in range(2):
        assert dispatcher.slot_crashed(0, CRASH).restarts == (0,)
    decision = dispatcher.slot_crashed(0, CRASH, "log")
    assert decision.restarts == ()
    assert decision.hook_failures[0].hook == "worker start"
    assert "died 3 times before running a scenario" in decision.hook_failures[0].error
    assert dispatcher.over
    assert finals(dispatcher.finish())["a"].status == m.NOT_RUN


def test_a_late_result_from_a_replaced_worker_is_ignored() -> None:
    dispatcher = local_dispatcher(make_items("a"), 1, Rules(requeue_crashed=1))
    ready(dispatcher, 0)
    dispatcher.started(0, "a")
    dispatcher.slot_crashed(0, CRASH)
    assert not dispatcher.result(0, outcome("a"))  # the fresh worker holds nothing yet


# -- timeouts and workers that stop --------------------------------------------------------
def test_a_timed_out_scenario_is_errored_and_the_rest_of_its_chunk_goes_back() -> None:
    dispatcher = local_dispatcher(make_items("a", "b", estimate=0.001), 1)
    ready(dispatcher, 0)
    dispatcher.started(0, "a", at=10.0)
    decision = dispatcher.slot_timed_out(0, 5.0, "stack", now=15.5)
    result = finals(decision)["a"]
    assert (result.status, result.error) == (m.ERRORED, "timed out after 5 s (--timeout)")
    assert (result.error_traceback, result.duration) == ("stack", 5.5)
    assert decision.requeued == ("b",)
    assert decision.restarts == (0,)
    assert "exceeded --timeout 5 s on worker 0" in decision.notices[0]


def test_a_timeout_after_the_scenario_finished_changes_nothing() -> None:
    dispatcher = local_dispatcher(make_items("a", "b"), 1)
    ready(dispatcher, 0)
    run_and_pass(dispatcher, 0, "a")
    assert not dispatcher.slot_timed_out(0, 5.0)


def test_a_worker_that_stops_mid_scenario_errors_it_and_requeues_the_rest() -> None:
    dispatcher = local_dispatcher(make_items("a", "b", estimate=0.001), 2)
    ready(dispatcher, 0)
    dispatcher.started(0, "a")
    decision = dispatcher.slot_stopped(0)
    assert finals(decision)["a"].error == "the worker stopped before the scenario ended"
    assert decision.requeued == ("b",)
    assert dispatcher.slots[0].state is SlotState.DONE


def test_a_recycled_worker_is_replaced_only_while_work_is_left() -> None:
    dispatcher = local_dispatcher(make_items("a", "b", "c"), 2, chunking=False)
    ready(dispatcher, 0, 1)
    run_and_pass(dispatcher, 0, "a")  # slot 0 now holds c
    dispatcher.result(0, outcome("c"))
    assert dispatcher.slot_stopped(0, recycle=True).restarts == ()  # b is held by slot 1
    # the entry it was given meanwhile goes back, and a fresh worker takes it
    dispatcher = local_dispatcher(make_items("a", "b"), 1, chunking=False)
    ready(dispatcher, 0)
    assert sent(dispatcher.result(0, outcome("a"))) == [(0, ("b",))]
    decision = dispatcher.slot_stopped(0, recycle=True)
    assert (decision.requeued, decision.restarts) == (("b",), (0,))
    assert ready(dispatcher, 0) == [(0, ("b",))]


def test_a_retiring_fresh_worker_settles_its_reserved_scenario_as_errored() -> None:
    dispatcher = local_dispatcher(make_items("a"), 1, Rules(requeue_crashed=1))
    ready(dispatcher, 0)
    dispatcher.started(0, "a")
    dispatcher.slot_crashed(0, CRASH)
    decision = dispatcher.slot_stopped(0, retire=True)  # its before.batch failed
    result = finals(decision)["a"]
    assert result.error == "not re-run after its worker crashed: its fresh worker stopped"
    assert result.attempt == 2
    assert dispatcher.over


def test_notes_go_into_the_running_scenarios_record() -> None:
    dispatcher = local_dispatcher(make_items("a"), 1)
    ready(dispatcher, 0)
    dispatcher.started(0, "a")
    assert dispatcher.note(0, "slow step").notices == ("slow step",)
    assert finals(dispatcher.result(0, outcome("a")))["a"].notes == ("slow step",)


# -- @serial -------------------------------------------------------------------------------
def test_serial_scenarios_go_out_one_at_a_time_ahead_of_the_rest() -> None:
    items = [
        make_item("s1", tags=("serial",), order=0),
        make_item("x", order=1),
        make_item("s2", tags=("serial",), order=2),
        make_item("y", order=3),
    ]
    dispatcher = local_dispatcher(items, 3, chunking=False)
    assert ready(dispatcher, 0, 1, 2) == [(0, ("s1",)), (1, ("x",)), (2, ("y",))]
    assert sent(run_and_pass(dispatcher, 1, "x")) == []  # s2 waits for s1's final record
    assert sent(run_and_pass(dispatcher, 0, "s1")) == [(0, ("s2",))]


def test_a_retried_serial_scenario_keeps_the_chain_waiting() -> None:
    items = [make_item(f"s{n}", tags=("serial",), order=n) for n in range(2)]
    dispatcher = local_dispatcher(items, 2, Rules(retries=1))
    assert ready(dispatcher, 0, 1) == [(0, ("s0",))]
    assert sent(dispatcher.result(0, outcome("s0", m.FAILED))) == [(0, ("s0",))]
    assert sent(dispatcher.result(0, outcome("s0"))) == [(0, ("s1",))]


# -- stopping: --failfast and Ctrl-C -------------------------------------------------------
def test_failfast_stops_handing_out_work_after_the_first_final_failure() -> None:
    dispatcher = local_dispatcher(make_items("a", "b", "c"), 2, Rules(failfast=True))
    ready(dispatcher, 0, 1)
    dispatcher.started(0, "a")
    decision = dispatcher.result(0, outcome("a", m.FAILED))
    assert decision.halt and decision.stops == (0, 1) and decision.sends == ()
    assert "--failfast" in decision.notices[0]
    assert finals(dispatcher.result(1, outcome("b", m.FAILED, 1)))["b"].status == m.FAILED
    dispatcher.slot_stopped(0)
    dispatcher.slot_stopped(1)
    assert dispatcher.over
    assert {r.scenario_id: r.status for r in dispatcher.finish().final} == {"c": m.NOT_RUN}


def test_failfast_waits_for_the_final_attempt_of_a_retried_scenario() -> None:
    rules = Rules(failfast=True, retries=1)
    dispatcher = local_dispatcher(make_items("a", "b", "c"), 1, rules, chunking=False)
    ready(dispatcher, 0)
    assert sent(dispatcher.result(0, outcome("a", m.FAILED))) == [(0, ("b",))]
    assert sent(dispatcher.result(0, outcome("b"))) == [(0, ("c",))]
    assert sent(dispatcher.result(0, outcome("c"))) == [(0, ("a",))]  # the retry: at the end
    decision = dispatcher.result(0, outcome("a", m.FAILED))
    assert decision.halt and finals(decision)["a"].attempt == 2


def test_interrupt_stops_handing_out_and_the_rest_is_not_run() -> None:
    dispatcher = local_dispatcher(make_items("a", "b", "c"), 2, chunking=False)
    ready(dispatcher, 0)  # slot 1 is still starting
    dispatcher.started(0, "a")
    decision = dispatcher.interrupt()
    assert decision.halt and decision.stops == (0, 1)
    assert not dispatcher.slot_ready(1).sends
    assert dispatcher.result(0, outcome("a")).final[0].status == m.PASSED
    assert not dispatcher.interrupt()  # the second call changes nothing
    final = dispatcher.finish().final
    assert [(r.scenario_id, r.status) for r in final] == [("b", m.NOT_RUN), ("c", m.NOT_RUN)]


def test_after_an_interrupt_a_failure_is_final_and_a_crash_is_not_rerun() -> None:
    rules = Rules(retries=3, requeue_crashed=3)
    dispatcher = local_dispatcher(make_items("a", "b"), 2, rules, chunking=False)
    ready(dispatcher, 0, 1)
    dispatcher.started(0, "a")
    dispatcher.started(1, "b")
    dispatcher.interrupt()
    assert dispatcher.result(0, outcome("a", m.FAILED)).records[0].final
    decision = dispatcher.slot_crashed(1, CRASH)
    assert decision.records[0].final and decision.restarts == ()


def test_a_second_interrupt_kills_the_running_ones_and_they_are_not_run() -> None:
    dispatcher = local_dispatcher(make_items("a"), 1)
    ready(dispatcher, 0)
    dispatcher.started(0, "a")
    dispatcher.interrupt()
    assert [(r.scenario_id, r.status) for r in dispatcher.finish().final] == [("a", m.NOT_RUN)]
    assert dispatcher.over and not dispatcher.result(0, outcome("a"))


# -- the source and the package ------------------------------------------------------------
def test_the_local_queue_hands_out_in_order_and_requeues_at_the_end() -> None:
    a, b, c = make_items("a", "b", "c")
    source = LocalQueue([(a,), (b, c)])
    assert source.next_entry(0) == (a,)
    source.requeue((a,))
    assert (source.remaining(), source.scenario_ids()) == (2, ("b", "c", "a"))
    assert [source.next_entry(1), source.next_entry(0), source.next_entry(0)] == [
        (b, c),
        (a,),
        None,
    ]


def test_a_dispatcher_takes_any_work_source() -> None:
    class Recording(LocalQueue):
        acked: list[str] = []

        def done(self, scenario_id: str) -> None:
            self.acked.append(scenario_id)

    a, b = make_items("a", "b")
    dispatcher = Dispatcher([a, b], Recording([(a,), (b,)]), 1)
    assert ready(dispatcher, 0) == [(0, ("a",))]
    run_and_pass(dispatcher, 0, "a")
    assert Recording.acked == ["a"]
    assert isinstance(dispatcher.slot_ready(0), Decision)
    assert Send(0, (a,)) == Send(0, (a,))


def test_the_dispatch_package_imports_no_process_or_io_module() -> None:
    allowed = {
        "__future__",
        "collections",
        "collections.abc",
        "dataclasses",
        "enum",
        "typing",
        "parallel_bdd",
        "parallel_bdd.messages",
        "parallel_bdd.scheduler",
    }
    package = Path(__file__).parent.parent / "parallel_bdd" / "dispatch"
    for module in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert name in allowed or name.startswith("parallel_bdd.dispatch"), (
                    f"{module.name} imports {name}"
                )
