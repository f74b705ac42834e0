"""Signal benchmarks: one inference of the shipped model, onnxruntime's floor (a one-node model, same
session options) measured in the same run, and the whole work of a closed bar in the service
(Decimal bar → features → inference → Signal on the bus)."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CANDLES = ROOT.parent / "shared" / "data" / "candles" / "binance"


def _pb_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _pb(field: int, value: int | bytes | str) -> bytes:
    """One protobuf field: an int as a varint, bytes or a string length-delimited."""
    if isinstance(value, int):
        return _pb_varint(field << 3) + _pb_varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _pb_varint(field << 3 | 2) + _pb_varint(len(data)) + data


def trivial_model(width: int) -> bytes:
    """An ONNX model with one Identity node, float [N, width] in and out (written by hand so the
    benchmark needs no onnx package): what any session.run costs at least."""
    dims = _pb(1, _pb(2, "N")) + _pb(1, _pb(1, width))  # TensorShapeProto.dim: dim_param, dim_value
    tensor_type = _pb(1, _pb(1, 1) + _pb(2, dims))  # TypeProto.tensor_type{elem_type FLOAT, shape}
    value = lambda name: _pb(1, name) + _pb(2, tensor_type)  # noqa: E731  ValueInfoProto
    node = _pb(1, "x") + _pb(2, "y") + _pb(3, "identity") + _pb(4, "Identity")
    graph = _pb(1, node) + _pb(2, "trivial") + _pb(11, value("x")) + _pb(12, value("y"))
    return _pb(1, 9) + _pb(7, graph) + _pb(8, _pb(1, "") + _pb(2, 17))  # ir_version, graph, opset_import


def _percentiles(samples_ns: list[int]) -> tuple[float, float]:
    a = np.sort(np.asarray(samples_ns, dtype=np.float64)) / 1000.0
    return float(a[len(a) // 2]), float(a[int(len(a) * 0.99)])


def _rows(n: int) -> np.ndarray:
    """Real feature rows (BTC/USDT 1h) when the shared data is here, else rows of a random walk."""
    from app.signals.candles import load_file, make_candles
    from app.signals.features import batch_features

    path = CANDLES / "1h" / "BTC_USDT-1h.csv.gz"
    if path.exists():
        c = load_file(path)
        c = c.slice(len(c) - n - 400, len(c))
    else:
        c = _random_walk(n + 400, make_candles)
    X, valid = batch_features(c)
    return X[valid][-n:]


def _random_walk(n: int, make_candles):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    close = 30000 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    t = np.arange(n, dtype=np.int64) * 3_600_000
    return make_candles(
        "BTC/USDT", "1h", np.column_stack([t, close, close * 1.005, close * 0.995, close, rng.uniform(1, 100, n)])
    )


def onnx_figures(runs: int = 20_000) -> list[tuple[str, float, str]]:
    import onnxruntime as ort

    from app.signals.registry import load_model

    model = load_model()
    rows = _rows(2000)
    for r in rows[:200]:
        model.predict_one(r)
    times = []
    for i in range(runs):
        r = rows[i % len(rows)]
        t0 = time.perf_counter_ns()
        model.predict_one(r)
        times.append(time.perf_counter_ns() - t0)
    p50, p99 = _percentiles(times)

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    floor = ort.InferenceSession(trivial_model(rows.shape[1]), sess_options=opts, providers=["CPUExecutionProvider"])
    buf = np.zeros((1, rows.shape[1]), dtype=np.float32)
    feed, outs = {"x": buf}, ["y"]
    for _ in range(200):
        floor.run(outs, feed)
    ftimes = []
    for i in range(runs):
        buf[0] = rows[i % len(rows)]
        t0 = time.perf_counter_ns()
        floor.run(outs, feed)
        ftimes.append(time.perf_counter_ns() - t0)
    f50, f99 = _percentiles(ftimes)
    return [
        ("onnx_infer_p50_us", p50, "us"),
        ("onnx_infer_p99_us", p99, "us"),
        ("onnx_floor_p50_us", f50, "us"),
        ("onnx_floor_p99_us", f99, "us"),
        ("onnx_infer_vs_floor", p50 / f50, "x"),
    ]


def signal_figures(bars: int = 3000) -> list[tuple[str, float, str]]:
    from app.domain.market import Bar
    from app.engine.bus import EventBus
    from app.engine.signal_service import SignalService
    from app.signals.candles import load_file, make_candles
    from app.signals.features import WINDOW
    from app.signals.registry import load_model

    path = CANDLES / "1h" / "BTC_USDT-1h.csv.gz"
    c = load_file(path) if path.exists() else _random_walk(bars + WINDOW + 100, make_candles)
    c = c.slice(len(c) - bars - WINDOW, len(c))
    cols = [a.tolist() for a in (c.open, c.high, c.low, c.close, c.volume)]
    D = Decimal
    series = [
        Bar("binance", "BTC/USDT", "1h", int(c.open_ms[i]), *(D(repr(col[i])) for col in cols)) for i in range(len(c))
    ]
    bus = EventBus()  # nothing listens to Signal here: what the service itself costs is measured
    model = load_model()
    service = SignalService(bus, [model])
    service.start()
    pipe = service.pipeline(model, "binance", "BTC/USDT")
    service.prime(series[:WINDOW])
    times, feature_times = [], []
    for bar in series[WINDOW:]:
        t0 = time.perf_counter_ns()
        service.on_bar(bar)
        times.append(time.perf_counter_ns() - t0)
    assert pipe.features.ready and service.latest, "no signal was made"
    # The features alone, on a fresh pipeline over the same bars.
    from app.signals.pipeline import SignalPipeline

    alone = SignalPipeline(model.contract, "binance", "BTC/USDT")
    alone.prime(series[:WINDOW])
    for bar in series[WINDOW:]:
        t0 = time.perf_counter_ns()
        alone.on_bar(bar)
        feature_times.append(time.perf_counter_ns() - t0)
    p50, p99 = _percentiles(times)
    f50, _ = _percentiles(feature_times)
    return [
        ("signal_per_bar_p50_us", p50, "us"),
        ("signal_per_bar_p99_us", p99, "us"),
        ("signal_features_p50_us", f50, "us"),
    ]
