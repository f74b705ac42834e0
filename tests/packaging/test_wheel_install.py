"""The wheel a user installs carries everything the app reads at run time: installed into a fresh
environment (no checkout beside it, no download), it starts in Korean.

The fresh venv sees the project's dependencies through a folder of links to the test
environment's installed packages (the project's own editable install left out), so nothing is
downloaded and the installed wheel is the only ``app`` it can import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OWN = ("__editable__", "autogrowth_trader", "app", "models_onnx")


SOURCES = ("app", "models_onnx", "translations", "resources", "packaging/bundle_data.py")
SOURCE_FILES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md")


def _copy_sources(dest: Path) -> Path:
    """What a clean checkout has (a build in the working tree would share its build/ folder)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    for name in SOURCE_FILES:
        shutil.copy2(ROOT / name, dest / name)
    return dest


def _build_wheel(out: Path) -> Path:
    source = _copy_sources(out.parent / "source")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (wheel,) = out.glob("autogrowth_trader-*.whl")
    return wheel


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _fresh_venv(tmp: Path) -> Path:
    venv = tmp / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    python = _venv_python(venv)
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    deps = tmp / "deps"
    deps.mkdir()
    ours = Path(sysconfig.get_paths()["purelib"])
    try:
        for entry in ours.iterdir():
            if not entry.name.startswith(OWN) and entry.suffix != ".pth":
                (deps / entry.name).symlink_to(entry)
    except OSError:
        pytest.skip("this file system cannot link the test environment's packages")
    (site / "zz_deps.pth").write_text(str(deps) + "\n")
    return python


@pytest.mark.slow
def test_the_installed_wheel_carries_its_data_and_starts_in_korean(tmp_path):
    wheel = _build_wheel(tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "app/locale/ko/LC_MESSAGES/messages.mo",  # compiled at build time
        "app/resources/icons/autogrowth.svg",
        "app/resources/icons/autogrowth-256.png",
        "app/storage/migrations/env.py",
        "models_onnx/gbm_1h_h24.onnx",
        "models_onnx/gbm_1h_h24.json",
    ):
        assert needed in names, needed
    assert not any(n.startswith(("translations/", "tests/")) for n in names)

    python = _fresh_venv(tmp_path)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AUTOGROWTH_DATA_DIR")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    run = subprocess.run(
        [str(python), "-m", "app", "--self-test", "--lang", "ko"],
        cwd=tmp_path,  # not the checkout: its app/ must not be importable
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,
    )
    out = run.stdout
    assert run.returncode == 0, out[-4000:] + run.stderr[-4000:]
    where = next(line for line in out.splitlines() if line.strip().startswith("app:"))
    assert str(tmp_path / "venv") in where and str(ROOT / "app") not in where and "source" not in where
    assert "ok   translations: ko" in out
    assert "'매수'" in out.split("ok   window:", 1)[1]  # the window shows Korean text
