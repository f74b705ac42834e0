"""Build the desktop app with PyInstaller: ``python packaging/build.py [--onefile] [--self-test] [--installer]``.

- default: the one-folder build ``dist/AutoGrowthTrader/`` (the executable ``AutoGrowthTrader``
  inside, ``.exe`` on Windows), what the installer ships;
- ``--onefile``: one portable executable, ``dist/AutoGrowthTrader-portable`` (``.exe``), which
  unpacks itself to a temporary folder at each start (slower to start);
- ``--self-test``: run the built executable's ``--self-test`` afterwards (exit code 1 if it fails);
- ``--installer``: compile ``packaging/windows/installer.nsi`` over the one-folder build with
  ``makensis`` (the Windows installer; on Linux the build is a stand-in payload that proves the
  script compiles).

Needs the project installed with the ``dev`` extra (PyInstaller is pinned there). Everything it
writes goes to ``build/`` and ``dist/``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
import bundle_data  # noqa: E402

NAME = "AutoGrowthTrader"
PRODUCT = "AutoGrowth Trader"
BUILD = ROOT / "build"  # --work moves it
DIST = ROOT / "dist"  # --dist moves it
EXE_SUFFIX = ".exe" if os.name == "nt" else ""


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def numeric_version(v: str) -> tuple[int, int, int, int]:
    """``0.1.0`` (or ``1.2.3rc1``) as the four numbers a Windows version resource holds."""
    nums = [int(n) for n in re.findall(r"\d+", v.split("+")[0])[:4]]
    a, b, c, d = [*nums, 0, 0, 0, 0][:4]
    return a, b, c, d


def write_version_file(path: Path, v: str) -> Path:
    """The Windows version resource (file and product version, names) PyInstaller embeds."""
    n = numeric_version(v)
    path.write_text(
        f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={n}, prodvers={n}, mask=0x3f, flags=0x0, OS=0x40004, fileType=0x1,
                    subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
      StringStruct('CompanyName', 'AutoGrowth'),
      StringStruct('FileDescription', '{PRODUCT}'),
      StringStruct('FileVersion', '{v}'),
      StringStruct('InternalName', '{NAME}'),
      StringStruct('LegalCopyright', 'AutoGrowth'),
      StringStruct('OriginalFilename', '{NAME}.exe'),
      StringStruct('ProductName', '{PRODUCT}'),
      StringStruct('ProductVersion', '{v}')])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
""",
        encoding="utf-8",
    )
    return path


def executable(onefile: bool, dist: Path = DIST) -> Path:
    if onefile:
        return dist / f"{NAME}-portable{EXE_SUFFIX}"
    return dist / NAME / f"{NAME}{EXE_SUFFIX}"


def build(onefile: bool, dist: Path = DIST, work: Path = BUILD) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    stage = work / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    bundle_data.stage(stage / "app")
    v = version()
    env = dict(
        os.environ,
        AUTOGROWTH_STAGE=str(stage),
        AUTOGROWTH_ONEFILE="1" if onefile else "0",
        AUTOGROWTH_NAME=f"{NAME}-portable" if onefile else NAME,
        AUTOGROWTH_VERSION_FILE=str(write_version_file(work / "version_info.txt", v)),
    )
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist),
        "--workpath",
        str(work / ("pyinstaller-onefile" if onefile else "pyinstaller")),
        str(ROOT / "packaging" / "autogrowth.spec"),
    ]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    exe = executable(onefile, dist)
    if not exe.is_file():
        raise SystemExit(f"PyInstaller finished but {exe} is missing")
    return exe


def self_test(exe: Path, work: Path = BUILD) -> int:
    report = work / "self-test.txt"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("AUTOGROWTH_DATA_DIR", None)
    rc = subprocess.run([str(exe), "--self-test", "--report", str(report)], env=env, timeout=900).returncode
    if report.is_file() and os.name == "nt":  # the windowed executable printed nothing
        print(report.read_text(encoding="utf-8"))
    return rc


def installer(dist_dir: Path, out_dir: Path = DIST, *, compress: bool = True) -> Path:
    """Compile the NSIS installer over ``dist_dir`` (the one-folder build); ``compress=False``
    stores the files (a quick check that the script compiles)."""
    makensis = shutil.which("makensis")
    if makensis is None:
        raise SystemExit("makensis not found: install NSIS (Debian: apt-get install nsis)")
    v = version()
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{NAME}-{v}-setup.exe"
    cmd = [
        makensis,
        "-V2",
        *([] if compress else ["-DNO_COMPRESSION"]),
        f"-DVERSION={v}",
        f"-DVERSION4={'.'.join(map(str, numeric_version(v)))}",
        f"-DDIST_DIR={dist_dir.resolve()}",
        f"-DEXE_SOURCE={NAME}{EXE_SUFFIX}",
        f"-DOUT_FILE={out}",
        f"-DICON={ROOT / 'resources' / 'icons' / 'autogrowth.ico'}",
        str(ROOT / "packaging" / "windows" / "installer.nsi"),
    ]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onefile", action="store_true", help="one portable executable instead of a folder")
    parser.add_argument("--self-test", action="store_true", help="run the built executable's --self-test")
    parser.add_argument("--installer", action="store_true", help="compile the NSIS installer over the build")
    parser.add_argument("--dist", type=Path, default=DIST, help="where the build goes (default: dist/)")
    parser.add_argument("--work", type=Path, default=BUILD, help="PyInstaller's work folder (default: build/)")
    args = parser.parse_args(argv)
    dist, work = args.dist.resolve(), args.work.resolve()
    t0 = time.perf_counter()
    exe = build(args.onefile, dist, work)
    print(f"built {exe} in {time.perf_counter() - t0:.0f} s", flush=True)
    if args.self_test:
        rc = self_test(exe, work)
        print(f"self-test: {'passed' if rc == 0 else f'FAILED (exit {rc})'}", flush=True)
        if rc:
            return rc
    if args.installer:
        if args.onefile:
            raise SystemExit("--installer ships the one-folder build: build it without --onefile")
        print(f"installer: {installer(exe.parent, dist)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
