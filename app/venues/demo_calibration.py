"""Fit the demo market's parameters from real candles; writes ``demo_params.json``.

    python -m app.venues.demo_calibration [--data DIR] [--out FILE]

Reads ``demo_replay/{BTC,ETH}_USDT-1m_*.csv.gz`` (one gap-free month of Binance 1m candles with
the 2024-08-05 crash) from the shared data folder (default: ``shared/data`` beside the
repository). Per symbol it fits, on 1m log returns (close to close):
- a GARCH(1,1) variance process with Student-t innovations, by maximum likelihood (scipy);
- the per-minute volume as a log-normal whose log-mean rises with |standardised return|
  (least squares of log volume on |z|).
Needs the ``train`` extra (scipy). Never copies the data: only the fitted numbers are written.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data"
OUT = Path(__file__).with_name("demo_params.json")
FILES = {"BTC/USDT": "BTC_USDT-1m_20240726_20240825.csv.gz", "ETH/USDT": "ETH_USDT-1m_20240726_20240825.csv.gz"}


def load(path: Path) -> np.ndarray:
    with gzip.open(path, "rt") as fh:
        return np.loadtxt(fh, delimiter=",", skiprows=1)


def garch_t_nll(params: np.ndarray, r: np.ndarray) -> float:
    from scipy.special import gammaln

    omega, alpha, beta, nu = params
    if omega <= 0 or alpha < 0 or beta < 0 or alpha + beta >= 0.999 or nu <= 2.05:
        return 1e18
    n = len(r)
    h = np.empty(n)
    h[0] = r.var()
    for i in range(1, n):
        h[i] = omega + alpha * r[i - 1] ** 2 + beta * h[i - 1]
    # Student-t scaled to unit variance.
    scale2 = h * (nu - 2) / nu
    ll = (gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * np.log(np.pi * nu * scale2)
          - (nu + 1) / 2 * np.log1p(r**2 / (nu * scale2)))
    return float(-ll.sum())


def fit_symbol(rows: np.ndarray) -> dict[str, float]:
    from scipy.optimize import minimize

    close, volume = rows[:, 4], rows[:, 5]
    r = np.diff(np.log(close))
    r = r - r.mean()
    var = r.var()
    x0 = np.array([var * 0.05, 0.08, 0.9, 5.0])
    res = minimize(garch_t_nll, x0, args=(r,), method="Nelder-Mead",
                   options={"maxiter": 4000, "xatol": 1e-10, "fatol": 1e-6})
    omega, alpha, beta, nu = (float(v) for v in res.x)
    h = np.empty(len(r))
    h[0] = var
    for i in range(1, len(r)):
        h[i] = omega + alpha * r[i - 1] ** 2 + beta * h[i - 1]
    z = np.abs(r / np.sqrt(h))
    logv = np.log(np.maximum(volume[1:], 1e-9))
    slope, intercept = np.polyfit(z, logv, 1)
    resid = logv - (intercept + slope * z)
    kurt = float(((r / r.std()) ** 4).mean() - 3)
    return {
        "garch_omega": omega,
        "garch_alpha": alpha,
        "garch_beta": beta,
        "t_nu": nu,
        "uncond_vol_1m": float(np.sqrt(omega / (1 - alpha - beta))),
        "sample_vol_1m": float(r.std()),
        "sample_excess_kurtosis_1m": kurt,
        "volume_log_intercept": float(intercept),
        "volume_log_slope_abs_z": float(slope),
        "volume_log_sigma": float(resid.std()),
        "mean_volume_1m": float(volume.mean()),
        "start_price": float(close[-1]),
        "minutes": len(close),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    folder = a.data / "demo_replay"
    if not folder.is_dir():
        print(f"no data folder at {folder}: nothing to fit", file=sys.stderr)
        return 2
    out = json.loads(a.out.read_text()) if a.out.exists() else {}
    symbols = out.get("symbols", {})
    for sym, name in FILES.items():
        fitted = fit_symbol(load(folder / name))
        symbols[sym] = {**symbols.get(sym, {}), **fitted}
        print(sym, json.dumps(fitted, indent=None))
    out["symbols"] = symbols
    out["note"] = {
        "source": [*sorted(FILES.values()), "(Binance spot 1m candles, 2024-07-26 to 2024-08-25)"],
        "method": "GARCH(1,1) with unit-variance Student-t innovations fitted by maximum likelihood (Nelder-Mead) "
                  "on demeaned 1m close-to-close log returns; per-minute volume log-normal with log-mean linear "
                  "in |standardised return|, least squares. Spread and book depth are not in candles: spread is "
                  "the 1-2 tick spread Binance shows for these pairs, depth per level a fraction of the fitted "
                  "per-minute volume (spread_ticks, depth_fraction below, set by hand).",
        "fitted_on": datetime.now(tz=UTC).strftime("%Y-%m-%d"),
        "command": "python -m app.venues.demo_calibration",
    }
    a.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
