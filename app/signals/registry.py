"""Where signal models are found: the shipped ones and any folder of the user's.

Shipped models live in the top-level ``models_onnx/`` folder, which is also a (data-only) package,
so an installed app finds them with ``importlib.resources``; a source checkout without an install
finds the same folder beside ``app/``. Each model is ``NAME.onnx`` with its card ``NAME.json``
(machine-readable: the contract and the validation figures) and ``NAME.md`` (the same, for people).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from .model import ModelContractError, OnnxSignalModel

SHIPPED_PACKAGE = "models_onnx"
DEFAULT_MODEL = "gbm_1h_h24"  # also in cli.py, which does not import this module to start


@dataclass(frozen=True)
class ModelEntry:
    name: str
    onnx: Traversable
    card: dict[str, Any] | None
    shipped: bool

    def load(self) -> OnnxSignalModel:
        return OnnxSignalModel.load(self.onnx.read_bytes(), card=self.card, name=self.name)


def shipped_dir() -> Traversable | None:
    try:
        return resources.files(SHIPPED_PACKAGE)
    except ModuleNotFoundError:
        here = Path(__file__).resolve().parents[2] / SHIPPED_PACKAGE
        return here if here.is_dir() else None


def read_card(folder: Traversable, name: str) -> dict[str, Any] | None:
    card = folder / f"{name}.json"
    if not card.is_file():
        return None
    try:
        data = json.loads(card.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelContractError(key="signals.model.bad_card", model=name, detail="its card is not JSON") from exc
    return data if isinstance(data, dict) else None


def find_models(
    extra_dirs: Sequence[Path] = (), errors: dict[str, ModelContractError] | None = None
) -> dict[str, ModelEntry]:
    """Every ``.onnx`` in the shipped folder, then in ``extra_dirs`` (a user's model of the same
    name as a shipped one is listed under its own name with a ``user:`` prefix). With ``errors``,
    a model whose card cannot be read is put there (by name) instead of stopping the listing."""
    found: dict[str, ModelEntry] = {}
    shipped = shipped_dir()
    folders: list[tuple[Traversable, bool]] = [(shipped, True)] if shipped is not None else []
    folders += [(Path(d), False) for d in extra_dirs if Path(d).is_dir()]
    for folder, is_shipped in folders:
        for item in sorted(folder.iterdir(), key=lambda t: t.name):
            if not item.name.endswith(".onnx") or not item.is_file():
                continue
            name = item.name[: -len(".onnx")]
            key = name if name not in found else f"user:{name}"
            try:
                card = read_card(folder, name)
            except ModelContractError as exc:
                if errors is None:
                    raise
                errors[name] = exc
                continue
            found[key] = ModelEntry(name, item, card, is_shipped)
    return found


def load_model(name: str | None = None, extra_dirs: Sequence[Path] = ()) -> OnnxSignalModel:
    """The named model (the default shipped one without a name), loaded and checked; a path to an
    ``.onnx`` file works as a name too."""
    if name and name.endswith(".onnx") and Path(name).is_file():
        path = Path(name)
        return ModelEntry(path.stem, path, read_card(path.parent, path.stem), False).load()
    models = find_models(extra_dirs)
    entry = models.get(name or DEFAULT_MODEL)
    if entry is None:
        raise ModelContractError(
            key="signals.model.not_found",
            model=name or DEFAULT_MODEL,
            detail=f"no such model (known: {', '.join(models) or 'none'})",
        )
    return entry.load()
