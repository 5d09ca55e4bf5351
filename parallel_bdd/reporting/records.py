"""What the report writers share: grouping records, the verdict of retried scenarios,
cleaning terminal escapes out of text.

Used by ``junit.py`` and ``cucumber_json.py`` (in the parent, after a run).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..messages import NOT_RUN, ScenarioResult, WorkItem

Record = tuple[WorkItem, ScenarioResult]

# CSI (colours, cursor moves), OSC (terminal titles, hyperlinks) and two-byte escapes.
ANSI_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[0-~]"  # two-byte escapes (ESC c, ESC 7, ...)
)


def strip_ansi(text: str) -> str:
    return ANSI_ESCAPE.sub("", text)


def group_by_feature(records: Sequence[Record]) -> list[list[Record]]:
    """Records per feature file, in the order the features first appear."""
    groups: dict[str, list[Record]] = {}
    for record in records:
        groups.setdefault(record[0].feature.path, []).append(record)
    return list(groups.values())


def group_attempts(records: Sequence[Record]) -> list[list[Record]]:
    """One list per scenario id (first-appearance order), attempts in attempt order."""
    groups: dict[str, list[Record]] = {}
    for record in records:
        groups.setdefault(record[1].scenario_id or record[0].scenario_id, []).append(record)
    return [sorted(group, key=lambda record: record[1].attempt) for group in groups.values()]


def verdict(attempts: Sequence[Record]) -> Record:
    """The attempt whose status is the scenario's: the last one that ran."""
    ran = [record for record in attempts if record[1].status != NOT_RUN]
    return ran[-1] if ran else attempts[-1]
