"""Reporters: console (lettuce style), the report files (``registry``: JUnit XML, Cucumber
JSON), the dry-run listing, the history report.

Used by ``session.py`` and ``cli.py`` in the parent only; a worker never imports this
package.
"""
