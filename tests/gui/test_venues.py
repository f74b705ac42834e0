"""The window on the loopback Binance: paper trading on its live data and live trading with a key
from a test keyring; the exchange picker, key entry (checked with a read-only call, a warning when
the key can withdraw), per-venue status, reconciliation results, symbol search and the history
download dialog with progress and Cancel."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import keyring
import pytest
from aiohttp import web
from loopback.binance import API_KEY, SECRET, BinanceLoopback
from loopback.testing import FAST, binance_thread
from loopback.thread import LoopbackThread
from PySide6.QtWidgets import QApplication, QMessageBox
from security.test_credentials import MemoryKeyring

from app.domain.enums import OrderStatus, OrderType, Side
from app.domain.market import TIMEFRAME_MS
from app.domain.order import OrderRequest
from app.engine.alerts import AlertService
from app.engine.venue_setup import CHOICE_SETTING, LIVE, PAPER, VenueChoice, build_session
from app.security.credentials import Credentials, CredentialStore
from app.ui import dialogs, theme
from app.ui.bridge import EngineBridge
from app.ui.context import Selection, UiContext
from app.ui.main_window import MainWindow
from app.ui.venue_tools import live_fell_back, set_credential_store, take_switch

D = Decimal
JAN1 = 1_704_067_200_000
H = TIMEFRAME_MS["1h"]


class WithdrawingLoopback(BinanceLoopback):
    """A Binance whose account says the key may withdraw (what a careless key looks like)."""

    async def account(self, request: web.Request) -> web.Response:
        resp = await super().account(request)
        body = json.loads(resp.text or "{}")
        body["canWithdraw"] = True
        return web.json_response(body)


@pytest.fixture(scope="module")
def lb():
    with binance_thread() as thread:
        yield thread


@pytest.fixture
def ring():
    old = keyring.get_keyring()
    mem = MemoryKeyring()
    keyring.set_keyring(mem)
    set_credential_store(CredentialStore())
    yield mem
    set_credential_store(None)
    keyring.set_keyring(old)


class Win:
    """The app's window on a session of the loopback Binance, as ``run_window`` builds it."""

    def __init__(self, qtbot, tmp_path, choice: VenueChoice, creds: Credentials | None = None) -> None:
        self.qtbot = qtbot
        self.session = build_session(choice, tmp_path, creds=creds, timing=FAST, symbols=("BTC/USDT",))
        self.bridge = EngineBridge(self.session.bus, frame_ms=10)
        self.alerts = AlertService(self.session.bus, self.session.store)
        self.ctx = UiContext(
            self.session,
            self.bridge,
            self.alerts,
            Selection("BTC/USDT"),
            mode=choice.mode,
            confirm_orders=choice.mode == LIVE,
            stale_after_s=600,
        )
        theme.apply(QApplication.instance(), "dark")
        self.window = MainWindow(self.ctx, data_dir=str(tmp_path))
        qtbot.addWidget(self.window)
        self.window.show()
        assert self.run(self.window.start_session(), 60) is True
        self.tools = self.window.venue_tools

    def run(self, coro, timeout_s: float = 30):
        task = asyncio.ensure_future(coro)
        self.qtbot.waitUntil(task.done, timeout=int(timeout_s * 1000))
        return task.result()

    def wait(self, cond, timeout_s: float = 30) -> None:
        self.qtbot.waitUntil(lambda: bool(cond()), timeout=int(timeout_s * 1000))

    def close(self) -> None:
        self.wait(lambda: not self.window.jobs.running)  # a history load in flight ends before the venue closes
        dialogs.close_all()
        self.window.close()
        self.bridge.close()
        self.run(self.session.stop())
        self.session.store.close()
        left = [t for t in asyncio.all_tasks() if not t.done()]
        for t in left:
            t.cancel()
        self.qtbot.waitUntil(lambda: all(t.done() for t in left), timeout=10_000)


