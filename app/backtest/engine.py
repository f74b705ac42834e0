"""The event-driven backtester: a strategy's orders through the paper venue's ``MatchingCore``, its
ledger and fee model, on historical bars, working only on the bars where something can happen.

How a run goes:

1. The strategy's ``compute`` runs once over all bars (numpy): its values and its event bars.
2. The loop jumps from one bar that needs work to the next. A bar needs work when it is an event
   bar (the strategy runs at its close), when orders are waiting to be sent (they reach the market
   with the next bar's open, and are sized then), or when its range reaches a working order: the
   first such bar up to the next event bar is found by one vectorised search over the low/high
   arrays (a resting buy or a falling trigger at or above the low, a resting sell or a rising
   trigger at or below the high). Every other bar costs nothing: no Python call, no object.
3. A bar that needs work is replayed through the matching core by the paper venue's rule
   (``app.venues.paper.fees.bar_path``): open → low → high → close for a rising bar, open → high →
   low → close for a falling one, each price a book (``spread_ticks`` ticks either side, plus
   ``slippage``) and then a trade of a quarter of the bar's volume. Orders waiting to be sent arrive
   after the opening book. The replay stops early once nothing works any more.
4. Protective brackets: the take-profit is a limit order in the core, the stop-loss is watched
   here and released as a market order when a trade reaches it (as the engine's emulator does
   where a venue has no native OCO); one cancels the other.
5. Equity is recorded only where cash or position changed and spread over the bars in between with
   numpy (cash + position × close). Money (fills, trades, final equity) stays ``Decimal``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from decimal import ROUND_UP, Decimal
from typing import Any

import numpy as np

from app.domain.enums import OrderType, Side, TimeInForce
from app.domain.instrument import Instrument
from app.domain.market import Bar, BookLevel, BookSnapshot, Trade
from app.domain.money import ONE, ZERO, fmt
from app.signals.candles import Candles
from app.venues.paper import Expired, FeeModel, FillEvent, MatchEvent, MatchingCore, PaperOrder, Rejected

from . import metrics as M
from .account import MarginAccount, SpotAccount
from .strategy import YEAR_MS, FixedFraction, Plan, Sizing, Strategy, WholeUnits, realised_vol
from .trades import FillRecord, TradeBook, TradeRecord

UNLIMITED = Decimal("1e12")  # book quantity when depth is not modelled


@dataclass(frozen=True)
class BacktestConfig:
    """How the market and the account behave. The defaults are the paper venue's rules on a spot
    account; ``backtesting_py()`` is backtesting.py's broker."""

    cash: Decimal = Decimal(10_000)
    fee: Decimal = Decimal("0.001")  # maker and taker rate
    sizing: Sizing = field(default_factory=FixedFraction)
    account: str = "spot"  # "spot" (the paper ledger, no shorts) or "margin" (1x, shorts allowed)
    spread_ticks: int = 1  # half-spread of the book at each bar price, in ticks
    slippage: Decimal = ZERO  # a fraction of the price added to the half-spread
    depth: str = "bar"  # "bar": a quarter of the bar's volume at each price; "unlimited"
    tick_size: Decimal | None = None  # None: found from the prices
    lot_step: Decimal = Decimal("0.00000001")
    venue: str = "backtest"

    def __post_init__(self) -> None:
        if self.account not in ("spot", "margin"):
            raise ValueError(f"account is spot or margin, not {self.account!r}")
        if self.depth not in ("bar", "unlimited"):
            raise ValueError(f"depth is bar or unlimited, not {self.depth!r}")
        if self.cash <= 0:
            raise ValueError("cash must be positive")
        if self.spread_ticks < 0 or self.slippage < 0 or not ZERO <= self.fee < Decimal("0.1"):
            raise ValueError("spread, slippage and fee cannot be negative (fee below 10 %)")

    @classmethod
    def backtesting_py(cls, cash: Decimal = Decimal(10_000), fee: Decimal = ZERO) -> BacktestConfig:
        """backtesting.py's broker (``Backtest(..., commission=fee)``, spread 0, no
        ``trade_on_close``): market orders fill at the next bar's open exactly, in whole units of
        99.99 % of equity, shorts allowed, any size fills."""
        return cls(
            cash=cash, fee=fee, sizing=WholeUnits(), account="margin", spread_ticks=0, depth="unlimited", lot_step=ONE
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "cash": fmt(self.cash),
            "fee": fmt(self.fee),
            "sizing": repr(self.sizing),
            "account": self.account,
            "spread_ticks": self.spread_ticks,
            "slippage": fmt(self.slippage),
            "depth": self.depth,
            "tick_size": fmt(self.tick_size) if self.tick_size is not None else None,
            "lot_step": fmt(self.lot_step),
        }


