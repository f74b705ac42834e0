"""An entry of the audit log: one order action (submit, amend, cancel, kill switch, re-arm, a
risk limit or setting changed), with when, where, in which mode and its details."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """``hash`` covers every other field and ``prev_hash``, the hash of the entry before it, so
    an entry changed or removed later breaks the chain from there on (``app.security.audit``).
    The details are kept as the very JSON text that was hashed. ``seq`` is given by the store
    (0 until stored)."""

    ts_ms: int
    venue: str
    mode: str  # demo | paper | live
    action: str  # stable code: order.submit, order.cancel, kill_switch, risk.limits …
    details_json: str = "{}"
    prev_hash: str = ""
    hash: str = ""
    seq: int = 0

    @property
    def details(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.details_json)
        return value
