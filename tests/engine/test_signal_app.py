"""Signals in the app's session: the shipped model primed from the demo market's history and run on
its live minutes (combined into hours); a user's model checked, refused with its reason or kept
for the next start; signal alerts through the notification path, stored."""

from __future__ import annotations

import asyncio
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain.signal import Signal, SignalDirection
from app.engine.alerts import Notification
from app.engine.bus import EventBus
from app.engine.signal_alerts import SignalAlerts
from app.engine.signal_service import SignalService
from app.signals.model import ModelContractError
from app.signals.registry import shipped_dir
from app.storage import Store

D = Decimal


async def wait_for(cond, timeout_s: float = 120.0) -> None:
    for _ in range(int(timeout_s * 20)):
        if cond():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_the_demo_session_runs_the_shipped_model_and_emits_signals(tmp_path):
    from app.cli import build_demo_session

    session = build_demo_session(tmp_path, speed=0)
    got: list[Signal] = []
    session.bus.subscribe(Signal, got.append)
    await session.start()
    try:
        svc = session.signals
        assert svc is not None
        await wait_for(lambda: svc.models and svc.latest)
        # Primed from the demo's history: a forecast per symbol at once, history kept for the chart,
        # nothing published for it.
        assert {k[2] for k in svc.latest} == set(session.symbols)
        hist = svc.signals("gbm_1h_h24", "demo", "BTC/USDT")
        assert len(hist) > 100 and all(s.timeframe == "1h" for s in hist)
        assert svc.history_hit_rate("gbm_1h_h24").scored > 50
        # The live 1m bars are combined into hours: the model speaks at the next hour's close.
        await wait_for(lambda: any(s.symbol == "BTC/USDT" for s in got))
    finally:
        await session.stop()
        session.store.close()
    s = next(s for s in got if s.symbol == "BTC/USDT")
    assert s.venue == "demo" and s.model == "gbm_1h_h24" and D(0) <= s.probability <= D(1)
    assert s.bar_open_ms % 3_600_000 == 0 and s.bar_open_ms > hist[-1].bar_open_ms


def shipped_files() -> tuple[Path, Path]:
    folder = Path(str(shipped_dir()))
    return folder / "gbm_1h_h24.onnx", folder / "gbm_1h_h24.json"


async def test_a_users_model_is_refused_with_its_reason_and_a_good_one_is_kept(tmp_path):
    onnx, card = shipped_files()
    user_dir = tmp_path / "models"
    svc = SignalService(EventBus(), [])
    svc.user_dir = user_dir
    svc.start()
    # Not a model at all.
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelContractError) as e:
        await svc.add_model(junk)
    assert e.value.key == "signals.model.unreadable"
    # A card promising another window than the file's contract.
    bad = tmp_path / "in" / "mine.onnx"
    bad.parent.mkdir()
    shutil.copyfile(onnx, bad)
    c = json.loads(card.read_text())
    c["contract"]["window"] = 100
    bad.with_suffix(".json").write_text(json.dumps(c))
    with pytest.raises(ModelContractError) as e:
        await svc.add_model(bad)
    assert e.value.key in ("signals.model.card_mismatch", "signals.model.unknown_features")
    assert svc.models == [] and not user_dir.exists()
    # The same file with its true card: added, copied for the next start.
    shutil.copyfile(card, bad.with_suffix(".json"))
    m = await svc.add_model(bad)
    assert [x.name for x in svc.models] == [m.name]
    assert (user_dir / "mine.onnx").is_file() and (user_dir / "mine.json").is_file()
    with pytest.raises(ModelContractError) as e:  # twice: refused, still one
        await svc.add_model(bad)
    assert e.value.key == "signals.model.duplicate" and len(svc.models) == 1
    await svc.stop()


def sig(p: str, symbol: str = "BTC/USDT", t: int = 0) -> Signal:
    pd = D(p)
    return Signal(
        "gbm_1h_h24",
        "1.0.0",
        "demo",
        symbol,
        "1h",
        t * 3_600_000,
        pd,
        D("0.5"),
        SignalDirection.UP if pd > D("0.5") else SignalDirection.DOWN,
        24,
    )


def test_signal_alerts_notify_on_a_change_or_a_confident_forecast_and_are_stored(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    bus = EventBus()
    notes: list[Notification] = []
    bus.subscribe(Notification, notes.append)
    alerts = SignalAlerts(bus, store)
    bus.publish(sig("0.55", t=0))  # no rule yet
    assert notes == []
    alerts.set_rule("gbm_1h_h24", on_change=True, min_confidence=D("0.3"))
    bus.publish(sig("0.56", t=1))  # same direction, 12 % confidence: quiet
    bus.publish(sig("0.45", t=2))  # up → down
    bus.publish(sig("0.70", t=3))  # down → up, 40 %
    bus.publish(sig("0.66", symbol="ETH/USDT", t=3))  # first ETH forecast: no change, but 32 %
    assert [n.kind for n in notes] == ["alert"] * 3
    assert notes[0].params == {"model": "gbm_1h_h24", "symbol": "BTC/USDT", "p": "0.45", "c": "10"}
    assert "down" in notes[0].message and "up" in notes[1].message
    with pytest.raises(ValueError):
        alerts.set_rule("gbm_1h_h24", on_change=False, min_confidence=D("1.5"))
    alerts.close()
    again = SignalAlerts(EventBus(), store)  # after a restart
    assert again.rules["gbm_1h_h24"].min_confidence == D("0.3") and again.rules["gbm_1h_h24"].on_change
    again.set_rule("gbm_1h_h24", on_change=False, min_confidence=None)
    assert SignalAlerts(EventBus(), store).rules == {}
    store.close()