def infer_tick(c: Candles, sample: int = 5000) -> Decimal:
    """The coarsest power of ten that every sampled price is a multiple of (1e-8 at the finest)."""
    step = max(1, len(c) // sample)
    x = np.concatenate([c.open[::step], c.high[::step], c.low[::step], c.close[::step]])
    for k in range(9):
        scaled = x * 10.0**k
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6 * np.maximum(1.0, np.abs(scaled)) * 1e-3):
            return Decimal(1).scaleb(-k)
    return Decimal("1e-8")


def instrument_for(c: Candles, config: BacktestConfig) -> Instrument:
    base, _, quote = c.symbol.partition("/")
    return Instrument(
        config.venue,
        c.symbol,
        base,
        quote or "QUOTE",
        config.tick_size or infer_tick(c),
        config.lot_step,
        maker_fee=config.fee,
        taker_fee=config.fee,
    )


def _dec(x: float) -> Decimal:
    """A price read from text as a float, back to the decimal it was written as."""
    return Decimal(repr(float(x)))


@dataclass
class _Target:
    direction: int
    stop_loss: Decimal | None
    take_profit: Decimal | None
    tag: str
    bar: int  # decided at this bar's close


@dataclass
class _Order:
    side: Side
    quantity: Decimal | None
    type: OrderType
    price: Decimal | None
    stop_price: Decimal | None
    tag: str
    bar: int


@dataclass
class _Stop:
    """A bracket's stop-loss watched here: released as a market order when a trade reaches it."""

    side: Side
    stop: Decimal
    quantity: Decimal
    partner: PaperOrder | None  # the take-profit leg it cancels
    tag: str


@dataclass(frozen=True)
class RunStats:
    bars: int
    event_bars: int  # bars at whose close the strategy ran
    visited_bars: int  # bars replayed through the matching core
    orders: int
    rejected: int


@dataclass
class BacktestResult:
    strategy: str
    params: dict[str, float | int]
    symbol: str
    timeframe: str
    config: BacktestConfig
    instrument: Instrument
    open_ms: np.ndarray
    close: np.ndarray
    equity: np.ndarray  # float, per bar at its close
    position: np.ndarray  # float, per bar at its close
    trades: list[TradeRecord]  # closed round trips, then the one still open (if any)
    fills: list[FillRecord]
    final_equity: Decimal
    metrics: M.Metrics
    stats: RunStats
    values: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def closed_trades(self) -> list[TradeRecord]:
        return [t for t in self.trades if not t.is_open]

    @property
    def drawdown(self) -> np.ndarray:
        return M.drawdown(self.equity)

    def to_json(self, series: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "strategy": self.strategy,
            "params": self.params,
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "config": self.config.to_json(),
            "instrument": {"tick_size": fmt(self.instrument.tick_size), "lot_step": fmt(self.instrument.lot_step)},
            "start_ms": int(self.open_ms[0]) if len(self.open_ms) else None,
            "end_ms": int(self.open_ms[-1]) if len(self.open_ms) else None,
            "initial_cash": fmt(self.config.cash),
            "final_equity": fmt(self.final_equity),
            "metrics": self.metrics.to_json(),
            "stats": {
                "bars": self.stats.bars,
                "event_bars": self.stats.event_bars,
                "visited_bars": self.stats.visited_bars,
                "orders": self.stats.orders,
                "rejected": self.stats.rejected,
            },
            "trades": [t.to_json() for t in self.trades],
        }
        if series:
            out["series"] = {
                "open_ms": self.open_ms.tolist(),
                "equity": self.equity.tolist(),
                "drawdown": self.drawdown.tolist(),
            }
        return out