def _market(lb, mid: str = "60000") -> None:
    lb.call(lb.server.book_around, "BTC/USDT", mid, spread="1", levels=10, qty="1")
    lb.call(lb.server.trade, "BTC/USDT", mid, "0.1")


def _answer(qtbot, yes: bool) -> None:
    qtbot.waitUntil(lambda: bool(dialogs.open_dialogs()), timeout=10_000)
    box = dialogs.open_dialogs()[-1]
    assert isinstance(box, QMessageBox)
    role = QMessageBox.ButtonRole.YesRole if yes else QMessageBox.ButtonRole.NoRole
    next(b for b in box.buttons() if box.buttonRole(b) == role).click()


def test_paper_on_binances_live_data_status_search_and_paper_fills(qt_loop, qtbot, lb, tmp_path, ring):
    lb.call(lb.server.reset)
    _market(lb)
    live_fell_back("binance")  # what the entry point says when a live start had no readable key
    w = Win(qtbot, tmp_path, VenueChoice("binance", PAPER, base_url=lb.server.base_url))
    try:
        assert w.window.mode_badge.text().strip() == "PAPER"
        assert "Started in paper mode" in [t.title.text() for t in w.window.toasts.shown]
        w.wait(lambda: lb.call(lb.server.subscribed, "btcusdt@trade"))
        _market(lb, "60010")
        w.wait(lambda: w.ctx.last_price() == D("60010"))
        w.tools.status.refresh()
        line = w.tools.status.labels["paper-binance"].text()
        assert "paper-binance" in line and "connected" in line and "clock" in line and " ms" in line
        # the reconciliation at the start is shown (the status line's tooltip)
        assert "Reconciled with paper-binance: nothing changed" in w.tools.status.labels["paper-binance"].toolTip()
        # symbol search over the exchange's markets
        markets = w.window.markets
        w.wait(lambda: len(markets.model.rows) == len(w.ctx.instruments()))  # each with its last 24 hours
        assert {"BTC/USDT", "ETH/USDT", "SOL/USDT"} <= {r.symbol for r in markets.model.rows}
        markets.search.setText("eth")
        shown = [r.symbol for r in markets.model.rows]
        assert "ETH/USDT" in shown and all("ETH" in s for s in shown)
        markets.search.returnPressed.emit()
        assert w.ctx.selection.symbol == shown[0]
        w.ctx.selection.set_symbol("BTC/USDT")
        # an order is filled by the paper core with the exchange's filters; nothing reaches the exchange
        o = w.run(
            w.ctx.orders.submit(
                OrderRequest("paper-binance", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D("60000"))
            )
        )
        assert o is not None and o.status is OrderStatus.NEW
        lb.call(lb.server.trade, "BTC/USDT", "59990", "0.5", "sell")
        w.wait(lambda: o.status is OrderStatus.FILLED)
        assert lb.call(lambda: len(lb.server.orders)) == 0
        # a clock far from the exchange's is shown in the warning colour
        lb.call(setattr, lb.server.faults, "clock_drift_ms", 5000)
        w.run(w.session.venue.source.client.sync_clock())
        w.tools.status.refresh()
        assert "clock +" in w.tools.status.labels["paper-binance"].text()
        assert theme.colors().warning in w.tools.status.labels["paper-binance"].styleSheet()
    finally:
        lb.call(lb.server.faults.clear)
        w.close()


