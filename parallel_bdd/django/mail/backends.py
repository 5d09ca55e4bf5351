"""The e-mail backend of a harvest run: messages go to ``mail.queue`` and ``mail.outbox``.

Named in ``settings.EMAIL_BACKEND`` by ``prelude.py``; Django instantiates it. ``mail.queue``
is what lettuce's server filled; ``django.core.mail.outbox`` is what lettuce's mail steps
read (Django's test outbox), so both see mail that a page served by the worker's server
sent. Imports nothing from cli or reporting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core import mail as django_mail
from django.core.mail.backends.base import BaseEmailBackend

from .. import mail


class QueueEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[Any]) -> int:
        outbox = getattr(django_mail, "outbox", None)
        for message in email_messages:
            message.message()  # as Django's locmem backend does: fail now on a bad message
            mail.queue.put(message)
            if outbox is not None:
                outbox.append(message)
        return len(email_messages)
