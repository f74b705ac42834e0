"""The paper matching core on its own: plain calls in, plain events out, no asyncio, no journal."""

from __future__ import annotations

from decimal import Decimal

from helpers import book, btc

from app.domain.enums import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from app.domain.market import Bar, Trade
from app.venues.paper import (
    Expired,
    FeeModel,
    FillEvent,
    Ledger,
    MatchingCore,
    PaperOrder,
    QueueMoved,
    Rejected,
    Triggered,
    reservation,
)

D = Decimal
_n = 0


def po(
    side: Side = Side.BUY,
    type: OrderType = OrderType.LIMIT,
    qty: str = "1",
    price: str | None = None,
    stop: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    post_only: bool = False,
) -> PaperOrder:
    global _n
    _n += 1
    return PaperOrder(
        f"c{_n}",
        str(_n),
        "BTC/USDT",
        side,
        type,
        D(qty),
        D(price) if price else None,
        D(stop) if stop else None,
        tif,
        post_only,
        0,
    )


def trade(price: str, qty: str = "1", taker: Side = Side.SELL, ts: int = 1) -> Trade:
    return Trade("sim", "BTC/USDT", f"t{ts}", D(price), D(qty), taker, ts)


def core() -> MatchingCore:
    c = MatchingCore("BTC/USDT", btc())
    c.on_book(book("100", spread="1", qty="2"))  # bids 99.5, 98.5, ... asks 100.5, 101.5, ... 2 each
    return c


def fills(events: list) -> list[tuple[str, Decimal, Decimal, LiquiditySide, bool]]:
    return [
        (e.order.client_order_id, e.quantity, e.price, e.liquidity, e.done) for e in events if isinstance(e, FillEvent)
    ]


def test_a_resting_limit_fills_at_its_price_when_a_trade_goes_through_it():
    c = core()
    bid = po(price="99", qty="1")
    assert c.submit(bid) == []  # rests: nothing at 99 in the book, so no queue ahead
    assert c.on_trade(trade("99.2", "5")) == []  # above the bid: not reached
    events = c.on_trade(trade("98.9", "0.4"))
    assert fills(events) == [(bid.client_order_id, D("0.4"), D("99"), LiquiditySide.MAKER, False)]
    assert events[0].fee == D("0.0396")  # maker 0.1% of 39.6
    events = c.on_trade(trade("98", "5"))
    assert fills(events) == [(bid.client_order_id, D("0.6"), D("99"), LiquiditySide.MAKER, True)]
    assert bid.status is OrderStatus.FILLED and c.orders() == []


def test_trades_at_the_price_first_use_up_the_queue_ahead():
    c = core()
    bid = po(price="98.5", qty="1")  # the book shows 2 at 98.5 already
    c.submit(bid)
    assert bid.queue_ahead == D("2")
    assert c.on_trade(trade("98.5", "1", taker=Side.BUY)) == []  # a buyer lifting: not our side
    assert c.on_trade(trade("98.5", "1.5")) == [QueueMoved(bid, D("0.5"))]
    events = c.on_trade(trade("98.5", "1"))
    assert events[0] == QueueMoved(bid, D("0"))
    assert fills(events) == [(bid.client_order_id, D("0.5"), D("98.5"), LiquiditySide.MAKER, False)]


def test_a_market_order_walks_the_levels_and_liquidity_it_took_stays_taken_until_the_next_book():
    c = core()
    first = po(type=OrderType.MARKET, qty="5")
    assert fills(c.submit(first)) == [
        (first.client_order_id, D("2"), D("100.5"), LiquiditySide.TAKER, False),
        (first.client_order_id, D("2"), D("101.5"), LiquiditySide.TAKER, False),
        (first.client_order_id, D("1"), D("102.5"), LiquiditySide.TAKER, True),
    ]
    second = po(type=OrderType.MARKET, qty="2")
    assert [(q, p) for _, q, p, _, _ in fills(c.submit(second))] == [(D("1"), D("102.5")), (D("1"), D("103.5"))]
    c.on_book(book("100", spread="1", qty="2"))
    third = po(type=OrderType.MARKET, qty="1")
    assert [(q, p) for _, q, p, _, _ in fills(c.submit(third))] == [(D("1"), D("100.5"))]


