"""The built executable (PyInstaller, one folder) and the Windows installer script.

Building takes minutes, so the executable is built once per session, and only when asked:
``AUTOGROWTH_BUILD_EXE=1`` (CI sets it in .ci/run) builds it into a temporary folder;
``AUTOGROWTH_EXE=path/to/AutoGrowthTrader`` uses one already built (``python packaging/build.py``);
otherwise these tests skip. The installer script is compiled whenever ``makensis`` is installed:
over a small stand-in payload always, over the real build when there is one."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_build_script():
    """packaging/build.py as a module (under its own name: ``build`` is also a PyPI package)."""
    spec = importlib.util.spec_from_file_location("autogrowth_packaging_build", ROOT / "packaging" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build_script()

BUILD_ENV, EXE_ENV = "AUTOGROWTH_BUILD_EXE", "AUTOGROWTH_EXE"
needs_makensis = pytest.mark.skipif(shutil.which("makensis") is None, reason="NSIS is not installed")


@pytest.fixture(scope="session")
def built_exe(tmp_path_factory) -> Path:
    given = os.environ.get(EXE_ENV, "").strip()
    if given:
        exe = Path(given).resolve()
        assert exe.is_file(), f"{EXE_ENV}={given} is not a file"
        return exe
    if os.environ.get(BUILD_ENV) != "1":
        pytest.skip(f"set {BUILD_ENV}=1 to build the executable (CI does), or {EXE_ENV} to use a build")
    if sys.platform.startswith("linux") and shutil.which("objdump") is None:
        pytest.skip("PyInstaller reads libraries with objdump: install binutils (.ci/run does)")
    tmp = tmp_path_factory.mktemp("pyinstaller")
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "build.py"),
            "--dist",
            str(tmp / "dist"),
            "--work",
            str(tmp / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    return build.executable(False, tmp / "dist")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOGROWTH_DATA_DIR", "PYTHONPATH")}
    env.update(QT_QPA_PLATFORM="offscreen", **extra)
    return env


@pytest.mark.slow
def test_the_executable_passes_its_self_test_in_korean(built_exe, tmp_path):
    report = tmp_path / "self-test.txt"
    run = subprocess.run(
        [str(built_exe), "--self-test", "--lang", "ko", "--report", str(report)],
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        timeout=600,
    )
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    assert run.returncode == 0, text + run.stderr.decode(errors="replace")[-4000:]
    assert ", frozen" in text and "ok   database" in text and "ok   models" in text
    assert "'매수'" in text.split("ok   window:", 1)[1]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is how a POSIX desktop asks an app to close")
def test_a_portable_marker_keeps_everything_beside_the_executable(built_exe, tmp_path):
    exe_dir = built_exe.parent
    marker, data = exe_dir / "portable", exe_dir / "data"
    assert not marker.exists() and not data.exists(), "a portable marker was left in the build"
    marker.write_text("")
    home = tmp_path / "home"  # where the user's data folder would be: must stay empty
    proc = subprocess.Popen([str(built_exe)], env=_env(HOME=str(home), XDG_DATA_HOME=str(home / "share")), cwd=tmp_path)
    try:
        log = data / "autogrowth.log"
        end = time.monotonic() + 180
        while not (log.exists() and "window shown" in log.read_text()):
            assert proc.poll() is None, "the executable ended before its window showed"
            assert time.monotonic() < end, "timed out waiting for the window"
            time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert (data / "autogrowth.sqlite3").is_file()
        assert not (home / "share").exists() or not any((home / "share").rglob("autogrowth*"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        marker.unlink(missing_ok=True)
        shutil.rmtree(data, ignore_errors=True)


@needs_makensis
def test_the_installer_script_compiles_over_a_stand_in_payload(tmp_path):
    dist = tmp_path / "AutoGrowthTrader"
    (dist / "_internal").mkdir(parents=True)
    (dist / f"AutoGrowthTrader{build.EXE_SUFFIX}").write_bytes(b"stand-in")
    (dist / "_internal" / "base_library.zip").write_bytes(b"stand-in")
    setup = build.installer(dist, tmp_path / "out", compress=False)
    assert setup.is_file() and setup.read_bytes()[:2] == b"MZ"  # a Windows executable


@pytest.mark.slow
@needs_makensis
def test_the_installer_script_compiles_over_the_build(built_exe, tmp_path):
    setup = build.installer(built_exe.parent, tmp_path / "out", compress=False)
    size = sum(p.stat().st_size for p in built_exe.parent.rglob("*") if p.is_file() and not p.is_symlink())
    assert setup.stat().st_size > size * 0.9  # the whole build is inside


def _freeze_lists():
    spec = importlib.util.spec_from_file_location("autogrowth_freeze_lists", ROOT / "packaging" / "freeze_lists.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_build_ships_every_migration_and_model_and_only_the_apps_languages(tmp_path):
    lists = _freeze_lists()
    stage = tmp_path / "stage"
    build.bundle_data.stage(stage / "app")
    dests = {(Path(src).name, dest) for src, dest in lists.data_files(ROOT, stage)}
    migrations = {p.name for p in (ROOT / "app/storage/migrations/versions").glob("*.py")}
    assert {(m, "app/storage/migrations/versions") for m in migrations} <= dests
    assert ("env.py", "app/storage/migrations") in dests
    assert ("gbm_1h_h24.onnx", "models_onnx") in dests and ("gbm_1h_h24.json", "models_onnx") in dests
    assert ("messages.mo", "app/locale/ko/LC_MESSAGES") in dests
    assert ("autogrowth.svg", "app/resources/icons") in dests
    assert lists.keep_data("babel/locale-data/ko_KR.dat") and not lists.keep_data("babel/locale-data/fr.dat")
    assert lists.keep_data("PySide6/Qt/translations/qtbase_ko.qm")
    assert not lists.keep_data("PySide6/Qt/translations/qtbase_de.qm")
    assert build.numeric_version("0.1.0") == (0, 1, 0, 0)
