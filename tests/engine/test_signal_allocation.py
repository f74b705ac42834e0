"""Suggested allocations on covariance matrices whose answers are known: minimum variance and
risk parity, long only, with their expected volatility."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.signals.allocation import (
    AllocationError,
    align,
    covariance,
    min_variance,
    risk_contributions,
    risk_parity,
    suggest,
    volatility,
)


def cov_of(vols, corr) -> np.ndarray:
    v = np.asarray(vols, dtype=float)
    return np.asarray(corr, dtype=float) * np.outer(v, v)


def test_uncorrelated_assets_weigh_by_inverse_variance_and_inverse_volatility():
    vols = [0.1, 0.2, 0.4]
    cov = cov_of(vols, np.eye(3))
    mv, rp = min_variance(cov), risk_parity(cov)
    inv_var = 1 / np.square(vols)
    inv_vol = 1 / np.asarray(vols)
    assert mv == pytest.approx(inv_var / inv_var.sum(), abs=1e-12)
    assert rp == pytest.approx(inv_vol / inv_vol.sum(), abs=1e-10)
    # Minimum variance: 1 / Σ(1/σ²) ; its volatility is the square root.
    assert volatility(mv, cov) == pytest.approx(math.sqrt(1 / inv_var.sum()), rel=1e-12)


def test_identical_assets_get_equal_weights_from_both():
    corr = np.full((4, 4), 0.6) + 0.4 * np.eye(4)
    cov = cov_of([0.3] * 4, corr)
    assert min_variance(cov) == pytest.approx([0.25] * 4, abs=1e-12)
    assert risk_parity(cov) == pytest.approx([0.25] * 4, abs=1e-12)


def test_two_assets_match_the_closed_form_and_go_to_zero_rather_than_short():
    s1, s2, rho = 0.2, 0.3, 0.5
    cov = cov_of([s1, s2], [[1, rho], [rho, 1]])
    w1 = (s2**2 - rho * s1 * s2) / (s1**2 + s2**2 - 2 * rho * s1 * s2)
    assert min_variance(cov) == pytest.approx([w1, 1 - w1], abs=1e-12)
    # Risk parity of two assets: weights inverse to volatility whatever the correlation.
    assert risk_parity(cov) == pytest.approx([s2 / (s1 + s2), s1 / (s1 + s2)], abs=1e-10)
    # Strongly correlated, one much riskier: the unconstrained answer would short it; long only, 0.
    cov = cov_of([0.1, 0.4], [[1, 0.9], [0.9, 1]])
    assert min_variance(cov) == pytest.approx([1.0, 0.0], abs=1e-12)


def test_long_only_minimum_variance_is_optimal_among_many_portfolios():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 6))
    cov = a @ a.T / 6 + np.diag(rng.uniform(0.01, 0.2, 6))
    mv = min_variance(cov)
    assert mv.min() >= 0 and mv.sum() == pytest.approx(1.0)
    best = float(mv @ cov @ mv)
    trials = rng.dirichlet(np.ones(6) * 0.5, 20_000)
    assert (np.einsum("ij,jk,ik->i", trials, cov, trials) >= best - 1e-12).all()
    rp = risk_parity(cov)
    assert rp.min() > 0 and risk_contributions(rp, cov) == pytest.approx([1 / 6] * 6, abs=1e-9)


def test_suggest_from_prices_annualises_and_compares_with_the_current_mix():
    rng = np.random.default_rng(5)
    n = 2000
    r = rng.multivariate_normal([0, 0], [[0.0004, 0.0001], [0.0001, 0.0016]], n)
    prices = {"BTC": 100 * np.exp(np.cumsum(r[:, 0])), "ETH": 50 * np.exp(np.cumsum(r[:, 1]))}
    s = suggest(prices, 365.0, current={"BTC": 1, "ETH": 3})
    cov = covariance(np.column_stack([prices["BTC"], prices["ETH"]]))
    assert s.assets == ("BTC", "ETH") and s.bars == n - 1
    assert s.min_variance == pytest.approx(min_variance(cov)) and s.min_variance[0] > 0.8
    assert s.min_variance_vol == pytest.approx(volatility(s.min_variance, cov, 365.0))
    assert s.asset_vol == pytest.approx(np.sqrt(np.diag(cov) * 365.0))
    assert s.current == pytest.approx([0.25, 0.75]) and s.current_vol > s.risk_parity_vol > s.min_variance_vol


def test_unusable_histories_are_refused_in_words():
    with pytest.raises(AllocationError, match="at least two assets"):
        suggest({"BTC": [1.0, 2.0, 3.0]}, 365)
    with pytest.raises(AllocationError, match="aligned"):
        suggest({"BTC": [1.0, 2.0, 3.0], "ETH": [1.0, 2.0]}, 365)
    with pytest.raises(AllocationError, match="never moved"):
        suggest({"BTC": [1.0, 2.0, 1.5, 2.5], "USDC": [1.0, 1.0, 1.0, 1.0]}, 365)
    with pytest.raises(AllocationError, match="positive"):
        suggest({"BTC": [1.0, -2.0, 3.0], "ETH": [1.0, 2.0, 3.0]}, 365)
    assert {k: v.tolist() for k, v in align({"A": {1: 1.0, 2: 2.0, 3: 3.0}, "B": {2: 5.0, 3: 6.0}}).items()} == {
        "A": [2.0, 3.0],
        "B": [5.0, 6.0],
    }
