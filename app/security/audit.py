"""The audit log: every order action appended with time, venue, mode and details, each entry
carrying the hash of the one before, so an entry changed, removed or inserted later breaks the
chain from there on. ``verify`` names the first broken entry (``python -m app audit verify``).

Storage is whatever implements ``AuditSink`` (the app's store); this module only chains and
checks. No secret ever goes into an entry (callers pass order values, never keys).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol

from app.domain.audit import AuditEntry

GENESIS = "0" * 64


class AuditSink(Protocol):
    def append_audit(self, entry: AuditEntry) -> None: ...

    def last_audit(self) -> AuditEntry | None: ...


def jsonable(value: Any) -> Any:
    """Details as plain JSON: decimals as their exact text, enums as their codes."""
    if value is None or type(value) in (str, int, bool, float):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 over the previous hash and every field of the entry but its number."""
    return _hash(entry.prev_hash, entry.ts_ms, entry.venue, entry.mode, entry.action, entry.details_json)


def _hash(prev: str, ts_ms: int, venue: str, mode: str, action: str, details_json: str) -> str:
    # Unit separators between the fields: JSON escapes control characters, and the other fields
    # are the app's own codes and names.
    text = "\x1f".join((prev, str(ts_ms), venue, mode, action, details_json))
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    """What JSON cannot write by itself: decimals as their exact text, other enums by code."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} in an audit entry")


def canonical(details: dict[str, Any]) -> str:
    """The details as compact JSON, in the order given (the stored text is what is hashed; string
    enums are written as their codes)."""
    return json.dumps(details, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_plain)


class AuditLog:
    """Appends chained entries to a sink. One writer (the engine's thread), like the store."""

    def __init__(self, sink: AuditSink, now_ms: Callable[[], int], mode: str) -> None:
        self.sink = sink
        self.now_ms = now_ms
        self.mode = mode
        last = sink.last_audit()
        self._last_hash = last.hash if last is not None else GENESIS

    def record(self, action: str, venue: str = "", **details: Any) -> AuditEntry:
        ts, text, prev = self.now_ms(), canonical(details), self._last_hash
        entry = AuditEntry(ts, venue, self.mode, action, text, prev, _hash(prev, ts, venue, self.mode, action, text))
        self.sink.append_audit(entry)
        self._last_hash = entry.hash
        return entry

    def resync(self) -> None:
        """Take the chain's end from the sink again (after a rolled-back transaction)."""
        last = self.sink.last_audit()
        self._last_hash = last.hash if last is not None else GENESIS


def verify(entries: Iterable[AuditEntry]) -> AuditEntry | None:
    """The first entry whose hash or link is wrong (None: the chain is whole)."""
    prev = GENESIS
    for e in entries:
        if e.prev_hash != prev or entry_hash(e) != e.hash:
            return e
        prev = e.hash
    return None
