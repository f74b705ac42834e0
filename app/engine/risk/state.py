"""The trading state and the limits, kept across restarts: ACTIVE / REDUCING / HALTED with its
reason, the limits the user set, and today's submit and cancel counts (from the audit log)."""

from __future__ import annotations

from typing import Any

from app.domain.enums import TradingState

from ..clock import day_start_ms
from ..events import RiskStateChanged
from ..execution.core import Core
from .limits import RiskLimits

STATE = "risk.state"
LIMITS = "risk.limits"


def load_limits(store: Any) -> RiskLimits:
    data = store.get_setting(LIMITS)
    return RiskLimits.from_json(data) if data else RiskLimits()


class RiskState:
    def __init__(self, core: Core) -> None:
        self.core = core

    def set(self, state: TradingState, reason: str) -> None:
        c = self.core
        if c.risk.set_state(state, reason):
            day = day_start_ms(c.clock.now_ms())
            c.store.set_setting(STATE, {"state": state.value, "reason": reason, "day": day})
            c.bus.publish(RiskStateChanged(state, reason))

    def restore(self) -> None:
        c = self.core
        saved = c.store.get_setting(STATE)
        day = day_start_ms(c.clock.now_ms())
        if saved:
            state, reason = TradingState(saved["state"]), saved.get("reason", "")
            if state is TradingState.REDUCING and reason == "daily_loss" and saved.get("day", day) != day:
                # The daily loss limit holds for the day it was reached; the app starts on a later one.
                c.risk.set_state(TradingState.ACTIVE, "")
                c.store.set_setting(STATE, {"state": TradingState.ACTIVE.value, "reason": "", "day": day})
            else:
                c.risk.set_state(state, reason)
        counts = c.store.count_audit(day)
        c.risk.restore_day(
            day, counts.get("order.submit", 0) + counts.get("order.release", 0), counts.get("order.cancel", 0)
        )

    def set_limits(self, limits: RiskLimits) -> None:
        c = self.core
        c.risk.limits = limits
        c.store.set_setting(LIMITS, limits.to_json())
        c.audit.record("risk.limits", "", **limits.to_json())
