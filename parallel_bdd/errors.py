"""Every error pbdd reports to a user, and the exit code each one means.

Raised anywhere in the parent (loader, registry, config, history); caught once in
``session.py`` (a run) or ``cli.py`` (while parsing, ``pbdd history merge``), which print
``Error: <message>`` and exit with ``exit_code``. The message comes out of
``format_message`` with every password masked (``masking.py``). A worker never raises
these across the process boundary: its failures travel as result records.

    PbddError (exit 2)              base: a message that quotes the bad value
    ├── UsageError (exit 2)         a bad option or argument
    ├── SuiteError (exit 2)         the suite cannot be loaded: file:line when known
    │   ├── GherkinSyntaxError      a feature file does not parse
    │   └── StepLoadError           a step file does not import, a bad @step regex
    └── QueueError (exit 2)         the shared Redis queue: unreachable, lost, another
                                    selection; names the URL with its password masked

A history file that cannot be read is no error: the history store collects a warning and
the run goes on. Ctrl-C is no error either: a run that stops for it exits 130.
"""

from __future__ import annotations

from .masking import mask_secrets

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class PbddError(Exception):
    """Base of every error pbdd shows to a user; carries the process exit code."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def format_message(self) -> str:
        """The message (and hint) as printed: passwords in URLs, DSNs and ``PGPASSWORD``
        masked, whoever wrote the message and whatever value it quotes."""
        return mask_secrets(f"{self.message}\n  {self.hint}" if self.hint else self.message)


class UsageError(PbddError):
    """A bad command-line option, argument or config value."""


class SuiteError(PbddError):
    """The suite cannot be loaded; ``location`` is ``file:line`` when there is one."""

    def __init__(self, message: str, *, location: str = "", hint: str = "") -> None:
        super().__init__(f"{location}: {message}" if location else message, hint=hint)
        self.location = location


class GherkinSyntaxError(SuiteError):
    """A feature file that gherkin-official cannot parse."""


class StepLoadError(SuiteError):
    """A step file that fails to import, or a step definition that cannot be used."""


class QueueError(PbddError):
    """The shared Redis queue cannot be used (``queue/``): unreachable at start, lost for
    longer than the queue timeout, or holding a build of another selection."""