class _Ctx:
    """The ``Context`` a strategy gets in a backtest."""

    def __init__(self, bt: Backtester) -> None:
        self._bt = bt
        self.i = 0

    @property
    def bar(self) -> Bar:
        return self._bt.bar(self.i)

    def value(self, name: str) -> float:
        return float(self._bt.plan.values[name][self.i])

    @property
    def position(self) -> Decimal:
        return self._bt.account.position

    @property
    def equity(self) -> Decimal:
        a = self._bt.account
        return a.cash + a.position * _dec(self._bt.close[self.i])

    @property
    def can_short(self) -> bool:
        return self._bt.account.can_short

    def target(
        self, direction: int, *, stop_loss: Decimal | None = None, take_profit: Decimal | None = None, tag: str = ""
    ) -> None:
        if direction not in (-1, 0, 1):
            raise ValueError(f"direction is -1, 0 or 1, not {direction}")
        self._bt.pending.append(_Target(direction, stop_loss, take_profit, tag, self.i))

    def order(
        self,
        side: Side,
        quantity: Decimal | None = None,
        *,
        type: OrderType = OrderType.MARKET,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        tag: str = "",
    ) -> None:
        self._bt.pending.append(_Order(side, quantity, type, price, stop_price, tag, self.i))

    def cancel_all(self) -> None:
        self._bt.pending.append(_Target(-2, None, None, "", self.i))  # -2: cancel only


