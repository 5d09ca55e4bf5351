"""End-to-end: selecting scenarios, shards, history command, config file and reports."""

from __future__ import annotations

import json
import re

import pytest

TAGGED = """
@shop
Feature: Tagged
  @fast
  Scenario: fast only
    Given ok
  @fast @web
  Scenario: fast and web
    Given ok
  @web
  Scenario: web only
    Given ok
  Scenario: untagged
    Given ok
  Scenario Outline: outline <x>
    Given ok
    Examples:
      | x |
      | 1 |
      | 2 |
"""

OK_STEPS = "from parallel_bdd import step\n@step('ok$')\ndef ok(step):\n    pass\n"


def selected(run) -> list[str]:
    return re.findall(r"features/\S+?::(.+?)  #", run.stdout)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["fast"], ["fast only", "fast and web"]),
        (["-web"], ["fast only", "untagged", "outline <x>::1", "outline <x>::2"]),
        # lettuce: a matching positive wins over exclusions
        (["fast", "-web"], ["fast only", "fast and web"]),
        (["@fast and not @web"], ["fast only"]),
        (["@web or @fast"], ["fast only", "fast and web", "web only"]),
        (
            ["shop"],
            [
                "fast only",
                "fast and web",
                "web only",
                "untagged",
                "outline <x>::1",
                "outline <x>::2",
            ],
        ),
    ],
)
def test_tag_selection_lettuce_style_and_expressions(suite, tags, expected):
    suite.feature("t.feature", TAGGED)
    suite.steps(OK_STEPS)
    args = ["features", "--dry-run", "--no-history"]
    for tag in tags:
        args += ["-t", tag]
    run = suite.run(*args)
    assert run.returncode == 0, run.output
    assert selected(run) == expected


def test_name_regex_and_file_line_selection(suite):
    suite.feature("t.feature", TAGGED)
    suite.steps(OK_STEPS)
    by_name = suite.run("features", "--dry-run", "--no-history", "-n", "^web|untagged")
    assert selected(by_name) == ["web only", "untagged"]
    by_line = suite.run("features/t.feature:10", "--dry-run", "--no-history")
    assert selected(by_line) == ["web only"]
    row = suite.run("features/t.feature:19", "--dry-run", "--no-history")
    assert selected(row) == ["outline <x>::2"]
    inside = suite.run("features/t.feature:11", "--dry-run", "--no-history")
    assert selected(inside) == ["web only"]
    bad = suite.run("features/t.feature:9999", "--no-history")
    assert bad.returncode == 2
    assert "features/t.feature:9999: no scenario at line 9999" in bad.stderr


def test_lettuce_scenario_positions(suite):
    suite.feature("t.feature", TAGGED)
    suite.steps(OK_STEPS)
    run = suite.run("features", "--dry-run", "--no-history", "-s", "2,5")
    assert selected(run) == ["fast and web", "outline <x>::1", "outline <x>::2"]
    bad = suite.run("features", "--no-history", "-s", "0")
    assert bad.returncode == 2
    assert "-s '0'" in bad.stderr


def test_failfast_in_parallel_stops_dispatch_and_reports_the_rest_as_not_run(suite):
    scenarios = "".join(f"  Scenario: s{i:02d}\n    Given step {i}\n" for i in range(20))
    suite.feature("f.feature", "Feature: F\n" + scenarios)
    suite.steps(
        """
        import time
        from parallel_bdd import step
        @step(r"step (\\d+)")
        def s(step, n):
            time.sleep(0.1)
            assert n != "1", "one fails"
        """
    )
    run = suite.run("features", "-p", "2", "--failfast", "--no-history")
    assert run.returncode == 1
    match = re.search(r"(\d+) scenarios? \((\d+) failed, (\d+) passed\)", run.stdout)
    ran = int(match.group(1))
    assert match.group(2) == "1"
    assert ran < 20
    assert f"--failfast: {20 - ran} scenarios not run" in run.stdout


def test_rerun_failed_runs_only_what_failed_last_time(suite):
    suite.feature(
        "r.feature",
        "Feature: R\n  Scenario: good\n    Given ok\n  Scenario: bad\n    Given broken\n",
    )
    suite.steps(OK_STEPS + "@step('broken')\ndef broken(step):\n    assert False, 'broken'\n")
    first = suite.run("features")
    assert first.returncode == 1
    rerun = suite.run("features", "--rerun-failed", "-v", "2")
    assert rerun.returncode == 1
    assert "1 scenario (1 failed, 0 passed)" in rerun.stdout
    assert "good ..." not in rerun.stdout


