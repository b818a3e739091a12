"""A push button filled with a swatch's colours, painted from a cached image instead of a style sheet.

A row's Activate/Deactivate button changes kind on most page turns. A style sheet costs a re-polish each time
(about 0.25 ms) and its painting goes through QStyleSheetStyle (about four times a plain button's); across a
page of rows that was a few milliseconds of every turn. The style's own palette-coloured button is cheap, but
Fusion lightens and greys a dark fill, and the swatches are chosen dark for white text to stay legible. So the
button draws itself: a change of kind is a repaint, and a paint is one image, made once per look and size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QPushButton, QWidget

from desktop.ui import theme

if TYPE_CHECKING:
    from PySide6.QtGui import QPaintEvent

#: As theme's style sheet buttons: 4 px corners, a 1 px border, 2 px in the focus ring's colour with the focus.
RADIUS = 4.0
#: Looks kept: kinds × light/dark × normal/hover/pressed/focus × labels × sizes stay far below this.
_CACHE_LIMIT = 256
_images: dict[tuple[object, ...], QPixmap] = {}


class FilledButton(QPushButton):
    """A QPushButton (clicks, keyboard, accessibility and tool tips as any) filled with a swatch's colours."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)  # repainted on enter and leave, for the hover fill
        self._kind = ""
        self._dark = False

    def set_kind(self, kind: str, palette: QPalette) -> None:
        """Fill with `kind`'s swatch (activate, deactivate, danger) for the palette around the button."""
        dark = theme.is_dark(palette)
        if (kind, dark) == (self._kind, self._dark):
            return
        self._kind, self._dark = kind, dark
        self.setProperty("kind", kind)  # as theme.style_button's buttons say theirs
        self.update()

    def fill(self) -> QColor:
        """The colour the button is filled with at rest."""
        return QColor(theme.swatch(self._kind, self._dark).background)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._kind:
            super().paintEvent(event)
            return
        if self.isDown():
            state = "pressed"
        elif self.underMouse() and self.isEnabled():
            state = "hover"
        else:
            state = "normal"
        focused, ratio = self.hasFocus(), self.devicePixelRatioF()
        key = (self._kind, self._dark, state, focused, self.text(), self.size().toTuple(), ratio, self.font())
        image = _images.get(key)
        if image is None:
            if len(_images) >= _CACHE_LIMIT:
                _images.clear()
            image = _images[key] = self._render(state, focused, ratio)
        painter = QPainter(self)
        painter.drawPixmap(0, 0, image)
        painter.end()

    def _render(self, state: str, focused: bool, ratio: float) -> QPixmap:
        colors = theme.swatch(self._kind, self._dark)
        fill = {"pressed": colors.pressed, "hover": colors.hover}.get(state, colors.background)
        width = 2.0 if focused else 1.0
        image = QPixmap(self.size() * ratio)
        image.setDevicePixelRatio(ratio)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(theme.focus_ring(self._dark) if focused else colors.border), width))
        painter.setBrush(QColor(fill))
        inset = width / 2
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(inset, inset, -inset, -inset), RADIUS, RADIUS)
        painter.setFont(self.font())
        painter.setPen(QColor(colors.text))
        painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter), self.text())
        painter.end()
        return image
