"""Headless commands: a paper session on the offline demo market, and account queries.

``python -m app demo --headless`` runs a paper session on the demo market and prints ticks,
orders and fills while it places one order of every type (OCO and bracket included).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import logging.handlers
import signal
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from app import exchange_cli
from app.backtest import cli as backtest_cli
from app.domain.enums import OrderType, Side, TimeInForce, TrailingMode
from app.domain.instrument import InstrumentId
from app.domain.market import Bar, BookSnapshot, Trade
from app.domain.money import fmt
from app.domain.order import OrderRequest
from app.domain.order_list import BracketRequest, OcoRequest
from app.engine.events import (
    ActivityLogged,
    FillReceived,
    OrderDenied,
    OrderListUpdated,
    OrderUpdated,
    ReconciliationDone,
)
from app.engine.session import TradingSession
from app.security import redaction
from app.signals import cli as signals_cli
from app.storage import Store, default_data_dir
from app.tax import cli as tax_cli
from app.venues.demo import DemoMarket
from app.venues.paper import PaperVenue

DEMO_BALANCES = {"USDT": Decimal("100000"), "BTC": Decimal("1"), "ETH": Decimal("10")}
DEMO_SYMBOLS = ("BTC/USDT", "ETH/USDT")
DEMO_VENUE = "demo"
DEMO_ORIGIN = "demo.origin_ms"  # when the demo market of this data folder first started


def build_demo_session(
    data_dir: Path,
    *,
    seed: int = 7,
    speed: float = 1.0,
    db_url: str | None = None,
    symbols: tuple[str, ...] = DEMO_SYMBOLS,
) -> TradingSession:
    """The demo account: a paper venue on the offline demo market, its state in ``data_dir``.
    The market resumes where it was: the 1m candles it showed are kept in the candles table, and
    the next start continues from them (same history, same candles, the last close)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(db_url or f"sqlite:///{data_dir / 'autogrowth.sqlite3'}")
    origin = store.get_setting(DEMO_ORIGIN)
    if origin is None:
        origin = int(time.time() * 1000)
        store.set_setting(DEMO_ORIGIN, origin)
    resume = {s: store.load_bars(DEMO_VENUE, s, "1m", start_ms=origin - origin % 60_000) for s in symbols}
    venue = PaperVenue(
        DemoMarket(seed=seed, speed=speed, origin_ms=origin, resume=resume),
        name=DEMO_VENUE,
        journal_path=data_dir / "paper-demo.journal",
        initial_balances=DEMO_BALANCES,
    )
    session = TradingSession(store, venue, symbols)
    session.enable_signals(data_dir / "models")
    session.bus.subscribe(Bar, _CandleRecorder(store))
    return session


