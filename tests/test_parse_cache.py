"""The parse cache: unchanged feature files are not parsed again, edits are, and it stays bounded."""

from __future__ import annotations

import os
import uuid

from parallel_bdd.parse_cache import CACHE_KEEP_ENTRIES, CACHE_MAX_ENTRIES

STEPS = """
    from parallel_bdd import step

    @step(r"a step")
    def a_step(step):
        pass
"""


def _entries(directory) -> list:
    return sorted(p for p in directory.iterdir() if not p.name.startswith(".tmp-"))


def test_unchanged_files_come_from_the_cache_and_an_edited_one_is_parsed_again(
    suite, tmp_path, monkeypatch
):
    cache = tmp_path / "cache"
    monkeypatch.setenv("PBDD_CACHE_DIR", str(cache))
    monkeypatch.delenv("PBDD_NO_CACHE", raising=False)
    suite.steps(STEPS)
    feature = suite.feature("a.feature", "Feature: a\n  Scenario: one\n    Given a step\n")

    first = suite.run("features")
    assert first.returncode == 0, first.output
    [entry] = _entries(cache)
    written = entry.stat().st_mtime_ns

    again = suite.run("features")
    assert again.returncode == 0, again.output
    assert _entries(cache) == [entry] and entry.stat().st_mtime_ns == written

    feature.write_text(feature.read_text() + "  Scenario: two\n    Given a step\n")
    edited = suite.run("features", "-v", "2")
    assert edited.returncode == 0, edited.output
    assert "2 scenarios (2 passed)" in edited.stdout
    assert "two" in edited.stdout
    assert len(_entries(cache)) == 2


def test_no_cache_variable_writes_nothing(suite, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("PBDD_CACHE_DIR", str(cache))
    monkeypatch.setenv("PBDD_NO_CACHE", "1")
    suite.steps(STEPS)
    suite.feature("a.feature", "Feature: a\n  Scenario: one\n    Given a step\n")
    result = suite.run("features")
    assert result.returncode == 0, result.output
    assert not cache.exists() or not _entries(cache)


def test_a_full_cache_drops_its_oldest_entries(suite, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("PBDD_CACHE_DIR", str(cache))
    monkeypatch.delenv("PBDD_NO_CACHE", raising=False)
    old = CACHE_MAX_ENTRIES  # with the run's new entry: one over the limit
    for number in range(old):
        path = cache / f"old-{number:06d}"
        path.write_bytes(b"x")
        os.utime(path, (1_600_000_000 + number, 1_600_000_000 + number))
    suite.steps(STEPS)
    suite.feature("a.feature", "Feature: a\n  Scenario: one\n    Given a step\n")

    result = suite.run("features")
    assert result.returncode == 0, result.output
    left = {p.name for p in _entries(cache)}
    assert len(left) == CACHE_KEEP_ENTRIES
    assert any(not name.startswith("old-") for name in left)  # the entry just written
    kept_old = sorted(name for name in left if name.startswith("old-"))
    # the oldest went first: what is left of the old ones is the newest of them
    assert kept_old[0] == f"old-{old - CACHE_KEEP_ENTRIES + 1:06d}"
    assert kept_old[-1] == f"old-{old - 1:06d}"

    # a full-but-not-over cache is left alone on the next run
    again = suite.run("features")
    assert again.returncode == 0, again.output
    assert len(_entries(cache)) == CACHE_KEEP_ENTRIES


def test_runs_under_the_test_helpers_leave_the_real_cache_alone(
    suite, parse_cache_in_a_temp_dir, real_cache_home, monkeypatch
):
    monkeypatch.delenv("PBDD_NO_CACHE", raising=False)
    suite.steps(STEPS)
    title = f"only here {uuid.uuid4().hex}"  # no other run can have cached this text
    suite.feature("a.feature", f"Feature: {title}\n  Scenario: one\n    Given a step\n")
    result = suite.run("features")
    assert result.returncode == 0, result.output
    [entry] = _entries(parse_cache_in_a_temp_dir / "pbdd" / "features")
    assert not (real_cache_home / "pbdd" / "features" / entry.name).exists()
