"""The lettuce API that existing suites rely on: steps, step objects, hooks, world, dialect."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import parallel_bdd


def test_public_api_is_curated():
    assert sorted(parallel_bdd.__all__) == sorted(
        ["__version__", "after", "before", "scenario", "step", "steps", "world"]
    )
    for name in parallel_bdd.__all__:
        assert hasattr(parallel_bdd, name)
    from parallel_bdd import registry, step, steps

    assert (step, steps) == (registry.step, registry.steps)
    with pytest.raises(AttributeError, match="no attribute 'stepz'"):
        parallel_bdd.stepz  # noqa: B018


def test_importing_the_package_leaves_the_step_registry_until_it_is_used():
    # the manager process imports the package (its parent's main module's) and never
    # registers a step: it need not pay for the registry's imports
    code = (
        "import sys, parallel_bdd\n"
        "assert 'parallel_bdd.registry' not in sys.modules\n"
        "from parallel_bdd import step\n"
        "assert 'parallel_bdd.registry' in sys.modules and callable(step)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_step_object_attributes_and_behave_as(suite):
    suite.feature(
        "attrs.feature",
        '''
        Feature: Step attributes
          Scenario: table, doc string, behave_as
            Given these people:
              | name  | age |
              | Alice | 30  |
              | Bob   | 41  |
            And this text:
              """
              first line
                indented line
              """
            When I add 2 and 3 the long way
            Then the total is 5
        ''',
    )
    suite.steps(
        '''
        import json
        from lettuce import step, world
        from parallel_bdd import scenario

        @step(r"these people:")
        def people(step):
            world.seen = {
                "keys": list(step.keys),
                "first": step.hashes.first,
                "ages": step.hashes.values_under("age"),
                "sentence": step.sentence,
                "scenario": step.scenario.name,
            }

        @step(r"this text:")
        def text(step):
            world.seen["multiline"] = step.multiline

        @step(r"I add (\\d+) and (\\d+) the long way")
        def add_long(step, a, b):
            step.behave_as("""
                Given I start at {a}
                And I add {b}
            """.format(a=a, b=b))

        @step(r"I start at (?P<value>\\d+)$")
        def start(step, value):
            scenario.total = int(value)

        @step(r"I add (\\d+)$")
        def add(step, n):
            scenario.total += int(n)

        @step(r"the total is (\\d+)")
        def total(step, n):
            assert scenario.total == int(n), scenario.total
            world.seen["total"] = scenario.total
            json.dump(world.seen, open("seen.json", "w"))
        '''
    )
    run = suite.run("features", "--no-history")
    assert run.returncode == 0, run.output
    seen = json.loads((suite.root / "seen.json").read_text())
    assert seen["keys"] == ["name", "age"]
    assert seen["first"] == {"name": "Alice", "age": "30"}
    assert seen["ages"] == ["30", "41"]
    assert seen["sentence"] == "Given these people:"
    assert seen["scenario"] == "table, doc string, behave_as"
    # gherkin keeps doc string indentation (lettuce stripped it: a documented difference)
    assert seen["multiline"] == "first line\n  indented line"
    assert seen["total"] == 5


def test_behave_as_failure_fails_the_calling_step(suite):
    suite.feature("b.feature", "Feature: B\n  Scenario: s\n    Given I delegate\n")
    suite.steps(
        """
        from parallel_bdd import step
        @step("I delegate")
        def delegate(step):
            step.given("nobody defined this")
        """
    )
    run = suite.run("features", "--no-history")
    assert run.returncode == 1
    assert "Undefined step: Given nobody defined this" in run.stdout


def test_hooks_fire_in_lettuce_order(suite):
    suite.feature(
        "h.feature",
        """
        Feature: Hooks
          Background:
            Given a background step
          Scenario: plain
            Given a step
          Scenario Outline: outline
            Given a step <x>
            Examples:
              | x |
              | 1 |
        """,
    )
    suite.steps(
        """
        from parallel_bdd import step, before, after

        def log(text):
            with open("hooks.log", "a") as f:
                f.write(text + "\\n")

        @step(r"a (?:background )?step")
        def a_step(step):
            log("step " + step.sentence)

        @before.all
        def b_all(): log("before.all")
        @after.all
        def a_all(total): log(f"after.all {total.scenarios_ran} {total.scenarios_passed}")
        @before.batch
        def b_batch(): log("before.batch")
        @after.batch
        def a_batch(): log("after.batch")
        @before.each_feature
        def b_feature(feature): log("before.each_feature " + feature.name)
        @after.each_feature
        def a_feature(feature): log("after.each_feature " + feature.name)
        @before.each_scenario
        def b_scenario(scenario): log("before.each_scenario " + scenario.name)
        @after.each_scenario
        def a_scenario(scenario): log(f"after.each_scenario {scenario.name} {scenario.passed}")
        @before.each_background
        def b_bg(background): log("before.each_background")
        @after.each_background
        def a_bg(background, results): log(f"after.each_background {results}")
        @before.each_outline
        def b_outline(scenario, row): log(f"before.each_outline {row}")
        @after.outline
        def outline(scenario, index, row, reasons): log(f"outline {index} {row} {reasons}")
        @before.each_step
        def b_step(step): log("before.each_step")
        @after.each_step
        def a_step_hook(step): log("after.each_step")
        """
    )
    run = suite.run("features", "--no-history")
    assert run.returncode == 0, run.output
    log = (suite.root / "hooks.log").read_text().splitlines()
    assert log == [
        "before.all",
        "before.batch",
        "before.each_feature Hooks",
        "before.each_scenario plain",
        "before.each_background",
        "before.each_step",
        "step Given a background step",
        "after.each_step",
        "after.each_background [True]",
        "before.each_step",
        "step Given a step",
        "after.each_step",
        "after.each_scenario plain True",
        "before.each_scenario outline",
        "before.each_outline {'x': '1'}",
        "before.each_background",
        "before.each_step",
        "step Given a background step",
        "after.each_step",
        "after.each_background [True]",
        "before.each_step",
        "step Given a step 1",
        "after.each_step",
        "outline 0 {'x': '1'} []",
        "after.each_scenario outline True",
        "after.each_feature Hooks",
        "after.batch",
        "after.all 2 2",
    ]


def test_steps_class_decorator_and_bare_step_forms(suite):
    suite.feature(
        "c.feature",
        "Feature: C\n  Scenario: s\n    Given i am here\n    When I count 3 things\n"
        "    Then the class step ran\n",
    )
    suite.steps(
        '''
        from lettuce import step, steps, world

        @step
        def given_i_am_here(step):
            world.here = True

        @step
        def counting(step, n):
            """I count (\\d+) things"""
            world.count = int(n)

        @steps
        class ClassSteps:
            exclude = ["helper"]

            def __init__(self, marker):
                self.marker = marker

            def the_class_step_ran(self, step):
                """the class step ran"""
                assert world.here and world.count == 3 and self.marker == "m"
                open("class.ok", "w").close()

            def helper(self):
                raise AssertionError("excluded methods are not steps")

        ClassSteps("m")
        '''
    )
    run = suite.run("features", "--no-history")
    assert run.returncode == 0, run.output
    assert (suite.root / "class.ok").exists()


def test_ambiguity_longest_match_wins_and_true_tie_fails(suite):
    suite.feature(
        "a.feature",
        "Feature: A\n  Scenario: wins\n    Given I have 3 red apples\n"
        "  Scenario: tie\n    Given I pick a pear\n",
    )
    suite.steps(
        """
        from parallel_bdd import step
        @step(r"I have (\\d+)")
        def short(step, n):
            raise AssertionError("the shorter match must not run")
        @step(r"I have (\\d+) red apples")
        def long(step, n):
            pass
        @step(r"I pick a (\\w+)")
        def pick_any(step, fruit):
            pass
        @step(r"I pick a (pear|plum)")
        def pick_pear(step, fruit):
            pass
        """
    )
    run = suite.run("features", "--no-history")
    assert run.returncode == 1
    assert "wins ... OK" in run.stdout
    assert "tie ... AMBIGUOUS" in run.stdout
    assert "'I pick a (\\\\w+)'  # features/steps.py:8" in run.stdout
    assert "'I pick a (pear|plum)'  # features/steps.py:11" in run.stdout
    listing = suite.run("features", "--dry-run", "--no-history")
    assert listing.returncode == 1
    assert "features/a.feature:5: ambiguous" in listing.stdout


def test_keywordless_lines_and_lettuce_language_codes_run_with_a_warning(suite):
    suite.feature(
        "old.feature",
        """
        Feature: Old style
          Scenario: no keywords
            Given I start
            I do a thing without keyword
        """,
    )
    suite.feature(
        "pt.feature",
        """
        # language: pt-br
        Funcionalidade: Em português
          Cenário: Primeiro
            Dado que eu começo
        """,
    )
    suite.steps(
        """
        from lettuce import step
        @step(r"I start")
        def start(step):
            pass
        @step(r"^I do a thing without keyword$")
        def thing(step):
            assert step.sentence == "I do a thing without keyword"
        @step(r"que eu começo")
        def comeco(step):
            pass
        """
    )
    run = suite.run("features", "--no-history")
    assert run.returncode == 0, run.output
    assert "2 scenarios (2 passed)" in run.stdout
    assert "old.feature:4" in run.stderr and "without a Given/When/Then keyword" in run.stderr
    assert "lettuce language code 'pt-br' read as 'pt'" in run.stderr


def test_a_first_step_line_without_keyword_is_a_step_not_a_description(suite):
    # Gherkin reads the lines under "Scenario:" before the first keyword as a description;
    # lettuce ran every one of them as a step
    suite.feature(
        "numbers.feature",
        """
        Feature: Numbers
          Background:
            I start from 10
          Scenario: first line without keyword
            I add 1
            Then I see 11
          Scenario: every line without keyword
            I add 2
            I see 12
        """,
    )
    suite.steps(
        """
        from lettuce import step, world
        @step(r"I start from (\\d+)")
        def start(step, number):
            world.number = int(number)
        @step(r"I add (\\d+)")
        def add(step, number):
            world.number += int(number)
        @step(r"I see (\\d+)")
        def see(step, number):
            assert world.number == int(number), world.number
        """
    )
    run = suite.run("features", "--no-history")
    assert run.returncode == 0, run.output
    assert "2 scenarios (2 passed)" in run.stdout and "6 steps (6 passed)" in run.stdout
    assert "4 step line(s) without a Given/When/Then keyword (lines 3, 5, 8, 9)" in run.stderr


def test_a_language_code_gherkin_spells_the_same_gets_no_warning(suite):
    suite.feature(
        "zh.feature",
        """
        # language: zh-CN
        功能: 加法
          场景: 一加一
            假如我有数字 1
        """,
    )
    suite.steps(
        """
        from lettuce import step
        @step(r"我有数字 (\\d)")
        def have(step, number):
            pass
        """
    )
    run = suite.run("features", "--no-history")
    assert run.returncode == 0, run.output
    assert "language code" not in run.stderr


def test_lettuces_own_heading_words_run_in_their_language(suite):
    # lettuce's languages.py has heading words Gherkin's dialects spell otherwise
    suite.feature(
        "zh.feature",
        """
        # language: zh-CN
        特性: 加法
          场景模板: 加一
            假如我有数字 <n>
          例如:
            | n |
            | 1 |
            | 2 |
        """,
    )
    suite.feature(
        "es.feature",
        """
        # language: es
        Funcionalidad: Suma
          Contexto:
            Dado que tengo el número 1
          Escenario: uno
            Dado que tengo el número 2
            \"\"\"
            Contexto: in a doc string, left as written
            \"\"\"
        """,
    )
    suite.steps(
        """
        from lettuce import step
        @step(r"我有数字 (\\d)")
        def have(step, number):
            pass
        @step(r"que tengo el número (\\d)")
        def tengo(step, number):
            if step.multiline:
                assert step.multiline == "Contexto: in a doc string, left as written"
        """
    )
    run = suite.run("features", "--no-history")
    assert run.returncode == 0, run.output
    assert "3 scenarios (3 passed)" in run.stdout
    assert (
        "zh.feature:2: 3 lettuce heading(s) that Gherkin's 'zh-CN' spells otherwise "
        "(lines 2, 3, 5); read as lettuce read them, '特性:' as '功能:'" in run.stderr
    )
    assert "es.feature:2: 2 lettuce heading(s) that Gherkin's 'es' spells otherwise" in run.stderr


def test_scenario_namespace_is_fresh_for_every_scenario(suite):
    suite.feature(
        "n.feature",
        "Feature: N\n  Scenario: first\n    Given I set a value\n"
        "  Scenario: second\n    Then no value is left\n",
    )
    suite.steps(
        """
        from parallel_bdd import step, scenario
        @step("I set a value")
        def set_value(step):
            scenario.value = 1
        @step("no value is left")
        def check(step):
            assert not hasattr(scenario, "value")
        """
    )
    run = suite.run("features", "--no-history", "--random", "--seed", "3")
    assert run.returncode == 0, run.output
    assert "--seed 3" in run.stdout


def test_each_step_hooks_run_for_skipped_undefined_and_ambiguous_steps(suite):
    suite.feature(
        "steps.feature",
        """
        Feature: Step hooks
          Scenario: After a failure
            Given a step that fails
            And a step that is skipped
            And a step nobody wrote
          Scenario: Ambiguous
            Given a twin step
            And a step that is skipped
        """,
    )
    suite.steps(
        """
        from lettuce import after, before, step

        def log(text):
            with open("hooks.log", "a") as f:
                f.write(text + "\\n")

        @step(r"a step that fails")
        def fails(step):
            raise AssertionError("no")

        @step(r"a step that is skipped")
        def skipped(step):
            log("ran " + step.sentence)

        @step(r"a twin (step)")
        def twin_one(step, word):
            pass

        @step(r"a (twin) step")
        def twin_two(step, word):
            pass

        @before.each_step
        def before_step(step):
            log("before " + step.sentence)

        @after.each_step
        def after_step(step):
            log("after " + step.sentence)
        """
    )
    run = suite.run("features", "--no-history")
    assert run.returncode == 1, run.output
    assert (suite.root / "hooks.log").read_text().splitlines() == [
        "before Given a step that fails",
        "after Given a step that fails",
        "before And a step that is skipped",
        "after And a step that is skipped",
        "after And a step nobody wrote",
        "after Given a twin step",
        "before And a step that is skipped",
        "after And a step that is skipped",
    ]


HASHES_FEATURE = """
Feature: Tables a step changes
  Background:
    Given the people:
      | name  | age |
      | alice | 30  |

  Scenario Outline: Each row changes the table
    Given the people:
      | name  | age |
      | alice | 30  |
    When I add <extra> and age everyone
    Then I see the people:
      | name  | age |
      | alice | 30  |

  Examples:
    | extra |
    | bob   |
    | carol |

  Scenario: Another scenario
    Given the people:
      | name  | age |
      | alice | 30  |
