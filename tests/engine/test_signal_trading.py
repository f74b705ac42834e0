"""Auto-trading on the paper venue: the shipped model's forecasts on real candles become bracket
orders through the order manager (the risk engine checks each), the decisions are the ones the
backtester's strategy makes on the same bars, the kill switch stops it, and its state survives a
restart; live needs arming."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from helpers import Rig

from app.domain.enums import OrderListKind, TradingState
from app.domain.market import Bar
from app.domain.signal import Signal
from app.engine.events import OrderDenied
from app.engine.risk import RiskLimits
from app.engine.signal_service import SignalService
from app.engine.strategy_runner import RunnerConfig, StrategyError, StrategyRunner
from app.signals.candles import Candles, load_file
from app.signals.registry import load_model
from app.signals.strategies import OnnxSignal

D = Decimal
CANDLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "candles" / "binance"
CONFIG = RunnerConfig(params={"hold": 6, "stop_loss": 0.05, "take_profit": 0.06}, fraction=D("0.1"))


def real(n: int) -> Candles:
    path = CANDLES / "1h" / "BTC_USDT-1h.csv.gz"
    if not path.exists():
        pytest.skip("the shared candles are not here")
    c = load_file(path, gaps_from=CANDLES)
    return c.slice(len(c) - n, len(c))


def bar(c: Candles, i: int) -> Bar:
    vals = (c.open[i], c.high[i], c.low[i], c.close[i], c.volume[i])
    return Bar("sim", c.symbol, "1h", int(c.open_ms[i]), *(D(repr(float(x))) for x in vals))


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    yield r
    r.close()


class History:
    """The venue's history as a runner warms up from it: the bars the test has replayed."""

    name = "sim"

    def __init__(self) -> None:
        self.bars: list[Bar] = []

    async def fetch_bars(self, symbol: str, timeframe: str, since_ms: int | None, limit: int) -> list[Bar]:
        return self.bars[-limit:]


async def runner_on(rig: Rig, model, mode: str = "paper") -> tuple[StrategyRunner, SignalService]:
    await rig.start()
    svc = SignalService(rig.bus, [model])
    svc.start()
    rig.history = History()  # type: ignore[attr-defined]
    runner = StrategyRunner(rig.bus, rig.om, rig.store, "sim", mode=mode, signals=svc, market=rig.history)
    return runner, svc


async def replay(rig: Rig, runner: StrategyRunner, c: Candles, lo: int, hi: int) -> None:
    """Each bar as the app lives it: the market trades at its close, then the bar closes."""
    for i in range(lo, hi):
        px = f"{c.close[i]:.2f}"
        rig.book(px)
        rig.trade(px)
        b = bar(c, i)
        rig.history.bars.append(b)  # type: ignore[attr-defined]
        rig.bus.publish(b)
        await runner.drain()
        await rig.settle()


async def test_forecasts_become_bracket_orders_with_the_backtesters_decisions(rig, model):
    c = real(420)
    runner, svc = await runner_on(rig, model)
    got: list[Signal] = []
    rig.bus.subscribe(Signal, got.append)
    runner.configure(CONFIG)
    await replay(rig, runner, c, 0, 170)  # the model's window fills (not trading yet)
    await runner.start()
    await replay(rig, runner, c, 170, len(c))
    # The decisions: at start, the side the plan holds at the newest closed bar (warmed up from
    # the venue's history); then each event of the plan, as the backtester's strategy computes
    # them over the same bars and the same published forecasts.
    p = np.full(len(c), np.nan)
    index = {int(t): i for i, t in enumerate(c.open_ms)}
    for s in got:
        p[index[s.bar_open_ms]] = float(s.probability)
    plan = OnnxSignal(hold=6, stop_loss=0.05, take_profit=0.06).compute(c, p)
    first = 169
    want = [(int(c.open_ms[first]), int(plan.values["long"][first]))]
    want += [(int(c.open_ms[t]), int(plan.values["long"][t])) for t in range(first + 1, len(c)) if plan.events[t]]
    assert runner.decisions == want
    assert sum(d == 1 for _t, d in want) >= 3
    # Every order is the runner's, placed through the order manager: brackets (entry + exits).
    orders = rig.store.load_orders(limit=10_000)
    assert orders and all(o.tag == "auto" for o in orders)
    lists = {o.list_id for o in orders if o.list_id}
    assert len(lists) == sum(d == 1 for _t, d in want)
    assert all(rig.om.order_list(x).kind is OrderListKind.BRACKET for x in lists)
    # Its position is what its own fills left; the user's 2 BTC were never sold.
    fills = rig.store.load_fills(venue="sim", symbol="BTC/USDT")
    net = sum((f.quantity if f.side.value == "buy" else -f.quantity for f in fills), D(0))
    assert runner.position == max(net, D(0))
    assert rig.om.portfolio.balances["sim"]["BTC"] >= D("2") - D("0.001")
    await runner.close()
    await svc.stop()


