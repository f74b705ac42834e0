"""No credential reaches a log line. Every API key, secret and passphrase the app holds (each
``Credentials`` registers its values when it is made) is replaced by its mask wherever it appears,
and what exchange libraries print at DEBUG — request headers carrying the key (``X-MBX-APIKEY``,
``API-Key``, ``CB-ACCESS-KEY``…), bearer tokens, signatures in query strings — is blanked by
pattern, so a key the app never saw (or one being typed) is hidden too. ``RedactingFilter`` sits on
the app's log handlers, so it covers every logger, ours and the libraries'."""

from __future__ import annotations

import logging
import re
import threading

HIDDEN = "***"
MIN_LEN = 6  # shorter values are too common to replace safely (and too short to be real keys)

_HEADER = re.compile(
    r"""(?ix)
    ( ['"]? (?: x-mbx-apikey | api-key | api-sign | x-api-key | cb-access-(?:key|sign|passphrase)
              | apikey | secret | passphrase | password ) ['"]? \s* [:=] \s* ['"]? )
    [^'",\s&}]+
    """
)
_BEARER = re.compile(r"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=\-]+")
_QUERY = re.compile(r"(?i)([?&](?:signature|sign|api_key|apikey|token)=)[^&\s'\"]+")

_lock = threading.Lock()
_known: frozenset[str] = frozenset()
_known_re: re.Pattern[str] | None = None


def _mask(value: str) -> str:
    return (value[:4] + "…" + value[-2:]) if len(value) > 8 else HIDDEN


def remember(*values: str) -> None:
    """Hide these values from every log line from now on (keys, secrets, passphrases)."""
    global _known, _known_re
    new = {v for v in (x.strip() for x in values) if len(v) >= MIN_LEN} - _known
    if not new:
        return
    with _lock:
        _known = _known | new
        # longest first, so a secret that contains another is hidden whole
        _known_re = re.compile("|".join(re.escape(v) for v in sorted(_known, key=len, reverse=True)))


def redact(text: str) -> str:
    if _known_re is not None:
        text = _known_re.sub(lambda m: _mask(m.group(0)), text)
    text = _HEADER.sub(lambda m: m.group(1) + HIDDEN, text)
    text = _BEARER.sub(lambda m: m.group(1) + HIDDEN, text)
    return _QUERY.sub(lambda m: m.group(1) + HIDDEN, text)


class RedactingFilter(logging.Filter):
    """On a handler: the record's message (and traceback) with every credential hidden."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a bad format string: let the handler report it as logging does
            return True
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install(*handlers: logging.Handler) -> None:
    for h in handlers:
        if not any(isinstance(f, RedactingFilter) for f in h.filters):
            h.addFilter(RedactingFilter())
