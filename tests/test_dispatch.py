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


def test_work_that_comes_back_after_every_slot_ended_starts_a_slot_again() -> None:
    dispatcher = local_dispatcher(make_items("a"), 2)
    ready(dispatcher, 0, 1)  # slot 0 holds a, slot 1 has nothing to do
    assert dispatcher.slot_crashed(1, CRASH).restarts == ()  # no work for a fresh one
    decision = dispatcher.slot_stopped(0, retire=True)  # a goes back, slot 0 retires
    assert (decision.requeued, decision.restarts) == (("a",), (1,))
    assert ready(dispatcher, 1) == [(1, ("a",))]


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

        def done(self, result: ScenarioResult, final: bool = True) -> None:
            self.acked.append(result.scenario_id)

    a, b = make_items("a", "b")
    dispatcher = Dispatcher([a, b], Recording([(a,), (b,)]), 1)
    assert ready(dispatcher, 0) == [(0, ("a",))]
    run_and_pass(dispatcher, 0, "a")
    assert Recording.acked == ["a"]
    assert isinstance(dispatcher.slot_ready(0), Decision)
    assert Send(0, (a,)) == Send(0, (a,))


class SharedQueue(LocalQueue):
    """A queue other machines take from too: ``taken_elsewhere`` entries are held by
    another machine (``remaining`` counts them: they come back if it is lost)."""

    shared = True

    def __init__(self, entries: list[tuple[WorkItem, ...]]) -> None:
        super().__init__(entries)
        self.taken_elsewhere = 0
        self.acks: list[tuple[str, bool]] = []
        self.given_back: list[str] = []
        self.stopped_with: list[str] | None = None

    def done(self, result: ScenarioResult, final: bool = True) -> None:
        self.acks.append((result.scenario_id, final))

    def remaining(self) -> int:
        return super().remaining() + self.taken_elsewhere

    def stop(self, running: list[str]) -> None:  # type: ignore[override]
        self.stopped_with = list(running)
        self.given_back = list(self.scenario_ids())


def test_with_a_shared_source_a_machine_answers_only_for_what_it_was_handed() -> None:
    a, b, c = make_items("a", "b", "c")
    source = SharedQueue([(a,)])  # b and c went to other machines
    source.taken_elsewhere = 1
    dispatcher = Dispatcher([a, b, c], source, 1, Rules(retries=1))
    assert ready(dispatcher, 0) == [(0, ("a",))]
    dispatcher.started(0, "a")
    decision = dispatcher.result(0, outcome("a", m.FAILED))
    assert sent(decision) == [(0, ("a",))] and source.acks == [("a", False)]
    decision = run_and_pass(dispatcher, 0, "a")
    assert source.acks == [("a", False), ("a", True)]
    # another machine still runs an entry it could lose: this one waits, idle
    assert not decision.stops and dispatcher.pending() == []
    assert not dispatcher.poll().stops
    source.taken_elsewhere = 0  # that machine acked its last scenario
    assert dispatcher.poll().stops == (0,)
    dispatcher.slot_stopped(0)
    assert dispatcher.over and dispatcher.finish().final == ()  # b and c: not this one's


def test_with_a_shared_source_ctrl_c_gives_back_what_is_not_running() -> None:
    a, b, c = make_items("a", "b", "c")
    source = SharedQueue([(a,), (b,), (c,)])
    dispatcher = Dispatcher([a, b, c], source, 1, Rules(depth=2))
    assert ready(dispatcher, 0) == [(0, ("a",)), (0, ("b",))]
    dispatcher.started(0, "a")
    dispatcher.interrupt()
    assert source.stopped_with == ["a"] and source.given_back == ["c"]
    dispatcher.slot_stopped(0)  # b never started: not requeued into a stopped source
    assert source.scenario_ids() == ("c",)
    assert [r.scenario_id for r in dispatcher.finish().final] == ["a", "b"]


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


