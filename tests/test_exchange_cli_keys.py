"""A key is checked on entry with a read-only call against the exchange (a loopback here, with
its real authentication), and what the exchange says about withdrawals is read: Binance in its
account answer, Coinbase in its key-permissions call."""

from __future__ import annotations

from aiohttp import web
from loopback.binance import API_KEY, SECRET, BinanceLoopback
from loopback.coinbase import API_KEY as CB_KEY
from loopback.coinbase import SECRET as CB_SECRET
from loopback.coinbase import CoinbaseLoopback
from loopback.testing import FAST
from loopback.thread import LoopbackThread

from app.engine.venue_setup import check_key
from app.security.credentials import Credentials


class TransferringCoinbase(CoinbaseLoopback):
    """Coinbase with its key-permissions endpoint, for a key that may move funds out."""

    def routes(self, r: web.UrlDispatcher) -> None:
        super().routes(r)
        r.add_get("/api/v3/brokerage/key_permissions", self._private(self.key_permissions))

    async def key_permissions(self, request: web.Request) -> web.Response:
        body = {
            "can_view": True,
            "can_trade": True,
            "can_transfer": True,
            "portfolio_uuid": "p",
            "portfolio_type": "DEFAULT",
        }
        return web.json_response(body)


def _serve(make):
    lb = LoopbackThread(make)
    lb.start()
    return lb


async def test_binance_key_checked_read_only_and_its_withdraw_flag_read():
    lb = _serve(lambda: BinanceLoopback())
    try:
        ok = await check_key("binance", Credentials(API_KEY, SECRET), base_url=lb.server.base_url, timing=FAST)
        assert ok.ok and ok.can_withdraw is False and ok.assets >= 1
        assert lb.call(lambda: len(lb.server.orders)) == 0  # nothing but reading
        bad = await check_key("binance", Credentials(API_KEY, "wrong"), base_url=lb.server.base_url, timing=FAST)
        assert not bad.ok and bad.error_key == "error.auth_failed" and "wrong" not in bad.error
        none = await check_key("nasdaq", Credentials(API_KEY, SECRET))
        assert not none.ok and "no profile" in none.error
    finally:
        lb.stop()


async def test_coinbase_says_whether_a_key_can_transfer():
    plain = _serve(lambda: CoinbaseLoopback())
    transferring = _serve(lambda: TransferringCoinbase())
    try:
        creds = Credentials(CB_KEY, CB_SECRET)
        quiet = await check_key("coinbase", creds, base_url=plain.server.base_url, timing=FAST)
        assert quiet.ok and quiet.can_withdraw is None  # the exchange did not say
        told = await check_key("coinbase", creds, base_url=transferring.server.base_url, timing=FAST)
        assert told.ok and told.can_withdraw is True
    finally:
        plain.stop()
        transferring.stop()
