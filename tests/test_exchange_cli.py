"""``python -m app markets | history | paper`` against the loopback Binance (real ccxt, real HTTP
and websockets on 127.0.0.1), and without a network: one clear line and an exit code."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from loopback.testing import binance_thread

from app.cli import main
from app.domain.market import TIMEFRAME_MS
from app.storage import Store

ROOT = Path(__file__).resolve().parents[1]
H = TIMEFRAME_MS["1h"]
JAN1 = 1_704_067_200_000  # 2024-01-01 00:00 UTC


@pytest.fixture(scope="module")
def lb():
    with binance_thread() as thread:
        yield thread


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


def _rows(start: int, n: int, skip: set[int] = frozenset()):  # type: ignore[assignment]
    return [(start + i * H, "100", "110", "90", "105", "2") for i in range(n) if i not in skip]


@pytest.mark.skipif(_resolves("api.binance.com"), reason="this machine reaches the network")
@pytest.mark.parametrize(
    "args",
    [
        ["markets", "--venue", "binance"],
        ["history", "--venue", "binance", "--symbol", "BTC/USDT", "--timeframe", "1h", "--since", "2024-01-01"],
        ["paper", "--venue", "binance", "--duration", "1"],
    ],
    ids=["markets", "history", "paper"],
)
def test_without_a_network_each_command_says_so_in_one_line(tmp_path, args):
    env = {**os.environ, "AUTOGROWTH_DATA_DIR": str(tmp_path)}
    p = subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert p.returncode == 3
    assert p.stderr.strip().splitlines()[-1] == "cannot reach api.binance.com: no network"
    assert "Traceback" not in p.stderr + p.stdout


def test_unknown_venue_and_bad_dates_are_refused_with_a_message(capsys, tmp_path):
    assert main(["markets", "--venue", "nasdaq"]) == 2
    assert "unknown venue 'nasdaq'" in capsys.readouterr().err
    rc = main(["history", "--venue", "binance", "--symbol", "BTC/USDT", "--since", "yesterday"])
    assert rc == 2 and "not a date (YYYY-MM-DD): 'yesterday'" in capsys.readouterr().err


def test_markets_lists_the_exchanges_filters(lb, capsys):
    assert main(["markets", "--venue", "binance", "--base-url", lb.server.base_url]) == 0
    out = capsys.readouterr().out.splitlines()
    btc = next(line.split() for line in out if line.startswith("BTC/USDT "))
    assert btc == ["BTC/USDT", "0.01", "0.00001", "0.00001", "10"]
    assert main(["markets", "--venue", "binance", "--base-url", lb.server.base_url, "--search", "eth"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:-1]]
    assert listed and all("ETH" in s for s in listed)


def test_history_pages_stores_resumes_and_reports_gaps(lb, capsys, tmp_path):
    lb.call(lb.server.reset)
    # 2,500 hourly candles (three pages of Binance's 1000) with three missing in a row.
    lb.call(lb.server.seed_klines, "BTC/USDT", "1h", _rows(JAN1, 2500, skip={1500, 1501, 1502}))
    args = ["history", "--venue", "binance", "--symbol", "BTC/USDT", "--timeframe", "1h", "--since", "2024-01-01"]
    args += ["--until", "2024-04-01", "--base-url", lb.server.base_url, "--data-dir", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "2181 candle(s) of BTC/USDT 1h stored for binance (from the start)" in out  # 91 days × 24, 3 missing
    assert "gap: 3 candle(s) missing from 2024-03-03 12:00 to 2024-03-03 14:00 UTC" in out
    assert "100%" in out and "1 gap(s)" in out
    with Store.open(f"sqlite:///{tmp_path / 'autogrowth.sqlite3'}") as store:
        bars = store.load_bars("binance", "BTC/USDT", "1h")
    assert len(bars) == 2181 and bars[0].open_ms == JAN1 and bars[0].close == Decimal("105")
    assert all(b.closed for b in bars)

    # Later: the rest is fetched from where it stopped, nothing twice.
    args[args.index("2024-04-01")] = "2024-05-01"
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "(resumed after 2024-03-31 23:00)" in out
    n_april = 2500 - 2184  # what the exchange has after March
    assert f"{n_april} candle(s) of BTC/USDT 1h stored" in out and "0 gap(s)" in out
    with Store.open(f"sqlite:///{tmp_path / 'autogrowth.sqlite3'}") as store:
        assert len(store.load_bars("binance", "BTC/USDT", "1h")) == 2181 + n_april


def test_paper_on_the_exchanges_live_data_fills_with_the_paper_core(lb, capsys, tmp_path):
    lb.call(lb.server.reset)
    lb.call(lb.server.book_around, "BTC/USDT", "60000", spread="1", levels=10, qty="1")
    market = lb.call(lambda: lb.server._spawn(lb.server.simulate("BTCUSDT", "60000", every_s=0.05)))
    try:
        args = ["paper", "--venue", "binance", "--base-url", lb.server.base_url, "--data-dir", str(tmp_path)]
        assert main([*args, "--symbol", "BTC/USDT", "--duration", "2", "--showcase"]) == 0
    finally:
        lb.call(market.cancel)
    out = capsys.readouterr().out
    assert "PAPER on binance's live market data" in out and "paper balance USDT: 10000" in out
    assert "FILL " in out and "market → filled" in out
    assert lb.call(lambda: len(lb.server.orders)) == 0  # nothing reached the exchange
    with Store.open(f"sqlite:///{tmp_path / 'autogrowth.sqlite3'}") as store:
        assert store.load_fills(venue="paper-binance")


@pytest.mark.parametrize("exchange", ["upbit", "kraken", "coinbase"])
def test_markets_and_history_on_every_loopback_exchange(exchange, capsys, tmp_path):
    from loopback.testing import LOOPBACKS
    from loopback.thread import LoopbackThread

    cls = LOOPBACKS[exchange][0]
    lb = LoopbackThread(cls)
    lb.start()
    try:
        assert main(["markets", "--venue", exchange, "--base-url", lb.server.base_url]) == 0
        out = capsys.readouterr().out
        assert f"market(s) on {exchange}" in out and "BTC/" in out
        symbol = next(line.split()[0] for line in out.splitlines()[1:] if line.startswith("BTC/"))
        args = ["history", "--venue", exchange, "--symbol", symbol, "--timeframe", "1m", "--since", "2024-01-01"]
        assert main([*args, "--base-url", lb.server.base_url, "--data-dir", str(tmp_path)]) == 0
        assert f"stored for {exchange}" in capsys.readouterr().out
    finally:
        lb.stop()
