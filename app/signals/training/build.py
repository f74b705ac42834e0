"""Train, validate walk-forward, export to ONNX, evaluate the export on the tune period, write the cards.

The split (from the shared data's README): training samples are bars whose label ends before
``train_end`` (2024-07-01); the tune period starts ``LOOKBACK`` bars after it, so that between the
last training label and the first tune feature window lie look-back + horizon bars (the embargo),
and runs to ``tune_end``. Walk-forward folds inside the training period follow the same rule:
each fold is scored by a model fitted only on labels that end before the fold starts, with the
same embargo. Nothing is chosen by looking at the tune period: its figures are reported as they
come out (the hyper-parameters were picked on the walk-forward folds).

Reproducible: fixed seeds, one thread for the fits (threaded sums would change the last bits),
and an ONNX file whose bytes depend only on the model; its sha256 goes into the card.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import skl2onnx
import sklearn
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import HistGradientBoostingClassifier

from app.domain.market import TIMEFRAME_MS
from app.signals.candles import Candles, load_folder, parse_ms
from app.signals.evaluate import Evaluation, Rule, run_symbol, summarise
from app.signals.features import FEATURE_DOCS, FEATURE_SET, FEATURES, LOOKBACK, WINDOW, batch_features
from app.signals.labels import forward_labels, round_trip_cost
from app.signals.model import CONTRACT_KEY, ModelContract, OnnxSignalModel

# onnx and threadpoolctl come with skl2onnx and scikit-learn; imported by name so that type checks
# pass where the train extra is not installed.
onnx: Any = importlib.import_module("onnx")
threadpool_limits: Any = importlib.import_module("threadpoolctl").threadpool_limits

ONNX_OPSET = {"": 17, "ai.onnx.ml": 3}


@dataclass(frozen=True)
class TrainConfig:
    name: str = "gbm_1h_h24"
    version: str = "1.0.0"
    timeframe: str = "1h"
    horizon: int = 24
    fee: float = 0.001
    threshold: float = 0.5
    train_end: str = "2024-07-01"
    tune_end: str = "2025-01-01"
    symbols: tuple[str, ...] | None = None  # None: every file of the timeframe
    folds_from: str = "2021-01-01"  # walk-forward folds of fold_months from here to train_end
    fold_months: int = 6
    max_iter: int = 300
    learning_rate: float = 0.03
    max_depth: int = 3
    min_samples_leaf: int = 2000
    l2_regularization: float = 1.0
    seed: int = 0

    @property
    def tf_ms(self) -> int:
        return TIMEFRAME_MS[self.timeframe]

    @property
    def rule(self) -> Rule:
        return Rule(self.horizon, self.fee, self.threshold)

    def label_text(self) -> str:
        return (
            f"1 if log(close[t+{self.horizon}] / close[t]) > -2*log(1-{self.fee}) = {round_trip_cost(self.fee):.6f}, "
            f"else 0: a long bought at bar t's close and sold {self.horizon} bars later gains after two taker "
            f"fees of {self.fee:.2%}; undefined across a gap"
        )

    def contract(self) -> ModelContract:
        return ModelContract(
            name=self.name,
            version=self.version,
            feature_set=FEATURE_SET,
            features=FEATURES,
            timeframe=self.timeframe,
            window=WINDOW,
            horizon=self.horizon,
            fee=self.fee,
            threshold=self.threshold,
            label=self.label_text(),
        )


@dataclass
class Samples:
    """Every symbol's candles with their features and labels, features rounded to float32 (what
    the ONNX model reads), so the model is fitted on exactly the values it will be given."""

    candles: dict[str, Candles]
    features: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    labels: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def build(cls, candles: dict[str, Candles], horizon: int, fee: float) -> Samples:
        s = cls(candles)
        for sym, c in candles.items():
            X, vf = batch_features(c)
            s.features[sym] = (X.astype(np.float32).astype(np.float64), vf)
            s.labels[sym] = forward_labels(c, horizon, fee)
        return s

    def training_rows(self, label_end_ms: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows whose features are complete and whose label ends before ``label_end_ms``."""
        xs, ys = [], []
        for sym, c in sorted(self.candles.items()):
            X, vf = self.features[sym]
            y, vl = self.labels[sym]
            ok = vf & vl & (c.open_ms + horizon * c.tf_ms < label_end_ms)
            xs.append(X[ok])
            ys.append(y[ok])
        return np.concatenate(xs), np.concatenate(ys).astype(np.int64)

    def rows_between(self, start_ms: int, end_ms: int) -> np.ndarray:
        """Feature rows of every bar with complete features whose open time is in [start, end)."""
        xs = []
        for sym, c in sorted(self.candles.items()):
            X, vf = self.features[sym]
            xs.append(X[vf & (c.open_ms >= start_ms) & (c.open_ms < end_ms)])
        return np.concatenate(xs)

    def score(
        self, predict: Callable[[np.ndarray], np.ndarray], rule: Rule, start_ms: int, end_ms: int
    ) -> tuple[Evaluation, dict[str, Evaluation]]:
        runs = {}
        for sym, c in sorted(self.candles.items()):
            run = run_symbol(c, predict, rule, start_ms, end_ms, features=self.features[sym])
            if run is not None:
                runs[sym] = run
        per = {s: summarise(r.y, r.p, rule.threshold, [r.trade]) for s, r in runs.items()}
        y = np.concatenate([r.y for r in runs.values()]) if runs else np.empty(0)
        p = np.concatenate([r.p for r in runs.values()]) if runs else np.empty(0)
        return summarise(y, p, rule.threshold, [r.trade for r in runs.values()]), per


