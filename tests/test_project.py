"""Project-wide checks: the layers of ARCHITECTURE.md hold and the code is lint-clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    found = str(exe) if exe.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def test_layers_are_respected_by_every_import():
    out = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_code_is_ruff_clean():
    out = subprocess.run([_tool("ruff"), "check", "--quiet", "."], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-4000:]


def test_code_is_ruff_formatted():  # `nox -s fmt` (or pre-commit) formats it
    out = subprocess.run([_tool("ruff"), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-4000:]


# Type-checked: the whole package, UI included (mypy, settings in pyproject.toml: incomplete
# definitions are refused; the generated migration versions are excluded there).
TYPED = ["app"]


def test_the_whole_app_package_type_checks():
    out = subprocess.run([_tool("mypy"), "--no-incremental", *TYPED], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-6000:]


def test_no_float_money_in_the_engine():
    """Money is Decimal from the wire to the screen: no float() on prices in engine/venues/domain."""
    offenders = []
    for pkg in ("domain", "engine", "venues/paper", "venues/paper.py", "storage", "security"):
        where = ROOT / "app" / pkg
        for path in where.rglob("*.py") if where.is_dir() else [where] if where.exists() else []:
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if "float(" in line and "noqa: money" not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
