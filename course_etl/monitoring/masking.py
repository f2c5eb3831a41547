"""Secrets out of everything alerts write: error texts, log records, the run log, JSONL files.

A webhook's token lives in its URL's path and a password in ``user:password@``, so every URL is
cut to scheme, host and port; values a channel registers (its URL, a password) are replaced by
``********`` wherever they still appear. :class:`MaskingFilter` applies the same to log records.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from course_etl.errors import checked

__all__ = ["MaskingFilter", "cut_urls", "mask_secrets", "register_secret"]

# A webhook's token lives in its URL path (hooks.example.com/services/T000/B000/XXXX): any URL
# written to a log, the run log or a file keeps only scheme, host and port.
_URL = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<user>[^@/\s'\"<>]*@)?"
                  r"(?P<host>[^/\s'\"<>?#@,;]+)(?P<rest>[/?#][^\s'\"<>)]*)?", re.IGNORECASE)
_SECRETS: set[str] = set()


def _cut_url(match: re.Match) -> str:
    tail = "/***" if match["user"] or match["rest"] else ""
    return f"{match['scheme']}{match['host']}{tail}"


@checked
def cut_urls(text: str) -> str:
    """``text`` with every URL cut to scheme, host and port."""
    return _URL.sub(_cut_url, text)


@checked
def mask_secrets(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every known secret (and every one of ``extra``) replaced by ``********``
    and every URL cut to its host and port (a webhook's token lives in its path, a password in
    ``user:password@``). The longest secret goes first, so one inside another is masked whole."""
    text = _URL.sub(_cut_url, text)
    for secret in sorted(_SECRETS | {s for s in extra if s}, key=len, reverse=True):
        text = text.replace(secret, "********")
    return text


@checked
def register_secret(value: str) -> None:
    """Mask ``value`` wherever alerts write (a channel registers its password or token)."""
    if value:
        _SECRETS.add(str(value))


class MaskingFilter(logging.Filter):
    """Masks secrets in every record of the logger it is added to: the registered ones, and
    ``secrets`` given here (``MaskingFilter(config.secret_values())``). The record's message is
    formatted once, masked, and passed on."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(str(s) for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = mask_secrets(record.getMessage(), self._secrets), None
        return True
