"""History download through ccxt from the loopback Binance into the store, and unlocking the
encrypted key file (scrypt)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

JAN1 = 1_704_067_200_000
MINUTE = 60_000
CANDLES = 20_000


def history_figures() -> list[tuple[str, float, str]]:
    from loopback.testing import binance_data, binance_thread

    from app.engine.history_download import download_history
    from app.storage import Store

    rows = [(JAN1 + i * MINUTE, "100", "110", "90", "105", "2") for i in range(CANDLES)]
    with binance_thread() as lb, tempfile.TemporaryDirectory() as tmp:
        lb.call(lb.server.seed_klines, "BTC/USDT", "1m", rows)

        async def run() -> float:
            md = binance_data(lb.server.base_url)
            store = Store.open(f"sqlite:///{Path(tmp) / 'db.sqlite3'}")
            try:
                await md.load_markets()
                t = time.perf_counter()
                r = await download_history(md, store, "BTC/USDT", "1m", JAN1, JAN1 + CANDLES * MINUTE)
                assert r.stored == CANDLES
                return r.stored / (time.perf_counter() - t)
            finally:
                await md.close()
                store.close()

        rate = asyncio.run(run())
    return [("history_download_candles_per_s", round(rate), "candles/s")]


def vault_figures() -> list[tuple[str, float, str]]:
    from app.security.vault import Vault

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "keys.vault"
        v = Vault(path)
        v.create("a long passphrase")
        v.set("binance", "x" * 64)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            Vault(path).unlock("a long passphrase")
            times.append(time.perf_counter() - t)
    return [("vault_unlock_ms", round(min(times) * 1000, 1), "ms")]
