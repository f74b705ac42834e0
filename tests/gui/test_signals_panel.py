"""The Signals panel as a user sees it: the shipped model's latest forecast and hit rate on real
candles, markers on the chart, a user's model refused in words, a signal alert as a toast."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from app import i18n
from app.domain.market import Bar
from app.signals.candles import load_file
from app.signals.registry import load_model, shipped_dir
from app.ui.panels.signals import SignalsPanel

D = Decimal
CANDLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "candles" / "binance"


def real_bars(n: int) -> list[Bar]:
    path = CANDLES / "1h" / "BTC_USDT-1h.csv.gz"
    if not path.exists():
        pytest.skip("the shared candles are not here")
    c = load_file(path, gaps_from=CANDLES)
    c = c.slice(len(c) - n, len(c))
    cols = [a.tolist() for a in (c.open, c.high, c.low, c.close, c.volume)]
    return [Bar("sim", "BTC/USDT", "1h", int(c.open_ms[i]), *(D(repr(col[i])) for col in cols)) for i in range(len(c))]


@pytest.fixture
def panel(gui, qtbot, tmp_path):
    svc = gui.session.enable_signals(tmp_path / "models")
    svc.models = [load_model()]
    svc.start()
    p = SignalsPanel(gui.ctx)
    qtbot.addWidget(p)
    p.retranslate()
    p.show()
    yield p
    i18n.set_language("en")


def test_the_panel_shows_the_latest_forecast_its_hit_rate_and_markers(gui, panel, qtbot):
    bars = real_bars(260)
    for b in bars:
        gui.session.bus.publish(b)
    panel.refresh()
    rows = panel.model.rows
    assert [(r[0], r[1]) for r in rows] == [("gbm_1h_h24", "BTC/USDT")]
    latest = rows[0][2]
    assert latest is not None and latest.bar_open_ms == bars[-1].open_ms
    shown = [panel.model.data(panel.model.index(0, c)) for c in range(panel.model.columnCount())]
    assert shown[3] == str(latest.probability)
    assert shown[4] in ("▲ up", "▼ down")
    assert shown[5].endswith("%")
    n = 260 - 169 + 1 - 24  # forecasts whose 24 hours passed
    assert shown[6].endswith(f"of {n}")
    assert gui.session.signals.waiting("gbm_1h_h24") == 24  # the last day's forecasts wait for their horizon
    assert "1h" in panel.intro.text()
    # The forecasts on the chart, at their bars' closes.
    chart = gui.window.chart
    chart.set_bars(bars, 0.01)
    drawn = panel.mark_chart(chart, "BTC/USDT")
    assert drawn >= 1 and chart.markers.count(("long", "flat")) == drawn
    panel.markers_box.setChecked(False)
    assert panel.mark_chart(chart, "BTC/USDT") == 0 and chart.markers.count(("long", "flat")) == 0


def test_a_users_model_that_does_not_match_is_refused_in_words(gui, panel, qtbot, tmp_path):
    folder = Path(str(shipped_dir()))
    mine = tmp_path / "in" / "mine.onnx"
    mine.parent.mkdir()
    shutil.copyfile(folder / "gbm_1h_h24.onnx", mine)
    card = json.loads((folder / "gbm_1h_h24.json").read_text())
    card["contract"]["features"] = card["contract"]["features"][::-1]
    mine.with_suffix(".json").write_text(json.dumps(card))
    done = gui.run(panel.add_model_file(mine))
    assert done is False
    assert "cannot be used" in panel.error.text() and "mine" in panel.error.text()
    assert len(gui.session.signals.models) == 1
    i18n.set_language("ko")
    panel.retranslate()
    gui.run(panel.add_model_file(tmp_path / "missing.onnx"))
    assert "사용할 수 없습니다" in panel.error.text()


def test_a_signal_alert_reaches_the_user_as_a_toast(gui, panel, qtbot):
    panel.picked.setCurrentText("gbm_1h_h24")
    panel.alert_conf.setText("0.5")
    panel.alert_conf.editingFinished.emit()
    panel.alert_change.setChecked(True)
    rule = gui.session.signal_alerts.rules["gbm_1h_h24"]
    assert rule.on_change and rule.min_confidence == D("0.005")
    stored = gui.store.get_setting("signals.alerts")
    assert stored[0]["model"] == "gbm_1h_h24"
    with qtbot.waitSignal(gui.bridge.notification, timeout=10_000) as sig:
        for b in real_bars(200):
            gui.session.bus.publish(b)
    assert sig.args[0].kind == "alert" and "gbm_1h_h24 on BTC/USDT" in sig.args[0].message
    panel.alert_conf.setText("250")
    panel.alert_conf.editingFinished.emit()
    assert "at most 100" in panel.error.text()
    assert gui.session.signal_alerts.rules["gbm_1h_h24"].min_confidence == D("0.005")
