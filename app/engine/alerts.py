"""Alerts: price-cross and percent-move alerts on live trades, and notifications for fills and
rejections. Alerts are stored, so they survive a restart; a fired one-shot alert stays listed
as fired."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from app.domain.enums import OrderStatus
from app.domain.market import Trade
from app.domain.money import fmt
from app.i18n import N_
from app.storage import Store

from .bus import EventBus
from .clock import Clock
from .events import FillReceived, OrderDenied, OrderUpdated, translated

SETTING = "alerts"


class AlertKind(StrEnum):
    CROSS_ABOVE = "cross_above"
    CROSS_BELOW = "cross_below"
    PCT_MOVE = "pct_move"  # |change| over the window reaches pct


@dataclass(frozen=True, slots=True)
class Alert:
    alert_id: str
    symbol: str
    kind: AlertKind
    price: Decimal | None = None
    pct: Decimal | None = None
    window_s: int = 300
    note: str = ""
    repeat: bool = False
    active: bool = True
    created_ms: int = 0
    fired_ms: int | None = None

    def describe(self) -> str:
        if self.kind is AlertKind.CROSS_ABOVE:
            return f"{self.symbol} crosses above {fmt(self.price or Decimal(0))}"
        if self.kind is AlertKind.CROSS_BELOW:
            return f"{self.symbol} crosses below {fmt(self.price or Decimal(0))}"
        return f"{self.symbol} moves {fmt(self.pct or Decimal(0))}% within {self.window_s // 60} min"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.alert_id,
            "symbol": self.symbol,
            "kind": self.kind.value,
            "price": None if self.price is None else str(self.price),
            "pct": None if self.pct is None else str(self.pct),
            "window_s": self.window_s,
            "note": self.note,
            "repeat": self.repeat,
            "active": self.active,
            "created_ms": self.created_ms,
            "fired_ms": self.fired_ms,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Alert:
        return cls(
            d["id"],
            d["symbol"],
            AlertKind(d["kind"]),
            None if d["price"] is None else Decimal(d["price"]),
            None if d["pct"] is None else Decimal(d["pct"]),
            d["window_s"],
            d.get("note", ""),
            d["repeat"],
            d["active"],
            d["created_ms"],
            d.get("fired_ms"),
        )


@dataclass(frozen=True, slots=True)
class Notification:
    """Something the user should notice now: in-app toast, tray message, sound."""

    kind: str  # "alert" | "fill" | "rejection"
    title: str
    message: str  # in English
    ts_ms: int
    template: str = ""  # for translation: _(template).format(**params)
    params: dict[str, str] = field(default_factory=dict)

    def text(self, translate: Callable[[str], str]) -> str:
        return translated(self.message, self.template, self.params, translate)


@dataclass(frozen=True, slots=True)
class AlertsChanged:
    alerts: tuple[Alert, ...]


class AlertService:
    def __init__(self, bus: EventBus, store: Store, clock: Clock | None = None) -> None:
        self.bus = bus
        self.store = store
        self.clock = clock or Clock()
        self.alerts: dict[str, Alert] = {a["id"]: Alert.from_json(a) for a in (store.get_setting(SETTING) or [])}
        self._last: dict[str, Decimal] = {}
        self._window: dict[str, deque[tuple[int, Decimal]]] = {}
        self._ids = itertools.count(1)
        bus.subscribe(Trade, self.on_trade)
        bus.subscribe(FillReceived, self._on_fill)
        bus.subscribe(OrderDenied, self._on_denied)
        bus.subscribe(OrderUpdated, self._on_order)

    # -- management ---------------------------------------------------------------------------
    def add(
        self,
        symbol: str,
        kind: AlertKind,
        *,
        price: Decimal | None = None,
        pct: Decimal | None = None,
        window_s: int = 300,
        note: str = "",
        repeat: bool = False,
    ) -> Alert:
        if kind in (AlertKind.CROSS_ABOVE, AlertKind.CROSS_BELOW) and (price is None or price <= 0):
            raise ValueError("a price alert needs a price above zero")
        if kind is AlertKind.PCT_MOVE and (pct is None or pct <= 0):
            raise ValueError("a move alert needs a percentage above zero")
        now = self.clock.now_ms()
        alert = Alert(f"al{now}-{next(self._ids)}", symbol, kind, price, pct, window_s, note, repeat, True, now)
        self.alerts[alert.alert_id] = alert
        self._save()
        return alert

    def remove(self, alert_id: str) -> None:
        if self.alerts.pop(alert_id, None) is not None:
            self._save()

    def _save(self) -> None:
        self.store.set_setting(SETTING, [a.to_json() for a in self.alerts.values()])
        self.bus.publish(AlertsChanged(tuple(self.alerts.values())))

    # -- evaluation -----------------------------------------------------------------------------
    def on_trade(self, t: Trade) -> None:
        prev = self._last.get(t.symbol)
        self._last[t.symbol] = t.price
        if not self.alerts:
            return
        window = self._window.get(t.symbol)
        fired: list[tuple[Alert, str, dict[str, str]]] = []
        for a in self.alerts.values():
            if not a.active or a.symbol != t.symbol:
                continue
            if a.kind is AlertKind.CROSS_ABOVE and prev is not None and a.price is not None:
                if prev < a.price <= t.price:
                    fired.append(
                        (
                            a,
                            N_("{symbol} crossed above {price} (last {last})"),
                            {"symbol": t.symbol, "price": fmt(a.price), "last": fmt(t.price)},
                        )
                    )
            elif a.kind is AlertKind.CROSS_BELOW and prev is not None and a.price is not None:
                if prev > a.price >= t.price:
                    fired.append(
                        (
                            a,
                            N_("{symbol} crossed below {price} (last {last})"),
                            {"symbol": t.symbol, "price": fmt(a.price), "last": fmt(t.price)},
                        )
                    )
            elif a.kind is AlertKind.PCT_MOVE and a.pct is not None:
                if window is None:
                    window = self._window[t.symbol] = deque()
                while window and t.ts_ms - window[0][0] > a.window_s * 1000:
                    window.popleft()
                if window:
                    ref = window[0][1]
                    change = (t.price - ref) / ref * 100
                    if abs(change) >= a.pct:
                        fired.append(
                            (
                                a,
                                N_("{symbol} moved {pct}% in {m} min (last {last})"),
                                {
                                    "symbol": t.symbol,
                                    "pct": fmt(change.quantize(Decimal("0.01"))),
                                    "m": str(a.window_s // 60),
                                    "last": fmt(t.price),
                                },
                            )
                        )
                        window.clear()
        if window is not None:
            window.append((t.ts_ms, t.price))
        for a, template, params in fired:
            self._fire(a, template, params, t.ts_ms)

    def _fire(self, a: Alert, template: str, params: dict[str, str], ts_ms: int) -> None:
        self.alerts[a.alert_id] = replace(a, fired_ms=ts_ms, active=a.repeat)
        self._save()
        message = template.format(**params) + (f" — {a.note}" if a.note else "")
        self.bus.publish(Notification("alert", N_("Alert"), message, ts_ms, template, params))

    def _on_fill(self, e: FillReceived) -> None:
        f = e.fill
        template = (
            N_("Bought {qty} {symbol} at {price}") if f.side.value == "buy" else N_("Sold {qty} {symbol} at {price}")
        )
        params = {"qty": fmt(f.quantity), "symbol": f.symbol, "price": fmt(f.price)}
        title = N_("Order filled") if e.order.status is OrderStatus.FILLED else N_("Order partly filled")
        self.bus.publish(Notification("fill", title, template.format(**params), f.ts_ms, template, params))

    def _on_denied(self, e: OrderDenied) -> None:
        self.bus.publish(
            Notification("rejection", N_("Order refused"), e.message, self.clock.now_ms(), e.template, dict(e.params))
        )

    def _on_order(self, e: OrderUpdated) -> None:
        if e.order.status is OrderStatus.REJECTED:
            self.bus.publish(
                Notification(
                    "rejection",
                    N_("Order rejected by the exchange"),
                    e.order.reason or e.order.client_order_id,
                    self.clock.now_ms(),
                )
            )
