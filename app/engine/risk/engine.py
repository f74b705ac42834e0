"""The risk engine: every order passes ``check`` before it reaches a venue. It owns the trading
state (ACTIVE / REDUCING / HALTED), the throttles and today's counters, and the daily P&L the
loss limit watches. Refusals are ``Denial`` values with a message key, never exceptions."""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from app.domain.enums import TradingState
from app.domain.money import ZERO, fmt
from app.domain.order import OrderRequest

from .limits import Denial, OrderContext, RiskLimits
from .rules import SIZED, reduces, rules_for, state_rule


class RiskEngine:
    def __init__(self, limits: RiskLimits | None = None) -> None:
        self.limits = limits or RiskLimits()
        self.state = TradingState.ACTIVE
        self.state_reason = ""
        self._submits: deque[float] = deque()
        self._cancels: deque[float] = deque()
        self._day_submits = 0
        self._day_cancels = 0
        self._day = 0
        self._recent: deque[tuple[float, tuple[object, ...]]] = deque()
        self.day_start_equity: Decimal | None = None
        self.daily_pnl: Decimal = ZERO
        self.unvalued: tuple[str, ...] = ()  # assets held that the daily P&L cannot count (no price)

    @property
    def submits_today(self) -> int:
        return self._day_submits

    @property
    def cancels_today(self) -> int:
        return self._day_cancels

    # -- state ------------------------------------------------------------------------------------
    def set_state(self, state: TradingState, reason: str = "") -> bool:
        changed = state is not self.state or reason != self.state_reason
        self.state, self.state_reason = state, reason
        return changed

    def restore_day(self, day: int, submits: int, cancels: int) -> None:
        """Today's counters as the audit log recorded them (they survive a restart)."""
        self._day, self._day_submits, self._day_cancels = day, submits, cancels

    @property
    def day(self) -> int:
        return self._day

    def new_day(self, day: int, equity: Decimal | None) -> None:
        """A trading day starts (or the app starts within one) with this equity."""
        if day != self._day:
            self._day = day
            self._day_submits = self._day_cancels = 0
            if self.state is TradingState.REDUCING and self.state_reason == "daily_loss":
                self.state, self.state_reason = TradingState.ACTIVE, ""
        self.day_start_equity = equity

    def update_daily_pnl(self, equity: Decimal) -> bool:
        """Track P&L since the day started; True when the daily loss limit was just hit."""
        if self.day_start_equity is None:
            self.day_start_equity = equity
        self.daily_pnl = equity - self.day_start_equity
        limit = self.limits.daily_loss_limit
        if limit is not None and -self.daily_pnl >= limit and self.state is TradingState.ACTIVE:
            self.set_state(TradingState.REDUCING, "daily_loss")
            return True
        return False

    # -- checks -----------------------------------------------------------------------------------
    @staticmethod
    def reduces(req: OrderRequest, held: Decimal) -> bool:
        return reduces(req, held)

    def check(self, req: OrderRequest, ctx: OrderContext, now: float, *, count: bool = True) -> Denial | None:
        """The first rule the order breaks, or ``None``; ``count`` records it for the throttles."""
        lim = self.limits
        d = state_rule(self.state, self.state_reason, req, ctx)
        if d is not None:
            return d
        if req.origin in SIZED:  # new decisions and moves are throttled; a stop on its way never is
            d = self._throttle(
                now, self._submits, lim.submits_per_second, self._day_submits, lim.submits_per_day, "submit"
            )
            if d is None and req.origin.is_discretionary:
                d = self._duplicate(req, now)
            if d is not None:
                return d
        for rule in rules_for(req.origin):
            d = rule(req, ctx, lim)
            if d is not None:
                return d
        if count:
            self.record_submit(req, now)
        return None

    def _duplicate(self, req: OrderRequest, now: float) -> Denial | None:
        lim = self.limits
        if lim.duplicate_count is None:
            return None
        key = (req.venue, req.symbol, req.side, req.type, req.quantity, req.price, req.stop_price)
        while self._recent and now - self._recent[0][0] > lim.duplicate_window_s:
            self._recent.popleft()
        same = sum(1 for _, k in self._recent if k == key)
        if same >= lim.duplicate_count:
            return Denial(
                "risk.duplicate",
                "The same order was sent {n} times in {s} seconds; refused as a probable mistake",
                {"n": str(same), "s": fmt(Decimal(str(lim.duplicate_window_s)))},
            )
        return None

    def record_submit(self, req: OrderRequest, now: float) -> None:
        """Count an order that goes to a venue (every origin: exchanges count them all)."""
        self._submits.append(now)
        self._day_submits += 1
        if self.limits.duplicate_count is not None and req.origin.is_discretionary:
            key = (req.venue, req.symbol, req.side, req.type, req.quantity, req.price, req.stop_price)
            self._recent.append((now, key))

    def check_cancel(self, now: float, *, count: bool = True) -> Denial | None:
        lim = self.limits
        d = self._throttle(now, self._cancels, lim.cancels_per_second, self._day_cancels, lim.cancels_per_day, "cancel")
        if d is None and count:
            self.record_cancel(now)
        return d

    def record_cancel(self, now: float) -> None:
        self._cancels.append(now)
        self._day_cancels += 1

    @staticmethod
    def _throttle(
        now: float, window: deque[float], per_s: int | None, today: int, per_day: int | None, what: str
    ) -> Denial | None:
        while window and now - window[0] >= 1.0:
            window.popleft()
        if per_s is not None and len(window) >= per_s:
            return Denial(
                f"risk.{what}_rate", "Too many {what}s: at most {limit} per second", {"what": what, "limit": str(per_s)}
            )
        if per_day is not None and today >= per_day:
            return Denial(
                f"risk.{what}_daily", "Daily limit of {limit} {what}s reached", {"what": what, "limit": str(per_day)}
            )
        return None
