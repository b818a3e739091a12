"""Legibility: text contrast of at least 4.5:1 for the coloured buttons and texts, light and dark."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.ui import theme
from desktop.ui.widgets.filled_button import FilledButton
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import seed
from tests.ui.screenshot import dark_palette


def light_palette() -> QPalette:
    palette = QPalette(QColor("#efefef"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    return palette


PALETTES = {"light": light_palette, "dark": dark_palette}


def test_contrast_ratio_matches_wcag_examples() -> None:
    assert theme.contrast_ratio(QColor("#000000"), QColor("#ffffff")) == pytest.approx(21.0)
    assert theme.contrast_ratio(QColor("#777777"), QColor("#ffffff")) == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("name", PALETTES)
@pytest.mark.parametrize("kind", ["activate", "deactivate", "danger"])
def test_swatches_are_legible(name: str, kind: str) -> None:
    palette = PALETTES[name]()
    colors = theme.swatch(kind, theme.is_dark(palette))
    for background in (colors.background, colors.hover, colors.pressed):
        assert theme.contrast_ratio(QColor(colors.text), QColor(background)) >= theme.MIN_CONTRAST


@pytest.mark.parametrize("name", PALETTES)
def test_expired_and_error_text_are_legible(name: str) -> None:
    palette = PALETTES[name]()
    for role in (QPalette.ColorRole.Base, QPalette.ColorRole.AlternateBase, QPalette.ColorRole.Window):
        background = palette.color(role)
        assert theme.contrast_ratio(theme.expired_text(palette), background) >= theme.MIN_CONTRAST
        assert theme.contrast_ratio(theme.error_text(palette), background) >= theme.MIN_CONTRAST


@pytest.mark.parametrize("name", PALETTES)
def test_rendered_row_buttons_are_green_and_red_and_legible(
    name: str, qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    seed(store, 2)
    store.set_active(store.all()[0].id, False)
    window = make_window()
    window.setPalette(PALETTES[name]())
    QApplication.processEvents()
    dark = name == "dark"
    buttons = window.table.findChildren(FilledButton, "toggleButton")
    by_text = {button.text(): button for button in buttons}
    assert set(by_text) == {"Activate", "Deactivate"}
    for text, kind in (("Activate", "activate"), ("Deactivate", "deactivate")):
        button = by_text[text]
        expected = theme.swatch(kind, dark)
        fill = QColor(expected.background)
        ink = QColor(expected.text)
        assert button.fill() == fill
        assert theme.contrast_ratio(ink, fill) >= theme.MIN_CONTRAST
        image = button.grab().toImage()
        sample = image.pixelColor(4, image.height() // 2)
        assert abs(sample.red() - fill.red()) + abs(sample.green() - fill.green()) < 30  # really painted
    green = QColor(theme.swatch("activate", dark).background)
    red = QColor(theme.swatch("deactivate", dark).background)
    assert green.green() > green.red() and red.red() > red.green()


def test_a_filled_button_shows_its_focus_ring_and_its_pressed_fill(qtbot: QtBot) -> None:
    from desktop.ui.widgets.filled_button import FilledButton

    holder = QWidget()
    qtbot.addWidget(holder)
    button = FilledButton("Deactivate", holder)
    button.set_kind("deactivate", holder.palette())
    button.resize(120, 30)
    holder.show()
    qtbot.waitExposed(holder)
    dark = theme.is_dark(holder.palette())
    colors = theme.swatch("deactivate", dark)

    def pixel(x: int, y: int) -> QColor:
        return button.grab().toImage().pixelColor(x, y)

    def near(color: QColor, expected: str) -> bool:
        want = QColor(expected)
        return abs(color.red() - want.red()) + abs(color.green() - want.green()) + abs(color.blue() - want.blue()) < 40

    assert near(pixel(60, 4), colors.background)
    button.setFocus()
    qtbot.waitUntil(button.hasFocus)
    assert near(pixel(60, 0), theme.focus_ring(dark))  # the ring, along the top edge
    button.setDown(True)
    assert near(pixel(60, 4), colors.pressed)
    button.set_kind("activate", holder.palette())
    assert near(pixel(60, 4), theme.swatch("activate", dark).pressed)
