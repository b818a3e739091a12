"""Colours, icons and fonts of the window, chosen for legibility in light and dark palettes."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QPushButton

from desktop.ui.icons import icon as icon  # theme.icon, as the UI has always called it

#: WCAG 2.x AA for normal text.
MIN_CONTRAST = 4.5


@dataclass(frozen=True, slots=True)
class Swatch:
    """A filled button's colours."""

    background: str
    text: str
    border: str
    hover: str
    pressed: str


# The light and dark variants keep white text on fills dark enough for AA;
# dark palettes get slightly deeper fills so a button does not glare.
_SWATCHES: dict[tuple[str, bool], Swatch] = {
    ("activate", False): Swatch("#1a7f37", "#ffffff", "#116329", "#166f30", "#0f5323"),
    ("activate", True): Swatch("#1b6e31", "#ffffff", "#2ea043", "#1f7a37", "#145224"),
    ("deactivate", False): Swatch("#c62828", "#ffffff", "#9a1f1f", "#b02222", "#8c1c1c"),
    ("deactivate", True): Swatch("#b3261e", "#ffffff", "#e5534b", "#c22d24", "#8e1f19"),
    ("danger", False): Swatch("#c62828", "#ffffff", "#9a1f1f", "#b02222", "#8c1c1c"),
    ("danger", True): Swatch("#b3261e", "#ffffff", "#e5534b", "#c22d24", "#8e1f19"),
}

# Text drawn straight on the window or table background.
_EXPIRED_TEXT = {False: "#b3261e", True: "#ff8a80"}
_ERROR_TEXT = {False: "#b3261e", True: "#ff8a80"}
_FOCUS_RING = {False: "#0b57d0", True: "#a8c7fa"}


#: is_dark's answers by QPalette.cacheKey() (the same for copies of one palette, new for any change to it): a
#: page turn asks it for each row's button; reading the colour costs six times the look-up.
_DARK: dict[int, bool] = {}
_DARK_LIMIT = 64


def is_dark(palette: QPalette) -> bool:
    key = palette.cacheKey()
    dark = _DARK.get(key)
    if dark is None:
        if len(_DARK) >= _DARK_LIMIT:
            _DARK.clear()
        dark = _DARK[key] = palette.color(QPalette.ColorRole.Window).lightness() < 128
    return dark


def swatch(kind: str, dark: bool) -> Swatch:
    return _SWATCHES[(kind, dark)]


def focus_ring(dark: bool) -> str:
    return _FOCUS_RING[dark]


def expired_text(palette: QPalette) -> QColor:
    return QColor(_EXPIRED_TEXT[is_dark(palette)])


def error_text(palette: QPalette) -> QColor:
    return QColor(_ERROR_TEXT[is_dark(palette)])


def relative_luminance(color: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())


def contrast_ratio(first: QColor, second: QColor) -> float:
    """WCAG contrast ratio, 1.0 to 21.0."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _button_rule(selector: str, colors: Swatch, focus: str) -> str:
    return (
        f"{selector} {{ background-color: {colors.background}; color: {colors.text};"
        f" border: 1px solid {colors.border}; border-radius: 4px; padding: 3px 12px; }}\n"
        f"{selector}:hover {{ background-color: {colors.hover}; }}\n"
        f"{selector}:pressed {{ background-color: {colors.pressed}; }}\n"
        f"{selector}:focus {{ border: 2px solid {focus}; padding: 2px 11px; }}\n"
        f"{selector}:disabled {{ background-color: {colors.background}; color: {colors.text}; }}\n"
    )


def button_style_sheet(kind: str, palette: QPalette) -> str:
    """A filled button of `kind` (activate, deactivate, danger), for the palette around it.

    Set on the button itself: a style sheet on a container would pin that
    container's palette, and it would no longer follow a light/dark switch.
    """
    dark = is_dark(palette)
    return _button_rule("QPushButton", swatch(kind, dark), _FOCUS_RING[dark])


def style_button(button: QPushButton, kind: str, palette: QPalette) -> None:
    button.setProperty("kind", kind)
    button.setStyleSheet(button_style_sheet(kind, palette))


def monospace_font() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    return font
