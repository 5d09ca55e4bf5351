"""Unit tests of parallel_bdd.history (the .scenarios file) and of the `pbdd history` report."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import filelock
import pytest

from parallel_bdd import history as history_module
from parallel_bdd.errors import UsageError
from parallel_bdd.history import HistoryEntry, HistoryStore
from parallel_bdd.history_merge import merge_entries, merge_files
from parallel_bdd.messages import ScenarioResult
from parallel_bdd.reporting.history_report import format_history

REPO_ROOT = Path(__file__).resolve().parents[1]
MONDAY = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
TUESDAY = datetime(2024, 5, 7, 9, 0, tzinfo=UTC)


class _AnyTime(str):
    """Equal to any timezone-aware ISO-8601 timestamp."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and datetime.fromisoformat(other).tzinfo is not None

    __hash__ = str.__hash__


ANY_TIME = _AnyTime("any ISO-8601 time")


def result(
    scenario_id: str, duration: float = 1.0, status: str = "passed", **fields: object
) -> ScenarioResult:
    return ScenarioResult(scenario_id=scenario_id, status=status, duration=duration, **fields)


def entry(
    duration: float, runs: int = 1, last_run: str = "2024-05-01T10:00:00Z", status: str = "passed"
) -> HistoryEntry:
    return HistoryEntry(duration=duration, status=status, runs=runs, last_run=last_run)


def write_history(path: Path, entries: dict[str, HistoryEntry]) -> Path:
    path.write_text(history_module.render_history(entries), encoding="utf-8")
    return path


# load and save


def test_missing_file_is_an_empty_history_without_warning(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / ".scenarios")
    assert store.load() == {}
    assert store.warnings == []
    assert store.path == tmp_path / ".scenarios"


def test_first_save_records_duration_status_runs_and_time(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / ".scenarios")
    store.save([result("a.feature::One", 2.5), result("a.feature::Two", 1.0, "failed")], now=MONDAY)
    loaded = HistoryStore(tmp_path / ".scenarios").load()
    assert loaded == {
        "a.feature::One": entry(2.5, last_run="2024-05-06T09:00:00Z"),
        "a.feature::Two": entry(1.0, last_run="2024-05-06T09:00:00Z", status="failed"),
    }
    assert store.warnings == []


def test_file_is_the_documented_json_format(tmp_path: Path) -> None:
    path = tmp_path / ".scenarios"
    HistoryStore(path).save([result("a.feature::Ünïcode", 1.25)], now=MONDAY)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document == {
        "format": "pbdd-history",
        "version": 1,
        "scenarios": {
            "a.feature::Ünïcode": {
                "duration": 1.25,
                "status": "passed",
                "runs": 1,
                "last_run": "2024-05-06T09:00:00Z",
            }
        },
    }


def test_later_runs_smooth_the_duration(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / ".scenarios")
    store.save([result("s", 2.0)], now=MONDAY)
    store.save([result("s", 4.0, "failed")], now=TUESDAY)
    store.save([result("s", 7.0)], now=TUESDAY)
    loaded = store.load()["s"]
    assert loaded.duration == pytest.approx(5.0)  # 2 -> 0.5*4 + 0.5*2 = 3 -> 0.5*7 + 0.5*3 = 5
    assert loaded.runs == 3
    assert loaded.status == "passed"
    assert loaded.last_run == "2024-05-07T09:00:00Z"


def test_save_skips_what_was_not_measured(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / ".scenarios")
    store.save(
        [
            result("not run", 0.0, "not_run"),
            result("not run but timed", 3.0, "not_run"),
            result("crashed before starting", 0.0, "errored"),
            result("timed out", 30.0, "errored"),
            result("undefined", 0.0, "undefined"),
        ]
    )
    assert set(store.load()) == {"timed out", "undefined"}


def test_save_with_nothing_measured_writes_nothing(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / ".scenarios")
    store.save([result("s", 0.0, "not_run")])
    assert not store.path.exists()


def test_a_retried_scenario_counts_once_with_its_last_attempt(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / ".scenarios")
    store.save([result("s", 9.0, "passed", attempt=2), result("s", 1.0, "failed", attempt=1)])
    assert store.load() == {"s": entry(9.0, last_run=ANY_TIME)}


def test_save_keeps_entries_this_run_did_not_touch(tmp_path: Path) -> None:
    path = write_history(tmp_path / ".scenarios", {"old": entry(8.0, runs=4)})
    HistoryStore(path).save([result("new", 1.0)])
    loaded = HistoryStore(path).load()
    assert loaded["old"] == entry(8.0, runs=4)
    assert loaded["new"].duration == 1.0


