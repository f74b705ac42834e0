"""The paper exchange: matching rules, reservations, the bar path rule and its crash-safe journal."""

from __future__ import annotations

from decimal import Decimal

from helpers import ScriptedMarket, book

from app.domain.enums import OrderEvent, OrderStatus, OrderType, Side
from app.domain.market import Bar, Trade
from app.domain.order import Order
from app.venues.paper import PaperVenue

D = Decimal
_n = 0


def order(side=Side.BUY, type=OrderType.LIMIT, qty="0.1", price=None, stop=None) -> Order:
    global _n
    _n += 1
    return Order(
        f"c{_n}",
        "paper",
        "BTC/USDT",
        side,
        type,
        D(qty),
        price=D(price) if price else None,
        stop_price=D(stop) if stop else None,
    )


async def venue(tmp_path, balances=None) -> tuple[PaperVenue, list]:
    v = PaperVenue(
        ScriptedMarket(), journal_path=tmp_path / "j", initial_balances=balances or {"USDT": D("10000"), "BTC": D("1")}
    )
    reports: list = []
    v.set_report_handler(reports.append)
    await v.load_markets()
    v.on_book(book("100", spread="1", qty="2"))
    v.on_trade(Trade("sim", "BTC/USDT", "a", D("100"), D("1"), Side.BUY, 1))
    return v, reports


async def test_limit_buy_reserves_quote_with_fees_and_releases_on_cancel(tmp_path):
    v, _ = await venue(tmp_path)
    o = order(price="90", qty="10")
    assert (await v.place(o)).event is OrderEvent.ACCEPTED
    bal = await v.fetch_balances()
    assert bal["USDT"].locked == D("900.9") and bal["USDT"].free == D("9099.1")
    await v.cancel(o)
    bal = await v.fetch_balances()
    assert bal["USDT"].locked == 0 and bal["USDT"].free == D("10000")


async def test_market_order_beyond_the_book_fills_partly_and_expires(tmp_path):
    v, reports = await venue(tmp_path)
    await v.place(order(type=OrderType.MARKET, qty="12"))
    events = [r.event for r in reports]
    assert events.count(OrderEvent.PARTIAL_FILL) == 5  # five ask levels of 2
    assert events[-1] is OrderEvent.EXPIRED
    assert (await v.fetch_balances())["BTC"].total == D("11")


async def test_paper_state_survives_a_restart_from_its_journal(tmp_path):
    v, _ = await venue(tmp_path)
    resting = order(price="95")
    await v.place(resting)
    await v.place(order(type=OrderType.MARKET, qty="0.5"))
    before = await v.fetch_balances()
    fills = await v.fetch_my_trades(None, None)
    v2 = PaperVenue(ScriptedMarket(), journal_path=tmp_path / "j", initial_balances={"USDT": D("1")})
    assert await v2.fetch_balances() == before
    assert await v2.fetch_my_trades(None, None) == fills
    assert [s.client_order_id for s in await v2.fetch_open_orders()] == [resting.client_order_id]


async def test_a_torn_last_journal_line_is_ignored(tmp_path):
    v, _ = await venue(tmp_path)
    await v.place(order(price="95"))
    with open(tmp_path / "j", "ab") as fh:
        fh.write(b'{"seq": 99, "b": {"USDT": ["0"')
    v2 = PaperVenue(ScriptedMarket(), journal_path=tmp_path / "j")
    assert (await v2.fetch_balances())["USDT"].total == D("10000")


async def test_bars_replay_open_low_high_close_for_a_rising_bar(tmp_path):
    v, reports = await venue(tmp_path)
    buy = order(price="95")
    sell = order(Side.SELL, price="108")
    await v.place(buy)
    await v.place(sell)
    v.on_bar(Bar("sim", "BTC/USDT", "1h", 0, D("100"), D("110"), D("94"), D("105"), D("40")))
    fills = [r.fill for r in reports if r.fill is not None]
    assert [f.client_order_id for f in fills] == [buy.client_order_id, sell.client_order_id]


async def test_stop_buy_triggers_when_the_last_trade_reaches_it(tmp_path):
    v, reports = await venue(tmp_path)
    o = order(type=OrderType.STOP_MARKET, stop="105")
    await v.place(o)
    v.on_trade(Trade("sim", "BTC/USDT", "b", D("104.99"), D("1"), Side.BUY, 2))
    assert not any(r.event is OrderEvent.TRIGGERED for r in reports)
    v.on_book(book("105", spread="1", qty="2"))
    v.on_trade(Trade("sim", "BTC/USDT", "c", D("105"), D("1"), Side.BUY, 3))
    assert [r.event for r in reports][-2:] == [OrderEvent.TRIGGERED, OrderEvent.FILL]
    st = await v.fetch_order(o)
    assert st.status is OrderStatus.FILLED


async def test_placing_the_same_client_id_twice_makes_one_order(tmp_path):
    v, _ = await venue(tmp_path)
    o = order(price="95")
    a = await v.place(o)
    b = await v.place(o)
    assert a.venue_order_id == b.venue_order_id
    assert len(await v.fetch_open_orders()) == 1


async def test_a_book_that_moves_through_a_resting_order_fills_it_at_its_price(tmp_path):
    v, reports = await venue(tmp_path)
    bid = order(price="99", qty="3")
    await v.place(bid)
    # No trade prints, but sellers now stand at 97.5 and 98.5: the bid was crossed.
    v.on_book(book("97", spread="1", qty="2"))
    fills = [r.fill for r in reports if r.fill is not None]
    assert [f.price for f in fills] == [D("99"), D("99")]
    assert sum(f.quantity for f in fills) == D("3") and all(f.liquidity.value == "maker" for f in fills)
    st = await v.fetch_order(bid)
    assert st.status is OrderStatus.FILLED


async def test_an_untouched_book_fills_nothing(tmp_path):
    v, reports = await venue(tmp_path)
    await v.place(order(price="99", qty="3"))
    v.on_book(book("100", spread="1", qty="2"))
    assert [r for r in reports if r.fill is not None] == []


async def test_it_names_the_market_data_venue_it_trades_on(tmp_path):
    v, _ = await venue(tmp_path)
    assert (v.name, v.data_venue) == ("paper", "sim")
