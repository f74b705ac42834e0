"""An ONNX signal model run by onnxruntime, and the contract it must meet before the app uses it.

The contract (features and their order, timeframe, window, label horizon, decision threshold) is a
JSON object stored in the ONNX file's metadata under ``CONTRACT_KEY`` and repeated in the model
card beside the file. On load, the file must carry a contract the app understands, ask for exactly
the features the app can compute, in that order, as one float tensor [N, len(features)], and give
back class probabilities [N, 2]; a card that says otherwise is refused too. Every refusal is a
``ModelContractError`` with a stable message key: the user sees why, the app does not crash.
"""

from __future__ import annotations

import json
import time
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from app.domain.errors import AppError
from app.domain.market import TIMEFRAME_MS

from .features import FEATURE_SETS, WINDOW

CONTRACT_KEY = "autogrowth.contract"
CONTRACT_FORMAT = 1


class ModelContractError(AppError):
    """A model file the app cannot use as a signal model; ``key`` says which rule it broke."""

    key = "signals.model.invalid"
    template = "The model {model} cannot be used: {detail}"


def _refuse(model: str, key: str, detail: str) -> ModelContractError:
    return ModelContractError(key=key, model=model, detail=detail)


@dataclass(frozen=True)
class ModelContract:
    """What a model promises: fed these features of closed bars of this timeframe, it returns the
    probability that the label is 1 (a long held ``horizon`` bars gains after fees)."""

    name: str
    version: str
    feature_set: str
    features: tuple[str, ...]
    timeframe: str
    window: int  # bars one feature row depends on
    horizon: int  # bars the label looks ahead
    fee: float  # per side, in the label
    threshold: float  # probability above which the signal says "up"
    label: str  # the label in words
    input_name: str = "features"
    output_name: str = "probabilities"
    format: int = CONTRACT_FORMAT

    @property
    def tf_ms(self) -> int:
        return TIMEFRAME_MS[self.timeframe]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["features"] = list(self.features)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any], model: str = "?") -> ModelContract:
        names = {f.name for f in fields(cls)}
        missing = [f.name for f in fields(cls) if f.name not in d and f.default is MISSING]
        if missing:
            raise _refuse(model, "signals.model.bad_contract", f"its contract lacks {', '.join(missing)}")
        try:
            kw = {k: v for k, v in d.items() if k in names}
            kw["features"] = tuple(str(x) for x in kw["features"])
            c = cls(**kw)
            ok = (
                isinstance(c.window, int)
                and isinstance(c.horizon, int)
                and c.horizon > 0
                and 0.0 < float(c.threshold) < 1.0
                and 0.0 <= float(c.fee) < 0.1
            )
        except (TypeError, ValueError) as exc:
            raise _refuse(model, "signals.model.bad_contract", f"its contract is malformed ({exc})") from exc
        if not ok:
            raise _refuse(model, "signals.model.bad_contract", "its contract has values out of range")
        if c.format != CONTRACT_FORMAT:
            raise _refuse(model, "signals.model.bad_contract", f"contract format {c.format} is not {CONTRACT_FORMAT}")
        if c.timeframe not in TIMEFRAME_MS:
            raise _refuse(model, "signals.model.bad_contract", f"unknown timeframe {c.timeframe!r}")
        return c


def check_features(contract: ModelContract, model: str | None = None) -> None:
    """The app computes the model's features, in the model's order, over the model's window."""
    label = model or contract.name
    known = FEATURE_SETS.get(contract.feature_set)
    if known is None:
        raise _refuse(
            label,
            "signals.model.unknown_features",
            f"feature set {contract.feature_set!r} is not one this app computes",
        )
    if contract.features != known:
        extra = [f for f in contract.features if f not in known]
        detail = (
            f"features {', '.join(extra)} are not computed by this app"
            if extra
            else f"its features differ from {contract.feature_set} in number or order"
        )
        raise _refuse(label, "signals.model.unknown_features", detail)
    if contract.window != WINDOW:
        raise _refuse(
            label, "signals.model.unknown_features", f"window {contract.window} bars, the features need {WINDOW}"
        )


def _dims(shape: list[Any]) -> list[int | None]:
    return [d if isinstance(d, int) and d > 0 else None for d in shape]


