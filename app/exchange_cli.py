"""Exchange commands: ``markets``, ``history`` (candles into the store, resumed, gaps reported) and
``paper`` (paper trading on an exchange's live market data). Each takes ``--venue`` (a ccxt
exchange id with a profile here) and ``--base-url`` (a loopback exchange instead of the real one).

An exchange that cannot be reached is one line (``cannot reach api.binance.com: no network``) and
exit code 3, never a traceback; other refusals of the exchange are exit code 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from app.domain.errors import AppError
from app.domain.market import TIMEFRAME_MS
from app.domain.money import fmt
from app.engine import venue_setup
from app.engine.history_download import Progress, download_history
from app.storage import Store, default_data_dir

log = logging.getLogger(__name__)
EXIT_NO_NETWORK = 3
COMMANDS = ("markets", "history", "paper")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--venue", required=True, help="exchange: " + ", ".join(venue_setup.known_exchanges()))
        p.add_argument("--base-url", default=None, help="a loopback exchange, e.g. http://127.0.0.1:8765")
        p.add_argument("--data-dir", default=None)

    m = sub.add_parser("markets", help="the exchange's markets with their filters")
    common(m)
    m.add_argument("--search", default="", help="only symbols containing this text")
    h = sub.add_parser("history", help="download candles into the store (resumes where it stopped)")
    common(h)
    h.add_argument("--symbol", required=True, help="BASE/QUOTE, e.g. BTC/USDT")
    h.add_argument("--timeframe", default="1h", choices=list(TIMEFRAME_MS))
    h.add_argument("--since", required=True, help="first day, YYYY-MM-DD (UTC)")
    h.add_argument("--until", default=None, help="day to stop before, YYYY-MM-DD (default: now)")
    h.add_argument("--db", default=None, help="database URL (default: SQLite in the data folder)")
    p = sub.add_parser("paper", help="paper trading on the exchange's live market data (no API key)")
    common(p)
    p.add_argument("--symbol", action="append", default=None, help="market to watch (repeatable)")
    p.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: run on)")
    p.add_argument("--showcase", action="store_true", help="place one paper order of every type on the first market")


def _day_ms(text: str) -> int:
    try:
        d = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from None
    return int(d.timestamp() * 1000)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _failure(exc: AppError, venue: str, base_url: str | None) -> tuple[str, int]:
    if exc.key == "error.no_network" or (exc.key == "error.exchange_unavailable" and base_url is None):
        return f"cannot reach {venue_setup.host_of(venue, base_url)}: no network", EXIT_NO_NETWORK
    if exc.key in ("error.exchange_unavailable", "error.timeout", "error.venue_temporary"):
        return f"cannot reach {venue_setup.host_of(venue, base_url)}: {exc.message}", EXIT_NO_NETWORK
    return f"{venue}: {exc.message}", 1


async def _guarded(args: argparse.Namespace, body: Callable[[], Awaitable[int]], out: TextIO, err: TextIO) -> int:
    try:
        return await body()
    except AppError as exc:
        text, rc = _failure(exc, args.venue, args.base_url)
        log.info("%s %s: %s", args.command, args.venue, exc.message)
        print(text, file=err, flush=True)
        return rc


async def run_markets(args: argparse.Namespace, out: TextIO) -> int:
    md = venue_setup.market_data(args.venue, base_url=args.base_url)
    try:
        instruments = await md.load_markets()
    finally:
        await md.close()
    text = args.search.strip().upper()
    rows = sorted((i for s, i in instruments.items() if text in s.upper()), key=lambda i: i.symbol)
    print(f"{'symbol':<14} {'tick':>12} {'lot step':>12} {'min qty':>12} {'min notional':>12}", file=out)
    for i in rows:
        print(
            f"{i.symbol:<14} {fmt(i.tick_size):>12} {fmt(i.lot_step):>12} {fmt(i.min_qty):>12} "
            f"{fmt(i.min_notional):>12}",
            file=out,
        )
    print(f"{len(rows)} market(s) on {args.venue}", file=out, flush=True)
    return 0


async def run_history(args: argparse.Namespace, out: TextIO) -> int:
    since = _day_ms(args.since)
    until = _day_ms(args.until) if args.until else None
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(args.db or f"sqlite:///{data_dir / 'autogrowth.sqlite3'}")
    md = venue_setup.market_data(args.venue, base_url=args.base_url)
    shown = [-1]

    def progress(p: Progress) -> None:
        pct = int(p.fraction * 100)
        if pct != shown[0]:
            shown[0] = pct
            print(f"  {pct:3d}%  {p.bars} new candle(s)", file=out, flush=True)

    try:
        await md.load_markets()
        if args.symbol not in md.instruments:
            print(f"{args.venue} does not list {args.symbol}", file=out, flush=True)
            return 1
        r = await download_history(md, store, args.symbol, args.timeframe, since, until, on_progress=progress)
    finally:
        await md.close()
        store.close()
    where = f"resumed after {_when(r.start_ms - TIMEFRAME_MS[args.timeframe])}" if r.resumed else "from the start"
    print(f"{r.stored} candle(s) of {r.symbol} {r.timeframe} stored for {r.venue} ({where})", file=out)
    if r.last_ms is not None:
        print(f"last candle: {_when(r.last_ms)} UTC", file=out)
    for g in r.gaps:
        print(f"gap: {g.missing} candle(s) missing from {_when(g.start_ms)} to {_when(g.end_ms)} UTC", file=out)
    print(f"{len(r.gaps)} gap(s)", file=out, flush=True)
    return 0


async def run_paper(args: argparse.Namespace, out: TextIO) -> int:
    # The demo's printer and showcase (imported here: app.cli registers this module).
    from app.cli import ConsolePrinter, _wait_for_prices, place_showcase_orders

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    symbols = tuple(args.symbol or venue_setup.default_symbols(args.venue))
    choice = venue_setup.VenueChoice(args.venue, venue_setup.PAPER, base_url=args.base_url)
    session = venue_setup.build_session(choice, data_dir, symbols=symbols)
    printer = ConsolePrinter(session, out=out)
    printer.say(f"AutoGrowth Trader — PAPER on {args.venue}'s live market data; orders never reach the exchange")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await session.start()
        listed = sorted(s for (v, s) in session.orders.instruments if v == choice.venue_name)
        printer.say(f"{len(listed)} markets; watching {', '.join(s for s in symbols if s in listed) or 'nothing'}")
        for asset, qty in sorted(session.portfolio.holdings(choice.venue_name).items()):
            printer.say(f"  paper balance {asset}: {fmt(qty)}")
        if args.showcase and symbols[0] in listed:
            await _wait_for_prices(session, symbols[:1])
            await place_showcase_orders(session, symbols[0])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=args.duration if args.duration > 0 else None)
    finally:
        await session.stop()
        session.store.close()
    return 0


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if args.venue not in venue_setup.known_exchanges():
        print(f"unknown venue {args.venue!r}; one of: {', '.join(venue_setup.known_exchanges())}", file=err)
        return 2
    try:
        if args.command == "history":
            _day_ms(args.since)
            if args.until:
                _day_ms(args.until)
    except ValueError as exc:
        print(str(exc), file=err)
        return 2
    if args.command != "markets":  # the others write to the data folder: their log goes there too
        from app.cli import setup_logging

        setup_logging(Path(args.data_dir) if args.data_dir else default_data_dir())
    body = {"markets": run_markets, "history": run_history, "paper": run_paper}[args.command]
    return asyncio.run(_guarded(args, lambda: body(args, out), out, err))


__all__ = ["COMMANDS", "add_parsers", "run"]