async def test_the_risk_engine_checks_its_orders_and_the_kill_switch_stops_it(rig, model):
    c = real(200)
    runner, svc = await runner_on(rig, model)
    runner.configure(RunnerConfig(params={"hold": 200, "threshold": 0.01, "stop_loss": 0.05, "take_profit": 0.1}))
    await replay(rig, runner, c, 0, 170)
    rig.om.set_limits(RiskLimits(max_order_notional=D("100"), max_position_notional=D("10000000")))
    denied = rig.capture(OrderDenied)
    await runner.start()  # the plan is long (any forecast above 0.01): it tries to buy at once
    await runner.drain()
    assert runner.decisions and runner.decisions[0][1] == 1
    assert denied and rig.store.load_orders() == []  # refused by the risk engine: nothing placed
    await rig.om.kill_switch()
    await runner.drain()
    assert not runner.running and runner.reason == "kill switch"
    assert rig.om.risk.state is TradingState.HALTED
    with pytest.raises(StrategyError) as e:
        await runner.start()
    assert e.value.key == "strategy.halted"
    await runner.close()
    await svc.stop()


async def test_its_state_survives_a_restart_and_live_needs_arming(rig, model):
    runner, svc = await runner_on(rig, model, mode="live")
    runner.configure(CONFIG)
    with pytest.raises(StrategyError) as e:
        await runner.start()
    assert e.value.key == "strategy.not_armed" and not runner.running
    runner.arm_live()
    await runner.start()
    assert runner.running
    runner.position = D("0.5")
    runner._save()
    await runner.close()
    # Reopened: the same parameters, armed and running again, its position known.
    again = StrategyRunner(rig.bus, rig.om, rig.store, "sim", mode="live", signals=svc)
    assert again.config == CONFIG and again.armed and not again.running
    await again.restore()
    assert again.running and again.position == D("0.5")
    await again.stop()
    await again.close()
    third = StrategyRunner(rig.bus, rig.om, rig.store, "sim", mode="live", signals=svc)
    await third.restore()
    assert not third.running and third.reason == "stopped by user"
    # Paper never needs arming; nonsense parameters are refused in words, nothing stored.
    paper = StrategyRunner(rig.bus, rig.om, rig.store, "sim", mode="paper", signals=svc)
    assert not paper.needs_arming
    with pytest.raises(StrategyError) as e:
        paper.configure(RunnerConfig(params={"stop_loss": 0.0, "take_profit": 0.1}))
    assert e.value.key == "strategy.no_bracket"
    with pytest.raises(StrategyError):
        paper.configure(RunnerConfig(fraction=D("1.5")))
    assert StrategyRunner(rig.bus, rig.om, rig.store, "sim").config == CONFIG
    for r in (third, paper):
        await r.close()
    await svc.stop()


async def test_auto_trading_on_the_demo_market_acts_on_the_models_latest_forecast(tmp_path):
    from app.cli import build_demo_session

    session = build_demo_session(tmp_path, speed=0)
    await session.start()
    try:
        svc, auto = session.signals, session.auto
        assert svc is not None and auto is not None
        for _ in range(2400):
            if svc.latest:
                break
            await asyncio.sleep(0.05)
        auto.configure(RunnerConfig(params={"hold": 24, "threshold": 0.01, "stop_loss": 0.03, "take_profit": 0.06}))
        await auto.start()
        await auto.drain()
        assert auto.decisions[0][1] == 1  # every forecast is above 0.01: long at once
        for _ in range(400):
            if auto.position > 0:
                break
            await asyncio.sleep(0.05)
        assert auto.position > 0
        lists = [ol for ol in session.orders.order_lists() if ol.kind is OrderListKind.BRACKET]
        assert len(lists) == 1
    finally:
        await session.stop()
        session.store.close()
