"""Parameter sweeps: the grid, the table, the heat map, and the same table from a process pool, from
this process and from a local Ray runtime."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from backtest_data import bars

from app.backtest.engine import BacktestConfig, run_backtest
from app.backtest.strategies import SmaCross
from app.backtest.sweep import grid_points, parse_axis, run_sweep

AXES = [("fast", [5, 10, 20]), ("slow", [20, 40])]


@pytest.fixture(scope="module")
def walk():
    rng = np.random.default_rng(11)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 3000)))
    return bars([(p, p * 1.003, p * 0.997, p) for p in close])


def test_grid_axes():
    assert parse_axis("fast=5:20:5") == ("fast", [5, 10, 15, 20])
    assert parse_axis("slow=20:30") == ("slow", list(range(20, 31)))
    assert parse_axis("stop_loss=0.01:0.03:0.01") == ("stop_loss", [0.01, 0.02, 0.03])
    assert parse_axis("fast=3,8,13") == ("fast", [3, 8, 13])
    for bad in ("fast", "fast=", "fast=5:1", "fast=1:5:0", "fast=1:2:3:4"):
        with pytest.raises(ValueError):
            parse_axis(bad)
    assert grid_points(AXES)[:3] == [{"fast": 5, "slow": 20}, {"fast": 5, "slow": 40}, {"fast": 10, "slow": 20}]


def test_the_table_has_a_row_per_point_in_grid_order_and_a_heat_map(walk):
    config = BacktestConfig(cash=Decimal(10_000))
    result = run_sweep("sma_cross", walk, config, AXES, workers=1)
    assert [(r["fast"], r["slow"]) for r in result.rows] == [(5, 20), (5, 40), (10, 20), (10, 40), (20, 20), (20, 40)]
    bad = result.rows[4]
    assert "fast < slow" in bad["error"] and "sharpe" not in bad
    one = run_backtest(SmaCross(fast=10, slow=40), walk, config)
    assert result.rows[3]["final_equity"] == str(one.final_equity)
    assert result.rows[3]["trades"] == one.metrics.trades
    xs, ys, z = result.heatmap("sharpe")
    assert (xs, ys, z.shape) == ([5, 10, 20], [20, 40], (2, 3))
    assert math.isnan(z[0, 2]) and z[1, 1] == result.rows[3]["sharpe"]
    best = result.best("sharpe")
    assert best is not None and best["sharpe"] == np.nanmax(z)
    assert result.to_json()["heatmap"]["z"][0][2] is None


def test_a_process_pool_gives_the_table_this_process_gives(walk):
    config = BacktestConfig(cash=Decimal(10_000))
    here = run_sweep("sma_cross", walk, config, AXES, workers=1)
    pool = run_sweep("sma_cross", walk, config, AXES, workers=2)
    assert pool.rows == here.rows


@pytest.mark.slow
def test_a_local_ray_runtime_gives_the_table_the_process_pool_gives(walk):
    pytest.importorskip("ray")
    config = BacktestConfig(cash=Decimal(10_000))
    pool = run_sweep("sma_cross", walk, config, AXES, workers=2)
    ray = run_sweep("sma_cross", walk, config, AXES, ray_address="local")
    assert ray.rows == pool.rows
