"""What the PyInstaller build takes and leaves out (read by ``autogrowth.spec``; kept here so the
choices are in one readable place and testable)."""

from __future__ import annotations

from pathlib import Path

# Run-time data, each file named: (source, folder in the bundle). The catalogs and the resources
# come from build/stage (build.py compiles and copies them there first).
MIGRATIONS = "app/storage/migrations"


def data_files(root: Path, stage: Path) -> list[tuple[str, str]]:
    files: list[tuple[str, str]] = []

    def add(src: Path, dest: str) -> None:
        if not src.is_file():
            raise SystemExit(f"missing data file: {src}")
        files.append((str(src), dest))

    # Alembic reads the migrations as files (env.py, the versions, the template).
    mig = root / MIGRATIONS
    add(mig / "env.py", MIGRATIONS)
    add(mig / "script.py.mako", MIGRATIONS)
    for version in sorted((mig / "versions").glob("*.py")):
        add(version, f"{MIGRATIONS}/versions")
    add(root / "app" / "venues" / "demo_params.json", "app/venues")
    for model in sorted((root / "models_onnx").iterdir()):
        if model.suffix in (".onnx", ".json", ".md"):
            add(model, "models_onnx")
    for mo in sorted((stage / "app" / "locale").glob("*/LC_MESSAGES/*.mo")):
        add(mo, mo.parent.relative_to(stage).as_posix())
    for res in sorted(p for p in (stage / "app" / "resources").rglob("*") if p.is_file()):
        add(res, res.parent.relative_to(stage).as_posix())
    return files


HIDDEN_IMPORTS = [
    "models_onnx",  # a data-only package, found with importlib.resources
    "app.storage.migrations.env",  # env.py and the versions import these when alembic runs them
    "app.storage.types",
    "alembic.op",
    "alembic.context",
    "sqlalchemy.dialects.sqlite",
    "logging.config",
]

MODULE_COLLECTION_MODE = {"ccxt": "pyc"}

# Qt modules the app never imports (PySide6-Essentials ships them), pyqtgraph's optional parts,
# and the development, training and test tools of the project's environment.
EXCLUDES = [
    "tkinter",
    "PySide6.Qt3DAnimation",
    "PySide6.Qt3DCore",
    "PySide6.Qt3DExtras",
    "PySide6.Qt3DInput",
    "PySide6.Qt3DLogic",
    "PySide6.Qt3DRender",
    "PySide6.QtBluetooth",
    "PySide6.QtCharts",
    "PySide6.QtConcurrent",
    "PySide6.QtDBus",
    "PySide6.QtDataVisualization",
    "PySide6.QtDesigner",
    "PySide6.QtGraphs",
    "PySide6.QtHelp",
    "PySide6.QtHttpServer",
    "PySide6.QtLocation",
    "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets",
    "PySide6.QtNfc",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtPositioning",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuick3D",
    "PySide6.QtQuickControls2",
    "PySide6.QtQuickWidgets",
    "PySide6.QtRemoteObjects",
    "PySide6.QtScxml",
    "PySide6.QtSensors",
    "PySide6.QtSerialBus",
    "PySide6.QtSerialPort",
    "PySide6.QtSpatialAudio",
    "PySide6.QtSql",
    "PySide6.QtStateMachine",
    "PySide6.QtSvgWidgets",
    "PySide6.QtTest",
    "PySide6.QtTextToSpeech",
    "PySide6.QtUiTools",
    "PySide6.QtWebChannel",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineQuick",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebSockets",
    "PySide6.QtWebView",
    "PySide6.QtXml",
    "pyqtgraph.opengl",
    "pyqtgraph.examples",
    "pyqtgraph.jupyter",
    "OpenGL",
    "matplotlib",
    "pandas",
    "scipy",
    "sklearn",
    "skl2onnx",
    "onnx",
    "ray",
    "backtesting",
    "bokeh",
    "IPython",
    "jupyter_client",
    "notebook",
    "pytest",
    "_pytest",
    "pytestqt",
    "hypothesis",
    "mypy",
    "ruff",
    "nox",
    "importlinter",
    "PyInstaller",
    "setuptools",
    "pip",
    "pkg_resources",  # pulls setuptools' vendored packages; nothing the app runs needs it
    "PIL",  # nothing the app runs draws with Pillow (Qt renders the images)
    "uvloop",  # aiohttp's optional worker
    "yaml",  # numpy's build-configuration printer only
    "psycopg",  # PostgreSQL is for a server set-up (pip install ".[postgres]"), not the desktop build
    "psycopg_binary",
]

# Babel formats numbers and dates in these locales only (en_US, ko_KR and their parents); Qt's
# own texts (a line edit's menu, standard buttons) are needed in the app's languages only.
BABEL_LOCALES = {"root", "en", "en_US", "en_001", "ko", "ko_KR"}
QT_LANGUAGES = {"en", "ko"}


def keep_data(dest: str) -> bool:
    """False for collected data the app never reads: other locales of Babel and of Qt."""
    parts = dest.replace("\\", "/").split("/")
    name = parts[-1]
    if "locale-data" in parts and name.endswith(".dat"):
        return name[: -len(".dat")] in BABEL_LOCALES
    if "translations" in parts and "Qt" in parts and name.endswith(".qm"):
        return name[: -len(".qm")].rsplit("_", 1)[-1] in QT_LANGUAGES
    return True