def test_history_dialog_downloads_with_progress_and_cancels_without_blocking(qt_loop, qtbot, lb, tmp_path, ring):
    lb.call(lb.server.reset)
    _market(lb)
    lb.call(
        lb.server.seed_klines,
        "BTC/USDT",
        "1h",
        [(JAN1 + i * H, "100", "110", "90", "105", "2") for i in range(1500) if i != 700],
    )
    w = Win(qtbot, tmp_path, VenueChoice("binance", PAPER, base_url=lb.server.base_url))
    try:
        dlg = w.tools.open_history()
        assert dlg.isVisible() and not dlg.isModal()
        dlg.symbol.setCurrentText("BTC/USDT")
        dlg.timeframe.setCurrentText("1h")
        dlg.since.setDate(dlg.since.date().fromString("2024-01-01", "yyyy-MM-dd"))
        # Cancel: the exchange holds its answer; the window keeps running meanwhile
        lb.call(lb.server.faults.add, "timeout", "/api/v3/klines", delay=5)
        dlg.start_btn.click()
        w.wait(lambda: dlg.running)
        assert dlg.cancel_btn.isEnabled() and not dlg.start_btn.isEnabled()
        w.run(asyncio.sleep(0.3))  # the loop (and the market, the orders) run on during the download
        assert dlg.running
        dlg.cancel_btn.click()
        w.wait(lambda: not dlg.running and dlg.start_btn.isEnabled())
        assert dlg.state.text().startswith("Cancelled")
        lb.call(lb.server.faults.clear)
        dlg.start_btn.click()
        w.wait(lambda: dlg.outcome is not None, 60)
        assert dlg.bar.value() == dlg.bar.maximum()
        text = dlg.state.text()
        assert "1499 candle(s) stored" in text and "1 gap(s)" in text and "1 missing from 2024-01-30 04:00" in text
        assert len(w.session.store.load_bars("binance", "BTC/USDT", "1h")) == 1499
        dlg.symbol.setCurrentText("NOPE/USDT")
        dlg.start_btn.click()
        w.wait(lambda: "does not list" in dlg.state.text())
    finally:
        w.close()


def test_key_entry_checks_the_key_and_warns_when_it_can_withdraw(qt_loop, qtbot, lb, tmp_path, ring):
    lb.call(lb.server.reset)
    _market(lb)
    w = Win(qtbot, tmp_path, VenueChoice("binance", PAPER, base_url=lb.server.base_url))
    withdrawing = LoopbackThread(lambda: WithdrawingLoopback())
    withdrawing.start()
    try:
        picker = w.tools.open_picker()
        picker.exchange.setCurrentIndex(picker.exchange.findData("binance"))
        picker.live.setChecked(True)
        picker.base_url.setText(lb.server.base_url)
        assert picker.key_state.text() == "no key saved" and not picker.switch_btn.isEnabled()
        keys = picker.open_key_dialog()
        keys.key.setText(API_KEY)
        keys.secret.setText("not-the-secret")
        keys.save_btn.click()
        w.wait(lambda: "refused this key" in keys.state.text())
        assert ring.items == {}  # a refused key is not kept
        keys.key.setText(API_KEY)
        keys.secret.setText(SECRET)
        keys.save_btn.click()
        w.wait(lambda: "The key works" in keys.state.text())
        assert not keys.warning.isVisible()
        assert CredentialStore().load("binance") == Credentials(API_KEY, SECRET)
        assert keys.key.text() == "" and keys.secret.text() == ""  # never shown again
        assert picker.key_state.text().startswith("saved (") and picker.switch_btn.isEnabled()
        # a key that may withdraw: saved, with a warning
        keys.base_url = withdrawing.server.base_url
        keys.key.setText(API_KEY)
        keys.secret.setText(SECRET)
        keys.save_btn.click()
        w.wait(lambda: keys.warning.isVisible())
        assert "can withdraw funds" in keys.warning.text()
        keys.close()
        # live needs a confirmation; "Stay" keeps the venue
        picker.switch_btn.click()
        _answer(qtbot, yes=False)
        w.run(asyncio.sleep(0.1))
        assert take_switch() is None and w.window.isVisible()
        picker.switch_btn.click()
        _answer(qtbot, yes=True)
        w.wait(lambda: not w.window.isVisible())
        choice = take_switch()
        assert choice == VenueChoice("binance", LIVE, "", lb.server.base_url)
        assert w.session.store.get_setting(CHOICE_SETTING)["mode"] == "live"
    finally:
        withdrawing.stop()
        w.close()


