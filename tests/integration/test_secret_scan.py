"""A known secret put everywhere a user could put it — the API secret of a live account on the
loopback Binance, the encrypted key file's passphrase, every text field of the key dialogs and a
few others — while the app runs live (orders, a cancel, a refused key, a wrong signature, a 5xx,
a dropped account stream) with its log at DEBUG, and the CLI runs too. Then every file the app
wrote (data folder: database and its WAL, paper journal, logs, the encrypted key file) is scanned:
the secret and the passphrase appear nowhere, in plain text, base64 or hex."""

from __future__ import annotations

import asyncio
import base64
import logging
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import keyring
import pytest
from gui.conftest import modal_watchdog, qt_loop  # noqa: F401  (the GUI tests' qasync loop)
from gui.test_venues import Win
from keyring.backends import fail
from loopback.binance import API_KEY, BinanceLoopback
from loopback.thread import LoopbackThread

from app.cli import main as cli_main
from app.cli import setup_logging
from app.domain.enums import OrderStatus, OrderType, Side
from app.domain.order import OrderRequest
from app.engine.venue_setup import LIVE, VenueChoice
from app.security.credentials import default_store
from app.ui import dialogs
from app.ui.settings_dialog import SettingsDialog
from app.ui.venue_tools import set_credential_store

SECRET = "ScanMe-5e1f0c2d9a7b4e3f8c6d1a2b3c4d5e6f7a8b9c0d"
PASSPHRASE = "PassScan-d41d8cd98f00b204e980"
D = Decimal


def forms(value: str) -> list[bytes]:
    raw = value.encode()
    return [raw, base64.b64encode(raw), raw.hex().encode(), value.encode("utf-16-le")]


def scan(root: Path) -> list[str]:
    """Files under ``root`` holding any form of the secret or the passphrase."""
    hits = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            hits += [f"{p.relative_to(root)}: {v[:12]!r}" for v in (SECRET, PASSPHRASE) for f in forms(v) if f in data]
    return hits


