"""End-to-end: bad input gets one clear ``Error:`` line (file:line where there is one) and
exit 2, never a traceback of pbdd's own; a bad history file or place is a warning and the
run goes on; undefined and ambiguous steps fail the run (exit 1) with what to do about them.
"""

from __future__ import annotations

import json

import pytest
from suite_helpers import Run, Suite

PASSING_FEATURE = """
Feature: Basket
  Scenario: Add an apple
    Given I pass
"""

PASSING_STEPS = """
from parallel_bdd import step

@step("I pass")
def passes(step):
    pass
"""


@pytest.fixture
def basket(suite: Suite) -> Suite:
    suite.feature("basket.feature", PASSING_FEATURE)
    suite.steps(PASSING_STEPS)
    return suite


def error_line(run: Run) -> str:
    """The single ``Error:`` line of a usage or suite error, after checking the rest."""
    assert run.returncode == 2, run.output
    assert "Traceback" not in run.output, run.output
    assert "parallel_bdd/" not in run.output, run.output
    errors = [line for line in run.output.split("\n") if line.startswith("Error:")]
    assert len(errors) == 1, run.output
    return errors[0]


# -- paths ---------------------------------------------------------------------------------
def test_missing_path(basket):
    assert "no such file or directory: 'nowhere'" in error_line(basket.run("nowhere"))


def test_directory_without_feature_files(basket):
    (basket.root / "empty").mkdir()
    assert "no .feature files under 'empty'" in error_line(basket.run("empty"))


def test_file_that_is_not_a_feature_file(basket):
    basket.write("notes.txt", "Feature: not really\n")
    assert "'notes.txt' is not a .feature file" in error_line(basket.run("notes.txt"))


def test_line_without_a_scenario(basket):
    line = error_line(basket.run("features/basket.feature:9999"))
    assert "features/basket.feature:9999: no scenario at line 9999" in line


# -- feature files -------------------------------------------------------------------------
def test_gherkin_syntax_error_names_file_and_line(basket):
    basket.feature(
        "broken.feature",
        'Feature: Broken\n  Scenario: Unclosed\n    Given I pass\n      """\n      text\n',
    )
    line = error_line(basket.run("features"))
    assert "features/broken.feature:6:" in line
    assert "unexpected end of file" in line


def test_feature_file_that_is_not_utf8(basket):
    path = basket.root / "features" / "latin1.feature"
    path.write_bytes("Feature: Café\n  Scenario: Crème\n    Given I pass\n".encode("latin-1"))
    line = error_line(basket.run("features"))
    assert "features/latin1.feature:1: the file is not UTF-8 text" in line


def test_unknown_language(basket):
    basket.feature("xx.feature", "# language: xx\nFeature: X\n  Scenario: Y\n    Given I pass\n")
    line = error_line(basket.run("features"))
    assert "features/xx.feature:1: Language not supported: xx" in line


# -- step files ----------------------------------------------------------------------------
def test_step_file_with_a_syntax_error_shows_the_users_line(basket):
    basket.steps("from parallel_bdd import step\n\ndef broken(:\n    pass\n", name="bad.py")
    run = basket.run("features")
    assert "features/bad.py failed to import" in error_line(run)
    assert 'bad.py", line 3' in run.stderr
    assert "SyntaxError" in run.stderr


def test_step_file_whose_import_fails_shows_the_users_traceback_trimmed(basket):
    basket.steps("def explode():\n    raise ValueError('no config file')\n", name="helper.py")
    basket.steps("import helper\n\nhelper.explode()\n", name="uses_helper.py")
    run = basket.run("features")
    assert "features/uses_helper.py failed to import" in error_line(run)
    assert 'uses_helper.py", line 3, in <module>' in run.stderr
    assert 'helper.py", line 2, in explode' in run.stderr
    assert "ValueError: no config file" in run.stderr
    assert "importlib" not in run.stderr


def test_invalid_regex_in_step(basket):
    basket.steps(
        "from parallel_bdd import step\n\n@step(r'I have (\\d+ apples')\ndef have(step, n):\n"
        "    pass\n",
        name="regex.py",
    )
    line = error_line(basket.run("features"))
    assert "features/regex.py:3: invalid regular expression" in line
    assert "@step('I have (" in line


