"""The portfolio panel's suggested allocation as a user sees it: across what they hold, from real
hourly prices, minimum variance and risk parity with their expected volatility, drawn as bars; a
suggestion only (no order); fewer than two assets: said in words."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from app.domain.enums import OrderType, Side
from app.domain.market import Bar
from app.domain.order import OrderRequest
from app.signals.allocation import covariance, min_variance, risk_parity
from app.signals.candles import load_file

D = Decimal
CANDLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "candles" / "binance"


def history(symbol: str, n: int = 720) -> list[Bar]:
    path = CANDLES / "1h" / f"{symbol.replace('/', '_')}-1h.csv.gz"
    if not path.exists():
        pytest.skip("the shared candles are not here")
    c = load_file(path)
    c = c.slice(len(c) - n, len(c))
    return [
        Bar("sim", symbol, "1h", int(t), D(repr(o)), D(repr(h)), D(repr(lo)), D(repr(cl)), D(repr(v)))
        for t, o, h, lo, cl, v in zip(
            c.open_ms.tolist(),
            c.open.tolist(),
            c.high.tolist(),
            c.low.tolist(),
            c.close.tolist(),
            c.volume.tolist(),
            strict=True,
        )
    ]


def test_a_suggested_allocation_across_held_assets_places_no_order(gui, qtbot):
    hist = {s: history(s) for s in ("BTC/USDT", "ETH/USDT")}

    async def fetch_bars(symbol, timeframe, since_ms, limit):
        return hist.get(symbol, [])[-limit:]

    gui.venue.source.fetch_bars = fetch_bars  # the scripted market's history: real candles
    view = gui.window.portfolio.allocation
    assert gui.run(view.compute()) is None
    assert "at least two assets" in view.lines.text()
    gui.market("3000", symbol="ETH/USDT")
    gui.run(gui.session.orders.submit(OrderRequest("sim", "ETH/USDT", Side.BUY, OrderType.MARKET, D("10"))))
    gui.pump(0.1)
    orders_before = len(gui.store.load_orders())
    s = gui.run(view.compute())
    assert s is not None and s.assets == ("BTC", "ETH")
    closes = np.column_stack([[float(b.close) for b in hist[k]] for k in ("BTC/USDT", "ETH/USDT")])
    cov = covariance(closes)
    assert s.min_variance == pytest.approx(min_variance(cov)) and s.risk_parity == pytest.approx(risk_parity(cov))
    assert s.min_variance.sum() == pytest.approx(1.0) and 0 < s.min_variance_vol <= s.risk_parity_vol
    assert s.current is not None and s.current[1] > 0
    text = view.text()
    assert "Minimum variance: BTC" in text and "Risk parity: BTC" in text and "expected volatility" in text
    assert f"{s.min_variance[0] * 100:.1f}%" in text
    assert len(view.bars) == 3  # now, minimum variance, risk parity
    assert len(gui.store.load_orders()) == orders_before  # a suggestion only
