"""``python -m app signals evaluate`` on real candle folders."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from signal_data import CANDLES, ROOT

from app.cli import main

NAMES = ("n", "auc", "accuracy", "base_rate", "brier", "ece", "strategy_return", "buy_hold_return")


def run(argv, capsys) -> dict[str, str]:
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    return dict(line.split(": ", 1) for line in out.splitlines())


def test_evaluate_prints_the_cards_out_of_sample_figures(capsys):
    if not (CANDLES / "1h").is_dir():
        pytest.skip("the shared candles are not here")
    got = run(
        [
            "signals",
            "evaluate",
            "--candles",
            str(CANDLES),
            "--from",
            "2024-07-08",
            "--to",
            "2025-01-01",
            "--symbol",
            "BTC/USDT",
            "--symbol",
            "ETH/USDT",
        ],
        capsys,
    )
    card = json.loads((ROOT / "models_onnx" / "gbm_1h_h24.json").read_text())
    for symbol in ("BTC/USDT", "ETH/USDT"):
        for name in NAMES:
            assert float(got[f"{symbol}.{name}"]) == pytest.approx(card["tune"]["per_symbol"][symbol][name], abs=2e-6)
    assert got["model"] == "gbm_1h_h24"
    assert int(got["n"]) == int(got["BTC/USDT.n"]) + int(got["ETH/USDT.n"])


def test_evaluate_works_on_any_folder_laid_out_the_same_even_with_holes_and_no_coverage_file(tmp_path, capsys):
    src = CANDLES / "1h" / "SOL_USDT-1h.csv.gz"
    if not src.exists():
        pytest.skip("the shared candles are not here")
    lines = gzip.decompress(src.read_bytes()).decode().splitlines()
    header, rows = lines[0], lines[-2500:]
    del rows[1200:1203]  # a three-hour hole the evaluation must find by itself
    (tmp_path / "1h").mkdir()
    (tmp_path / "1h" / "SOL_USDT-1h.csv").write_text("\n".join([header, *rows]) + "\n")
    got = run(["signals", "evaluate", "--candles", str(tmp_path)], capsys)
    for name in NAMES:
        assert f"SOL/USDT.{name}" in got and name in got
        assert np.isfinite(float(got[name]))
    # Two warm-ups (start, after the hole) and two label horizons (before the hole, at the end).
    assert int(got["n"]) == 2497 - 2 * 168 - 2 * 24
    assert 0.0 <= float(got["base_rate"]) <= 1.0


def test_evaluate_without_candles_of_the_models_timeframe_says_so(tmp_path, capsys):
    assert main(["signals", "evaluate", "--candles", str(tmp_path)]) == 2
    assert "no 1h candle files" in capsys.readouterr().err


def test_evaluate_with_a_model_that_breaks_its_contract_prints_the_message_key(tmp_path, capsys):
    (tmp_path / "bad.onnx").write_bytes(b"junk")
    assert main(["signals", "evaluate", "--model", str(tmp_path / "bad.onnx"), "--candles", str(tmp_path)]) == 2
    assert "signals.model.unreadable" in capsys.readouterr().err