# -- options -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "'0': need at least 1 process"),
        ("-1", "'-1': need at least 1 process"),
        ("abc", "'abc' is not a number of processes"),
    ],
)
def test_bad_process_count(basket, value, message):
    line = error_line(basket.run("features", "-p", value))
    assert "'-p' / '--processes'" in line
    assert message in line


def test_bad_tag_expression(basket):
    line = error_line(basket.run("features", "-t", "@a and"))
    assert "bad tag expression '@a and'" in line


# -- what fails the run without stopping it ------------------------------------------------
def test_ambiguous_step_fails_at_run_time_naming_both_definitions(basket):
    basket.steps(
        "from parallel_bdd import step\n\n@step(r'I (p)ass')\ndef also(step, p):\n    pass\n",
        name="more.py",
    )
    run = basket.run("features", "--no-history")
    assert run.returncode == 1, run.output
    assert "Add an apple ... AMBIGUOUS" in run.stdout
    assert "'I pass'  # features/steps.py:3" in run.stdout
    assert "'I (p)ass'  # features/more.py:3" in run.stdout
    assert "Traceback" not in run.output

    dry = basket.run("features", "--dry-run", "--no-history")
    assert dry.returncode == 1, dry.output
    assert "features/basket.feature:3: ambiguous" in dry.stdout
    assert "features/steps.py:3" in dry.stdout
    assert "features/more.py:3" in dry.stdout


def test_undefined_steps_exit_1_with_snippets(basket):
    basket.feature("new.feature", "Feature: New\n  Scenario: Fresh\n    Given I have 3 pears\n")
    run = basket.run("features", "--no-history")
    assert run.returncode == 1, run.output
    assert "Fresh ... UNDEFINED" in run.stdout
    assert "@step(u'Given I have 3 pears')" in run.stdout
    assert "Traceback" not in run.output


# -- the history file ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "content",
    [
        b'{"format": "pbdd-history", "version": 1, "scenarios": {"x": {',  # truncated
        b"\x00\x01 not json at all \xff",  # corrupt
        b"",  # empty
        b'{"name": "another tool", "tests": [1, 2]}',  # foreign JSON
        b"scenario,duration\nfeatures/a.feature::x,1.5\n",  # lettuce fork's old CSV
    ],
    ids=["truncated", "corrupt", "empty", "foreign", "csv"],
)
def test_bad_history_file_is_kept_as_bak_and_the_run_goes_on(basket, content):
    (basket.root / ".scenarios").write_bytes(content)
    run = basket.run("features")
    assert run.returncode == 0, run.output
    assert "Warning: .scenarios is not a pbdd history file" in run.stderr
    assert "kept it as .scenarios.bak" in run.stderr
    assert (basket.root / ".scenarios.bak").read_bytes() == content
    saved = json.loads((basket.root / ".scenarios").read_text())
    assert list(saved["scenarios"]) == ["features/basket.feature::Add an apple"]
    assert "Traceback" not in run.output


@pytest.mark.parametrize("place", ["no-such-dir/.scenarios", "features/basket.feature/.scenarios"])
def test_unwritable_history_location_is_a_warning(basket, place):
    run = basket.run("features", "--history", place)
    assert run.returncode == 0, run.output
    assert f"Warning: could not save scenario durations to {place}" in run.stderr
    assert "1 scenario (1 passed)" in run.stdout
    assert "Traceback" not in run.output


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Feature: A\n  Scenario: one\n    Given I pass\nFeature: B\n", "Feature: B"),
        (
            "Feature: A\n  Scenario: one\n    Given I pass\n  Background:\n    Given I pass\n",
            "Background:",
        ),
    ],
)
def test_misplaced_block_keywords_are_syntax_errors_not_keywordless_steps(basket, text, line):
    basket.feature("bad.feature", text)
    error = error_line(basket.run("features"))
    assert "features/bad.feature:4" in error
    assert line in error
