"""A database URL as it may be shown: the password masked, in logs, reprs and error messages."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

MASK = "***"
_QUERY_PASSWORD = re.compile(r"((?:^|&)password=)([^&]*)")
_DSN_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")


def redact_url(url: str) -> str:
    """``postgresql://keeper:s3cret@db:5432/lg`` -> ``postgresql://keeper:***@db:5432/lg``; also a
    ``?password=`` parameter and the ``password=`` of a key=value connection string."""
    if "://" not in url:
        return _DSN_PASSWORD.sub(rf"\1{MASK}", url)
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
    query = _QUERY_PASSWORD.sub(rf"\1{MASK}", parts.query)
    return parts._replace(netloc=netloc, query=query).geturl()


def scrub(text: str, url: str) -> str:
    """``text`` (e.g. a driver's error message) with every form of the URL's password masked."""
    for secret in sorted(_passwords(url), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _passwords(url: str) -> set[str]:
    found: set[str] = set()
    if "://" in url:
        parts = urlsplit(url)
        userinfo = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
        if ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
        found.update(match.group(2) for match in _QUERY_PASSWORD.finditer(parts.query))
    else:
        found.update(match.group(2).strip("'") for match in _DSN_PASSWORD.finditer(url))
    found |= {unquote(secret) for secret in found}
    return {secret for secret in found if secret}
