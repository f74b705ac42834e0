"""The training pipeline rebuilds a model bit for bit (a reduced build: one symbol, 20 trees; the
full build is ``python -m app signals train``). Skipped without the train extra or the data."""

from __future__ import annotations

import hashlib
import json

import pytest
from signal_data import CANDLES, DATA, ROOT

from app.signals.model import CONTRACT_KEY, OnnxSignalModel


def test_the_shipped_model_is_the_file_its_card_describes():
    onnx_file = ROOT / "models_onnx" / "gbm_1h_h24.onnx"
    card = json.loads((ROOT / "models_onnx" / "gbm_1h_h24.json").read_text())
    assert hashlib.sha256(onnx_file.read_bytes()).hexdigest() == card["rebuild"]["onnx_sha256"]
    assert card["rebuild"]["command"] == "python -m app signals train --data ../shared/data"
    # The embargo of the shared data's README: look-back + horizon bars between train and tune.
    assert card["training"]["labels_end_before"] == "2024-07-01"
    assert card["tune"]["from"] == "2024-07-08 00:00"  # 2024-07-01 + 168 bars of 1h


def test_a_reduced_build_is_reproduced_bit_for_bit(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("skl2onnx")
    if not (CANDLES / "1h" / "BTC_USDT-1h.csv.gz").exists():
        pytest.skip("the shared candles are not here")
    from app.signals.training.build import build, reduced

    cfg = reduced()
    cards = [build(DATA, tmp_path / str(i), cfg, log=lambda _s: None) for i in range(2)]
    blobs = [(tmp_path / str(i) / "test_model.onnx").read_bytes() for i in range(2)]
    assert blobs[0] == blobs[1]
    assert cards[0] == cards[1]
    assert (tmp_path / "0" / "test_model.json").read_bytes() == (tmp_path / "1" / "test_model.json").read_bytes()
    model = OnnxSignalModel.load(blobs[0], card=cards[0], name="test_model")
    meta = json.loads(model.session.get_modelmeta().custom_metadata_map[CONTRACT_KEY])
    assert meta == cards[0]["contract"]
    assert cards[0]["model"]["trees"] == 20
    assert cards[0]["tune"]["max_abs_diff_sklearn_onnx_probability"] < 1e-5
    assert len(cards[0]["walk_forward"]["folds"]) == 1
    assert {"auc", "brier", "ece", "strategy_return", "buy_hold_return"} <= set(cards[0]["tune"]["overall"])
