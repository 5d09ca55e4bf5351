"""lettuce's e-mail steps, over Django's test outbox (``django.core.mail.outbox``).

Imported by users' step files; the outbox is filled by ``mail.backends.QueueEmailBackend``
with what the steps and the worker's server sent, and emptied before each scenario
(``prelude.py``). The sentences are lettuce's; the code is pbdd's.
"""

from __future__ import annotations

from smtplib import SMTPException
from typing import Any

from django.core import mail

from ...hooks import before
from ...registry import step

EMAIL_PARTS = ("subject", "body", "from_email", "to", "bcc", "cc")
_WORKING_SEND = mail.EmailMessage.send


def _outbox() -> list[Any]:
    return list(getattr(mail, "outbox", []))


@step(r"I have sent (\d+) emails?")
def mail_sent_count(step: Any, count: str) -> None:
    """Then I have sent 2 emails"""
    found = len(_outbox())
    assert found == int(count), f"{found} e-mails were sent, not {count}"


@step(r"I have not sent any emails")
def mail_not_sent(step: Any) -> None:
    """Then I have not sent any emails"""
    mail_sent_count(step, "0")


@step(r'I have sent an email with "([^"]*)" in the ({})'.format("|".join(EMAIL_PARTS)))
def mail_sent_content(step: Any, text: str, part: str) -> None:
    """Then I have sent an email with "pandas" in the body"""
    values = [getattr(message, part) for message in _outbox()]
    assert any(text in value for value in values), (
        f"no e-mail has {text!r} in its {part}; the {part}s sent: {values!r}"
    )


@step(r"I have sent an email with the following in the body:")
def mail_sent_content_multiline(step: Any) -> None:
    '''Then I have sent an email with the following in the body:
    """
    Name: Mr. Panda
    """'''
    mail_sent_content(step, step.multiline, "body")


@step(r"I clear my email outbox")
def mail_clear(step: Any) -> None:
    """Given I clear my email outbox (sending works again too)"""
    mail.EmailMessage.send = _WORKING_SEND
    mail.outbox = []


def _broken_send(*args: Any, **kwargs: Any) -> None:
    raise SMTPException(
        "e-mail sending is broken on purpose by the step 'sending email does not work'"
    )


@step(r"sending email does not work")
def email_broken(step: Any) -> None:
    """Given sending email does not work"""
    mail.EmailMessage.send = _broken_send


@before.each_scenario
def _sending_works_again(scenario: Any) -> None:
    # a worker runs scenarios of many features: one scenario's broken mail must not leak
    mail.EmailMessage.send = _WORKING_SEND
