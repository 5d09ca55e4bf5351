"""What one slot (one worker position of the pool) holds right now.

Used only by ``dispatch.dispatcher.Dispatcher``: one ``Slot`` per worker position, reused
across the fresh workers a position gets after a crash, a timeout or recycling. Holds no
process: the pool keeps its ``WorkerProcess`` objects apart and tells the dispatcher what
happened to them. Imports no process or I/O module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from parallel_bdd.dispatch.source import Entry
from parallel_bdd.messages import WorkItem


class SlotState(Enum):
    STARTING = "starting"  # a worker is starting (imports, before.batch): not ready for work
    READY = "ready"  # its worker takes entries
    DONE = "done"  # no worker now and none to come


@dataclass
class Slot:
    number: int  # the worker id (world.worker_id)
    state: SlotState = SlotState.STARTING
    entries: list[list[WorkItem]] = field(default_factory=list)  # handed out, no record yet
    running: str = ""  # the scenario its worker runs now, as far as we know
    started_at: float = 0.0  # time.time() when ``running`` started (0.0: unknown)
    notes: list[str] = field(default_factory=list)  # warnings about the running scenario
    ran: int = 0  # scenarios the current worker started
    reserved: WorkItem | None = None  # crashed: its fresh worker runs this one first
    startup_deaths: int = 0
    retired: bool = False  # before.batch/import failed, or start kept failing: no restart
    told_to_stop: bool = False  # the end-of-work marker went out to the current worker

    @property
    def live(self) -> bool:
        return self.state is not SlotState.DONE

    def held_ids(self) -> list[str]:
        return [item.scenario_id for entry in self.entries for item in entry]

    def holds(self, scenario_id: str) -> bool:
        return any(item.scenario_id == scenario_id for entry in self.entries for item in entry)

    def item(self, scenario_id: str) -> WorkItem | None:
        for entry in self.entries:
            for item in entry:
                if item.scenario_id == scenario_id:
                    return item
        return None

    def let_go(self, scenario_id: str) -> None:
        """``scenario_id`` has a record now: the slot no longer holds it."""
        for entry in self.entries:
            for position, item in enumerate(entry):
                if item.scenario_id == scenario_id:
                    del entry[position]
                    break
        self.entries = [entry for entry in self.entries if entry]
        if scenario_id == self.running:
            self.running, self.started_at, self.notes = "", 0.0, []

    def give_back(self) -> list[Entry]:
        """Everything held except the running scenario, one entry per entry handed out."""
        rest = [
            tuple(item for item in entry if item.scenario_id != self.running)
            for entry in self.entries
        ]
        self.entries = []
        return [entry for entry in rest if entry]

    def fresh_worker(self) -> None:
        """A new worker takes this position: nothing held, nothing run yet."""
        self.state = SlotState.STARTING
        self.entries, self.running, self.started_at, self.notes = [], "", 0.0, []
        self.ran = 0
        self.told_to_stop = False
