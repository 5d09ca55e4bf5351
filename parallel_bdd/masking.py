"""Passwords out of what pbdd prints: ``mask_secrets(text)``.

Called by ``errors.PbddError.format_message`` (every error pbdd prints) and by the console
reporter's warnings (``ConsoleReporter.notice``); the coming Redis queue and PostgreSQL
support print their URLs and DSNs through it too. Imports only the standard library.

Named ``masking`` rather than ``secrets`` so that it never stands in for the standard
library's module of that name (``files.py`` uses it).
"""

from __future__ import annotations

import os
import re

MASK = "***"
# environment variables whose value is a secret wherever it appears
SECRET_VARIABLES = ("PGPASSWORD",)
# a shorter value would mask letters all over the text and hide next to nothing
SHORTEST_MASKED_VALUE = 4

# scheme://user:password@host (redis://, rediss://, postgresql://, amqp://...); the user
# may be empty (redis://:password@host)
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(?=@)")
# libpq key=value DSNs and URL queries: password=secret, password = 'it''s', ?password=x&...
_KEY_PASSWORD = re.compile(
    r"(?P<head>\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s&'][^\s&]*)", re.IGNORECASE
)


def mask_secrets(text: str) -> str:
    """``text`` with the password of every URL and DSN, and the value of each variable in
    ``SECRET_VARIABLES`` that is set, replaced by ``***``."""
    if not text:
        return text
    for name in SECRET_VARIABLES:
        value = os.environ.get(name, "")
        if len(value) >= SHORTEST_MASKED_VALUE and value in text:
            text = text.replace(value, MASK)
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\g<head>{MASK}", text)
    if "=" in text:
        text = _KEY_PASSWORD.sub(rf"\g<head>{MASK}", text)
    return text
