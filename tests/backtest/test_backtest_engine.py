"""The backtester's rules on hand-made bars: when and at what price orders fill, fees, the spot
account, brackets along the intra-bar path, and that only bars where something can happen cost work."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from backtest_data import HOUR, T0, bars, flat, real_or_skip

from app.backtest.engine import BacktestConfig, Backtester, infer_tick, instrument_for, run_backtest
from app.backtest.strategies import SmaCross, crossings, sma
from app.backtest.strategy import Context, FixedFraction, Plan, Strategy, VolatilityTarget, WholeUnits
from app.domain.enums import OrderType, Side, TimeInForce
from app.domain.instrument import Instrument
from app.domain.market import BookSnapshot
from app.signals.candles import Candles
from app.venues.paper import FillEvent, MatchingCore, PaperOrder, UnlimitedAccount, bar_path

D = Decimal
TICK = D("0.01")


class Scripted(Strategy):
    """Runs ``actions[i](ctx)`` at the close of bar i, and nowhere else."""

    name = "scripted"

    def __init__(self, actions: dict[int, Callable[[Context], None]]) -> None:
        self.actions = actions
        self.calls: list[int] = []
        super().__init__()

    @property
    def lookback(self) -> int:
        return 0

    def compute(self, bars: Candles, forecasts: np.ndarray | None = None) -> Plan:
        events = np.zeros(len(bars), dtype=bool)
        events[list(self.actions)] = True
        return Plan(events, {"i": np.arange(len(bars), dtype=np.float64)})

    def on_bar(self, ctx: Context) -> None:
        i = int(ctx.value("i"))
        self.calls.append(i)
        self.actions[i](ctx)


def paper(**kw: object) -> BacktestConfig:
    return BacktestConfig(cash=D(10_000), tick_size=TICK, **kw)  # type: ignore[arg-type]


def compat(**kw: object) -> BacktestConfig:
    return BacktestConfig.backtesting_py(D(10_000), D("0.001"))


def test_a_market_order_fills_at_the_next_bars_open_across_the_one_tick_book_with_the_taker_fee():
    c = bars([*flat(3), (101, 103, 100, 102), *flat(2)])
    s = Scripted({2: lambda ctx: ctx.target(1)})
    r = Backtester(s, c, paper()).run()
    (fill,) = r.fills
    assert fill.bar == 3 and fill.side is Side.BUY
    assert fill.price == D("101.01")  # the open plus one tick: the ask of the paper venue's bar book
    qty = ((D(10_000) - D("1e-6")) / (D("101.01") * D("1.001"))).quantize(D("1e-8"), ROUND_DOWN)
    assert fill.quantity == qty
    assert fill.fee == (qty * D("101.01") * D("0.001")).quantize(D("1e-8"), ROUND_HALF_UP)
    assert r.final_equity == D(10_000) - qty * D("101.01") - fill.fee + qty * D(100)
    assert isinstance(r.final_equity, Decimal) and isinstance(r.trades[0].pnl, Decimal)


def test_in_backtesting_py_mode_a_market_order_fills_at_the_open_in_whole_units():
    c = bars([*flat(3), (101, 103, 100, 102), *flat(2)])
    r = Backtester(Scripted({2: lambda ctx: ctx.target(1)}), c, compat()).run()
    (fill,) = r.fills
    assert fill.price == D(101) and fill.quantity == D(int(10_000 * (1 - 2**-52) // (101 + 101 * 0.001)))


def test_an_order_asked_for_at_the_last_bar_is_never_sent():
    c = bars(flat(4))
    r = Backtester(Scripted({3: lambda ctx: ctx.target(1)}), c, paper()).run()
    assert r.fills == [] and r.final_equity == D(10_000)


def test_a_resting_limit_costs_work_only_on_the_bar_that_reaches_it():
    rows = flat(300)
    rows[250] = (100, 101, 95.5, 100)
    c = bars(rows)
    s = Scripted({0: lambda ctx: ctx.order(Side.BUY, D(1), type=OrderType.LIMIT, price=D(96))})
    r = Backtester(s, c, paper()).run()
    assert r.stats.visited_bars == 2  # bar 1 (sent, rests) and bar 250 (its low trades through 96)
    assert s.calls == [0]
    (fill,) = r.fills
    assert (fill.bar, fill.price, fill.quantity) == (250, D(96), D(1))
    assert fill.fee == D("0.096")  # maker fee on 96


def test_a_spot_account_goes_flat_where_a_margin_account_goes_short():
    x = np.arange(400)
    close = 100 + 10 * np.sin(x / 15)
    c = bars([(p, p + 0.5, p - 0.5, p) for p in close])
    spot = run_backtest(SmaCross(fast=5, slow=20), c, paper())
    margin = run_backtest(SmaCross(fast=5, slow=20), c, paper(account="margin"))
    assert spot.trades and all(t.direction == 1 for t in spot.trades)
    assert (spot.position >= 0).all()
    assert {t.direction for t in margin.trades} == {1, -1}
    assert len(margin.trades) > len(spot.trades)


@pytest.mark.parametrize(
    ("bar", "exit_price", "which"),
    [
        ((100, 106, 94, 101), D(94), "stop"),  # rising bar: open → low → high → close, the low comes first
        ((100, 106, 94, 99), D(105), "take-profit"),  # falling bar: open → high → low → close
        ((93, 94, 90, 92), D(93), "stop"),  # opens below the stop: released at the open
    ],
)
def test_a_bracket_exits_where_the_bars_path_reaches_first(bar, exit_price, which):
    c = bars([*flat(3), bar, *flat(2)])
    s = Scripted({1: lambda ctx: ctx.target(1, stop_loss=D("0.05"), take_profit=D("0.05"))})
    r = Backtester(s, c, compat()).run()
    entry, exit_ = r.fills
    assert (entry.bar, entry.price) == (2, D(100))
    assert (exit_.bar, exit_.price, exit_.quantity) == (3, exit_price, entry.quantity)
    assert r.position[-1] == 0 and len(r.closed_trades) == 1
    assert r.stats.visited_bars == 2  # the entry's bar and the exit's: nothing works afterwards


def test_a_new_target_cancels_the_bracket_of_the_position_it_closes():
    c = bars([*flat(6), (100, 130, 70, 100), *flat(2)])
    s = Scripted(
        {1: lambda ctx: ctx.target(1, stop_loss=D("0.05"), take_profit=D("0.05")), 3: lambda ctx: ctx.target(0)}
    )
    r = Backtester(s, c, compat()).run()
    assert [(f.bar, f.side) for f in r.fills] == [(2, Side.BUY), (4, Side.SELL)]  # bar 6 touches nothing


def test_bars_are_replayed_by_the_paper_venues_rule():
    """Resting orders through the backtester fill as a bare matching core fed ``on_bar`` fills them."""
    rng = np.random.default_rng(5)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 60)))
    rows = []
    prev = 100.0
    for p in close:
        o, cl = round(prev, 2), round(float(p), 2)
        rows.append((o, round(max(o, cl) * 1.004, 2), round(min(o, cl) * 0.996, 2), cl))
        prev = p
    c = bars(rows, volume=3.0)
    orders = [
        (Side.BUY, OrderType.LIMIT, D("1.7"), D("97.13"), None),
        (Side.SELL, OrderType.LIMIT, D("0.9"), D("103.31"), None),
        (Side.SELL, OrderType.STOP_MARKET, D("0.5"), None, D("98.02")),
        (Side.BUY, OrderType.STOP_MARKET, D("0.4"), None, D("101.57")),
    ]
    cfg = paper(account="margin", lot_step=D("0.01"))

    def place(ctx: Context) -> None:
        for side, typ, q, px, stop in orders:
            ctx.order(side, q, type=typ, price=px, stop_price=stop)

    r = Backtester(Scripted({0: place}), c, cfg).run()
    # The same orders in a bare matching core fed ``bar_path``: they arrive after bar 1's opening book.
    inst = instrument_for(c, cfg)
    core = MatchingCore(c.symbol, inst, account=UnlimitedAccount())
    decimal_bars = Backtester(Scripted({}), c, cfg)
    expected = []

    def feed(j: int, events: list) -> None:  # type: ignore[type-arg]
        for ev in events:
            out = core.on_book(ev) if isinstance(ev, BookSnapshot) else core.on_trade(ev)
            expected.extend((j, e.order.side, e.quantity, e.price) for e in out if isinstance(e, FillEvent))

    first = list(bar_path(decimal_bars.bar(1), TICK))
    feed(1, first[:1])
    for k, (side, typ, q, px, stop) in enumerate(orders):
        core.submit(PaperOrder(f"o{k}", f"o{k}", c.symbol, side, typ, q, px, stop, TimeInForce.GTC, False, 0))
    feed(1, first[1:])
    for j in range(2, len(c)):
        feed(j, list(bar_path(decimal_bars.bar(j), TICK)))
    assert len(expected) >= 4
    assert [(f.bar, f.side, f.quantity, f.price) for f in r.fills] == expected


def test_on_real_bars_the_strategy_runs_only_at_crosses_and_only_their_next_bars_are_replayed():
    c = real_or_skip("BTC/USDT")
    c = c.slice(len(c) - 20_000, len(c))
    calls = []

    class Spy(SmaCross):
        def on_bar(self, ctx: Context) -> None:
            calls.append(ctx.bar.open_ms)
            super().on_bar(ctx)

    r = run_backtest(Spy(fast=10, slow=30), c, paper())
    up, down = crossings(sma(c.close, 10), sma(c.close, 30))
    crosses = np.flatnonzero(up | down)
    assert calls == [int(c.open_ms[i]) for i in crosses]
    assert r.stats.event_bars == len(crosses)
    assert r.stats.visited_bars <= len(crosses)  # the bar after each cross (none after the last bar)
    assert r.stats.visited_bars + r.stats.event_bars < len(c) / 5


def test_the_equity_series_marks_cash_and_position_at_each_close():
    c = real_or_skip("BTC/USDT")
    c = c.slice(len(c) - 3000, len(c))
    r = run_backtest(SmaCross(fast=10, slow=30), c, paper())
    assert r.equity[0] == 10_000.0
    assert float(r.final_equity) == pytest.approx(r.equity[-1], rel=1e-12)
    assert len(r.equity) == len(r.drawdown) == len(c)
    pnl = sum((t.pnl for t in r.trades), D(0))
    assert r.final_equity == D(10_000) + pnl  # every fee and every fill is in some trade


def test_trading_starts_at_start_with_the_values_warmed_up_before_it():
    c = real_or_skip("BTC/USDT")
    c = c.slice(len(c) - 3000, len(c))
    full = run_backtest(SmaCross(fast=10, slow=30), c, paper())
    later = run_backtest(SmaCross(fast=10, slow=30), c, paper(), start=1000)
    assert len(later.equity) == len(c) - 1000 and later.equity[0] == 10_000.0
    first_entry = next(t for t in full.trades if t.entry_bar >= 1001)
    assert later.trades[0].entry_ms == first_entry.entry_ms


def test_sizings():
    inst = Instrument("x", "BTC/USDT", "BTC", "USDT", TICK, D("0.001"))
    assert FixedFraction(D("0.5")).quantity(D(10_000), D(100), inst, float("nan")) == D("49.95")
    assert VolatilityTarget(0.5).quantity(D(10_000), D(100), inst, 1.0) == D("49.95")
    assert VolatilityTarget(0.5).quantity(D(10_000), D(100), inst, 0.25) == D("99.9")  # capped at all of it
    assert VolatilityTarget(0.5).quantity(D(10_000), D(100), inst, float("nan")) == 0
    assert WholeUnits().quantity(D(10_000), D(100), inst, float("nan")) == D(99)


def test_volatility_target_sizing_holds_less_in_a_wilder_market():
    rng = np.random.default_rng(2)

    def run(sd: float) -> Decimal:
        close = 100 * np.exp(np.cumsum(rng.normal(0, sd, 800)))
        c = bars([(p, p * 1.001, p * 0.999, p) for p in close])
        cfg = paper(sizing=VolatilityTarget(0.2, vol_lookback=100))
        r = Backtester(Scripted({700: lambda ctx: ctx.target(1)}), c, cfg).run()
        return r.fills[0].quantity * r.fills[0].price

    assert run(0.002) > 2 * run(0.01)


def test_tick_found_from_the_prices():
    assert infer_tick(bars([(4261.48, 4313.62, 4261.32, 4308.83)] * 3)) == D("0.01")
    assert infer_tick(bars([(0.2345, 0.2399, 0.2301, 0.2388)] * 3)) == D("0.0001")
    assert infer_tick(bars([(100, 101, 99, 100)] * 3)) == D(1)


def test_bar_times_in_trades_are_bar_open_times():
    c = bars([*flat(3), (101, 103, 100, 102), *flat(2)])
    r = Backtester(Scripted({2: lambda ctx: ctx.target(1), 4: lambda ctx: ctx.target(0)}), c, paper()).run()
    (t,) = r.closed_trades
    assert (t.entry_ms, t.exit_ms) == (T0 + 3 * HOUR, T0 + 5 * HOUR)