class Backtester:
    """One run of one strategy on one instrument's bars (see the module doc)."""

    def __init__(
        self,
        strategy: Strategy,
        candles: Candles,
        config: BacktestConfig | None = None,
        *,
        forecasts: np.ndarray | None = None,
        plan: Plan | None = None,
        start: int = 0,
    ) -> None:
        self.strategy = strategy
        self.start = start  # bars before it only warm the strategy's values up: no trading, not reported
        self.candles = c = candles
        self.config = cfg = config or BacktestConfig()
        self.inst = inst = instrument_for(c, cfg)
        self.fees = FeeModel()
        self.account: SpotAccount | MarginAccount = (
            SpotAccount(inst, cfg.cash, self.fees)
            if cfg.account == "spot"
            else MarginAccount(inst, cfg.cash, self.fees)
        )
        self.core = MatchingCore(c.symbol, inst, account=self.account.core_account, fees=self.fees)
        self.open, self.high, self.low, self.close, self.volume = c.open, c.high, c.low, c.close, c.volume
        self.open_ms = c.open_ms
        self.plan = plan if plan is not None else strategy.compute(c, forecasts)
        if len(self.plan.events) != len(c):
            raise ValueError(f"{strategy.name}: a plan of {len(self.plan.events)} bars for {len(c)} bars")
        lookback = cfg.sizing.vol_lookback
        self.vol = realised_vol(c.close, lookback, YEAR_MS / c.tf_ms) if lookback else None
        self.pending: list[_Target | _Order] = []
        self.book = TradeBook()
        self.fills: list[FillRecord] = []
        self._watched: list[_Stop] = []
        self._brackets: dict[str, tuple[Decimal | None, Decimal | None]] = {}  # entry id → (stop, take profit)
        self._tp_stop: dict[str, _Stop] = {}  # take-profit id → its stop-loss
        self._tags: dict[str, str] = {}
        self._filled: dict[str, tuple[Decimal, Decimal]] = {}  # order id → (quantity, notional) of its fills
        self._ctx = _Ctx(self)
        self._seq = 0
        self._j = -1  # the bar being replayed
        self._half_ticks = inst.tick_size * cfg.spread_ticks
        self._orders = self._rejected = self._visited = self._calls = 0
        self._cp_bar: list[int] = [-1]
        self._cp_cash: list[float] = [float(cfg.cash)]
        self._cp_pos: list[float] = [0.0]
        self._last_money = (cfg.cash, ZERO)

    # -- bars as Decimal values ----------------------------------------------------------------------
    def bar(self, j: int) -> Bar:
        c = self.candles
        return Bar(
            self.config.venue,
            c.symbol,
            c.timeframe,
            int(self.open_ms[j]),
            _dec(self.open[j]),
            _dec(self.high[j]),
            _dec(self.low[j]),
            _dec(self.close[j]),
            _dec(self.volume[j]),
        )

    def _half(self, px: Decimal) -> Decimal:
        slip = self.config.slippage
        if not slip:
            return self._half_ticks
        tick = self.inst.tick_size
        return self._half_ticks + (px * slip / tick).to_integral_value(ROUND_UP) * tick

    # -- the run -----------------------------------------------------------------------------------
    def run(self) -> BacktestResult:
        n = len(self.candles)
        events = np.flatnonzero(self.plan.events)
        ptr, cur = int(np.searchsorted(events, self.start)), self.start - 1
        while True:
            nxt_event = int(events[ptr]) if ptr < len(events) else n
            if self.pending:
                nxt, visit = cur + 1, True
            elif self._watched or self.core.orders():
                hit = self._first_touch(cur + 1, min(nxt_event, n - 1))
                nxt, visit = (hit, True) if hit is not None else (nxt_event, False)
            else:
                nxt, visit = nxt_event, False
            if nxt >= n:
                break
            if visit:
                self._visit(nxt)
            if nxt == nxt_event:
                self._calls += 1
                self._ctx.i = nxt
                self.strategy.on_bar(self._ctx)
                ptr += 1
            cur = nxt
        return self._result()

    def _first_touch(self, lo: int, hi: int) -> int | None:
        """The first bar in [lo, hi] whose range reaches a working order or a watched stop."""
        if lo > hi:
            return None
        low_at, high_at = -math.inf, math.inf  # a bar with low <= low_at or high >= high_at may fill
        for o in self.core.orders():
            if o.type.has_trigger and not o.triggered:
                if (o.side is Side.BUY) == o.type.is_stop:
                    high_at = min(high_at, float(o.stop_price))  # type: ignore[arg-type]
                else:
                    low_at = max(low_at, float(o.stop_price))  # type: ignore[arg-type]
            elif o.price is not None:
                if o.side is Side.BUY:
                    low_at = max(low_at, float(o.price))
                else:
                    high_at = min(high_at, float(o.price))
        for s in self._watched:
            if s.side is Side.SELL:
                low_at = max(low_at, float(s.stop))
            else:
                high_at = min(high_at, float(s.stop))
        hit = (self.low[lo : hi + 1] <= low_at) | (self.high[lo : hi + 1] >= high_at)
        k = int(hit.argmax())
        return lo + k if hit[k] else None

    def _visit(self, j: int) -> None:
        """Replay bar ``j`` through the matching core (module doc, step 3)."""
        self._visited += 1
        self._j = j
        fo, fh, fl, fc = float(self.open[j]), float(self.high[j]), float(self.low[j]), float(self.close[j])
        path = (fo, fl, fh, fc) if fc >= fo else (fo, fh, fl, fc)  # float order is the decimals' order
        if self.config.depth == "unlimited":
            qty = UNLIMITED
        else:
            v = self.volume[j]
            qty = _dec(v) / 4 if v > 0 else ONE
        venue, symbol, ms, core = self.config.venue, self.candles.symbol, int(self.open_ms[j]), self.core
        prev = None
        slip = self.config.slippage
        half = self._half_ticks
        for k in range(4):
            px = Decimal(repr(path[k]))  # each price made Decimal only if the replay gets to it
            if slip:
                half = self._half(px)
            self._take(
                core.on_book(
                    BookSnapshot(venue, symbol, (BookLevel(px - half, qty),), (BookLevel(px + half, qty),), ms + k)
                )
            )
            if k == 0 and self.pending:
                self._send_pending(px, half)
            if not self._watched and not core.orders():
                break  # nothing works any more: the rest of the bar cannot change anything
            side = Side.BUY if prev is None or px >= prev else Side.SELL
            self._take(core.on_trade(Trade(venue, symbol, f"bar{ms}-{k}", px, qty, side, ms + k)))
            if self._watched:
                self._check_stops(px)
            prev = px
        self._mark(j)

    def _mark(self, j: int) -> None:
        money = (self.account.cash, self.account.position)
        if money != self._last_money:
            self._last_money = money
            self._cp_bar.append(j)
            self._cp_cash.append(float(money[0]))
            self._cp_pos.append(float(money[1]))

    # -- orders ------------------------------------------------------------------------------------
    def _send_pending(self, px: Decimal, half: Decimal) -> None:
        pending, self.pending = self.pending, []
        for intent in pending:
            if isinstance(intent, _Target):
                self._send_target(intent, px, half)
            else:
                qty = intent.quantity
                qty = self._size(intent.side, px, half, intent.bar) if qty is None else self.inst.round_qty(qty)
                if qty > 0:
                    self._submit(intent.side, qty, intent.type, intent.price, intent.stop_price, intent.tag)

    def _size(self, side: Side, px: Decimal, half: Decimal, bar: int) -> Decimal:
        a = self.account
        meets = px + half if side is Side.BUY else px - half
        vol = float(self.vol[bar]) if self.vol is not None else math.nan
        return self.config.sizing.quantity(a.cash + a.position * px, meets, self.inst, vol)

    def _send_target(self, t: _Target, px: Decimal, half: Decimal) -> None:
        a = self.account
        if t.direction == -2:
            self._cancel_all()
            return
        want = 0 if t.direction < 0 and not a.can_short else t.direction  # spot: short means flat
        pos = a.position
        have = (pos > 0) - (pos < 0)
        if have == want and want != 0:
            return  # already there: the position and its bracket stay
        self._cancel_all()
        if pos != 0 and have != want:
            self._submit(Side.SELL if pos > 0 else Side.BUY, abs(pos), OrderType.MARKET, None, None, t.tag)
        if want != 0 and a.position == 0:
            side = Side.BUY if want > 0 else Side.SELL
            qty = self._size(side, px, half, t.bar)
            if qty > 0:
                bracket = (t.stop_loss, t.take_profit) if (t.stop_loss or t.take_profit) else None
                self._submit(side, qty, OrderType.MARKET, None, None, t.tag, bracket)

    def _submit(
        self,
        side: Side,
        qty: Decimal,
        type: OrderType,
        price: Decimal | None,
        stop: Decimal | None,
        tag: str,
        bracket: tuple[Decimal | None, Decimal | None] | None = None,
    ) -> PaperOrder | None:
        core = self.core  # ``qty`` is a multiple of the lot step (sizing rounds; explicit orders are rounded)
        if qty <= 0:
            return None
        self._seq += 1
        oid = f"bt{self._seq}"
        o = PaperOrder(oid, oid, core.symbol, side, type, qty, price, stop, TimeInForce.GTC, False, core.now_ms)
        self._orders += 1

        def market_price() -> Decimal | None:  # what walking the book now would pay on average
            return core.walk_cost(o) / qty if core.levels(o) else None

        def best_price() -> Decimal | None:  # the best price on the other side of the book
            book = core.book
            return None if book is None else (book.best_ask if side is Side.BUY else book.best_bid)

        why = self.account.fund(o, market_price, best_price)
        if why is not None:
            self._rejected += 1
            return None
        self._tags[oid] = tag
        if bracket is not None:
            self._brackets[oid] = bracket
        self._take(core.submit(o))
        return o

    def _cancel_all(self) -> None:
        for o in self.core.orders():
            self.core.cancel(o)
        self._watched.clear()
        self._tp_stop.clear()

    def _take(self, events: list[MatchEvent]) -> None:
        for e in events:
            if isinstance(e, FillEvent):
                o = e.order
                oid = o.client_order_id
                j = self._j
                self.fills.append(
                    FillRecord(j, e.ts_ms, oid, o.side, e.quantity, e.price, e.fee, self._tags.get(oid, ""))
                )
                self.book.on_fill(o.side, e.quantity, e.price, e.fee, j, int(self.open_ms[j]))
                if oid in self._brackets:  # its exits are priced from its average fill
                    q, notional = self._filled.get(oid, (ZERO, ZERO))
                    self._filled[oid] = (q + e.quantity, notional + e.quantity * e.price)
                if e.done:
                    self._closed(o)
            elif isinstance(e, Expired) or isinstance(e, Rejected):  # noqa: SIM101 (cheaper than a union)
                self._closed(e.order)

    def _closed(self, o: PaperOrder) -> None:
        """An order ended: an entry places its bracket; a take-profit that filled retires its stop."""
        oid = o.client_order_id
        stop = self._tp_stop.pop(oid, None)
        if stop is not None and o.remaining == 0 and stop in self._watched:
            self._watched.remove(stop)
        bracket = self._brackets.pop(oid, None)
        if bracket is None or o.filled <= 0:
            return
        q, notional = self._filled[oid]
        entry = notional / q
        exit_side = o.side.opposite
        sign = 1 if o.side is Side.BUY else -1
        stop_loss, take_profit = bracket
        tp_order = None
        if take_profit:
            px = self.inst.round_price(entry * (1 + sign * take_profit))
            tp_order = self._submit(exit_side, o.filled, OrderType.LIMIT, px, None, self._tags.get(oid, ""))
        if stop_loss:
            px = self.inst.round_price(entry * (1 - sign * stop_loss))
            s = _Stop(
                exit_side,
                px,
                o.filled,
                tp_order if tp_order is not None and tp_order.status.is_open else None,
                self._tags.get(oid, ""),
            )
            self._watched.append(s)
            if s.partner is not None:
                self._tp_stop[s.partner.client_order_id] = s

    def _check_stops(self, px: Decimal) -> None:
        for s in list(self._watched):
            if (px <= s.stop) if s.side is Side.SELL else (px >= s.stop):
                self._watched.remove(s)
                qty = s.quantity
                if s.partner is not None:
                    self._tp_stop.pop(s.partner.client_order_id, None)
                    qty -= s.partner.filled
                    if s.partner.status.is_open:
                        self.core.cancel(s.partner)
                qty = min(qty, abs(self.account.position))
                if qty > 0:
                    self._submit(s.side, qty, OrderType.MARKET, None, None, s.tag)

    # -- the result --------------------------------------------------------------------------------
    def _result(self) -> BacktestResult:
        full = self.candles
        s = self.start
        c = full.slice(s, len(full))
        n = len(c)
        seg = np.searchsorted(np.asarray(self._cp_bar), np.arange(s, s + n), side="right") - 1
        cash = np.asarray(self._cp_cash)[seg]
        pos = np.asarray(self._cp_pos)[seg]
        equity = cash + pos * c.close
        a = self.account
        last = _dec(c.close[-1]) if n else ZERO
        final = a.cash + a.position * last
        trades = list(self.book.closed)
        still = self.book.open_trade(last)
        if still is not None:
            trades.append(still)
        fills = self.fills
        if s:  # bar indices of the report count from its first bar
            trades = [
                replace(t, entry_bar=t.entry_bar - s, exit_bar=None if t.exit_bar is None else t.exit_bar - s)
                for t in trades
            ]
            fills = [f._replace(bar=f.bar - s) for f in fills]
        stats = RunStats(n, self._calls, self._visited, self._orders, self._rejected)
        metrics = M.compute(equity, c.open_ms, c.close, pos, trades, c.tf_ms, self.config.cash, final)
        return BacktestResult(
            self.strategy.name,
            dict(self.strategy.params),
            c.symbol,
            c.timeframe,
            self.config,
            self.inst,
            c.open_ms,
            c.close,
            equity,
            pos,
            trades,
            fills,
            final,
            metrics,
            stats,
            {k: np.asarray(v)[s:] for k, v in self.plan.values.items()},
        )


def run_backtest(
    strategy: Strategy,
    candles: Candles,
    config: BacktestConfig | None = None,
    *,
    forecasts: np.ndarray | None = None,
    start: int = 0,
) -> BacktestResult:
    """Run ``strategy`` on ``candles`` from bar ``start`` (the bars before it only warm its values
    up); a strategy with a ``model`` gets the model's ``forecasts`` (``forecasts_for``) unless given."""
    if strategy.model is not None and forecasts is None:
        forecasts = forecasts_for(candles, strategy.model)
    return Backtester(strategy, candles, config, forecasts=forecasts, start=start).run()


def forecasts_for(candles: Candles, model: str) -> np.ndarray:
    """The model's probability for every bar with a full feature window (NaN elsewhere), computed
    in batch: bit for bit the features the app computes bar by bar."""
    from app.signals.features import batch_features
    from app.signals.registry import load_model

    m = load_model(model)
    if m.contract.timeframe != candles.timeframe:
        raise ValueError(f"model {m.name} reads {m.contract.timeframe} bars, the candles are {candles.timeframe}")
    X, valid = batch_features(candles)
    p = np.full(len(candles), np.nan)
    if valid.any():
        p[valid] = m.predict_proba(X[valid])
    return p
