"""Crash-safe persistence of the paper exchange's own state: an append-only journal of JSON lines,
and the JSON codecs of its orders and fills.

The paper venue plays the exchange. Like a real exchange it keeps its state (balances, resting
orders, trades) when our app dies, so that reconciliation after a restart is tested for real.
Every matching step writes one line with all of its changes in a single ``os.write`` (atomic with
respect to a killed process); replay applies the lines in order; a torn last line is ignored.
On open the journal is compacted into one snapshot line (written to a new file, then renamed).

A line is ``{"seq": n, "o": [order, ...], "b": {asset: [free, locked]}, "f": [fill, ...]}`` with
any of ``o``/``b``/``f`` left out when empty; the short keys below are the stored format, which
journals written by earlier versions share: change them only with a reader for the old ones.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.domain.enums import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from app.domain.order import Fill

from .order import PaperOrder


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


def order_to_json(o: PaperOrder) -> dict[str, Any]:
    return {
        "c": o.client_order_id,
        "v": o.venue_order_id,
        "s": o.symbol,
        "sd": o.side.value,
        "t": o.type.value,
        "q": str(o.quantity),
        "p": None if o.price is None else str(o.price),
        "sp": None if o.stop_price is None else str(o.stop_price),
        "tif": o.tif.value,
        "po": o.post_only,
        "ts": o.created_ms,
        "f": str(o.filled),
        "st": o.status.value,
        "tr": o.triggered,
        "qa": str(o.queue_ahead),
        "ra": o.reserve_asset,
        "r": str(o.reserved),
    }


def order_from_json(d: dict[str, Any]) -> PaperOrder:
    return PaperOrder(
        client_order_id=d["c"],
        venue_order_id=d["v"],
        symbol=d["s"],
        side=Side(d["sd"]),
        type=OrderType(d["t"]),
        quantity=Decimal(d["q"]),
        price=None if d["p"] is None else Decimal(d["p"]),
        stop_price=None if d["sp"] is None else Decimal(d["sp"]),
        tif=TimeInForce(d["tif"]),
        post_only=d["po"],
        created_ms=d["ts"],
        filled=Decimal(d["f"]),
        status=OrderStatus(d["st"]),
        triggered=d["tr"],
        queue_ahead=Decimal(d["qa"]),
        reserve_asset=d["ra"],
        reserved=Decimal(d["r"]),
    )


def fill_to_json(f: Fill) -> dict[str, Any]:
    return {
        "id": f.trade_id,
        "c": f.client_order_id,
        "v": f.venue_order_id,
        "s": f.symbol,
        "sd": f.side.value,
        "q": str(f.quantity),
        "p": str(f.price),
        "fee": str(f.fee),
        "fa": f.fee_asset,
        "l": f.liquidity.value,
        "ts": f.ts_ms,
    }


def fill_from_json(venue: str, d: dict[str, Any]) -> Fill:
    return Fill(
        trade_id=d["id"],
        client_order_id=d["c"],
        venue_order_id=d["v"],
        venue=venue,
        symbol=d["s"],
        side=Side(d["sd"]),
        quantity=Decimal(d["q"]),
        price=Decimal(d["p"]),
        fee=Decimal(d["fee"]),
        fee_asset=d["fa"],
        liquidity=LiquiditySide(d["l"]),
        ts_ms=d["ts"],
    )