def test_a_market_order_beyond_the_book_expires_after_what_it_could_take():
    c = core()
    o = po(Side.SELL, OrderType.MARKET, qty="11")
    events = c.submit(o)
    assert sum(q for _, q, _, _, _ in fills(events)) == D("10")
    assert events[-1] == Expired(o, "not enough liquidity in the book") and o.status is OrderStatus.EXPIRED


def test_a_stop_triggers_on_the_last_trade_then_trades_as_a_market_order():
    c = core()
    stop = po(Side.SELL, OrderType.STOP_MARKET, qty="1", stop="95")
    assert c.submit(stop) == []
    assert c.on_trade(trade("95.01")) == []
    c.on_book(book("95", spread="1", qty="2"))
    events = c.on_trade(trade("95", ts=2))
    assert events[0] == Triggered(stop)
    assert fills(events) == [(stop.client_order_id, D("1"), D("94.5"), LiquiditySide.TAKER, True)]


def test_a_triggered_stop_limit_rests_at_its_limit():
    c = core()
    o = po(Side.BUY, OrderType.STOP_LIMIT, qty="1", price="100", stop="101")
    c.submit(o)
    events = c.on_trade(trade("101", taker=Side.BUY))
    assert events == [Triggered(o)] and o.triggered and c.orders() == [o]
    assert fills(c.on_trade(trade("99.9", "3"))) == [(o.client_order_id, D("1"), D("100"), LiquiditySide.MAKER, True)]


def test_a_book_that_moves_through_a_resting_order_fills_it_up_to_what_it_shows():
    c = core()
    ask = po(Side.SELL, price="101", qty="3")
    c.submit(ask)
    events = c.on_book(book("102", spread="1", qty="1"))  # buyers now at 101.5 and 100.5 (≥ 101: 101.5)
    assert fills(events) == [(ask.client_order_id, D("1"), D("101"), LiquiditySide.MAKER, False)]


def test_time_in_force_and_post_only():
    c = core()
    ioc = po(price="101.5", qty="5", tif=TimeInForce.IOC)
    events = c.submit(ioc)
    assert sum(q for _, q, _, _, _ in fills(events)) == D("4")
    assert events[-1] == Expired(ioc, "immediate-or-cancel remainder")
    fok = po(price="103.5", qty="6.5", tif=TimeInForce.FOK)  # 6 left up to 103.5 after the IOC took 4
    assert c.submit(fok) == [Expired(fok, "fill-or-kill: not enough liquidity")]
    maker = po(price="101.5", post_only=True)
    assert c.submit(maker) == [Rejected(maker, "post-only order would take liquidity")]
    assert maker.status is OrderStatus.REJECTED and c.orders() == []


def test_fills_are_paid_from_the_ledger_it_is_handed():
    ledger = Ledger()
    ledger.deposit("USDT", D("150"))
    c = MatchingCore("BTC/USDT", btc(), account=ledger)
    c.on_book(book("100", spread="1", qty="2"))
    o = po(price="99", qty="1")
    asset, amount = reservation(o, btc(), FeeModel())
    assert (asset, amount) == ("USDT", D("99.099")) and ledger.reserve(o, asset, amount)
    c.submit(o)
    assert fills(c.on_trade(trade("98", "1")))[0][4] is True
    bal = ledger.balances()
    assert (bal["USDT"].free, bal["USDT"].locked, bal["BTC"].free) == (D("150") - D("99.099"), 0, D("1"))
    big = po(type=OrderType.MARKET, qty="2")  # unfunded: the ledger refuses to pay for it
    assert fills(c.submit(big)) == [] and big.status is OrderStatus.EXPIRED


def _session() -> list[tuple[str, Decimal, Decimal, LiquiditySide, bool]]:
    global _n
    _n = 0
    c = core()
    out = []
    for o in (
        po(price="99", qty="1"),
        po(Side.SELL, price="101", qty="2"),
        po(Side.SELL, OrderType.STOP_MARKET, "1", stop="96"),
        po(type=OrderType.MARKET, qty="3"),
    ):
        out += fills(c.submit(o))
    out += fills(c.on_bar(Bar("sim", "BTC/USDT", "1m", 60_000, D("100"), D("103"), D("95"), D("96"), D("8"))))
    out += fills(c.on_trade(trade("98.5", "4", ts=70_000)))
    return out


def test_the_same_calls_give_the_same_fills():
    first, second = _session(), _session()
    assert first and first == second
