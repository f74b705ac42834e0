"""Crash-safe persistence of the paper exchange's own state: an append-only journal of JSON lines.

The paper venue plays the exchange. Like a real exchange it keeps its state (balances, resting
orders, trades) when our app dies, so that reconciliation after a restart is tested for real.
Every matching step writes one line with all of its changes in a single ``os.write`` (atomic with
respect to a killed process); replay applies the lines in order; a torn last line is ignored.
On open the journal is compacted into one snapshot line (written to a new file, then renamed).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class PaperJournal:
    def __init__(self, path: Path | str, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = None

    def replay(self) -> list[dict[str, Any]]:
        """All complete records, oldest first."""
        if not self.path.exists():
            return []
        records: list[dict[str, Any]] = []
        with self.path.open("rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break  # torn write at the moment of a crash: that step never happened
                try:
                    records.append(json.loads(raw))
                except json.JSONDecodeError:
                    break
        return records

    def rewrite(self, snapshot: dict[str, Any]) -> None:
        """Replace the journal with one snapshot record (atomic rename)."""
        self.close()
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            fh.write(json.dumps(snapshot, separators=(",", ":")).encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def append(self, record: dict[str, Any]) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(self._fd, json.dumps(record, separators=(",", ":")).encode() + b"\n")
        if self.fsync:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