def test_live_mode_with_a_key_from_the_keyring_reconciles_after_start_and_reconnect(qt_loop, qtbot, lb, tmp_path, ring):
    lb.call(lb.server.reset, {"USDT": "100000", "BTC": "0.5"})
    _market(lb)
    CredentialStore().save("binance", Credentials(API_KEY, SECRET))
    seen = []
    w = Win(
        qtbot, tmp_path, VenueChoice("binance", LIVE, base_url=lb.server.base_url), CredentialStore().load("binance")
    )
    try:
        w.bridge.reconciled.connect(seen.append)
        assert w.window.mode_badge.text().strip() == "LIVE" and w.ctx.confirm_orders
        assert "Reconciled with binance" in w.tools.status.labels["binance"].toolTip()
        w.wait(lambda: lb.call(lb.server.user_subscribed))
        o = w.run(
            w.ctx.orders.submit(
                OrderRequest("binance", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D("59000"))
            )
        )
        assert o is not None
        w.wait(lambda: o.status is OrderStatus.NEW)
        assert lb.call(lambda: len(lb.server.orders)) == 1  # live: the exchange has it
        # the account stream drops; on its return the orders are checked again and the result shown
        lb.call(lb.server.drop_sockets)
        w.wait(lambda: seen, 60)
        w.tools.status.refresh()
        assert "Reconciled with binance" in w.tools.status.labels["binance"].toolTip()
    finally:
        w.close()


def test_without_a_keyring_settings_offer_the_encrypted_key_file(qt_loop, qtbot, lb, tmp_path):
    from keyring.backends import fail

    from app.security.credentials import default_store
    from app.ui.settings_dialog import SettingsDialog

    lb.call(lb.server.reset)
    old = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        creds = default_store(tmp_path)
        dlg = SettingsDialog(None, theme="dark", data_dir=str(tmp_path), creds=creds)
        qtbot.addWidget(dlg)
        row = dlg.key_rows[0]
        assert not dlg.unlock_box.isHidden() and "No system keyring" in dlg.unlock_box.note.text()
        assert row.state.text() == "Unlock the key file first" and not row.enter_btn.isEnabled()
        dlg.unlock_box.passphrase.setText("short")
        dlg.unlock_box.unlock()
        assert dlg.unlock_box.state.text() == "Choose a passphrase of at least 8 characters"
        dlg.unlock_box.passphrase.setText("a long passphrase")
        dlg.unlock_box.unlock()
        assert dlg.unlock_box.isHidden() and dlg.unlock_box.passphrase.text() == ""
        assert row.state.text() == "No key saved" and row.enter_btn.isEnabled()
        keys = row.open_key_dialog()
        keys.base_url = lb.server.base_url  # the exchange that checks the key: the loopback Binance
        keys.key.setText(API_KEY)
        keys.secret.setText("not-the-secret")
        keys.save_btn.click()
        qtbot.waitUntil(lambda: "refused this key" in keys.state.text(), timeout=30_000)
        assert creds.load("binance") is None  # a refused key is not kept
        keys.key.setText(API_KEY)
        keys.secret.setText(SECRET)
        keys.save_btn.click()
        qtbot.waitUntil(lambda: "The key works" in keys.state.text(), timeout=30_000)
        assert creds.load("binance") == Credentials(API_KEY, SECRET)
        assert row.state.text().endswith("· in the encrypted key file") and SECRET not in row.state.text()
        assert SECRET.encode() not in (tmp_path / "keys.vault").read_bytes()
        keys.close()
        again = default_store(tmp_path)  # the next start: locked until the passphrase is given
        dlg2 = SettingsDialog(None, theme="dark", data_dir=str(tmp_path), creds=again)
        qtbot.addWidget(dlg2)
        dlg2.unlock_box.passphrase.setText("not the passphrase")
        dlg2.unlock_box.unlock()
        assert dlg2.unlock_box.state.text() == "Wrong passphrase: the encrypted key file was not opened"
        assert again.load("binance") is None
    finally:
        keyring.set_keyring(old)