def test_save_merges_with_what_another_run_saved_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / ".scenarios"
    first, second = HistoryStore(path), HistoryStore(path)
    assert first.load() == second.load() == {}
    first.save([result("a", 1.0)])
    second.save([result("b", 2.0)])
    assert set(HistoryStore(path).load()) == {"a", "b"}


def test_save_keeps_the_file_mode(tmp_path: Path) -> None:
    path = write_history(tmp_path / ".scenarios", {})
    path.chmod(0o640)
    HistoryStore(path).save([result("a")])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_save_through_a_symlink_updates_its_target(tmp_path: Path) -> None:
    target = write_history(tmp_path / "cache.json", {})
    link = tmp_path / ".scenarios"
    link.symlink_to(target)
    HistoryStore(link).save([result("a")])
    assert link.is_symlink()
    assert set(HistoryStore(target).load()) == {"a"}


# files that are not ours

VALID = history_module.render_history({"a.feature::One": entry(1.0), "a.feature::Two": entry(2.0)})
BAD_CONTENTS = {
    "corrupt": b"{not json",
    "truncated": VALID.encode()[: len(VALID) // 2],
    "empty": b"",
    "a list": b'["a.feature::One", 1.5]',
    "lettuce csv": b"features/a.feature,Refund a damaged item,12.5\nfeatures/b.feature,Other,1\n",
    "another tool": b'{"tests": {"x": 1}}',
    "newer version": b'{"format": "pbdd-history", "version": 99, "scenarios": {}}',
    "bad entry": b'{"format": "pbdd-history", "version": 1, "scenarios": {"x": {"duration": "1"}}}',
    "binary": b"\x80\x04\x95\x00\xff",
}


@pytest.mark.parametrize("kind", sorted(BAD_CONTENTS))
def test_a_file_that_is_not_ours_is_kept_as_bak_and_replaced(tmp_path: Path, kind: str) -> None:
    content = BAD_CONTENTS[kind]
    path = tmp_path / ".scenarios"
    path.write_bytes(content)
    store = HistoryStore(path)

    assert store.load() == {}
    assert (tmp_path / ".scenarios.bak").read_bytes() == content
    assert len(store.warnings) == 1
    warning = store.warnings[0]
    assert str(path) in warning
    assert "is not a pbdd history file (" in warning
    assert "kept it as .scenarios.bak and starting fresh" in warning

    store.save([result("a.feature::One", 3.0)])
    assert len(store.warnings) == 1  # the save does not warn about the same file twice
    assert HistoryStore(path).load() == {"a.feature::One": entry(3.0, last_run=ANY_TIME)}
    assert (tmp_path / ".scenarios.bak").read_bytes() == content


def test_save_alone_also_keeps_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / ".scenarios"
    path.write_bytes(b"garbage")
    store = HistoryStore(path)
    store.save([result("a", 1.0)])
    assert (tmp_path / ".scenarios.bak").read_bytes() == b"garbage"
    assert set(HistoryStore(path).load()) == {"a"}
    assert "not a pbdd history file" in store.warnings[0]


def test_a_history_path_that_is_a_directory_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / ".scenarios"
    path.mkdir()
    store = HistoryStore(path)
    assert store.load() == {}
    store.save([result("a")])
    assert len(store.warnings) == 2
    assert all(str(path) in warning for warning in store.warnings)
    assert path.is_dir()


# places that cannot be written


def test_save_into_a_missing_directory_warns_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / ".scenarios"
    store = HistoryStore(path)
    assert store.load() == {}
    store.save([result("a")])
    assert not (tmp_path / "no").exists()
    assert len(store.warnings) == 1
    assert "could not save" in store.warnings[0]
    assert str(tmp_path / "no" / "such") in store.warnings[0]


def test_save_below_a_plain_file_warns(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    store = HistoryStore(tmp_path / "file" / ".scenarios")
    store.save([result("a")])
    assert len(store.warnings) == 1
    assert "could not save" in store.warnings[0]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_save_into_a_read_only_directory_warns(tmp_path: Path) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    write_history(directory / ".scenarios", {"kept": entry(1.0)})
    directory.chmod(0o555)
    try:
        store = HistoryStore(directory / ".scenarios")
        assert set(store.load()) == {"kept"}
        store.save([result("a")])
        assert len(store.warnings) == 1
        assert "could not save" in store.warnings[0]
    finally:
        directory.chmod(0o755)


def test_a_failed_rename_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_history(tmp_path / ".scenarios", {"kept": entry(1.0)})
    before = path.read_bytes()

    def refuse(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    store = HistoryStore(path)
    store.save([result("a")])
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".scenarios", ".scenarios.lock"]
    assert store.warnings == [
        f"could not save scenario durations to {path}: No space left on device"
    ]


# the lock


def test_save_waits_for_the_lock_and_reads_the_file_once_it_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found_locked = threading.Event()

    class NotingFileLock(filelock.FileLock):
        """A FileLock that says when it found the lock taken before waiting for it."""

        def acquire(self, *args: object, **kwargs: object) -> object:
            try:
                return super().acquire(timeout=0)
            except filelock.Timeout:
                found_locked.set()
            return super().acquire(*args, **kwargs)

    path = tmp_path / ".scenarios"
    lock = filelock.FileLock(str(tmp_path / ".scenarios.lock"))
    store = HistoryStore(path)
    monkeypatch.setattr(filelock, "FileLock", NotingFileLock)
    with lock:
        saver = threading.Thread(target=store.save, args=([result("a")],))
        saver.start()
        assert found_locked.wait(timeout=10), "save never tried to take the lock"
        assert not path.exists()
        write_history(path, {"b": entry(2.0)})  # another run saving while it holds the lock
    saver.join(timeout=10)
    assert set(HistoryStore(path).load()) == {"a", "b"}
    assert store.warnings == []


def test_a_lock_held_too_long_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / ".scenarios"
    store = HistoryStore(path, lock_timeout=0.1)
    with filelock.FileLock(str(tmp_path / ".scenarios.lock")):
        store.save([result("a")])
    assert not path.exists()
    assert len(store.warnings) == 1
    assert "stayed locked" in store.warnings[0]


def test_threads_saving_different_scenarios_all_land(tmp_path: Path) -> None:
    path = tmp_path / ".scenarios"

    def run(name: str) -> None:
        store = HistoryStore(path)
        for n in range(8):
            store.save([result(f"{name}-{n}", 1.0)])

    threads = [threading.Thread(target=run, args=(f"t{t}",)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(HistoryStore(path).load()) == {f"t{t}-{n}" for t in range(4) for n in range(8)}


SAVER = """
import sys
from parallel_bdd.history import HistoryStore
from parallel_bdd.messages import ScenarioResult
path, name = sys.argv[1], sys.argv[2]
store = HistoryStore(path)
for n in range(15):
    store.save([ScenarioResult(scenario_id=f"{name}-{n}", status="passed", duration=1.0 + n)])
assert not store.warnings, store.warnings
"""


def test_two_processes_saving_at_the_same_time_both_land(tmp_path: Path) -> None:
    path = tmp_path / ".scenarios"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    )
    savers = [
        subprocess.Popen([sys.executable, "-c", SAVER, str(path), name], env=env)
        for name in ("left", "right")
    ]
    assert [saver.wait(timeout=120) for saver in savers] == [0, 0]
    loaded = HistoryStore(path).load()
    assert set(loaded) == {f"{name}-{n}" for name in ("left", "right") for n in range(15)}
    assert loaded["right-14"].duration == 15.0


def test_a_reader_never_sees_half_a_file(tmp_path: Path) -> None:
    path = tmp_path / ".scenarios"
    writer_store = HistoryStore(path)
    writer_store.save([result(f"s{n}", 1.0) for n in range(300)])
    done = threading.Event()
    reader_warnings: list[str] = []
    sizes: list[int] = []

    def read() -> None:
        while not done.is_set():
            reader = HistoryStore(path)
            sizes.append(len(reader.load()))
            reader_warnings.extend(reader.warnings)

    reader_thread = threading.Thread(target=read)
    reader_thread.start()
    try:
        for n in range(20):
            writer_store.save([result(f"s{m}", 1.0 + n) for m in range(300)])
    finally:
        done.set()
        reader_thread.join(timeout=30)
    assert reader_warnings == []
    assert sizes and set(sizes) == {300}


# merge


def test_merge_files_combines_shards(tmp_path: Path) -> None:
    one = write_history(tmp_path / "one", {"a": entry(1.0)})
    two = write_history(tmp_path / "two", {"b": entry(2.0)})
    output = tmp_path / "out" / ".scenarios"
    output.parent.mkdir()
    merged = merge_files([one, str(two)], output)
    assert merged == {"a": entry(1.0), "b": entry(2.0)}
    assert HistoryStore(output).load() == merged


def test_merge_takes_the_newest_status_and_a_runs_weighted_duration() -> None:
    older = {"s": entry(10.0, runs=3, last_run="2024-05-06T09:00:00Z", status="failed")}
    newer = {"s": entry(2.0, runs=1, last_run="2024-05-07T09:00:00Z", status="passed")}
    for order in ([older, newer], [newer, older]):
        merged = merge_entries(order)["s"]
        assert merged.status == "passed"
        assert merged.last_run == "2024-05-07T09:00:00Z"
        assert merged.duration == pytest.approx((10.0 * 3 + 2.0 * 1) / 4)
        assert merged.runs == 3


def test_merge_drops_an_entry_the_newer_one_already_folded_in() -> None:
    # Both shards started from the same cached file; only the second one ran "s".
    cached = entry(10.0, runs=4, last_run="2024-05-06T09:00:00Z")
    ran = entry(6.0, runs=5, last_run="2024-05-07T09:00:00Z", status="failed")
    assert merge_entries([{"s": cached}, {"s": ran}]) == {"s": ran}


def test_merge_tie_on_time_goes_to_the_later_file() -> None:
    first = {"s": entry(1.0, runs=2, last_run="2024-05-07T09:00:00Z", status="failed")}
    second = {"s": entry(3.0, runs=2, last_run="2024-05-07T09:00:00Z", status="passed")}
    merged = merge_entries([first, second])["s"]
    assert merged.status == "passed"
    assert merged.duration == pytest.approx(2.0)


def test_merging_a_file_with_itself_changes_nothing(tmp_path: Path) -> None:
    entries = {"a": entry(1.5, runs=3), "b": entry(0.25, runs=7, status="failed")}
    path = write_history(tmp_path / ".scenarios", entries)
    assert merge_files([path, path], tmp_path / "out") == entries


def test_merge_a_missing_file_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    good = write_history(tmp_path / "good", {})
    with pytest.raises(UsageError, match="no such history file") as caught:
        merge_files([good, tmp_path / "missing"], tmp_path / "out")
    assert str(tmp_path / "missing") in caught.value.message
    assert not (tmp_path / "out").exists()


def test_merge_a_foreign_file_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,1.5\n")
    with pytest.raises(UsageError, match="is not a pbdd history file") as caught:
        merge_files([bad], tmp_path / "out")
    assert str(bad) in caught.value.message


def test_merge_needs_inputs_and_a_writable_output(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no history file given"):
        merge_files([], tmp_path / "out")
    good = write_history(tmp_path / "good", {})
    with pytest.raises(UsageError, match="does not exist"):
        merge_files([good], tmp_path / "missing" / "out")


# the `pbdd history` report


def test_report_of_an_empty_history_says_how_to_fill_it() -> None:
    text = format_history({})
    assert text.count("\n") == 1
    assert "run `pbdd` once" in text


def test_report_lists_the_slowest_first_with_totals() -> None:
    entries = {
        "a.feature::Fast": entry(1.0, runs=2),
        "a.feature::Slow": entry(30.0, runs=5, status="failed"),
        "b.feature::Medium": entry(10.0, runs=1, status="errored"),
        "b.feature::Also fast": entry(1.0, runs=9),
    }
    text = format_history(entries, top=2)
    lines = text.splitlines()
    assert lines[0] == "Slowest 2 of 4 scenarios:"
    assert "30.00s" in lines[2] and "failed" in lines[2] and lines[2].endswith("a.feature::Slow")
    assert " 5 " in lines[2]
    assert lines[3].endswith("b.feature::Medium")
    assert "Fast" not in text
    assert "4 scenarios, 42.00s in total, 2 last failed (1 errored, 1 failed)" in text
    assert "Predicted wall time with -p 1: 42.00s" in text
    assert "shard" not in text


def test_report_predicts_processes_and_shards() -> None:
    entries = {f"f.feature::s{n}": entry(d) for n, d in enumerate([8.0, 7.0, 6.0, 5.0, 4.0])}
    text = format_history(entries, processes=2, shards=2)
    # 8 | 7, then 6 -> 7+6, 5 -> 8+5, 4 -> 13+4
    assert "Predicted wall time with -p 2: 17.00s (1.8x faster than one process)" in text
    assert "  1/2: 9.00s (3 scenarios)" in text  # shard 1 = 8, 5, 4 on 2 processes: 8 | 5+4
    assert "  2/2: 7.00s (2 scenarios)" in text  # shard 2 = 7, 6 on 2 processes