def fit(cfg: TrainConfig, X: np.ndarray, y: np.ndarray) -> HistGradientBoostingClassifier:
    model = HistGradientBoostingClassifier(
        max_iter=cfg.max_iter,
        learning_rate=cfg.learning_rate,
        max_depth=cfg.max_depth,
        min_samples_leaf=cfg.min_samples_leaf,
        l2_regularization=cfg.l2_regularization,
        early_stopping=False,
        random_state=cfg.seed,
    )
    with threadpool_limits(limits=1):
        model.fit(X, y)
    return model


def _sk_predict(model: HistGradientBoostingClassifier) -> Callable[[np.ndarray], np.ndarray]:
    def predict(X: np.ndarray) -> np.ndarray:
        with threadpool_limits(limits=1):
            return np.asarray(model.predict_proba(X.astype(np.float32).astype(np.float64))[:, 1])

    return predict


def _add_months(ms: int, months: int) -> int:
    d = datetime.fromtimestamp(ms / 1000, tz=UTC)
    y, m = divmod(d.month - 1 + months, 12)
    return int(d.replace(year=d.year + y, month=m + 1).timestamp() * 1000)


def fold_bounds(cfg: TrainConfig) -> list[tuple[int, int]]:
    start, end = parse_ms(cfg.folds_from), parse_ms(cfg.train_end)
    out = []
    while start < end:
        nxt = min(_add_months(start, cfg.fold_months), end)
        out.append((start, nxt))
        start = nxt
    return out


def export_onnx(model: HistGradientBoostingClassifier, contract: ModelContract) -> bytes:
    with warnings.catch_warnings():  # protobuf 6 warns of the bools skl2onnx writes (see the train extra)
        warnings.simplefilter("ignore", DeprecationWarning)
        onx = convert_sklearn(
            model,
            name=contract.name,
            initial_types=[(contract.input_name, FloatTensorType([None, len(contract.features)]))],
            options={id(model): {"zipmap": False}},
            target_opset=ONNX_OPSET,
        )
    onx.doc_string = f"AutoGrowth Trader signal model {contract.name} {contract.version}: P(label=1). {contract.label}"
    onx.model_version = int(contract.version.split(".")[0])
    del onx.metadata_props[:]
    entry = onx.metadata_props.add()
    entry.key, entry.value = CONTRACT_KEY, contract.to_json()
    onnx.checker.check_model(onx)
    return onx.SerializeToString(deterministic=True)


