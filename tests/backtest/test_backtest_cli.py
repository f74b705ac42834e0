"""``python -m app backtest``: a candle file in, ``NAME: VALUE`` lines and a JSON report out; a sweep
with ``--grid``; the candles table as a source."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from backtest_data import HOUR, T0

from app.cli import main
from app.domain.market import Bar


def _csv(path: Path, n: int = 2500, seed: int = 4) -> Path:
    rng = np.random.default_rng(seed)
    close = np.round(20000 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), 2)
    opens = np.concatenate(([20000.0], close[:-1]))
    lines = ["open_time,open,high,low,close,volume"]
    for i, (o, c) in enumerate(zip(opens, close, strict=True)):
        lines.append(
            f"{T0 + i * HOUR},{o:.2f},{max(o, c) * 1.002:.2f},{min(o, c) * 0.998:.2f},{c:.2f},"
            f"{rng.uniform(10, 100):.6f}"
        )
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


def _lines(capsys) -> dict[str, str]:  # type: ignore[no-untyped-def]
    out = capsys.readouterr().out
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def test_backtest_prints_figures_and_writes_the_json_report(tmp_path, capsys):
    f = _csv(tmp_path / "BTC_USDT-1h.csv.gz")
    out = tmp_path / "r.json"
    rc = main(
        [
            "backtest",
            "--strategy",
            "sma_cross",
            "--param",
            "fast=10",
            "--param",
            "slow=30",
            "--candles",
            str(f),
            "--fee",
            "0.001",
            "--cash",
            "10000000",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    got = _lines(capsys)
    assert got["symbol"] == "BTC/USDT 1h"
    for key in (
        "final_equity",
        "total_return",
        "annual_return",
        "sharpe",
        "sortino",
        "max_drawdown",
        "max_drawdown_days",
        "win_rate",
        "profit_factor",
        "exposure",
        "trades",
    ):
        assert key in got
    report = json.loads(out.read_text())
    assert report["final_equity"] == got["final_equity"]
    assert Decimal(report["final_equity"]) == Decimal(10_000_000) + sum(Decimal(t["pnl"]) for t in report["trades"])
    assert len(report["series"]["equity"]) == 2500 and report["config"]["account"] == "spot"
    assert int(got["trades"]) == sum(1 for t in report["trades"] if not t["open"]) > 10


def test_compat_mode_trades_whole_units_and_goes_short(tmp_path, capsys):
    f = _csv(tmp_path / "BTC_USDT-1h.csv.gz")
    out = tmp_path / "r.json"
    assert (
        main(["backtest", "--candles", str(f), "--cash", "10000000", "--compat", "backtesting.py", "--json", str(out)])
        == 0
    )
    trades = json.loads(out.read_text())["trades"]
    assert {t["direction"] for t in trades} == {"long", "short"}
    assert all(Decimal(t["quantity"]) == Decimal(t["quantity"]).to_integral_value() for t in trades)


def test_from_keeps_the_bars_before_it_for_the_warm_up(tmp_path, capsys):
    f = _csv(tmp_path / "BTC_USDT-1h.csv.gz")
    assert main(["backtest", "--candles", str(f), "--from", "2023-12-01", "--trades"]) == 0
    out = capsys.readouterr().out
    assert "bars: " in out and "trade: " in out


def test_a_sweep_prints_the_table_and_the_best_point(tmp_path, capsys):
    f = _csv(tmp_path / "BTC_USDT-1h.csv.gz")
    out = tmp_path / "s.json"
    assert (
        main(
            [
                "backtest",
                "--candles",
                str(f),
                "--grid",
                "fast=5:15:5",
                "--grid",
                "slow=20,40",
                "--workers",
                "1",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out.splitlines()
    assert text[0].split()[:2] == ["fast", "slow"] and len(text) == 1 + 6 + 1
    assert text[-1].startswith("best sharpe: fast=")
    report = json.loads(out.read_text())
    assert report["heatmap"]["x_values"] == [5, 10, 15] and report["heatmap"]["y_values"] == [20, 40]


def test_bad_input_is_an_error_message_not_a_traceback(tmp_path, capsys):
    f = _csv(tmp_path / "BTC_USDT-1h.csv.gz", n=50)
    assert main(["backtest", "--candles", str(f), "--param", "fast=30", "--param", "slow=10"]) == 2
    assert main(["backtest", "--candles", str(tmp_path / "missing.csv")]) == 2
    assert main(["backtest", "--strategy", "nope", "--candles", str(f)]) == 2
    assert main(["backtest", "--candles", str(f), "--size", "half"]) == 2
    assert "error:" in capsys.readouterr().err


def test_the_candles_table_is_a_source(tmp_path, capsys):
    from app.storage import Store

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    store = Store.open(url)
    rng = np.random.default_rng(3)
    px = Decimal(100)
    rows = []
    for i in range(300):
        nxt = (px * Decimal(str(round(float(np.exp(rng.normal(0, 0.01))), 4)))).quantize(Decimal("0.01"))
        rows.append(
            Bar("binance", "ETH/USDT", "1h", T0 + i * HOUR, px, max(px, nxt) + 1, min(px, nxt) - 1, nxt, Decimal(5))
        )
        px = nxt
    store.upsert_bars(rows)
    store.close()
    assert (
        main(
            [
                "backtest",
                "--db",
                url,
                "--venue",
                "binance",
                "--symbol",
                "ETH/USDT",
                "--timeframe",
                "1h",
                "--param",
                "fast=5",
                "--param",
                "slow=20",
            ]
        )
        == 0
    )
    got = _lines(capsys)
    assert got["symbol"] == "ETH/USDT 1h" and got["bars"].startswith("300 ")


def test_list(capsys):
    assert main(["backtest", "--list"]) == 0
    out = capsys.readouterr().out
    assert "sma_cross" in out and "onnx_signal" in out


@pytest.mark.parametrize("name", ["BTC_USDT-1h.csv", "candles.csv"])
def test_symbol_and_timeframe_from_the_name_or_the_data(tmp_path, capsys, name):
    f = _csv(tmp_path / "x.csv.gz", n=200)
    plain = tmp_path / name
    plain.write_bytes(gzip.decompress(f.read_bytes()))
    assert main(["backtest", "--candles", str(plain), "--param", "fast=3", "--param", "slow=8"]) == 0
    got = _lines(capsys)
    assert got["symbol"] == ("BTC/USDT 1h" if name.startswith("BTC") else "ASSET/QUOTE 1h")