def test_random_order_is_replayable_with_seed(suite):
    scenarios = "".join(f"  Scenario: s{i:02d}\n    Given ok\n" for i in range(12))
    suite.feature("r.feature", "Feature: R\n" + scenarios)
    suite.steps(OK_STEPS)
    one = suite.run("features", "--dry-run", "--no-history", "--seed", "7")
    two = suite.run("features", "--dry-run", "--no-history", "--seed", "7")
    other = suite.run("features", "--dry-run", "--no-history", "--seed", "8")
    assert selected(one) == selected(two)
    assert selected(one) != selected(other)
    assert sorted(selected(one)) == [f"s{i:02d}" for i in range(12)]


def test_shards_cover_the_selection_exactly_and_balance_by_history(suite):
    scenarios = "".join(f"  Scenario: s{i:02d}\n    Given ok\n" for i in range(30))
    suite.feature("s.feature", "Feature: S\n" + scenarios)
    suite.steps(OK_STEPS)
    # a skewed history: a few long scenarios, many short ones
    durations = {
        f"features/s.feature::s{i:02d}": (20.0 if i < 3 else 1.0 + i % 4) for i in range(30)
    }
    (suite.root / ".scenarios").write_text(
        json.dumps(
            {
                "format": "pbdd-history",
                "version": 1,
                "scenarios": {
                    key: {
                        "duration": d,
                        "status": "passed",
                        "runs": 1,
                        "last_run": "2026-01-01T00:00:00Z",
                    }
                    for key, d in durations.items()
                },
            }
        )
    )
    shards = []
    for index in (1, 2, 3):
        run = suite.run("features", "--dry-run", "--shard", f"{index}/3")
        assert run.returncode == 0, run.output
        shards.append(selected(run))
    union = [name for shard in shards for name in shard]
    assert sorted(union) == [f"s{i:02d}" for i in range(30)]
    assert len(union) == len(set(union))
    loads = [sum(durations[f"features/s.feature::{name}"] for name in shard) for shard in shards]
    assert max(loads) <= 1.2 * min(loads), loads
    bad = suite.run("features", "--shard", "4/3")
    assert bad.returncode == 2
    assert "4/3" in bad.stderr


def test_history_command_and_merge(suite):
    suite.feature(
        "h.feature", "Feature: H\n  Scenario: a\n    Given ok\n  Scenario: b\n    Given ok\n"
    )
    suite.steps(OK_STEPS)
    assert suite.run("features", "-n", "^a$", "--history", "one.json").returncode == 0
    assert suite.run("features", "-n", "^b$", "--history", "two.json").returncode == 0
    merged = suite.run("history", "merge", "one.json", "two.json", "-o", "all.json")
    assert merged.returncode == 0, merged.output
    entries = json.loads((suite.root / "all.json").read_text())["scenarios"]
    assert set(entries) == {"features/h.feature::a", "features/h.feature::b"}
    shown = suite.run("history", "--history", "all.json", "-p", "2")
    assert shown.returncode == 0, shown.output
    assert "features/h.feature::a" in shown.stdout
    assert "-p 2" in shown.stdout


def test_pyproject_defaults_apply_and_flags_win(suite):
    suite.feature("t.feature", TAGGED)
    suite.steps(OK_STEPS)
    suite.write(
        "pyproject.toml", '[tool.pbdd]\ntags = ["fast"]\nverbosity = 1\nno_history = true\n'
    )
    run = suite.run("features")
    assert run.returncode == 0, run.output
    assert "2 scenarios (2 passed)" in run.stdout
    flag = suite.run("features", "-t", "web")
    assert "2 scenarios (2 passed)" in flag.stdout
    assert not (suite.root / ".scenarios").exists()
    suite.write("pyproject.toml", "[tool.pbdd]\nprocesess = 4\n")
    bad = suite.run("features")
    assert bad.returncode == 2
    assert "unknown key 'procesess' in [tool.pbdd]" in bad.stderr
    assert "processes" in bad.stderr  # the known keys are listed