# -- random interleavings ------------------------------------------------------------------
from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import (  # noqa: E402
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from parallel_bdd.scheduler import retries_for  # noqa: E402

STATUSES = st.sampled_from([m.PASSED, m.FAILED, m.ERRORED, m.UNDEFINED, m.AMBIGUOUS])
SLOTS = 3


class Workers(RuleBasedStateMachine):
    """Fake workers around a real dispatcher: each rule is one thing a worker or the user
    can do; every decision is carried out as the pool would, and checked on the way."""

    @initialize(
        kinds=st.lists(st.sampled_from(["short", "long", "serial", "retry1"]), max_size=8),
        slots=st.integers(1, SLOTS),
        retries=st.integers(0, 2),
        requeue=st.integers(0, 2),
        failfast=st.booleans(),
        depth=st.integers(1, 2),
        dist=st.sampled_from(["load", "feature"]),
        ending=st.sampled_from([m.PASSED, m.FAILED]),
    )
    def start(self, kinds, slots, retries, requeue, failfast, depth, dist, ending) -> None:
        self.items = [
            make_item(
                f"s{n}",
                tags={"serial": ("serial",), "retry1": ("retry(1)",)}.get(kind, ()),
                feature=f"f{n % 2}.feature",
                estimate=0.001 if kind == "short" else 1.0,
                order=n,
            )
            for n, kind in enumerate(kinds)
        ]
        self.rules = Rules(retries, requeue, failfast, depth)
        self.dispatcher = local_dispatcher(self.items, slots, self.rules, dist=dist)
        self.alive = {slot: "starting" for slot in range(slots)}  # or "ready", "gone"
        self.inbox: dict[int, list[str]] = {slot: [] for slot in range(slots)}  # not started
        self.running: dict[int, str] = {slot: "" for slot in range(slots)}
        self.told_to_stop: set[int] = set()
        self.halted = False
        self.final: dict[str, list[ScenarioResult]] = {}
        self.last_attempt: dict[str, int] = {}
        self.ending = ending  # how the scenarios run at the end, once the faults are over

    # -- carrying out decisions, checking them -----------------------------------------
    def apply(self, decision: Decision) -> None:
        assert not (self.halted and decision.sends), "work handed out after a stop"
        for send in decision.sends:
            self.take(send)
        for record in decision.records:
            self.check_record(record.result, record.final)
        if self.rules.failfast and not self.halted and any(r.failed for r in decision.final):
            assert decision.halt, "--failfast did not stop the run"
        if decision.halt:
            self.halted = True
        self.told_to_stop.update(decision.stops)
        for slot in decision.restarts:
            assert self.alive[slot] == "gone", "a live worker was restarted"
            self.alive[slot], self.inbox[slot], self.running[slot] = "starting", [], ""
            self.told_to_stop.discard(slot)

    def take(self, send: Send) -> None:
        assert self.alive[send.slot] == "ready", "work sent to a worker that is not ready"
        assert send.slot not in self.told_to_stop
        for item in send.entry:
            held = {s for slot in self.inbox for s in self.inbox[slot]} | set(self.running.values())
            assert item.scenario_id not in held, f"{item.scenario_id} handed to two slots"
            assert item.scenario_id not in self.final, f"{item.scenario_id} is settled"
            self.inbox[send.slot].append(item.scenario_id)

    def check_record(self, result: ScenarioResult, final: bool) -> None:
        scenario_id = result.scenario_id
        assert scenario_id not in self.final, f"a second final record for {scenario_id}"
        item = self.dispatcher._items[scenario_id]
        bound = 1 + max(retries_for(item, self.rules.retries), self.rules.requeue_crashed)
        assert result.attempt <= bound, f"{scenario_id}: attempt {result.attempt} > {bound}"
        assert result.attempt >= self.last_attempt.get(scenario_id, 1)
        self.last_attempt[scenario_id] = result.attempt
        if final:
            self.final.setdefault(scenario_id, []).append(result)
        else:
            assert not self.halted, "a retry after a stop"

    # -- what workers do ---------------------------------------------------------------
    @precondition(lambda self: any(state == "starting" for state in self.alive.values()))
    @rule(data=st.data())
    def worker_is_ready(self, data) -> None:
        slot = data.draw(st.sampled_from(self.slots_in("starting")))
        self.alive[slot] = "ready"
        self.apply(self.dispatcher.slot_ready(slot))

    @precondition(lambda self: self.startable())
    @rule(data=st.data())
    def worker_starts_a_scenario(self, data) -> None:
        slot = data.draw(st.sampled_from(self.startable()))
        self.running[slot] = self.inbox[slot].pop(0)
        self.apply(self.dispatcher.started(slot, self.running[slot], at=1.0))

    @precondition(lambda self: any(self.running.values()))
    @rule(data=st.data(), status=STATUSES)
    def worker_sends_a_result(self, data, status) -> None:
        slot = data.draw(st.sampled_from([s for s, r in self.running.items() if r]))
        scenario_id, self.running[slot] = self.running[slot], ""
        self.apply(self.dispatcher.result(slot, outcome(scenario_id, status, slot)))

    @precondition(lambda self: self.startable())
    @rule(data=st.data(), status=STATUSES)
    def worker_sends_a_result_the_board_never_showed(self, data, status) -> None:
        slot = data.draw(st.sampled_from(self.startable()))
        scenario_id = self.inbox[slot].pop(0)
        self.apply(self.dispatcher.result(slot, outcome(scenario_id, status, slot)))

    @precondition(lambda self: self.items)
    @rule(data=st.data(), status=STATUSES)
    def late_result_from_a_replaced_worker(self, data, status) -> None:
        slot = data.draw(st.sampled_from(sorted(self.alive)))
        mine = {*self.inbox[slot], self.running[slot]}
        others = [item.scenario_id for item in self.items if item.scenario_id not in mine]
        if others:
            scenario_id = data.draw(st.sampled_from(others))
            assert not self.dispatcher.result(slot, outcome(scenario_id, status, slot))

    @precondition(lambda self: self.slots_in("starting", "ready"))
    @rule(data=st.data())
    def worker_dies(self, data) -> None:
        slot = data.draw(st.sampled_from(self.slots_in("starting", "ready")))
        self.gone(slot)
        self.apply(self.dispatcher.slot_crashed(slot, CRASH, now=2.0))

    @precondition(lambda self: any(self.running.values()))
    @rule(data=st.data())
    def scenario_times_out(self, data) -> None:
        slot = data.draw(st.sampled_from([s for s, r in self.running.items() if r]))
        decision = self.dispatcher.slot_timed_out(slot, 5.0, now=9.0)
        self.gone(slot)
        self.apply(decision)

    @precondition(lambda self: self.stoppable())
    @rule(data=st.data())
    def worker_ends_after_its_marker_or_the_halt(self, data) -> None:
        slot = data.draw(st.sampled_from(self.stoppable()))
        self.gone(slot)
        self.apply(self.dispatcher.slot_stopped(slot))

    @precondition(lambda self: self.between_scenarios())
    @rule(data=st.data())
    def worker_recycles(self, data) -> None:
        slot = data.draw(st.sampled_from(self.between_scenarios()))
        self.gone(slot)
        self.apply(self.dispatcher.slot_stopped(slot, recycle=True))

    @precondition(lambda self: self.slots_in("starting"))
    @rule(data=st.data())
    def before_batch_fails(self, data) -> None:
        slot = data.draw(st.sampled_from(self.slots_in("starting")))
        self.gone(slot)
        self.apply(self.dispatcher.slot_stopped(slot, retire=True))

    @rule(data=st.data())
    def slow_step_warning(self, data) -> None:
        slot = data.draw(st.sampled_from(sorted(self.alive)))
        decision = self.dispatcher.note(slot, "slow step")
        assert decision.notices == ("slow step",)
        self.apply(decision)

    @precondition(lambda self: not self.halted)
    @rule()
    def ctrl_c(self) -> None:
        self.apply(self.dispatcher.interrupt())

    # -- helpers -----------------------------------------------------------------------
    def slots_in(self, *states: str) -> list[int]:
        return [slot for slot, state in self.alive.items() if state in states]

    def startable(self) -> list[int]:
        # after a halt a worker may still start one scenario: it read the flag just before
        return [s for s in self.slots_in("ready") if not self.running[s] and self.inbox[s]]

    def between_scenarios(self) -> list[int]:
        return [s for s in self.slots_in("ready") if not self.running[s]]

    def stoppable(self) -> list[int]:
        """Between scenarios, a worker ends after its end-of-work marker, when the queue in
        front of the marker is empty, or at once once the halt flag is up."""
        return [
            s
            for s in self.between_scenarios()
            if self.halted or (s in self.told_to_stop and not self.inbox[s])
        ]

    def gone(self, slot: int) -> None:
        self.alive[slot], self.inbox[slot], self.running[slot] = "gone", [], ""

    # -- invariants --------------------------------------------------------------------
    @invariant()
    def each_live_worker_holds_what_the_dispatcher_says(self) -> None:
        for slot in self.slots_in("starting", "ready"):
            mine = set(self.inbox[slot]) | {self.running[slot]} - {""}
            assert mine == set(self.dispatcher.holding(slot)), slot
            assert not mine & set(self.final)

    @invariant()
    def at_most_one_serial_scenario_is_out(self) -> None:
        serial = {item.scenario_id for item in self.items if "serial" in item.tags}
        out = {s for slot in self.alive for s in [*self.inbox[slot], self.running[slot]]}
        assert len(out & serial) <= 1, out & serial

    @invariant()
    def a_dead_worker_holds_nothing(self) -> None:
        for slot in self.slots_in("gone"):
            assert self.dispatcher.holding(slot) == ()

    def teardown(self) -> None:
        """Let every worker finish what it has, as a run without faults would, then end the
        run: every scenario has exactly one final record, and only a stop or workers that
        all retired leave scenarios not run."""
        if not hasattr(self, "dispatcher"):
            return
        for _ in range(10 * len(self.items) + 20):
            if self.dispatcher.over or not self.step_to_the_end():
                break
        self.apply(self.dispatcher.finish())
        assert sorted(self.final) == sorted(item.scenario_id for item in self.items)
        assert all(len(records) == 1 for records in self.final.values())
        not_run = [s for s, (r,) in self.final.items() if r.status == m.NOT_RUN]
        if not_run and not self.halted:
            assert all(slot.retired for slot in self.dispatcher.slots), not_run

    def step_to_the_end(self) -> bool:
        for slot, state in self.alive.items():
            if state == "starting":
                self.alive[slot] = "ready"
                self.apply(self.dispatcher.slot_ready(slot))
            elif state == "ready" and self.running[slot]:
                scenario_id, self.running[slot] = self.running[slot], ""
                result = outcome(scenario_id, self.ending, slot)
                self.apply(self.dispatcher.result(slot, result))
            elif state == "ready" and self.inbox[slot] and not self.halted:
                self.running[slot] = self.inbox[slot].pop(0)
                self.apply(self.dispatcher.started(slot, self.running[slot]))
            elif state == "ready" and slot in self.told_to_stop:
                self.gone(slot)
                self.apply(self.dispatcher.slot_stopped(slot))
            else:
                continue
            return True
        return False


Workers.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_every_scenario_ends_in_exactly_one_final_record = Workers.TestCase
