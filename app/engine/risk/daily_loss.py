"""The daily loss limit: P&L since the UTC day started, over every holding that has a price.

The day's start is stored per holding (venue and asset): how much was held and what it was worth.
A holding with no price at the start gets its start value when its first price arrives (the
amount held at the start times that price), one bought during the day starts at zero. Holdings
that cannot be valued are left out on both sides and named (``RiskEngine.unvalued``), so the
limit keeps working on everything else — it is never switched off silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from app.domain.money import ZERO, fmt
from app.i18n import N_
from app.storage import Store

from ..activity import Activity
from ..bus import EventBus
from ..clock import Clock, day_start_ms
from ..events import RiskStateChanged
from ..portfolio import Portfolio
from .engine import RiskEngine


class DailyLoss:
    def __init__(
        self,
        risk: RiskEngine,
        portfolio: Portfolio,
        store: Store,
        clock: Clock,
        bus: EventBus,
        activity: Activity,
        venues: Callable[[], Iterable[str]],
    ) -> None:
        self.risk = risk
        self.portfolio = portfolio
        self.store = store
        self.clock = clock
        self.bus = bus
        self.activity = activity
        self.venues = venues
        self._day = 0
        self._amounts: dict[str, Decimal] = {}  # "venue:asset" -> held at the day's start
        self._values: dict[str, Decimal] = {}  # "venue:asset" -> worth at the day's start (once priced)

    def _holdings(self) -> dict[str, tuple[Decimal, Decimal | None]]:
        out: dict[str, tuple[Decimal, Decimal | None]] = {}
        for v in self.venues():
            for asset, amount in self.portfolio.balances.get(v, {}).items():
                if amount:
                    out[f"{v}:{asset}"] = (amount, self.portfolio.price_of(asset, v))
        return out

    def _load_day(self, day: int, now: dict[str, tuple[Decimal, Decimal | None]]) -> None:
        saved = self.store.get_setting(f"risk.day.{day}")
        if saved is not None:
            self._amounts = {k: Decimal(x) for k, x in saved["amounts"].items()}
            self._values = {k: Decimal(x) for k, x in saved["values"].items()}
        else:
            self._amounts = {k: amt for k, (amt, _px) in now.items()}
            self._values = {k: amt * px for k, (amt, px) in now.items() if px is not None}
            self._save(day)
        self._day = day
        self.risk.new_day(day, sum(self._values.values(), ZERO))

    def _save(self, day: int) -> None:
        self.store.set_setting(
            f"risk.day.{day}",
            {
                "amounts": {k: str(x) for k, x in self._amounts.items()},
                "values": {k: str(x) for k, x in self._values.items()},
            },
        )

    def check(self) -> None:
        """On a timer: today's P&L; at the limit, only orders that reduce holdings pass."""
        now = self._holdings()
        day = day_start_ms(self.clock.now_ms())
        if day != self._day:
            before = self.risk.state
            self._load_day(day, now)
            if self.risk.state is not before:  # a new day lifts the daily-loss restriction
                self.store.set_setting("risk.state", {"state": self.risk.state.value, "reason": "", "day": day})
                self.bus.publish(RiskStateChanged(self.risk.state, "new_day"))
        changed = False
        for key, (_amount, px) in now.items():
            if key not in self._values and px is not None:
                self._values[key] = self._amounts.get(key, ZERO) * px  # first price of a holding
                changed = True
        if changed:
            self._save(day)
        counted = {k for k, (_a, px) in now.items() if px is not None and k in self._values}
        equity = sum((a * px for k, (a, px) in now.items() if k in counted and px is not None), ZERO)
        start = sum((v for k, v in self._values.items() if k in counted or k not in now), ZERO)
        unvalued = tuple(sorted({k.split(":", 1)[1] for k, (_a, px) in now.items() if px is None}))
        if unvalued != self.risk.unvalued:
            fresh = [a for a in unvalued if a not in self.risk.unvalued]
            self.risk.unvalued = unvalued
            if fresh:
                self.activity.warning(
                    N_("Daily loss limit: {assets} cannot be valued (no price) and is not counted"),
                    assets=", ".join(fresh),
                )
        self.risk.day_start_equity = start
        if self.risk.update_daily_pnl(equity):
            self.store.set_setting("risk.state", {"state": self.risk.state.value, "reason": "daily_loss", "day": day})
            self.bus.publish(RiskStateChanged(self.risk.state, "daily_loss"))
            self.activity.warning(
                N_("Daily loss limit reached ({pnl}): only reducing orders pass"), pnl=fmt(self.risk.daily_pnl)
            )
