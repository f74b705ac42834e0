"""Dark and light themes: one palette of named colours per theme, and the application style sheet."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QApplication

# One family that has Hangul and Latin drawn at the same weight (else Qt mixes a fallback CJK
# font, heavier, into a Latin one): the first of these the system has.
KOREAN_FAMILIES = (
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Malgun Gothic",
    "Apple SD Gothic Neo",
    "NanumGothic",
    "Nanum Gothic",
    "Source Han Sans KR",
)
_default_family: list[str] = []


def font_family(lang: str) -> str | None:
    """The family the window uses for ``lang`` (None: the system's default)."""
    if lang != "ko":
        return None
    have = set(QFontDatabase.families())
    return next((f for f in KOREAN_FAMILIES if f in have), None)


_qt_translator: list[QTranslator] = []


def apply_qt_language(app: QApplication, lang: str) -> bool:
    """Qt's own words (a line edit's Copy/Paste menu, standard buttons) in ``lang`` too."""
    for t in _qt_translator:
        app.removeTranslator(t)
    _qt_translator.clear()
    if lang == "en":
        return True
    t = QTranslator(app)
    if t.load(QLocale(lang), "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(t)
        _qt_translator.append(t)
        return True
    return False


def apply_font(app: QApplication, lang: str) -> str:
    """Use the language's family (Korean: one with matching Latin), or go back to the default."""
    if not _default_family:
        _default_family.append(app.font().family())
    family = font_family(lang) or _default_family[0]
    if app.font().family() != family:
        font = QFont(app.font())
        font.setFamily(family)
        app.setFont(font)
        # Widgets under the style sheet take their font from it, not from the application's.
        apply(app, _current.name, family=family)
    return family


@dataclass(frozen=True, slots=True)
class Colors:
    name: str
    window: str
    panel: str
    text: str
    muted: str
    border: str
    accent: str
    buy: str
    sell: str
    warning: str
    live: str
    demo: str
    paper: str


DARK = Colors(
    "dark",
    "#14171c",
    "#1b1f26",
    "#d7dce3",
    "#8a93a0",
    "#2a303a",
    "#4c8bf5",
    "#26a69a",
    "#ef5350",
    "#f5a623",
    "#ff3b30",
    "#5b6ee1",
    "#2e9e6b",
)
LIGHT = Colors(
    "light",
    "#f3f5f8",
    "#ffffff",
    "#1b1f26",
    "#5d6673",
    "#d5dae1",
    "#1f6feb",
    "#089981",
    "#d9363e",
    "#b7791f",
    "#d70015",
    "#4054c8",
    "#1c7c51",
)
THEMES = {"dark": DARK, "light": LIGHT}
_current = DARK


def colors() -> Colors:
    return _current


_family: list[str] = []


def apply(app: QApplication, name: str, *, family: str | None = None) -> Colors:
    global _current
    c = _current = THEMES.get(name, DARK)
    if family is not None:
        _family[:] = [family]
    font_rule = f'QWidget {{ font-family: "{_family[0]}"; }}' if _family else ""
    pal = QPalette()
    pal.setColor(QPalette.ColorRole.Window, QColor(c.window))
    pal.setColor(QPalette.ColorRole.WindowText, QColor(c.text))
    pal.setColor(QPalette.ColorRole.Base, QColor(c.panel))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor(c.window))
    pal.setColor(QPalette.ColorRole.Text, QColor(c.text))
    pal.setColor(QPalette.ColorRole.Button, QColor(c.panel))
    pal.setColor(QPalette.ColorRole.ButtonText, QColor(c.text))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(c.accent))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.ToolTipBase, QColor(c.panel))
    pal.setColor(QPalette.ColorRole.ToolTipText, QColor(c.text))
    pal.setColor(QPalette.ColorRole.PlaceholderText, QColor(c.muted))
    app.setPalette(pal)
    app.setStyleSheet(
        font_rule
        + f"""
        QMainWindow, QDialog {{ background: {c.window}; }}
        QDockWidget {{ color: {c.text}; font-weight: 600; }}
        QDockWidget::title {{ background: {c.panel}; padding: 4px 8px; border-bottom: 1px solid {c.border}; }}
        QTableView {{ gridline-color: {c.border}; background: {c.panel}; border: none; }}
        QHeaderView::section {{ background: {c.window}; color: {c.muted}; border: none;
                                border-bottom: 1px solid {c.border}; padding: 3px 6px; }}
        QLineEdit, QComboBox, QDoubleSpinBox, QSpinBox, QPlainTextEdit {{
            background: {c.window}; border: 1px solid {c.border}; border-radius: 4px; padding: 3px 6px; }}
        QLineEdit[invalid="true"] {{ border: 1px solid {c.sell}; }}
        QPushButton {{ background: {c.panel}; border: 1px solid {c.border}; border-radius: 4px; padding: 5px 12px; }}
        QPushButton:hover {{ border-color: {c.accent}; }}
        QPushButton:disabled {{ color: {c.muted}; }}
        QPushButton#buy {{ background: {c.buy}; color: white; border: none; font-weight: 700; }}
        QPushButton#sell {{ background: {c.sell}; color: white; border: none; font-weight: 700; }}
        QPushButton#buy:disabled, QPushButton#sell:disabled {{ background: {c.border}; color: {c.muted}; }}
        QPushButton#side_buy, QPushButton#side_sell {{ background: {c.window}; font-weight: 700; }}
        QPushButton#side_buy {{ color: {c.buy}; border: 1px solid {c.border}; }}
        QPushButton#side_sell {{ color: {c.sell}; border: 1px solid {c.border}; }}
        QPushButton#side_buy:checked {{ background: {c.buy}; color: white; border: 1px solid {c.buy}; }}
        QPushButton#side_sell:checked {{ background: {c.sell}; color: white; border: 1px solid {c.sell}; }}
        QToolButton {{ border: 1px solid transparent; border-radius: 3px; padding: 2px 6px; color: {c.muted}; }}
        QToolButton:hover {{ border-color: {c.border}; color: {c.text}; }}
        QToolButton:checked {{ background: {c.accent}; border-color: {c.accent}; color: white; }}
        QToolButton#chip {{ border: 1px solid {c.border}; padding: 1px 4px; }}
        QPushButton#kill {{ background: {c.sell}; color: white; border: none; font-weight: 800; font-size: 15px;
                            padding: 14px; }}
        QLabel#error {{ color: {c.sell}; }}
        QLabel#muted {{ color: {c.muted}; }}
        QTabBar::tab {{ background: {c.window}; padding: 5px 12px; border: none; color: {c.muted}; }}
        QTabBar::tab:selected {{ color: {c.text}; border-bottom: 2px solid {c.accent}; }}
        QStatusBar {{ background: {c.panel}; color: {c.muted}; }}
        QToolBar {{ background: {c.panel}; border-bottom: 1px solid {c.border}; spacing: 6px; padding: 2px; }}
        QProgressBar {{ border: 1px solid {c.border}; border-radius: 3px; text-align: center; background: {c.window}; }}
        QProgressBar::chunk {{ background: {c.accent}; }}
    """
    )
    return c