class _CandleRecorder:
    """Keeps each closed 1m demo candle in the candles table (what the next start resumes from)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self, bar: Bar) -> None:
        if bar.closed and bar.timeframe == "1m" and bar.venue == DEMO_VENUE:
            try:
                self.store.upsert_bars([bar])
            except Exception:  # a closed store at shutdown: the candle is simply not kept
                logging.getLogger(__name__).warning(
                    "demo candle %s %s not stored", bar.symbol, bar.open_ms, exc_info=True
                )


def _ts(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%H:%M:%S")


class ConsolePrinter:
    """Prints what happens, in words, at a readable pace for market data."""

    def __init__(self, session: TradingSession, out: TextIO = sys.stdout, tick_every_ms: int = 2000) -> None:
        self.out = out
        self.tick_every_ms = tick_every_ms
        self._last_tick: dict[str, int] = {}
        self._books: dict[str, BookSnapshot] = {}
        bus = session.bus
        bus.subscribe(Trade, self.on_trade)
        bus.subscribe(BookSnapshot, self.on_book)
        bus.subscribe(OrderUpdated, self.on_order)
        bus.subscribe(FillReceived, self.on_fill)
        bus.subscribe(OrderDenied, self.on_denied)
        bus.subscribe(ActivityLogged, self.on_activity)
        bus.subscribe(ReconciliationDone, self.on_reconciled)
        bus.subscribe(OrderListUpdated, self.on_list)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def on_book(self, b: BookSnapshot) -> None:
        self._books[b.symbol] = b

    def on_trade(self, t: Trade) -> None:
        if t.ts_ms - self._last_tick.get(t.symbol, 0) < self.tick_every_ms:
            return
        self._last_tick[t.symbol] = t.ts_ms
        b = self._books.get(t.symbol)
        spread = f"  bid {fmt(b.best_bid)}  ask {fmt(b.best_ask)}" if b and b.best_bid and b.best_ask else ""
        self.say(f"[{_ts(t.ts_ms)}] TICK  {t.symbol:<9} last {fmt(t.price)}{spread}")

    def on_order(self, e: OrderUpdated) -> None:
        o = e.order
        extra = f" — {o.reason}" if o.reason and o.status.value in ("rejected", "expired", "cancelled") else ""
        self.say(
            f"[{_ts(o.updated_ms)}] ORDER {o.client_order_id} {o.side.value} {fmt(o.quantity)} {o.symbol} "
            f"{o.type.value}{' @ ' + fmt(o.price) if o.price else ''}"
            f"{' trigger ' + fmt(o.stop_price) if o.stop_price else ''} → {o.status.value}"
            f"{' (filled ' + fmt(o.filled_qty) + ')' if o.filled_qty else ''}{extra}"
        )

    def on_fill(self, e: FillReceived) -> None:
        f = e.fill
        self.say(
            f"[{_ts(f.ts_ms)}] FILL  {f.client_order_id} {f.side.value} {fmt(f.quantity)} {f.symbol} @ "
            f"{fmt(f.price)} fee {fmt(f.fee)} {f.fee_asset} ({f.liquidity.value})"
        )

    def on_denied(self, e: OrderDenied) -> None:
        self.say(f"REFUSED: {e.message}")

    def on_activity(self, e: ActivityLogged) -> None:
        if e.level != "info":
            self.say(f"{e.level.upper()}: {e.message}")

    def on_list(self, e: OrderListUpdated) -> None:
        ol = e.order_list
        legs = ", ".join(x for x in (ol.entry_id, ol.limit_id, ol.stop_id) if x)
        note = f" ({ol.note})" if ol.note else ""
        self.say(f"LIST  {ol.kind.value.upper()} {ol.list_id} {ol.symbol} → {ol.status.value}{note}; legs {legs}")

    def on_reconciled(self, e: ReconciliationDone) -> None:
        self.say(f"Reconciled {e.venue}: {len(e.changes)} change(s)")


async def _wait_for_prices(session: TradingSession, symbols: tuple[str, ...], timeout: float = 30.0) -> None:
    venue = session.venue
    for _ in range(int(timeout * 20)):
        market = session.orders.cache.market
        if all(session.orders.last_price(venue.name, s) for s in symbols) and all(
            market.book(InstrumentId(venue.name, s)) is not None for s in symbols
        ):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("no market data from the demo market")


async def place_showcase_orders(session: TradingSession, symbol: str = "BTC/USDT") -> None:
    """One order of every type, priced around the current market."""
    om = session.orders
    v = session.venue.name
    inst = om.instruments[(v, symbol)]
    last = om.last_price(v, symbol)
    assert last is not None

    def px(f: str) -> Decimal:
        return inst.round_price(last * Decimal(f))

    q = Decimal("0.01")
    R = OrderRequest
    await om.submit(R(v, symbol, Side.BUY, OrderType.MARKET, q, tag="demo"))
    await om.submit(R(v, symbol, Side.BUY, OrderType.LIMIT, q, price=px("0.999"), tag="demo"))
    await om.submit(R(v, symbol, Side.SELL, OrderType.LIMIT, q, price=px("1.001"), post_only=True, tag="demo"))
    await om.submit(R(v, symbol, Side.BUY, OrderType.LIMIT, q, price=px("1.0005"), tif=TimeInForce.IOC, tag="demo"))
    await om.submit(R(v, symbol, Side.SELL, OrderType.LIMIT, q, price=px("0.9995"), tif=TimeInForce.FOK, tag="demo"))
    await om.submit(R(v, symbol, Side.SELL, OrderType.STOP_MARKET, q, stop_price=px("0.998"), tag="demo"))
    await om.submit(
        R(v, symbol, Side.BUY, OrderType.STOP_LIMIT, q, price=px("1.0025"), stop_price=px("1.002"), tag="demo")
    )
    await om.submit(R(v, symbol, Side.SELL, OrderType.TAKE_PROFIT_MARKET, q, stop_price=px("1.002"), tag="demo"))
    await om.submit(
        R(v, symbol, Side.BUY, OrderType.TAKE_PROFIT_LIMIT, q, price=px("0.9985"), stop_price=px("0.998"), tag="demo")
    )
    await om.submit(
        R(
            v,
            symbol,
            Side.SELL,
            OrderType.TRAILING_STOP,
            q,
            trail_mode=TrailingMode.PERCENT,
            trail_value=Decimal("0.2"),
            tag="demo",
        )
    )
    await om.submit_oco(
        OcoRequest(v, symbol, Side.SELL, q, limit_price=px("1.0015"), stop_price=px("0.9985"), tag="demo")
    )
    await om.submit_bracket(
        BracketRequest(
            v, symbol, Side.BUY, q, OrderType.MARKET, None, take_profit=px("1.0015"), stop_loss=px("0.9985"), tag="demo"
        )
    )
    # And one the exchange would refuse, to show the message a user gets.
    await om.submit(R(v, symbol, Side.BUY, OrderType.LIMIT, Decimal("0.00001"), price=px("0.99"), tag="demo"))


async def run_demo(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    session = build_demo_session(data_dir, seed=args.seed, speed=args.speed, db_url=args.db)
    printer = ConsolePrinter(session)
    printer.say(f"AutoGrowth Trader — DEMO market (offline), data in {data_dir}")
    rec = await session.start()
    for change in rec.changes:
        printer.say(f"  after restart: {change}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await _wait_for_prices(session, DEMO_SYMBOLS)
        if not args.no_orders:
            await place_showcase_orders(session)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=args.duration if args.duration > 0 else None)
    finally:
        _print_summary(session, printer)
        await session.stop()
        session.store.close()
    return 0


def _print_summary(session: TradingSession, printer: ConsolePrinter) -> None:
    pf = session.portfolio
    v = session.venue.name
    printer.say("— Summary —")
    for p in pf.positions(v):
        printer.say(
            f"  {p.symbol}: position {fmt(p.quantity)} avg cost {fmt(p.avg_cost.quantize(Decimal('0.01')))} "
            f"realized {fmt(p.realized_pnl.quantize(Decimal('0.01')))} "
            f"unrealized {fmt(p.unrealized_pnl.quantize(Decimal('0.01')))}"
        )
    printer.say(
        f"  open orders: {len(session.orders.open_orders())}; equity {fmt(pf.equity(v).quantize(Decimal('0.01')))} USDT"
    )


def run_audit(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """``audit verify``: 0 when the chain is whole, 1 naming the first broken entry."""
    from app.security.audit import verify

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    store = Store.open(args.db or f"sqlite:///{data_dir / 'autogrowth.sqlite3'}")
    try:
        entries = store.load_audit()
        if args.action == "show":
            for e in entries[-args.last :]:
                print(
                    f"{e.seq:>7} {datetime.fromtimestamp(e.ts_ms / 1000, tz=UTC):%Y-%m-%d %H:%M:%S} "
                    f"{e.mode:<5} {e.venue or '-':<10} {e.action:<14} {e.details}",
                    file=out,
                )
            return 0
        broken = verify(entries)
        if broken is None:
            print(f"audit log OK: {len(entries)} entries, chain intact", file=out)
            return 0
        print(
            f"audit log BROKEN at entry {broken.seq} ({broken.action} at "
            f"{datetime.fromtimestamp(broken.ts_ms / 1000, tz=UTC):%Y-%m-%d %H:%M:%S} UTC): it was changed, or an "
            f"entry before it was removed or inserted",
            file=out,
        )
        return 1
    finally:
        store.close()


def setup_logging(data_dir: Path) -> Path:
    """The full log goes to a file in the data folder; the console shows only errors."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "autogrowth.log"
    file = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    console = logging.StreamHandler()
    console.setLevel(logging.ERROR)
    redaction.install(file, console)  # no API key, secret or signature in a log line
    logging.basicConfig(level=logging.INFO, handlers=[file, console], force=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autogrowth", description="AutoGrowth Trader")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="paper trading on the offline demo market")
    demo.add_argument("--headless", action="store_true", help="no window: print to the console")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--speed", type=float, default=5.0, help="market time per real second")
    demo.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: run on)")
    demo.add_argument("--no-orders", action="store_true", help="do not place the showcase orders")
    demo.add_argument("--data-dir", default=None)
    demo.add_argument("--db", default=None, help="database URL (default: SQLite in the data folder)")
    audit = sub.add_parser("audit", help="the audit log of every order action")
    audit.add_argument("action", choices=["verify", "show"], help="verify: check the hash chain; show: print it")
    audit.add_argument("--data-dir", default=None)
    audit.add_argument("--db", default=None, help="database URL (default: SQLite in the data folder)")
    audit.add_argument("--last", type=int, default=50, help="show: how many of the newest entries")
    signals_cli.add_parser(sub)
    backtest_cli.add_parser(sub)
    tax_cli.add_parser(sub)
    exchange_cli.add_parsers(sub)
    args = parser.parse_args(argv)
    if args.command == "signals":
        return signals_cli.run(args)
    if args.command == "backtest":
        return backtest_cli.run(args)
    if args.command == "tax":
        return tax_cli.run(args)
    if args.command in exchange_cli.COMMANDS:
        return exchange_cli.run(args)
    if args.command == "audit":
        return run_audit(args)
    if args.command in (None, "demo"):
        if args.command is None:
            args = demo.parse_args(["--headless"])
        setup_logging(Path(args.data_dir) if args.data_dir else default_data_dir())
        return asyncio.run(run_demo(args))
    parser.print_help()
    return 2