@pytest.fixture
def logs_to(tmp_path):
    """The app's own logging (file in the data folder), at DEBUG: ccxt, aiohttp, everything."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    setup_logging(tmp_path)
    root.setLevel(logging.DEBUG)
    yield tmp_path / "autogrowth.log"
    for h in root.handlers:
        h.close()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


@pytest.fixture
def lb():
    thread = LoopbackThread(lambda: BinanceLoopback(api_keys={API_KEY: SECRET}))
    thread.start()
    yield thread
    thread.stop()


def test_the_secret_appears_in_no_file_the_app_wrote(qt_loop, qtbot, tmp_path, logs_to, lb):  # noqa: F811
    old_ring = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # a headless computer: the encrypted key file is the store
    creds = default_store(tmp_path)
    set_credential_store(creds)
    w: Win | None = None
    try:
        lb.call(lb.server.reset, {"USDT": "100000", "BTC": "0.5"})
        lb.call(lb.server.book_around, "BTC/USDT", "60000", spread="1", levels=10, qty="1")
        lb.call(lb.server.trade, "BTC/USDT", "60000", "0.1")

        # Settings: the key file's passphrase, then the secret in every key field
        settings = SettingsDialog(None, theme="dark", data_dir=str(tmp_path), creds=creds)
        qtbot.addWidget(settings)
        settings.unlock_box.passphrase.setText(PASSPHRASE)
        settings.unlock_box.unlock()
        assert creds.available()
        for row in settings.key_rows:  # each key dialog: the secret in every field, checked on Binance
            keys = row.open_key_dialog()
            keys.base_url = lb.server.base_url
            for field in (keys.key, keys.secret, keys.passphrase):
                field.setText(SECRET)
            if row.exchange == "binance":
                keys.save_btn.click()
                qtbot.waitUntil(lambda k=keys: "refused this key" in k.state.text(), timeout=30_000)
            keys.close()
        settings.unlock_box.passphrase.setText(SECRET)  # a wrong passphrase typed (nothing happens)
        settings.unlock_box.unlock()

        # The live window with the account's real key
        from app.security.credentials import Credentials

        creds.save("binance", Credentials(API_KEY, SECRET))
        w = Win(qtbot, tmp_path, VenueChoice("binance", LIVE, base_url=lb.server.base_url), creds.load("binance"))
        w.wait(lambda: lb.call(lb.server.user_subscribed))

        # Key entry: a wrong secret (refused), then the right one (checked, saved)
        picker = w.tools.open_picker()
        picker.live.setChecked(True)
        picker.base_url.setText(lb.server.base_url)
        keys = picker.open_key_dialog()
        keys.key.setText(API_KEY)
        keys.secret.setText(SECRET[::-1])
        keys.passphrase.setText(SECRET)
        keys.save_btn.click()
        w.wait(lambda: "refused" in keys.state.text())
        keys.key.setText(API_KEY)
        keys.secret.setText(SECRET)
        keys.save_btn.click()
        w.wait(lambda: "The key works" in keys.state.text())
        keys.close()
        picker.account.setText(SECRET)  # nonsense anywhere
        picker.close()

        # Other fields a secret could be pasted into by mistake
        w.window.markets.search.setText(SECRET)
        w.window.symbol.setEditText(SECRET)
        hist = w.tools.open_history()
        hist.symbol.setCurrentText(SECRET)
        hist.start_btn.click()
        w.wait(lambda: "does not list" in hist.state.text())
        hist.close()

        # Trading, and the exchange's errors
        om = w.ctx.orders
        o = w.run(
            om.submit(OrderRequest("binance", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D("59000")))
        )
        assert o is not None
        w.wait(lambda: o.status is OrderStatus.NEW)
        w.run(om.cancel(o.client_order_id))
        w.wait(lambda: o.status is OrderStatus.CANCELLED)
        lb.call(lb.server.faults.add, "signature", "/api/v3/order", method="POST")
        bad = w.run(
            om.submit(OrderRequest("binance", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D("59000")))
        )
        lb.call(lb.server.faults.add, "5xx", "/api/v3/order", method="POST")
        w.run(om.submit(OrderRequest("binance", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D("58000"))))
        too_big = w.run(om.submit(OrderRequest("binance", "BTC/USDT", Side.SELL, OrderType.MARKET, D("5"))))
        assert bad is not None
        assert too_big is None or too_big.status is not OrderStatus.FILLED  # 5 BTC: more than the account has
        lb.call(lb.server.drop_sockets)
        w.run(asyncio.sleep(1.0))
        w.wait(lambda: lb.call(lb.server.user_subscribed))
        w.run(om.drain())
    finally:
        dialogs.close_all()
        if w is not None:
            w.close()
        set_credential_store(None)
        keyring.set_keyring(old_ring)

    # The CLI, on the same data folder
    base = ["--venue", "binance", "--base-url", lb.server.base_url, "--data-dir", str(tmp_path)]
    with ThreadPoolExecutor(1) as pool:  # the commands own their asyncio loop; the test's Qt loop counts as running
        assert pool.submit(cli_main, ["markets", *base]).result(120) == 0
        assert (
            pool.submit(cli_main, ["history", *base, "--symbol", "BTC/USDT", "--since", "2024-01-01"]).result(120) == 0
        )
    for h in logging.getLogger().handlers:
        h.flush()

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert {"autogrowth.log", "autogrowth.sqlite3", "keys.vault"} <= names  # the scan covers real files
    log_text = logs_to.read_text(encoding="utf-8")
    assert "binance" in log_text and "DEBUG" in log_text  # the log really recorded the session
    assert scan(tmp_path) == []
    control = tmp_path.parent / f"{tmp_path.name}-control"  # the scan would see a leak
    control.mkdir()
    (control / "leak.txt").write_bytes(b"x" + base64.b64encode(SECRET.encode()) + b"x")
    assert scan(control) == ["leak.txt: 'ScanMe-5e1f0'"]
