"""Benchmarks of the built app: start-up to a shown window, memory on the demo market, size on disk.

The executable is ``AUTOGROWTH_EXE`` or ``dist/AutoGrowthTrader/AutoGrowthTrader`` (``python
packaging/build.py``); without one, the start-up and memory figures are measured on ``python -m app``
instead and named ``*_source``. ``AUTOGROWTH_RSS_S`` shortens the memory run (default 60 s)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXE_NAME = "AutoGrowthTrader" + (".exe" if os.name == "nt" else "")


def _executable() -> Path | None:
    given = os.environ.get("AUTOGROWTH_EXE", "").strip()
    exe = Path(given) if given else ROOT / "dist" / "AutoGrowthTrader" / EXE_NAME
    return exe if exe.is_file() else None


def _command() -> tuple[list[str], str]:
    exe = _executable()
    if exe is not None:
        return [str(exe)], ""
    print("no built executable (python packaging/build.py): measuring python -m app", file=sys.stderr)
    return [sys.executable, "-m", "app"], "_source"


def _start(cmd: list[str], data: Path) -> tuple[subprocess.Popen[bytes], float]:
    """Start the app on a new data folder; returns it and the seconds until its window showed."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(QT_QPA_PLATFORM="offscreen", AUTOGROWTH_DATA_DIR=str(data))
    log = data / "autogrowth.log"
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (log.exists() and "window shown" in log.read_text(encoding="utf-8", errors="replace")):
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} ended ({proc.returncode}) before showing its window")
        if time.perf_counter() - t0 > 300:
            proc.kill()
            raise RuntimeError("no window after 300 s")
        time.sleep(0.02)
    return proc, time.perf_counter() - t0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()  # SIGTERM: the app closes its window and saves, as on logout
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import psutil  # type: ignore[import-not-found]  # elsewhere than Linux

    return psutil.Process(pid).memory_info().rss / 1e6


_cache: dict[str, list[tuple[str, float, str]]] = {}  # one run serves every figure it measures


def startup_figures() -> list[tuple[str, float, str]]:
    """Cold start (a new data folder, the first start of the app after the previous figure's) to
    the window shown, then the resident memory after the demo market ran for a while."""
    if "startup" not in _cache:
        _cache["startup"] = _startup()
    return _cache["startup"]


def _startup() -> list[tuple[str, float, str]]:
    cmd, suffix = _command()
    run_s = float(os.environ.get("AUTOGROWTH_RSS_S", "60"))
    with tempfile.TemporaryDirectory(prefix="ag-start-") as tmp:
        proc, took = _start(cmd, Path(tmp))
        try:
            time.sleep(run_s)
            rss = _rss_mb(proc.pid)
        finally:
            _stop(proc)
    return [(f"startup_window{suffix}_s", took, "s"), (f"rss{suffix}_mb", rss, "MB")]


def _size(path: Path) -> int:
    if path.is_symlink():  # PyInstaller links some libraries to their copy inside PySide6
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def dist_figures() -> list[tuple[str, float, str]]:
    if "dist" not in _cache:
        _cache["dist"] = _dist()
    return _cache["dist"]


def _dist() -> list[tuple[str, float, str]]:
    exe = _executable()
    if exe is None:
        print("no built executable: python packaging/build.py", file=sys.stderr)
        return []
    folder = exe.parent
    total = _size(folder)
    internal = folder / "_internal"
    parts = sorted(((_size(p), p.name) for p in internal.iterdir()), reverse=True) if internal.is_dir() else []
    qt = internal / "PySide6" / "Qt" / "lib"
    if qt.is_dir():
        parts += [(_size(p), f"PySide6/Qt/lib/{p.name}") for p in qt.iterdir() if _size(p) > 5_000_000]
    parts.append((exe.stat().st_size, f"{exe.name} (bootloader + the Python code, compressed)"))
    for size, name in sorted(parts, reverse=True)[:12]:
        print(f"  {size / 1e6:7.1f} MB  {name}", file=sys.stderr)
    figures = [("dist_size_mb", total / 1e6, "MB")]
    onefile = folder.parent / f"AutoGrowthTrader-portable{'.exe' if os.name == 'nt' else ''}"
    if onefile.is_file():
        figures.append(("dist_onefile_mb", onefile.stat().st_size / 1e6, "MB"))
    return figures