def test_junit_xml_is_read_by_junitparser(suite):
    junitparser = pytest.importorskip("junitparser")
    suite.feature("t.feature", TAGGED)
    suite.feature("b.feature", "Feature: Broken\n  Scenario: fails\n    Given broken\n")
    suite.steps(
        OK_STEPS
        + "@step('broken')\ndef broken(step):\n    print('out!')\n    assert False, 'it <broke> & went'\n"
    )
    run = suite.run("features", "-p", "2", "--junit-xml", "reports/junit.xml", "--no-history")
    assert run.returncode == 1
    xml = junitparser.JUnitXml.fromfile(str(suite.root / "reports/junit.xml"))
    cases = [case for suite_ in xml for case in suite_]
    assert len(cases) == 7
    failed = [case for case in cases if case.result and not case.is_passed]
    assert [case.name for case in failed] == ["fails"]
    assert "it <broke> & went" in failed[0].result[0].message
    assert "out!" in (failed[0].system_out or "")
    assert {case.classname for case in cases} == {"Tagged", "Broken"}


def test_lettuce_xunit_flags_write_lettucetests_xml(suite):
    suite.feature("t.feature", TAGGED)
    suite.steps(OK_STEPS)
    run = suite.run("features", "--with-xunit", "--no-history")
    assert run.returncode == 0, run.output
    assert "<testcase" in (suite.root / "lettucetests.xml").read_text()


@pytest.mark.parametrize(
    ("junit_xml", "with_xunit", "xunit_file", "expected"),
    [
        (None, False, None, None),
        ("j.xml", False, None, "j.xml"),
        (None, True, None, "lettucetests.xml"),
        (None, False, "x.xml", "x.xml"),
        (None, True, "x.xml", "x.xml"),
        ("j.xml", True, "x.xml", "j.xml"),
    ],
)
def test_junit_path_keeps_lettuce_xunit_options_after_junit_xml(
    junit_xml, with_xunit, xunit_file, expected
):
    from parallel_bdd.django.options import run_options
    from parallel_bdd.reporting.registry import junit_path

    assert junit_path(junit_xml, with_xunit, xunit_file) == expected
    options = {"processes": 1, "verbosity": 1, "tags": [], "names": [], "scenario_indexes": None}
    options |= {"failfast": False, "dry_run": False, "timeout": 0.0, "history": ".scenarios"}
    options |= {"no_history": False, "rerun_failed": False, "junit_xml": junit_xml}
    options |= {"with_xunit": with_xunit, "xunit_file": xunit_file}
    reports = dict(run_options(["features"], 8000, options).reports)
    assert reports.get("junit_xml") == expected


def test_cucumber_json_has_features_elements_and_step_results(suite):
    suite.feature("t.feature", TAGGED)
    suite.steps(OK_STEPS)
    run = suite.run("features", "--cucumber-json", "cucumber.json", "--no-history")
    assert run.returncode == 0, run.output
    report = json.loads((suite.root / "cucumber.json").read_text())
    assert [feature["name"] for feature in report] == ["Tagged"]
    scenarios = [e for e in report[0]["elements"] if e["type"] == "scenario"]
    assert len(scenarios) == 6
    assert all(s["steps"][0]["result"]["status"] == "passed" for s in scenarios)
    assert isinstance(scenarios[0]["steps"][0]["result"]["duration"], int)


def test_no_color_env_and_flag_keep_output_plain(suite):
    suite.feature("t.feature", TAGGED)
    suite.steps(OK_STEPS)
    run = suite.run("features", "-v", "4", "--no-color", "--no-history")
    assert "\x1b[" not in run.stdout
    colored = suite.run("features", "-v", "4", "--no-history")
    assert "\x1b[" in colored.stdout


def test_a_verbosity_above_4_is_4_as_lettuce_read_it(suite):
    # lettuce 0.2.18 coloured every level above 3; CI scripts still say -v 5
    suite.feature("t.feature", TAGGED)
    suite.steps(OK_STEPS)
    five = suite.run("features", "-v", "5", "--no-history")
    assert five.returncode == 0, five.output
    assert "\x1b[" in five.stdout  # in colour, as -v 4
    plain = suite.run("features", "-v", "5", "--no-color", "--no-history")
    assert plain.stdout.count("\n") == suite.run(
        "features", "-v", "4", "--no-color", "--no-history"
    ).stdout.count("\n")  # the same lines as -v 4