def _clean(x: Any) -> Any:
    """NaN (an empty bin, a single class) as null: the card stays strict JSON."""
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def _figures(e: Evaluation) -> dict[str, Any]:
    d = {
        k: getattr(e, k)
        for k in (
            "n",
            "auc",
            "accuracy",
            "base_rate",
            "brier",
            "ece",
            "strategy_return",
            "buy_hold_return",
            "exposure",
            "trades",
        )
    }
    d["majority_accuracy"] = e.majority_accuracy
    d["brier_base"] = e.brier_base
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in d.items()}


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def build(
    data_dir: Path, out_dir: Path, cfg: TrainConfig | None = None, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Build ``out_dir/NAME.onnx`` and its cards from ``data_dir`` (laid out like the shared
    ``data/`` folder: ``candles/binance/1h/...``); returns the card."""
    cfg = cfg or TrainConfig()
    t_start = time.perf_counter()
    folder = data_dir / "candles" / "binance" if (data_dir / "candles" / "binance").is_dir() else data_dir
    candles = load_folder(folder, cfg.timeframe, list(cfg.symbols) if cfg.symbols else None)
    if not candles:
        raise FileNotFoundError(f"no {cfg.timeframe} candles in {folder}")
    samples = Samples.build(candles, cfg.horizon, cfg.fee)
    tf, rule = cfg.tf_ms, cfg.rule
    embargo_ms = LOOKBACK * tf  # after a boundary; labels before it end before it (horizon)

    folds = []
    for a, b in fold_bounds(cfg):
        X, y = samples.training_rows(a, cfg.horizon)
        model = fit(cfg, X, y)
        overall, _ = samples.score(_sk_predict(model), rule, a + embargo_ms, b)
        folds.append({"from": _day(a + embargo_ms), "to": _day(b), "train_rows": len(y), **_figures(overall)})
        log(
            f"walk-forward {_day(a)[:10]}: n={overall.n} auc={overall.auc:.4f} acc={overall.accuracy:.4f} "
            f"majority={overall.majority_accuracy:.4f} brier={overall.brier:.5f}/{overall.brier_base:.5f}"
        )

    train_end = parse_ms(cfg.train_end)
    X, y = samples.training_rows(train_end, cfg.horizon)
    model = fit(cfg, X, y)
    contract = cfg.contract()
    blob = export_onnx(model, contract)
    onnx_model = OnnxSignalModel.load(blob, name=cfg.name)

    tune_from, tune_to = train_end + embargo_ms, parse_ms(cfg.tune_end)
    tune, tune_per = samples.score(onnx_model.predict_proba, rule, tune_from, tune_to)
    rows = samples.rows_between(tune_from, tune_to)
    conversion_diff = (
        float(np.max(np.abs(_sk_predict(model)(rows) - onnx_model.predict_proba(rows)))) if len(rows) else 0.0
    )
    log(
        f"tune (onnx): n={tune.n} auc={tune.auc:.4f} acc={tune.accuracy:.4f} majority={tune.majority_accuracy:.4f} "
        f"brier={tune.brier:.5f}/{tune.brier_base:.5f} ece={tune.ece:.4f} strategy={tune.strategy_return:.4f} "
        f"buy_hold={tune.buy_hold_return:.4f}"
    )
    first_train = min(
        int(c.open_ms[np.flatnonzero(samples.features[s][1])[0]])
        for s, c in candles.items()
        if samples.features[s][1].any()
    )
    card: dict[str, Any] = {
        "name": cfg.name,
        "version": cfg.version,
        "contract": contract.to_dict(),
        "features": [{"name": f, "description": FEATURE_DOCS[f]} for f in FEATURES],
        "model": {
            "kind": "gradient-boosted trees (scikit-learn HistGradientBoostingClassifier, log loss)",
            "params": {
                k: getattr(cfg, k)
                for k in ("max_iter", "learning_rate", "max_depth", "min_samples_leaf", "l2_regularization", "seed")
            },
            "trees": int(model.n_iter_),
            "input": f"{contract.input_name}: float32 [N, {len(FEATURES)}]",
            "output": f"{contract.output_name}: float32 [N, 2] (P(0), P(1)); label: int64 [N]",
            "onnx_opset": ONNX_OPSET,
            "built_with": {
                "python": platform.python_version(),
                "numpy": np.__version__,
                "scikit-learn": sklearn.__version__,
                "skl2onnx": skl2onnx.__version__,
                "onnx": onnx.__version__,
            },
        },
        "training": {
            "data": f"Binance spot {cfg.timeframe} candles ({', '.join(sorted(candles))}); Market data (c) Binance",
            "from": _day(first_train),
            "labels_end_before": cfg.train_end,
            "rows": len(y),
            "base_rate": round(float(y.mean()), 6),
        },
        "walk_forward": {
            "scheme": (
                f"expanding window; folds of {cfg.fold_months} months from {cfg.folds_from}; each scored by a "
                f"model fitted on labels ending before the fold, first scored bar {LOOKBACK} bars into it"
            ),
            "folds": folds,
            "mean_auc": round(float(np.mean([f["auc"] for f in folds])), 6) if folds else None,
        },
        "tune": {
            "from": _day(tune_from),
            "to_before": _day(tune_to),
            "embargo": f"{LOOKBACK} + {cfg.horizon} bars (look-back + horizon) between the last training label "
            f"and the first tune feature window",
            "overall": _figures(tune),
            "per_symbol": {s: _figures(e) for s, e in tune_per.items()},
            "reliability": [asdict(r) for r in tune.reliability if r.n],
            "max_abs_diff_sklearn_onnx_probability": float(f"{conversion_diff:.3g}"),
        },
        "trading_rule": (
            f"a forecast above {cfg.threshold} at a bar's close opens (or extends) a long held "
            f"{cfg.horizon} bars; {cfg.fee:.2%} taker fee on each entry and exit; spot, no shorts"
        ),
        "rebuild": {
            "command": "python -m app signals train --data ../shared/data",
            "onnx_sha256": hashlib.sha256(blob).hexdigest(),
        },
    }
    card = _clean(card)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{cfg.name}.onnx").write_bytes(blob)
    (out_dir / f"{cfg.name}.json").write_text(json.dumps(card, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    (out_dir / f"{cfg.name}.md").write_text(card_markdown(card), encoding="utf-8")
    log(
        f"wrote {out_dir / (cfg.name + '.onnx')} ({len(blob)} bytes, sha256 {card['rebuild']['onnx_sha256'][:16]}…) "
        f"in {time.perf_counter() - t_start:.0f} s"
    )
    return card


def _row(d: dict[str, Any], keys: tuple[str, ...]) -> str:
    return "| " + " | ".join(str(d.get(k, "")) for k in keys) + " |"


def card_markdown(card: dict[str, Any]) -> str:
    """The human-readable model card, from the same content as the JSON card."""
    c = card["contract"]
    t = card["tune"]
    o = t["overall"]
    keys = (
        "n",
        "auc",
        "accuracy",
        "majority_accuracy",
        "base_rate",
        "brier",
        "brier_base",
        "ece",
        "strategy_return",
        "buy_hold_return",
        "exposure",
        "trades",
    )
    lines = [
        f"# Model card: {card['name']} {card['version']}",
        "",
        "Generated by `python -m app signals train` together with the `.onnx` and the JSON card (the",
        f"machine-readable copy; the contract is also in the ONNX metadata under `{CONTRACT_KEY}`).",
        "",
        "## Contract",
        "",
        f"- Timeframe: {c['timeframe']} closed candles; window: {c['window']} bars (no window spans a gap)",
        f"- Input `{c['input_name']}`: float32 [N, {len(c['features'])}], features of set `{c['feature_set']}` "
        f"in this order:",
        "",
    ]
    lines += [f"  {i}. `{f['name']}`: {f['description']}" for i, f in enumerate(card["features"])]
    lines += [
        "",
        f"- Output `{c['output_name']}`: [N, 2], column 1 = P(label = 1)",
        f"- Label (horizon {c['horizon']} bars): {c['label']}",
        f'- Signal: "up" when P > {c["threshold"]}, else "down"; confidence = |2P - 1|',
        f"- Trading rule used for the figures: {card['trading_rule']}",
        "",
        "## Model and training",
        "",
        f"- {card['model']['kind']}, {card['model']['trees']} trees; parameters {card['model']['params']}",
        f"- Data: {card['training']['data']}",
        f"- Training rows: {card['training']['rows']} from {card['training']['from']}, labels ending before "
        f"{card['training']['labels_end_before']}; base rate {card['training']['base_rate']}",
        f"- Built with {card['model']['built_with']}",
        "",
        "## Walk-forward validation (inside the training period)",
        "",
        card["walk_forward"]["scheme"] + ".",
        "",
        "| from | to | " + " | ".join(keys) + " |",
        "|" + "---|" * (len(keys) + 2),
    ]
    lines += [_row(f, ("from", "to", *keys)) for f in card["walk_forward"]["folds"]]
    lines += [
        "",
        f"## Tune period, out of sample: {t['from']} to {t['to_before']} (UTC)",
        "",
        f"Embargo: {t['embargo']}. Figures of the exported ONNX model, as they came out (nothing was tuned on them).",
        "",
        "| symbol | " + " | ".join(keys) + " |",
        "|" + "---|" * (len(keys) + 1),
        "| **all** |" + _row(o, keys)[1:],
    ]
    lines += [f"| {s} |" + _row(e, keys)[1:] for s, e in t["per_symbol"].items()]
    lines += [
        "",
        "Reliability (all symbols):",
        "",
        "| forecast bin | n | mean forecast | observed |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['lo']:.1f}-{r['hi']:.1f} | {r['n']} | {r['mean_forecast']:.4f} | {r['observed']:.4f} |"
        for r in t["reliability"]
        if r["n"]
    ]
    if any(o.get(k) is None for k in ("auc", "brier", "brier_base", "strategy_return", "buy_hold_return")):
        lines += ["", "The tune period has too few labelled bars (or one class only) for a verdict.", ""]
    else:
        beats = o["auc"] > 0.5 and o["brier"] < o["brier_base"]
        margin = " by a small margin" if beats and o["brier_base"] - o["brier"] < 0.0025 else ""
        trade = "beats" if o["strategy_return"] > o["buy_hold_return"] else "does not beat"
        lines += [
            "",
            f"On the tune period the model {'beats the base rate' + margin if beats else 'does not beat the base rate'} "
            f"(AUC {o['auc']:.4f} vs 0.5; Brier {o['brier']:.5f} vs {o['brier_base']:.5f} for always forecasting the "
            f"period's own base rate; accuracy {o['accuracy']:.4f} vs {o['majority_accuracy']:.4f} for always "
            f"guessing the majority class). Trading on it {trade} buy-and-hold: {o['strategy_return']:+.2%} vs "
            f"{o['buy_hold_return']:+.2%} (mean over the symbols, fees paid, long {o['exposure']:.0%} of the time).",
            "",
        ]
    lines += [
        "## Rebuild",
        "",
        f"`{card['rebuild']['command']}` (with the `train` extra) writes this card and a model file whose sha256 is",
        f"`{card['rebuild']['onnx_sha256']}` when run with the versions above.",
        "",
    ]
    return "\n".join(lines)


def reduced(cfg: TrainConfig | None = None, **changes: Any) -> TrainConfig:
    """A small build for tests: one symbol, few trees, one fold."""
    base = cfg or TrainConfig()
    opts: dict[str, Any] = {
        "symbols": ("BTC/USDT",),
        "max_iter": 20,
        "folds_from": "2024-01-01",
        "name": "test_model",
        "min_samples_leaf": 500,
    }
    opts.update(changes)
    return replace(base, **opts)
