"""Tables as lettuce read them: rows without a closing pipe, backslashes kept as written."""

from __future__ import annotations

UNCLOSED = """
Feature: Rows without a closing pipe
  Scenario Outline: An outline whose rows are open
    Given I have the document <document>
    Then I see the identifier <identifier>

  Examples:
    | document      | identifier
    | kitchen.xml   | 10.7554/eLife.00013

  Scenario: A data table whose rows are open
    Given these rows:
      | name  | value
      | a     | 1
"""

UNCLOSED_STEPS = """
from lettuce import step, world

@step(r'I have the document (.*)')
def have_document(step, document):
    world.document = document

@step(r'I see the identifier (.*)')
def see_identifier(step, identifier):
    assert world.document == 'kitchen.xml', world.document
    assert identifier == '10.7554/eLife.00013', repr(identifier)

@step(r'these rows:')
def these_rows(step):
    assert step.keys == ('name', 'value'), step.keys
    assert step.hashes == [{'name': 'a', 'value': '1'}], step.hashes
"""


def test_table_rows_without_a_closing_pipe_keep_their_last_cell(suite):
    suite.feature("rows.feature", UNCLOSED)
    suite.steps(UNCLOSED_STEPS)
    for args in [(), ("-p", "2")]:
        run = suite.run("features", "--no-history", *args)
        assert run.returncode == 0, run.output
        assert "2 scenarios (2 passed)" in run.stdout
        warnings = [line for line in run.stderr.splitlines() if "closing '|'" in line]
        assert warnings == [
            "Warning: features/rows.feature:7: 4 table row(s) without a closing '|' "
            "(lines 7, 8, 12, 13); read as lettuce read them, with the last cell kept, but "
            "standard Gherkin drops what follows the last '|': end each row with '|'"
        ]


BACKSLASHES = r"""
Feature: Backslashes in table cells
  Scenario Outline: An Examples cell with backslashes
    Given the string <text>
    Then its characters are <codes>

  Examples:
    | text     | codes                          |
    | one\ntwo | 111 110 101 92 110 116 119 111 |
    | a\\b     | 97 92 92 98                    |
    | a\|b     | 97 124 98                      |

  Scenario: A data table cell with a backslash
    Given the table:
      | text     |
      | one\ntwo |
    And the text:
      '''
      a doc string \n keeps it too
      | not | a | row
      '''
""".replace("'''", '"""')

BACKSLASH_STEPS = r"""
from lettuce import step, world

@step(r'the string (.*)')
def the_string(step, text):
    world.text = text

@step(r'its characters are (.*)')
def its_characters(step, codes):
    got = ' '.join(str(ord(c)) for c in world.text)
    assert got == codes, 'got %r (%s)' % (world.text, got)

@step(r'the table:')
def the_table(step):
    assert step.hashes[0]['text'] == 'one\\ntwo', repr(step.hashes[0]['text'])

@step(r'the text:')
def the_text(step):
    assert step.multiline == 'a doc string \\n keeps it too\n| not | a | row', step.multiline
"""


def test_backslashes_in_table_cells_stay_as_written_as_lettuce_kept_them(suite):
    suite.feature("escapes.feature", BACKSLASHES)
    suite.steps(BACKSLASH_STEPS)
    run = suite.run("features", "--no-history", "-v", "3")
    assert run.returncode == 0, run.output
    assert "4 scenarios (4 passed)" in run.stdout
    assert "Warning" not in run.output  # nothing is rewritten in the doc string either


def test_a_feature_file_without_scenarios_gets_a_warning(suite):
    suite.feature(
        "palindromes.feature",
        """
        Feature: Palindromes
          Scenarios: misspelt header
            Given the word <word>

          Examples:
            | word  |
            | level |
        """,
    )
    suite.feature("one.feature", "Feature: One\n  Scenario: s\n    Given a step\n")
    suite.steps("from lettuce import step\n\n@step(r'a step')\ndef a(step):\n    pass\n")
    run = suite.run("features", "--no-history")
    assert run.returncode == 0, run.output
    assert (
        "Warning: features/palindromes.feature: no scenario in this file; "
        "is a 'Scenario:' line misspelt?"
    ) in run.stderr
    assert "one.feature: no scenario" not in run.stderr