"""

HASHES_STEPS = """
from lettuce import step, world

@step(r'the people:')
def the_people(step):
    assert step.hashes == [{'name': 'alice', 'age': '30'}], step.hashes
    step.hashes.append({'name': 'dave', 'age': '40'})
    step.hashes[0]['age'] = '31'
    step.hashes[0]['city'] = 'Lyon'
    del step.hashes[1]
    assert step.hashes.values_under('city') == ['Lyon']  # a column the step added
    step.hashes.insert(0, {'name': 'zed', 'age': '1'})
    assert [row['name'] for row in step.hashes] == ['zed', 'alice']
    assert step.hashes.first['name'] == 'zed' and step.hashes.last['age'] == '31'
    world.people = step.hashes

@step(r'I add (\\w+) and age everyone')
def add_and_age(step, extra):
    world.people.append({'name': extra, 'age': '20'})
    for row in world.people:
        row['age'] = str(int(row['age']) + 1)
    assert [row['name'] for row in world.people] == ['zed', 'alice', extra], world.people

@step(r'I see the people:')
def see_people(step):
    assert step.hashes == [{'name': 'alice', 'age': '30'}], step.hashes
    step.hashes.remove({'name': 'alice', 'age': '30'})
    assert step.hashes == [] and step.keys == ('name', 'age')
"""


def test_step_hashes_is_a_list_a_step_may_change_without_leaking(suite):
    suite.feature("people.feature", HASHES_FEATURE)
    suite.steps(HASHES_STEPS)
    for args in [(), ("-p", "2")]:
        run = suite.run("features", "--no-history", *args)
        assert run.returncode == 0, run.output
        assert "3 scenarios (3 passed)" in run.stdout