class OnnxSignalModel:
    """A loaded, checked model. ``predict_proba(X)`` for many rows, ``predict_one(row)`` for the
    row of one closed bar (a preallocated float32 buffer: no allocation per call)."""

    def __init__(self, session: ort.InferenceSession, contract: ModelContract, source: str = "") -> None:
        self.session = session
        self.contract = contract
        self.source = source
        self._buf = np.zeros((1, len(contract.features)), dtype=np.float32)
        self._outputs = [contract.output_name]
        self._feed = {contract.input_name: self._buf}

    @property
    def name(self) -> str:
        return self.contract.name

    @classmethod
    def load(
        cls, source: str | Path | bytes, *, card: dict[str, Any] | None = None, name: str | None = None
    ) -> OnnxSignalModel:
        """Load and check a model from a path or the file's bytes. ``card``: the model card's
        content, whose contract must match the file's."""
        label = name or (Path(source).stem if isinstance(source, str | Path) else "model")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # a few hundred small trees: threads cost more than they save
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            data = Path(source).read_bytes() if isinstance(source, str | Path) else source
            session = ort.InferenceSession(data, sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for any bad file
            raise _refuse(label, "signals.model.unreadable", f"onnxruntime cannot load it ({exc})") from exc
        meta = session.get_modelmeta().custom_metadata_map
        raw = meta.get(CONTRACT_KEY)
        if raw is None:
            raise _refuse(label, "signals.model.no_contract", f"it has no {CONTRACT_KEY} metadata")
        try:
            d = json.loads(raw)
        except ValueError as exc:
            raise _refuse(label, "signals.model.bad_contract", "its contract metadata is not JSON") from exc
        if not isinstance(d, dict):
            raise _refuse(label, "signals.model.bad_contract", "its contract metadata is not an object")
        contract = ModelContract.from_dict(d, label)
        check_features(contract, label)
        cls._check_io(session, contract, label)
        if card is not None:
            card_contract = ModelContract.from_dict(card.get("contract", {}), label)
            if card_contract != contract:
                raise _refuse(label, "signals.model.card_mismatch", "its card and its file disagree on the contract")
        return cls(session, contract, str(source) if isinstance(source, str | Path) else "")

    @staticmethod
    def _check_io(session: ort.InferenceSession, c: ModelContract, label: str) -> None:
        inputs = session.get_inputs()
        want = f"one input {c.input_name!r}: tensor(float) [N, {len(c.features)}]"
        if len(inputs) != 1:
            raise _refuse(
                label, "signals.model.input_mismatch", f"it has {len(inputs)} inputs, the contract says {want}"
            )
        i = inputs[0]
        dims = _dims(list(i.shape))
        if i.name != c.input_name or i.type != "tensor(float)" or len(dims) != 2 or dims[1] != len(c.features):
            raise _refuse(
                label,
                "signals.model.input_mismatch",
                f"its input is {i.name!r}: {i.type} {list(i.shape)}, the contract says {want}",
            )
        outs = {o.name: o for o in session.get_outputs()}
        o = outs.get(c.output_name)
        if o is None or o.type != "tensor(float)" or len(o.shape) != 2 or _dims(list(o.shape))[1] != 2:
            raise _refuse(
                label, "signals.model.output_mismatch", f"it has no output {c.output_name!r}: tensor(float) [N, 2]"
            )

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(label = 1) for each row of ``X`` (n, len(features)), as float64."""
        x = np.ascontiguousarray(X, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != len(self.contract.features):
            raise ValueError(f"expected rows of {len(self.contract.features)} features, got shape {x.shape}")
        if not len(x):
            return np.empty(0)
        out = self.session.run(self._outputs, {self.contract.input_name: x})[0]
        return np.asarray(out[:, 1], dtype=np.float64)

    def predict_one(self, row: np.ndarray) -> float:
        """P(label = 1) for one feature row. Not thread-safe (one buffer): one caller at a time."""
        self._buf[0] = row
        return float(self.session.run(self._outputs, self._feed)[0][0, 1])

    def latency_s(self, runs: int = 50) -> float:
        """The median time of one ``predict_one`` on this machine (after a warm-up)."""
        row = np.zeros(len(self.contract.features))
        for _ in range(5):
            self.predict_one(row)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            self.predict_one(row)
            times.append(time.perf_counter() - t0)
        return float(np.median(times))
