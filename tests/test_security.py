"""Attacks on what pbdd reads and writes: the parse cache, artifacts, reports, the history lock.

Each test plants what an attacker on a shared machine could plant, runs ``pbdd`` as a
subprocess, and checks that nothing ran, nothing outside the user's choice was written,
and the run still gave the right result.
"""

from __future__ import annotations

import json
import os
import pickle
import stat

import pytest

from parallel_bdd.loader import ParsedFeature, cache_key, load_features

SHOWN = "features/a.feature"
FEATURE = """\
Feature: a
  Scenario: one
    Given a step

  Scenario: two
    Given a step
"""
# what an attacker wants run instead: the suite's own step, with the attacker's argument
FORGED = """\
Feature: a
  Scenario: one
    Given I write the file "{marker}"
"""
STEPS = """
    from parallel_bdd import step

    @step(r"a step")
    def a_step(step):
        pass

    @step(r'I write the file "(.*)"')
    def write_file(step, path):
        with open(path, "w") as stream:
            stream.write("written")
"""


class _Payload:
    """A pickle that creates ``marker`` when it is loaded."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _victim(suite) -> str:
    suite.steps(STEPS)
    suite.feature("a.feature", FEATURE)
    return cache_key(SHOWN, FEATURE)


def _forged_entry(tmp_path, monkeypatch, key: str, marker) -> bytes:
    """A well-formed cache document for ``key`` whose scenario writes ``marker``."""
    attacker = tmp_path / "attacker"
    (attacker / "features").mkdir(parents=True)
    text = FORGED.format(marker=marker)
    (attacker / SHOWN).write_text(text, encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.chdir(attacker)
        patch.setenv("PBDD_NO_CACHE", "1")
        items = load_features([SHOWN]).items
    parsed = ParsedFeature(SHOWN, items, [], [2], len(text.split("\n")))
    return json.dumps(parsed.to_json(key)).encode()


def _run_with_cache(suite, cache, *args: str):
    env = suite.env()
    env["PBDD_CACHE_DIR"] = str(cache)
    env.pop("PBDD_NO_CACHE", None)
    return suite.run("features", *args, env=env)


@pytest.mark.parametrize("payload", ["pickle", "forged json"])
def test_a_cache_entry_planted_in_a_shared_directory_runs_nothing(
    suite, tmp_path, monkeypatch, payload
):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # a /tmp-like directory anyone can write
    marker = tmp_path / "marker"
    key = _victim(suite)
    if payload == "pickle":
        planted = pickle.dumps(_Payload(str(marker)))
    else:
        planted = _forged_entry(tmp_path, monkeypatch, key, marker)
    (shared / key).write_bytes(planted)

    result = _run_with_cache(suite, shared)

    assert not marker.exists()
    assert result.returncode == 0, result.output
    assert "2 scenarios (2 passed)" in result.stdout
    assert f"parse cache not used: {shared} is not private" in result.stderr
    assert (shared / key).read_bytes() == planted  # and nothing written there


@pytest.mark.parametrize("owner", ["writable by others", "another user's"])
def test_a_cache_file_others_can_write_is_refused_and_replaced(suite, tmp_path, monkeypatch, owner):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    marker = tmp_path / "marker"
    key = _victim(suite)
    entry = cache / key
    entry.write_bytes(_forged_entry(tmp_path, monkeypatch, key, marker))
    if owner == "writable by others":
        entry.chmod(0o666)
    elif os.geteuid() == 0:
        os.chown(entry, 65534, 65534)
    else:
        pytest.skip("only root can plant a file owned by another user")

    result = _run_with_cache(suite, cache)

    assert not marker.exists()
    assert result.returncode == 0, result.output
    assert "2 scenarios (2 passed)" in result.stdout
    assert f"parse cache file ignored: {entry}" in result.stderr
    info = entry.stat()  # parsed again, and stored as the user's own private file
    assert info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o600


BAD_ENTRIES = {
    "not json": b"\x80\x04not json at all",
    "a list": b"[]",
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
    "an extra key": None,  # built from a good entry below
    "a step's extra key": None,
    "a line as text": None,
    "a table of numbers": None,
    "another file's key": None,
}


def _spoiled(good: dict, how: str) -> bytes:
    document = json.loads(json.dumps(good))
    step = document["records"]["items"][0]["steps"][0]
    if how == "an extra key":
        document["__class__"] = "os.system"
    elif how == "a step's extra key":
        step["__reduce__"] = ["os", "system"]
    elif how == "a line as text":
        step["line"] = "3"
    elif how == "a table of numbers":
        step["table"] = [[1, 2]]
    elif how == "another file's key":
        document["key"] = "0" * 64
    return json.dumps(document).encode()


def test_a_cache_entry_of_the_wrong_shape_is_a_miss_not_a_crash(suite, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    suite.steps(STEPS)
    for number, how in enumerate(BAD_ENTRIES):
        shown = f"features/f{number}.feature"
        text = FEATURE.replace("Feature: a", f"Feature: f{number}")
        suite.feature(f"f{number}.feature", text)
        key = cache_key(shown, text)
        planted = BAD_ENTRIES[how]
        if planted is None:
            with monkeypatch.context() as patch:
                patch.chdir(suite.root)
                patch.setenv("PBDD_NO_CACHE", "1")
                items = load_features([shown]).items
            good = ParsedFeature(shown, items, [], [2, 5], 7).to_json(key)
            assert ParsedFeature.from_json(good, key) is not None
            planted = _spoiled(good, how)
            assert ParsedFeature.from_json(json.loads(planted), key) is None, how
        (cache / key).write_bytes(planted)

    result = _run_with_cache(suite, cache)

    assert result.returncode == 0, result.output
    assert f"{2 * len(BAD_ENTRIES)} scenarios ({2 * len(BAD_ENTRIES)} passed)" in result.stdout
    assert "Traceback" not in result.output


def test_a_cache_entry_reads_back_as_the_records_it_was_written_from(suite, monkeypatch):
    suite.feature(
        "a.feature",
        """\
        @web
        Feature: a
          Background:
            Given a step
          Scenario Outline: rows <n>
            Given a step <n>
              | name | value |
              | x    | <n>   |
            Then a doc string
              \"\"\"json
              {"n": <n>}
              \"\"\"
            Examples:
              | n |
              | 1 |
              | 2 |
        """,
    )
    monkeypatch.chdir(suite.root)
    monkeypatch.setenv("PBDD_NO_CACHE", "1")
    items = load_features([SHOWN]).items
    parsed = ParsedFeature(SHOWN, items, ["a warning"], [5], 16)

    document = json.loads(json.dumps(parsed.to_json("k")))
    again = ParsedFeature.from_json(document, "k")

    assert again == parsed
    assert again.items[1].steps[1].table == (("name", "value"), ("x", "2"))
    assert ParsedFeature.from_json(document, "another key") is None
