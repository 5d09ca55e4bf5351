"""Doc strings as lettuce read them where suites relied on it: every line quoted with ``"``."""

from __future__ import annotations

QUOTED = """
Feature: Mails written as YAML
  Scenario: A mail whose lines are quoted to keep their indentation
    Given the mail:
      '''
      "from_email: shop@example.com"
      " to:
      "   - alice@example.com

      "   - bob@example.com"
      '''

  Scenario: A doc string where only some lines start with a quote
    Given the text:
      '''
      "quoted" first
        second line
      '''
""".replace("'''", '"""')

QUOTED_STEPS = """
from lettuce import step

@step(r'the mail:')
def the_mail(step):
    expected = (
        'from_email: shop@example.com\\n'
        ' to:\\n'
        '   - alice@example.com\\n'
        '\\n'
        '   - bob@example.com'
    )
    assert step.multiline == expected, repr(step.multiline)

@step(r'the text:')
def the_text(step):
    assert step.multiline == '"quoted" first\\n  second line', repr(step.multiline)
"""


def test_doc_string_lines_all_quoted_lose_their_quotes_as_in_lettuce(suite):
    suite.feature("mail.feature", QUOTED)
    suite.steps(QUOTED_STEPS)
    for args in [(), ("-p", "2")]:
        run = suite.run("features", "--no-history", *args)
        assert run.returncode == 0, run.output
        assert "2 scenarios (2 passed)" in run.stdout
        warnings = [line for line in run.stderr.splitlines() if "doc string" in line]
        assert warnings == [
            "Warning: features/mail.feature:4: 1 doc string(s) with every line quoted "
            "(lines 4); read as lettuce read them, "
            "'\"from_email: shop@example.com\"' as 'from_email: shop@example.com', but "
            "standard Gherkin keeps the quotes: write the lines unquoted, indented as they "
            "should read"
        ]
