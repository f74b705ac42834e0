"""Signal alerts: a model's forecast becomes a notification through the app's alert path (toast,
tray, sound — the same ``Notification`` the price alerts send). Per model the user chooses to be
told when the direction changes and/or when the confidence reaches a level; the choice is stored
and survives a restart."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.domain.money import fmt
from app.domain.signal import Signal, SignalDirection
from app.i18n import N_
from app.storage import Store

from .alerts import Notification
from .bus import EventBus

SETTING = "signals.alerts"


@dataclass(frozen=True, slots=True)
class SignalAlertRule:
    model: str
    on_change: bool = True  # the direction differs from the model's previous forecast for that symbol
    min_confidence: Decimal | None = None  # |2p - 1| at least this (0..1)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "on_change": self.on_change,
            "min_confidence": None if self.min_confidence is None else str(self.min_confidence),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SignalAlertRule:
        mc = d.get("min_confidence")
        return cls(str(d["model"]), bool(d.get("on_change", True)), None if mc is None else Decimal(str(mc)))


class SignalAlerts:
    def __init__(self, bus: EventBus, store: Store) -> None:
        self.bus, self.store = bus, store
        self.rules: dict[str, SignalAlertRule] = {}
        for d in store.get_setting(SETTING) or []:
            try:
                r = SignalAlertRule.from_json(d)
            except (KeyError, ArithmeticError, TypeError, ValueError):
                continue
            self.rules[r.model] = r
        self._last: dict[tuple[str, str, str], SignalDirection] = {}
        self.fired = 0
        self._unsub = bus.subscribe(Signal, self.on_signal)

    def set_rule(self, model: str, *, on_change: bool, min_confidence: Decimal | None) -> SignalAlertRule | None:
        """Alerts for ``model`` (neither condition: none). A confidence outside (0, 1] is refused."""
        if min_confidence is not None and not Decimal(0) < min_confidence <= Decimal(1):
            raise ValueError("the confidence of a signal alert is above 0 and at most 1")
        rule = SignalAlertRule(model, on_change, min_confidence) if on_change or min_confidence else None
        if rule is None:
            self.rules.pop(model, None)
        else:
            self.rules[model] = rule
        self.store.set_setting(SETTING, [r.to_json() for r in self.rules.values()])
        return rule

    def close(self) -> None:
        self._unsub()

    def on_signal(self, s: Signal) -> None:
        key = (s.model, s.venue, s.symbol)
        prev = self._last.get(key)
        self._last[key] = s.direction
        rule = self.rules.get(s.model)
        if rule is None:
            return
        changed = rule.on_change and prev is not None and prev is not s.direction
        confident = rule.min_confidence is not None and s.confidence >= rule.min_confidence
        if not (changed or confident):
            return
        params = {
            "model": s.model,
            "symbol": s.symbol,
            "p": fmt(s.probability),
            "c": fmt((s.confidence * 100).quantize(Decimal("0.1"))),
        }
        if s.direction is SignalDirection.UP:
            template = N_("{model} on {symbol}: up (probability {p}, confidence {c}%)")
        else:
            template = N_("{model} on {symbol}: down (probability {p}, confidence {c}%)")
        self.fired += 1
        self.bus.publish(
            Notification("alert", N_("Signal alert"), template.format(**params), s.ts_ms, template, params)
        )
