"""The shipped ONNX model through onnxruntime, and the contract every model must meet on load."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from signal_data import ROOT

from app.signals.features import FEATURE_SET, FEATURES, WINDOW, batch_features
from app.signals.model import CONTRACT_KEY, ModelContract, ModelContractError, OnnxSignalModel
from app.signals.registry import DEFAULT_MODEL, find_models, load_model

SHIPPED = ROOT / "models_onnx"


def test_the_shipped_model_and_its_cards_are_in_models_onnx():
    assert (SHIPPED / f"{DEFAULT_MODEL}.onnx").is_file()
    card = json.loads((SHIPPED / f"{DEFAULT_MODEL}.json").read_text())
    assert card["contract"]["features"] == list(FEATURES)
    assert "## Tune period, out of sample" in (SHIPPED / f"{DEFAULT_MODEL}.md").read_text()
    for key in ("auc", "accuracy", "base_rate", "brier", "ece", "strategy_return", "buy_hold_return"):
        assert key in card["tune"]["overall"]


def test_the_shipped_model_loads_with_its_contract_from_the_file_metadata(shipped_model):
    c = shipped_model.contract
    assert (c.name, c.feature_set, c.features, c.timeframe, c.window) == (
        DEFAULT_MODEL,
        FEATURE_SET,
        FEATURES,
        "1h",
        WINDOW,
    )
    meta = json.loads(shipped_model.session.get_modelmeta().custom_metadata_map[CONTRACT_KEY])
    card = json.loads((SHIPPED / f"{DEFAULT_MODEL}.json").read_text())
    assert meta == card["contract"] == c.to_dict()


def test_one_row_and_many_rows_give_the_same_probabilities(shipped_model, btc_1h):
    X, valid = batch_features(btc_1h.slice(len(btc_1h) - 600, len(btc_1h)))
    rows = X[valid]
    many = shipped_model.predict_proba(rows)
    one = np.array([shipped_model.predict_one(r) for r in rows])
    assert np.array_equal(many, one)
    assert ((many > 0.05) & (many < 0.95)).all()
    assert many.std() > 0.005  # it does look at the features


def test_garbage_is_refused_with_a_message_key_not_a_crash():
    with pytest.raises(ModelContractError) as err:
        OnnxSignalModel.load(b"not an onnx file", name="junk")
    assert err.value.key == "signals.model.unreadable"
    assert "junk" in err.value.message


def test_a_card_that_disagrees_with_the_file_is_refused():
    card = json.loads((SHIPPED / f"{DEFAULT_MODEL}.json").read_text())
    card["contract"]["threshold"] = 0.6
    with pytest.raises(ModelContractError) as err:
        OnnxSignalModel.load(SHIPPED / f"{DEFAULT_MODEL}.onnx", card=card)
    assert err.value.key == "signals.model.card_mismatch"


def _contract(**changes) -> dict:
    d = ModelContract(
        name="m",
        version="1",
        feature_set=FEATURE_SET,
        features=FEATURES,
        timeframe="1h",
        window=WINDOW,
        horizon=24,
        fee=0.001,
        threshold=0.5,
        label="test",
    ).to_dict()
    d.update(changes)
    return d


def _tiny_model(width: int, contract: dict | str | None, output: str = "probabilities") -> bytes:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    w = helper.make_tensor("w", TensorProto.FLOAT, [width, 2], np.linspace(-1, 1, width * 2).tolist())
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["features", "w"], ["z"]), helper.make_node("Softmax", ["z"], [output], axis=1)],
        "tiny",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, width])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, [None, 2])],
        [w],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    if contract is not None:
        helper.set_model_props(model, {CONTRACT_KEY: contract if isinstance(contract, str) else json.dumps(contract)})
    onnx.checker.check_model(model)
    return model.SerializeToString()


def test_a_model_meeting_the_contract_loads_and_runs():
    m = OnnxSignalModel.load(_tiny_model(len(FEATURES), _contract()), name="tiny")
    p = m.predict_proba(np.zeros((3, len(FEATURES))))
    assert p.tolist() == [0.5, 0.5, 0.5]


@pytest.mark.parametrize(
    ("width", "contract", "output", "key"),
    [
        (17, None, "probabilities", "signals.model.no_contract"),
        (17, "{not json", "probabilities", "signals.model.bad_contract"),
        (17, _contract(horizon=0), "probabilities", "signals.model.bad_contract"),
        (17, _contract(timeframe="7m"), "probabilities", "signals.model.bad_contract"),
        (17, _contract(features=list(reversed(FEATURES))), "probabilities", "signals.model.unknown_features"),
        (18, _contract(features=[*FEATURES, "funding_rate"]), "probabilities", "signals.model.unknown_features"),
        (17, _contract(feature_set="orderbook_v9"), "probabilities", "signals.model.unknown_features"),
        (17, _contract(window=100), "probabilities", "signals.model.unknown_features"),
        (16, _contract(), "probabilities", "signals.model.input_mismatch"),
        (17, _contract(), "scores", "signals.model.output_mismatch"),
    ],
)
def test_a_model_breaking_the_contract_gets_a_clear_error(width, contract, output, key):
    with pytest.raises(ModelContractError) as err:
        OnnxSignalModel.load(_tiny_model(width, contract, output), name="user_model")
    assert err.value.key == key
    assert err.value.message.startswith("The model user_model cannot be used: ")


def test_user_models_are_found_beside_the_shipped_ones_and_broken_ones_are_reported(tmp_path, capsys):
    shutil.copy(SHIPPED / f"{DEFAULT_MODEL}.onnx", tmp_path / f"{DEFAULT_MODEL}.onnx")
    shutil.copy(SHIPPED / f"{DEFAULT_MODEL}.json", tmp_path / f"{DEFAULT_MODEL}.json")
    (tmp_path / "broken.onnx").write_bytes(b"\x00" * 10)
    models = find_models([tmp_path])
    assert models[DEFAULT_MODEL].shipped and not models[f"user:{DEFAULT_MODEL}"].shipped
    assert models[f"user:{DEFAULT_MODEL}"].load().contract == load_model().contract
    from app.cli import main

    assert main(["signals", "list", "--models-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{DEFAULT_MODEL}: 1.0.0 1h horizon=24 features=17 shipped" in out
    assert "broken: unusable (signals.model.unreadable)" in out
    with pytest.raises(ModelContractError) as err:
        load_model("no_such_model")
    assert err.value.key == "signals.model.not_found"


def test_the_app_never_imports_the_training_packages():
    code = (
        "import sys, app.cli, app.signals.model, app.signals.registry, app.signals.evaluate, "
        "app.signals.pipeline, app.engine.signal_service, app.signals.cli\n"
        "app.signals.registry.load_model()\n"
        "heavy = [m for m in ('sklearn', 'skl2onnx', 'onnx', 'scipy', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
