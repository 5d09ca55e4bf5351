"""The differences from lettuce that README lists, as a user sees them in the summary."""

from __future__ import annotations

FEATURES = {
    "fast.feature": """
        Feature: Fast
          Background:
            Given a background step
          Scenario: one
            Then it passes
          @slow
          Scenario: two
            Then it fails
        """,
    "slow.feature": """
        @slow
        Feature: Slow
          Scenario: three
            Then it passes
        """,
}

STEPS = """
from lettuce import step

@step(r"a background step")
def background(step):
    pass

@step(r"it passes")
def passes(step):
    pass

@step(r"it fails")
def fails(step):
    raise AssertionError("no")
"""


def write(suite) -> None:
    for name, text in FEATURES.items():
        suite.feature(name, text)
    suite.steps(STEPS)


def test_the_summary_names_failures_and_counts_background_steps(suite):
    write(suite)
    run = suite.run("features", "--no-history")
    assert run.returncode == 1, run.output
    assert "3 scenarios (1 failed, 2 passed)" in run.stdout
    # 3 scenario steps plus the background step once for each of the two scenarios of Fast
    assert "5 steps (1 failed, 4 passed)" in run.stdout


def test_a_feature_filtered_out_entirely_is_not_counted(suite):
    write(suite)
    run = suite.run("features", "-t", "-slow", "--no-history")
    assert run.returncode == 0, run.output
    assert "1 feature (1 passed)" in run.stdout
    assert "1 scenario (1 passed)" in run.stdout


def test_an_exclusion_written_with_its_at_sign_excludes(suite):
    write(suite)
    run = suite.run("features", "-t", "-@slow", "--no-history")
    assert run.returncode == 0, run.output
    assert "1 scenario (1 passed)" in run.stdout
    assert "two" not in run.stdout and "three" not in run.stdout


def test_a_tag_commented_out_above_the_feature_is_no_tag_and_a_warning_says_so(suite):
    # lettuce took the feature's tags from the first "@" in the file, comments included
    suite.feature(
        "old.feature",
        """
        # kept by qa@example.com
        #@slow
        Feature: Old
          Scenario: four
            Then it passes
        """,
    )
    suite.steps(STEPS)
    selected = suite.run("features", "-t", "slow", "--no-history")
    assert selected.returncode == 1 and "No scenario selected" in selected.stderr
    warning = "old.feature:2: @slow in the comment '#@slow' is not a tag of the feature"
    assert warning in selected.stderr
    assert selected.stderr.count("is not a tag of the feature") == 1  # not the e-mail address
    excluded = suite.run("features", "-t", "-slow", "--no-history")
    assert excluded.returncode == 0 and "1 scenario (1 passed)" in excluded.stdout
