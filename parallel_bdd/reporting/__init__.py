"""Reporters: console (lettuce style), JUnit XML, Cucumber JSON, the history report.

Used by ``cli.py`` in the parent only; a worker never imports this package.
"""