def test_an_unreachable_exchange_is_said_in_one_short_line():
    from app.ui.venue_status import connect_error_text
    from app.venues.ccxt.errors import NoNetwork

    err = NoNetwork(
        host="https://api.binance.com/api/v3", detail="binance GET https://api.binance.com/api/v3/exchangeInfo"
    )
    assert connect_error_text(err) == "cannot reach api.binance.com: no network"


def test_what_reconciliation_finds_at_start_is_shown(qt_loop, qtbot, lb, tmp_path, ring):
    lb.call(lb.server.reset, {"USDT": "100000", "BTC": "0.5"})
    _market(lb)
    creds = Credentials(API_KEY, SECRET)
    choice = VenueChoice("binance", LIVE, base_url=lb.server.base_url)
    w = Win(qtbot, tmp_path, choice, creds)
    o = w.run(
        w.ctx.orders.submit(OrderRequest("binance", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D("59000")))
    )
    assert o is not None
    w.wait(lambda: o.status is OrderStatus.NEW)
    w.close()
    # While the app is closed, the order fills on the exchange.
    lb.call(lb.server.book_around, "BTC/USDT", "58990", spread="1", levels=10, qty="1")
    lb.call(lb.server.trade, "BTC/USDT", "58990", "0.5", "sell")
    w = Win(qtbot, tmp_path, choice, creds)
    try:
        texts = [t.words()[1] for t in w.window.toasts.shown if t.words()[0] == "Reconciliation"]
        assert texts and texts[-1].startswith("Reconciled with binance: ")
        assert "nothing changed" not in texts[-1] and "•" in texts[-1]
        assert w.ctx.orders.get(o.client_order_id).status is OrderStatus.FILLED
    finally:
        w.close()


def test_the_markets_list_asks_the_exchange_for_few_24h_figures(qt_loop, qtbot, lb, tmp_path, ring, monkeypatch):
    """An exchange lists thousands of markets: one request each would queue for minutes under its
    rate limit, ahead of the user's orders. The watched market first, a few others, the rest listed."""
    from app.ui.panels import markets as markets_panel

    monkeypatch.setattr(markets_panel, "MAX_24H_REQUESTS", 1)
    lb.call(lb.server.reset)
    _market(lb)
    w = Win(qtbot, tmp_path, VenueChoice("binance", PAPER, base_url=lb.server.base_url))
    try:
        markets = w.window.markets
        w.wait(lambda: len(markets.model.rows) == len(w.ctx.instruments()))
        extras = w.session._extras  # the signal models load their history first: not this list's requests
        w.wait(lambda: extras is None or extras.done())
        lb.call(lb.server.faults.requests.clear)
        w.run(markets.load())
        asked = [p for (_t, _m, p) in lb.call(lambda: list(lb.server.faults.requests)) if p == "/api/v3/klines"]
        assert len(asked) == 1
        assert {r.symbol for r in markets.model.rows} == {i.symbol for i in w.ctx.instruments()}
    finally:
        w.close()


def test_history_the_exchange_cannot_give_is_said_in_the_status_bar(qt_loop, qtbot, lb, tmp_path, ring):
    lb.call(lb.server.reset)
    _market(lb)
    w = Win(qtbot, tmp_path, VenueChoice("binance", PAPER, base_url=lb.server.base_url))
    try:
        lb.call(lb.server.faults.add, "5xx", "/api/v3/klines", count=3)
        w.run(w.window.load_history_now())  # no exception reaches the loop
        assert w.window.statusBar().currentMessage().startswith("Could not load the history: ")
    finally:
        lb.call(lb.server.faults.clear)
        w.close()
