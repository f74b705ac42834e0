"""The registry of exchange profiles (what ``--venue`` and the window's venue picker list): every
exchange registers itself, is built by name with its own fields overridden, and points every REST
and websocket URL of its ccxt class at a loopback's base URL."""

from __future__ import annotations

import pytest

from app.venues.ccxt import make_exchange, profile_for
from app.venues.ccxt.profile import PROFILES, Timing

EXCHANGES = ("binance", "coinbase", "kraken", "upbit")


def test_every_exchange_is_registered_by_importing_the_package():
    assert set(EXCHANGES) <= set(PROFILES)
    for name in EXCHANGES:
        p = profile_for(name, name=f"{name}:main", timing=Timing(poll_s=0.5))
        assert p.ccxt_id == name and p.venue_name == f"{name}:main" and p.timing.poll_s == 0.5
    with pytest.raises(ValueError, match="known: binance, coinbase, kraken, upbit"):
        profile_for("mtgox")


@pytest.mark.parametrize("name", EXCHANGES)
def test_a_base_url_replaces_every_url_the_exchange_talks_to(name):
    ex = make_exchange(profile_for(name), base_url="http://127.0.0.1:9999")

    def urls(node):
        if isinstance(node, dict):
            for v in node.values():
                yield from urls(v)
        elif isinstance(node, str):
            yield node

    api = ex.urls["api"]
    used = {
        "binance": lambda: [api["public"], api["private"], api["ws"]["spot"]],
        "coinbase": lambda: [api["rest"], api["ws"]],
        "kraken": lambda: [api["public"], api["private"], api["ws"]["publicV2"], api["ws"]["privateV2"]],
        "upbit": lambda: [api["public"], api["private"], api["ws"]],
    }[name]()
    assert used and all(u.startswith(("http://127.0.0.1:9999", "ws://127.0.0.1:9999")) for u in used)
    real = make_exchange(profile_for(name))
    assert not any("127.0.0.1" in u for u in urls(real.urls["api"]))
