"""PostgreSQL connection strings: the same server under another database name, and safe to print.

Called by ``contrib.postgres`` (worker DSNs, error messages). Accepts both forms libpq
does: a URL (``postgresql://user:secret@host:5432/db?sslmode=...``) and key=value
(``host=... port=... dbname=... password=...``); what it returns keeps the form it was given,
so a URL can go straight to SQLAlchemy. Imports psycopg's conninfo parser only.
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from psycopg.conninfo import conninfo_to_dict, make_conninfo

MASK = "***"
URL_SCHEMES = ("postgresql://", "postgres://")
_PASSWORD_PARAMETER = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)", re.IGNORECASE)


def is_url(dsn: str) -> bool:
    return dsn.strip().lower().startswith(URL_SCHEMES)


def masked(dsn: str) -> str:
    """``dsn`` with its password replaced by ``***`` (also when it does not parse)."""
    text = _PASSWORD_PARAMETER.sub(rf"\g<1>{MASK}", dsn)
    if not is_url(text):
        return text
    scheme, _, rest = text.partition("://")
    authority_end = len(rest)
    for stop in "?#":
        if stop in rest:
            authority_end = min(authority_end, rest.index(stop))
    userinfo, at, after = rest[:authority_end].rpartition("@")
    if at and ":" in userinfo:
        user = userinfo.split(":", 1)[0]
        rest = f"{user}:{MASK}@{after}{rest[authority_end:]}"
    return f"{scheme}://{rest}"


def with_dbname(dsn: str, dbname: str) -> str:
    """The same server, user and options, connected to ``dbname``."""
    if not is_url(dsn):
        return make_conninfo(dsn, dbname=dbname)
    parts = urlsplit(dsn.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "dbname"]
    return urlunsplit(parts._replace(path=f"/{dbname}", query=urlencode(query)))


def address(dsn: str) -> str:
    """``host:port`` the DSN points at, with libpq's defaults (``PGHOST``, ``PGPORT``)."""
    try:
        params = conninfo_to_dict(dsn)
    except Exception:  # a DSN libpq cannot parse: connect() says why
        return "(unparseable DSN)"
    host = str(params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "")
    port = str(params.get("port") or os.environ.get("PGPORT") or "5432")
    return f"{host or 'the local socket'}:{port}"


def password_of(dsn: str) -> str:
    """The password in ``dsn`` (empty when none), to scrub it from server messages."""
    try:
        return str(conninfo_to_dict(dsn).get("password") or "")
    except Exception:
        return ""
