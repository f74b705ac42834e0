"""Fit the demo market's parameters from real Binance data and write ``demo_params.json``.

    python -m app.venues.demo_calibration [--data DIR] [--out FILE]

``DIR`` is the shared data folder (default: ``shared/data`` beside the repository). Per symbol, on
the 1m candles of ``demo_replay/`` (one gap-free month with the 2024-08-05 crash):

- GARCH(1,1) with unit-variance Student-t shocks on demeaned 1m log returns, by maximum
  likelihood, with variance targeting (long-run variance = sample variance, so a long demo session
  keeps the month's volatility) and persistence alpha + beta capped at 0.999;
- log volume per minute = intercept + slope * log(conditional sd / sample sd) + slope * |z| + u,
  u an AR(1) process (least squares), z the standardised return.

SOL/USDT has no 1m file: it takes ETH's 1m dynamics, scaled by the ratio of SOL to ETH 5m return
volatility and volume over the same month (``candles/binance/5m``).

The order book (spread, level gaps, size profile by level, how often levels change) comes from the
recorded Binance sessions in ``fixtures/cryptofeed_sample_data`` (REST depth snapshots, diff-depth,
bookTicker, kline and aggTrade streams of eight small pairs, 2021-10).

Needs scipy (the ``train`` extra); the app never imports this module. Only fitted numbers are
written, never the data.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data"
OUT = Path(__file__).with_name("demo_params.json")
MINUTE_FILES = {
    "BTC/USDT": "demo_replay/BTC_USDT-1m_20240726_20240825.csv.gz",
    "ETH/USDT": "demo_replay/ETH_USDT-1m_20240726_20240825.csv.gz",
}
# Symbol fitted from 5m candles by scaling a 1m-fitted reference: name -> (5m file, reference, its 5m file)
SCALED = {"SOL/USDT": ("candles/binance/5m/SOL_USDT-5m.csv.gz", "ETH/USDT", "candles/binance/5m/ETH_USDT-5m.csv.gz")}
RECORDINGS = "fixtures/cryptofeed_sample_data"
SESSIONS = ("BINANCE", "BINANCE_US")  # each: .0 (exchangeInfo), .http.0.0 (depth snapshots), .ws.1.0 (streams)
MAX_PERSISTENCE = 0.999
LEVELS = 20


# -- candles and the volatility model -------------------------------------------------------------
def load_candles(path: Path) -> np.ndarray:
    """Rows of open_time, open, high, low, close, volume."""
    with gzip.open(path, "rt") as fh:
        return np.loadtxt(fh, delimiter=",", skiprows=1, ndmin=2)


def garch_variance(r2: np.ndarray, omega: float, alpha: float, beta: float, h0: float) -> np.ndarray:
    """h[t] = omega + alpha * r2[t-1] + beta * h[t-1], h[0] = h0 (a linear filter: fast)."""
    from scipy.signal import lfilter

    x = np.empty_like(r2)
    x[0] = h0
    x[1:] = omega + alpha * r2[:-1]
    return lfilter([1.0], [1.0, -beta], x)


def _unpack(theta: np.ndarray, var: float) -> tuple[float, float, float, float]:
    persistence = MAX_PERSISTENCE / (1 + np.exp(-theta[0]))
    alpha = persistence / (1 + np.exp(-theta[1]))
    nu = 2.05 + np.exp(theta[2])
    return var * (1 - persistence), float(alpha), float(persistence - alpha), float(nu)


def student_t_loglik(r: np.ndarray, h: np.ndarray, nu: float) -> np.ndarray:
    """Log density of r under a Student-t with nu degrees of freedom scaled to variance h."""
    from scipy.special import gammaln

    s2 = h * (nu - 2) / nu
    return (
        gammaln((nu + 1) / 2)
        - gammaln(nu / 2)
        - 0.5 * np.log(np.pi * nu * s2)
        - (nu + 1) / 2 * np.log1p(r * r / (nu * s2))
    )


def fit_garch_t(r: np.ndarray) -> dict[str, float]:
    """GARCH(1,1)-t by maximum likelihood, variance targeting, unconstrained parameters."""
    from scipy.optimize import minimize

    var = float(r.var())
    r2 = r * r

    def nll(theta: np.ndarray) -> float:
        omega, alpha, beta, nu = _unpack(theta, var)
        return float(-student_t_loglik(r, garch_variance(r2, omega, alpha, beta, var), nu).sum())

    res = minimize(
        nll, np.array([3.0, -2.0, 1.0]), method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-9, "fatol": 1e-9}
    )
    res = minimize(nll, res.x, method="BFGS")
    omega, alpha, beta, nu = _unpack(res.x, var)
    return {"omega": omega, "alpha": alpha, "beta": beta, "nu": nu, "loglik": -float(res.fun)}


def fit_minutes(rows: np.ndarray) -> dict[str, Any]:
    close, volume = rows[:, 4], rows[:, 5]
    r = np.diff(np.log(close))
    r = r - r.mean()
    var = float(r.var())
    garch = fit_garch_t(r)
    h = garch_variance(r * r, garch["omega"], garch["alpha"], garch["beta"], var)
    garch["log_h_over_var_mean"] = float(np.log(h / var).mean())  # the typical variance, to start from
    z = r / np.sqrt(h)
    # Volume of minute t against its conditional volatility and its own surprise |z|.
    logv = np.log(volume[1:])
    x = np.column_stack([np.ones_like(z), 0.5 * np.log(h / var), np.abs(z)])
    coef, *_ = np.linalg.lstsq(x, logv, rcond=None)
    u = logv - x @ coef
    phi = float((u[1:] * u[:-1]).sum() / (u[:-1] ** 2).sum())
    eta = u[1:] - phi * u[:-1]
    a = np.abs(r) - np.abs(r).mean()
    return {
        "minutes": len(rows),
        "first_open": _iso(rows[0, 0]),
        "last_open": _iso(rows[-1, 0]),
        "last_close": float(close[-1]),
        "return_sd_1m": float(np.sqrt(var)),
        "return_excess_kurtosis_1m": float((r**4).mean() / var**2 - 3),
        "abs_return_autocorr_lag1": float((a[1:] * a[:-1]).mean() / (a * a).mean()),
        "garch": garch,
        "volume": {
            "mean_1m": float(volume.mean()),
            "median_1m": float(np.median(volume)),
            "log_intercept": float(coef[0]),
            "log_slope_log_vol": float(coef[1]),
            "log_slope_abs_z": float(coef[2]),
            "ar1": phi,
            "innovation_sd": float(eta.std()),
            "corr_log_volume_abs_return": float(np.corrcoef(logv, np.abs(r))[0, 1]),
        },
    }


def scale_from_5m(ref: dict[str, Any], ref_1m: np.ndarray, own_5m: np.ndarray, ref_5m: np.ndarray) -> dict[str, Any]:
    """A symbol with only 5m candles: the reference's 1m model, rescaled in volatility and volume
    by the two symbols' 5m ratios over the reference's own period."""
    lo, hi = ref_1m[0, 0], ref_1m[-1, 0] + 60_000 - 300_000  # 5m bars wholly inside the 1m month
    own = own_5m[(own_5m[:, 0] >= lo) & (own_5m[:, 0] <= hi)]
    other = ref_5m[(ref_5m[:, 0] >= lo) & (ref_5m[:, 0] <= hi)]
    vol_ratio = float(np.diff(np.log(own[:, 4])).std() / np.diff(np.log(other[:, 4])).std())
    volume_ratio = float(own[:, 5].mean() / other[:, 5].mean())
    out = json.loads(json.dumps(ref))
    for key in ("minutes", "return_excess_kurtosis_1m", "abs_return_autocorr_lag1"):  # the reference's, not ours
        del out[key]
    del out["garch"]["loglik"], out["volume"]["corr_log_volume_abs_return"]
    out.update(first_open=_iso(own[0, 0]), last_open=_iso(own[-1, 0]), last_close=float(own[-1, 4]))
    out["return_sd_1m"] = ref["return_sd_1m"] * vol_ratio
    out["garch"]["omega"] = ref["garch"]["omega"] * vol_ratio**2
    v = out["volume"]
    v["mean_1m"] *= volume_ratio
    v["median_1m"] *= volume_ratio
    v["log_intercept"] += float(np.log(volume_ratio))
    out["scaled_from"] = {"symbol": "", "vol_ratio_5m": vol_ratio, "volume_ratio_5m": volume_ratio, "bars_5m": len(own)}
    return out


def _iso(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")


# -- recorded order books -------------------------------------------------------------------------
def _payloads(path: Path) -> Iterator[tuple[str, Any]]:
    """Lines ``<head>: <json>``; yields (head, parsed json) for lines that carry a JSON object."""
    with path.open() as fh:
        for line in fh:
            i = line.find("{")
            if i >= 0 and line.rstrip().endswith("}"):
                yield line[:i], json.loads(line[i:])


def fit_book(folder: Path) -> dict[str, Any]:
    ticks: dict[str, Decimal] = {}
    pairs: dict[str, dict[str, Any]] = {}
    log_sizes: list[tuple[int, float]] = []  # (level, log of size / mean size of its side's top 20)
    for session in SESSIONS:
        for _, msg in _payloads(folder / f"{session}.0"):
            for s in msg.get("symbols", ()):
                for f in s["filters"]:
                    if f["filterType"] == "PRICE_FILTER":
                        ticks[s["symbol"]] = Decimal(f["tickSize"])
        books: dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal], int]] = {}
        for head, msg in _payloads(folder / f"{session}.http.0.0"):
            sym = re.search(r"symbol=(\w+)", head).group(1)  # type: ignore[union-attr]
            recorded = float(head.rsplit("->", 1)[1].strip(" :"))
            tick = ticks[sym]
            bids = [(Decimal(p), Decimal(q)) for p, q in msg["bids"][:LEVELS]]
            asks = [(Decimal(p), Decimal(q)) for p, q in msg["asks"][:LEVELS]]
            gaps = [int((a - b) / tick) for side in (bids, asks) for (a, _), (b, _) in itertools.pairwise(side)]
            gaps = [abs(g) for g in gaps]
            mean_size = float(sum(q for _, q in bids + asks)) / (len(bids) + len(asks))
            for side in (bids, asks):
                m = float(sum(q for _, q in side)) / len(side)
                log_sizes += [(k, float(np.log(float(q) / m))) for k, (_, q) in enumerate(side)]
            pairs[sym] = {
                "session": session,
                "tick_bps": float(tick / ((bids[0][0] + asks[0][0]) / 2)) * 1e4,
                "snapshot_spread_ticks": int((asks[0][0] - bids[0][0]) / tick),
                "level_gaps_ticks": gaps,
                "mean_level_size": mean_size,
                "spreads": [],
                "updates": 0,
                "level_changes": 0,
                "trades": 0,
                "stream_ms": [None, None],
                "kline": None,
                "recorded": datetime.fromtimestamp(recorded, tz=UTC).strftime("%Y-%m-%d"),
            }
            books[sym] = (dict(map(_dq, msg["bids"])), dict(map(_dq, msg["asks"])), msg["lastUpdateId"])
        _replay_streams(folder / f"{session}.ws.1.0", books, pairs, ticks)
    return _summarise_book(pairs, log_sizes)


def _dq(level: list[str]) -> tuple[Decimal, Decimal]:
    return Decimal(level[0]), Decimal(level[1])


def _top(side: dict[Decimal, Decimal], reverse: bool) -> dict[Decimal, Decimal]:
    return {p: side[p] for p in sorted(side, reverse=reverse)[:LEVELS]}


def _replay_streams(
    path: Path, books: dict[str, Any], pairs: dict[str, dict[str, Any]], ticks: dict[str, Decimal]
) -> None:
    """Apply the diff-depth stream to the REST snapshots (Binance's sequencing rules) and count how
    many of the top 2x20 levels change; collect bookTicker spreads, trades and minute volumes."""
    for _, msg in _payloads(path):
        data = msg.get("data")
        if not isinstance(data, dict) or "s" not in data:
            continue
        sym, p = data["s"], pairs.get(data["s"])
        if p is None:
            continue
        kind = msg["stream"].split("@", 1)[1]
        if kind == "bookTicker":
            p["spreads"].append(int((Decimal(data["a"]) - Decimal(data["b"])) / ticks[sym]))
        elif kind == "aggTrade":
            p["trades"] += 1
        elif kind == "kline_1m":
            k = data["k"]
            elapsed = min(1.0, (data["E"] - k["t"]) / 60_000)
            if p["kline"] is None or elapsed >= p["kline"]["elapsed"] or k["t"] > p["kline"]["open"]:
                p["kline"] = {"open": k["t"], "elapsed": elapsed, "volume": float(k["v"]), "trades": k["n"]}
        elif kind.startswith("depth"):
            bids, asks, last = books[sym]
            if data["u"] <= last:
                continue  # older than the snapshot
            before = (_top(bids, True), _top(asks, False))
            for side, key in ((bids, "b"), (asks, "a")):
                for price, qty in map(_dq, data[key]):
                    if qty == 0:
                        side.pop(price, None)
                    else:
                        side[price] = qty
            after = (_top(bids, True), _top(asks, False))
            p["level_changes"] += sum(1 for b, a in zip(before, after, strict=True) for px in a if b.get(px) != a[px])
            p["updates"] += 1
            first, _ = p["stream_ms"]
            p["stream_ms"] = [data["E"] if first is None else first, data["E"]]
            books[sym] = (bids, asks, data["u"])


def _summarise_book(pairs: dict[str, dict[str, Any]], log_sizes: list[tuple[int, float]]) -> dict[str, Any]:
    levels = np.array([k for k, _ in log_sizes], dtype=float)
    logs = np.array([v for _, v in log_sizes])
    slope, intercept = np.polyfit(levels, logs, 1)
    resid_sd = float((logs - (intercept + slope * levels)).std())
    summary: dict[str, Any] = {}
    for sym, p in sorted(pairs.items()):
        first, last = p["stream_ms"]
        seconds = (last - first) / 1000 if first is not None and last > first else None
        k = p["kline"]
        volume_1m = k["volume"] / k["elapsed"] if k and k["elapsed"] > 0.5 else None
        trades_1m = k["trades"] / k["elapsed"] if k and k["elapsed"] > 0.5 else None
        gaps = p["level_gaps_ticks"]
        spreads = p["spreads"] or [p["snapshot_spread_ticks"]]
        summary[sym] = {
            "session": p["session"],
            "recorded": p["recorded"],
            "tick_bps": round(p["tick_bps"], 4),
            "median_spread_ticks": float(np.median(spreads)),
            "spread_samples": len(spreads),
            "one_tick_level_gap_share": round(sum(g == 1 for g in gaps) / len(gaps), 4),
            "mean_level_gap_ticks": round(float(np.mean(gaps)), 3),
            "level_changes_per_s": round(p["level_changes"] / seconds, 4) if seconds else None,
            "trades_per_minute": round(trades_1m, 2) if trades_1m else None,
            "volume_per_minute": volume_1m,
            "mean_level_over_volume_1m": p["mean_level_size"] / volume_1m if volume_1m else None,
            "level_changes_per_trade": (
                p["level_changes"] / seconds / (trades_1m / 60) if seconds and trades_1m else None
            ),
            "_gaps": gaps,
        }
    # The reference book for scale and activity: the most actively traded recorded pair.
    active = [s for s, v in summary.items() if v["trades_per_minute"]]
    ref = max(active, key=lambda s: summary[s]["trades_per_minute"])
    # Level gaps from the books quoted mostly one tick apart (like BTC/ETH/SOL near the touch).
    tight = [s for s, v in summary.items() if v["one_tick_level_gap_share"] >= 0.8]
    gaps = np.array([g for s in tight for g in summary[s]["_gaps"]])
    extra = gaps[gaps > 1] - 1
    for v in summary.values():
        del v["_gaps"]
    return {
        "pairs": summary,
        "reference_pair": ref,
        "tick_constrained_pairs": tight,
        "depth_log_slope_per_level": float(slope),
        "depth_log_sd": resid_sd,
        "level_gap_extra_prob": float((gaps > 1).mean()),
        "level_gap_extra_mean": float(extra.mean()) if len(extra) else 0.0,
        "mean_level_over_volume_1m": summary[ref]["mean_level_over_volume_1m"],
        "level_changes_per_trade": summary[ref]["level_changes_per_trade"],
    }


# -- the command ----------------------------------------------------------------------------------
def calibrate(data: Path) -> dict[str, Any]:
    symbols: dict[str, Any] = {}
    minutes: dict[str, np.ndarray] = {}
    for sym, name in MINUTE_FILES.items():
        minutes[sym] = load_candles(data / name)
        symbols[sym] = {"source": Path(name).name, **fit_minutes(minutes[sym])}
    sources = [Path(n).name for n in MINUTE_FILES.values()]
    for sym, (own, ref, ref_file) in SCALED.items():
        if (data / own).is_file() and (data / ref_file).is_file():
            sources += [Path(own).name, Path(ref_file).name]
            fitted = scale_from_5m(symbols[ref], minutes[ref], load_candles(data / own), load_candles(data / ref_file))
            fitted["scaled_from"]["symbol"] = ref
            symbols[sym] = {
                **fitted,
                "source": f"{Path(own).name} against {Path(ref_file).name}, on the fit of {symbols[ref]['source']}",
            }
    book_folder = data / RECORDINGS
    book = fit_book(book_folder)
    first = min(p["first_open"] for p in symbols.values())
    last = max(p["last_open"] for p in symbols.values())
    recorded = sorted({p["recorded"] for p in book["pairs"].values()})
    note = {
        "sources": sources + [f"{RECORDINGS.rsplit('/', 1)[-1]}/{s}.{{0,http.0.0,ws.1.0}}" for s in SESSIONS],
        "period": f"Binance spot 1m candles {first} to {last} (5m for SOL/USDT, same span); order-book "
        f"recordings of Binance and Binance.US on {', '.join(recorded)}, about 30 s each, pairs "
        f"{', '.join(book['pairs'])}",
        "method": "Returns: GARCH(1,1) with unit-variance Student-t innovations, maximum likelihood (Nelder-Mead "
        "then BFGS) on demeaned 1m close-to-close log returns, variance targeting (omega = sample "
        f"variance * (1 - alpha - beta)), alpha + beta <= {MAX_PERSISTENCE}. Volume: least squares of "
        "log 1m volume on log(conditional sd / sample sd) and |standardised return|, residual AR(1). "
        "SOL/USDT: ETH/USDT's 1m model scaled by the SOL/ETH ratios of 5m return sd and mean volume. "
        "Book: REST depth snapshots give the size profile by level (log size relative to the side's "
        "top-20 mean, linear in the level) and level gaps (books quoted mostly one tick apart); the "
        "diff-depth stream replayed on the snapshots gives level changes per second; the reference "
        "pair (most trades per minute) gives depth relative to per-minute volume and level changes "
        "per trade. Not fitted: the demo's trade rate (the candles carry no trade count and the "
        "recorded pairs are not these) and the one-tick base spread Binance quotes for BTC, ETH and "
        "SOL (the recorded pairs' spreads are listed under book.pairs for reference); see demo.py.",
        "fitted_on": datetime.now(tz=UTC).strftime("%Y-%m-%d"),
        "command": "python -m app.venues.demo_calibration",
        "attribution": "Candles: market data (c) Binance. Recordings: bmoscon/cryptofeed sample data.",
    }
    return {"symbols": symbols, "book": book, "note": note}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fit the demo market's parameters from real Binance data.")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    ap.add_argument("--out", type=Path, default=OUT, help="where to write the parameters (JSON)")
    args = ap.parse_args(argv)
    missing = [n for n in (*MINUTE_FILES.values(), RECORDINGS) if not (args.data / n).exists()]
    if missing:
        print(
            f"shared data not found under {args.data} (missing {', '.join(missing)}): nothing to fit", file=sys.stderr
        )
        return 2
    params = calibrate(args.data)
    args.out.write_text(json.dumps(params, indent=2) + "\n")
    for sym, p in params["symbols"].items():
        g, v = p["garch"], p["volume"]
        print(
            f"{sym}: sd {p['return_sd_1m']:.6f}/min, alpha {g['alpha']:.4f} beta {g['beta']:.4f} nu {g['nu']:.2f}; "
            f"volume mean {v['mean_1m']:.4g}, slope |z| {v['log_slope_abs_z']:.3f}"
        )
    b = params["book"]
    print(
        f"book: reference {b['reference_pair']}, depth slope {b['depth_log_slope_per_level']:.4f}/level, "
        f"sd {b['depth_log_sd']:.2f}, gap>1 {b['level_gap_extra_prob']:.3f}, "
        f"level/volume {b['mean_level_over_volume_1m']:.3f}, changes/trade {b['level_changes_per_trade']:.2f}"
    )
    print(f"wrote {args.out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
