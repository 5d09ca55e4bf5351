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


# -- files pbdd writes ----------------------------------------------------------------------

ARTIFACT_TERRAIN = """
    from parallel_bdd import after, scenario, world
    from parallel_bdd.contrib.selenium import Browser


    class FakeDriver:
        current_url = "http://127.0.0.1/"
        page_source = "<html></html>"

        def get_screenshot_as_png(self):
            return b"\\x89PNG"


    @after.each_scenario
    def keep_evidence(this_scenario):
        if this_scenario.failed:
            browser = Browser(FakeDriver())
            for path in browser.save_failure_artifacts(world.artifacts_dir, this_scenario.name):
                scenario.attach(path)
"""


def test_artifact_names_from_scenario_names_stay_in_the_artifacts_dir(suite, tmp_path):
    absolute = tmp_path / "absolute"
    names = ["../../escaped", str(absolute), "long " + "x" * 300]
    scenarios = "".join(f"  Scenario: {name}\n    Given it fails\n\n" for name in names)
    suite.feature("a.feature", f"Feature: a\n{scenarios}")
    suite.steps(
        """
        from parallel_bdd import step

        @step(r"it fails")
        def it_fails(step):
            raise AssertionError("failed on purpose")
        """
    )
    suite.terrain(ARTIFACT_TERRAIN)

    result = suite.run("features", "--artifacts-dir", "art", "--junit-xml", "junit.xml")

    assert result.returncode == 1, result.output
    assert "3 scenarios (3 failed, 0 passed)" in result.stdout
    written = sorted(path.name for path in (suite.root / "art").iterdir())
    assert len(written) == 6, written  # a screenshot and a page source for each
    assert all(len(name) <= 125 for name in written)
    assert not list(tmp_path.glob("escaped*")) and not list(tmp_path.glob("absolute*"))
    junit = (suite.root / "junit.xml").read_text(encoding="utf-8")
    assert junit.count("[[ATTACHMENT|art/") == 6


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_reports_and_history_are_created_with_the_users_umask(suite, umask, mode):
    suite.steps(STEPS)
    suite.feature("a.feature", FEATURE)

    result = suite.run(
        "features",
        "--junit-xml",
        "reports/junit.xml",
        "--cucumber-json",
        "reports/cucumber.json",
        preexec_fn=lambda: os.umask(umask),
    )

    assert result.returncode == 0, result.output
    for written in ("reports/junit.xml", "reports/cucumber.json", ".scenarios"):
        assert stat.S_IMODE((suite.root / written).stat().st_mode) == mode, written


OLD_FILELOCK = '''
import fcntl
import os


class Timeout(Exception):
    pass


class FileLock:
    """What filelock 3.12 to 3.20.0 do on Unix: O_TRUNC, following a symbolic link."""

    def __init__(self, path, timeout=-1):
        self.path = path

    def __enter__(self):
        flags = os.O_RDWR | os.O_TRUNC
        if not os.path.exists(self.path):
            flags |= os.O_CREAT
        self.fd = os.open(self.path, flags, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
'''


@pytest.mark.parametrize("filelock", ["installed", "3.12 (opens with O_TRUNC)"])
def test_a_symlinked_history_lock_cannot_truncate_another_file(suite, tmp_path, filelock):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    suite.steps(STEPS)
    suite.feature("a.feature", FEATURE)
    (suite.root / ".scenarios.lock").symlink_to(victim)
    env = suite.env()
    if filelock != "installed":
        (tmp_path / "old" / "filelock").mkdir(parents=True)
        (tmp_path / "old" / "filelock" / "__init__.py").write_text(OLD_FILELOCK)
        env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "old"), env["PYTHONPATH"]])

    result = suite.run("features", env=env)

    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert result.returncode == 0, result.output
    assert "the lock file .scenarios.lock is a symbolic link" in result.stderr


def test_the_history_temp_file_is_never_opened_through_a_planted_symlink(tmp_path, monkeypatch):
    from parallel_bdd import files
    from parallel_bdd.history import HistoryStore
    from parallel_bdd.messages import ScenarioResult

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    monkeypatch.setattr(files.secrets, "token_hex", lambda size: "feedface")
    (tmp_path / f"..scenarios.{os.getpid()}.feedface.tmp").symlink_to(victim)
    store = HistoryStore(tmp_path / ".scenarios")

    store.save([ScenarioResult("features/a.feature::one", "passed", duration=1.0)])

    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert not (tmp_path / ".scenarios").exists()
    assert any("could not save" in warning for warning in store.warnings)


# -- secrets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("redis://user:pa:ss@cache:6379/0", "redis://user:***@cache:6379/0"),
        ("rediss://:s3cret@cache.example/1 down", "rediss://:***@cache.example/1 down"),
        (
            "postgresql://bob:pw@db/app?sslmode=require",
            "postgresql://bob:***@db/app?sslmode=require",
        ),
        ("host=db user=bob password=s3cret dbname=app", "host=db user=bob password=*** dbname=app"),
        ("password = 'it\\'s secret' host=db", "password = *** host=db"),
        (
            "postgres://db/app?user=bob&password=pw&ssl=1",
            "postgres://db/app?user=bob&password=***&ssl=1",
        ),
        ("redis://cache:6379/0 and http://example.com/a:b@c", None),  # no password: unchanged
        ("", None),
    ],
)
def test_mask_secrets_hides_passwords_in_urls_and_dsns(text, masked, monkeypatch):
    from parallel_bdd.masking import mask_secrets

    monkeypatch.delenv("PGPASSWORD", raising=False)
    assert mask_secrets(text) == (text if masked is None else masked)


def test_mask_secrets_hides_the_value_of_pgpassword(monkeypatch):
    from parallel_bdd.masking import mask_secrets

    monkeypatch.setenv("PGPASSWORD", "hunter2-and-more")
    assert mask_secrets("login with hunter2-and-more failed") == "login with *** failed"
    monkeypatch.setenv("PGPASSWORD", "a")  # too short to mask without garbling the text
    assert mask_secrets("a cat") == "a cat"


def test_an_error_pbdd_prints_has_its_password_masked(suite):
    suite.steps(STEPS)
    suite.feature("a.feature", FEATURE)

    result = suite.run("redis://user:s3cret-pw@cache:6379/0")

    assert result.returncode == 2, result.output
    assert "Error: no such file or directory: 'redis://user:***@cache:6379/0'" in result.stderr
    assert "s3cret-pw" not in result.output


def test_a_warning_pbdd_prints_has_pgpassword_masked(suite):
    suite.steps(STEPS)
    suite.feature("a.feature", FEATURE)
    env = suite.env()
    env["PGPASSWORD"] = "s3cret-pw"

    result = suite.run("features", "--history", "missing-s3cret-pw/.scenarios", env=env)

    assert result.returncode == 0, result.output
    assert "Warning: could not save scenario durations to missing-***/.scenarios" in result.stderr
    assert "s3cret-pw" not in result.output
