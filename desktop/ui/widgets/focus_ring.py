"""One focus ring for the whole window, drawn around whichever control has the keyboard focus.

The style's own focus marks differ from control to control and from style to style: Fusion draws none on a
push button unless the focus came by keyboard, a faint one on a combo box, and a ring in the selection colour
that vanishes on a selected row. This ring is the same on every control: 2 px in the theme's focus colour
(theme.focus_ring, at least 3:1 against the light and the dark window) with a 1 px line of the window's own
colour inside it, so it stands apart from the control's border too. It is a child of the window laid over
everything, so no layout margin or parent clips it, and it follows its control as it moves, resizes, hides or
goes away. Mouse clicks pass through it.
"""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid

from desktop.ui import theme

#: How far the ring reaches outside its control: the ring's width, then the inner line's.
RING = 2
GAP = 1
MARGIN = RING + GAP
_FOLLOWED = (QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.Hide, QEvent.Type.ParentChange)


class FocusRing(QWidget):
    """`focusRing`: shown around the window's focus widget while it has one; never takes the focus itself."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("focusRing")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._target: QWidget | None = None
        self._watched: list[QWidget] = []  # the target and its ancestors up to the window: their moves move it
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.focusChanged.connect(self._on_app_focus_changed)
        self.hide()

    def target(self) -> QWidget | None:
        """The control the ring is around (None while it is hidden)."""
        return self._target if self.isVisible() else None

    def _on_app_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if not isValid(self):
            return
        window = self.parentWidget()
        inside = new is not None and window is not None and new is not window and window.isAncestorOf(new)
        self.follow(new if inside else None)  # elsewhere: another window (a dialog), or none has the focus

    def follow(self, widget: QWidget | None) -> None:
        """Ring `widget` (None: hide), and move with it and its ancestors up to the window."""
        for watched in self._watched:
            if isValid(watched):
                watched.removeEventFilter(self)
        target = self._target
        if target is not None and isValid(target):
            target.destroyed.disconnect(self._on_target_destroyed)
        self._watched = []
        self._target = widget
        if widget is not None:
            widget.destroyed.connect(self._on_target_destroyed)
        window = self.parentWidget()
        ancestor = widget
        while ancestor is not None and ancestor is not window:
            ancestor.installEventFilter(self)
            self._watched.append(ancestor)
            ancestor = ancestor.parentWidget()
        self._place()

    def _on_target_destroyed(self) -> None:
        self._target = None
        self._watched = [w for w in self._watched if isValid(w)]
        if isValid(self):
            self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _FOLLOWED:
            self._place()
        return False

    def _place(self) -> None:
        target, window = self._target, self.parentWidget()
        if target is None or window is None or not isValid(target) or not target.isVisibleTo(window):
            self.hide()
            return
        corner = target.mapTo(window, QPoint(0, 0))
        self.setGeometry(QRect(corner, target.size()).adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN))
        self.raise_()
        self.show()
        self.update()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        palette = self.palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        outer = QRectF(self.rect()).adjusted(RING / 2, RING / 2, -RING / 2, -RING / 2)
        painter.setPen(QPen(QColor(theme.focus_ring(theme.is_dark(palette))), RING))
        painter.drawRoundedRect(outer, 4.0, 4.0)
        inner = QRectF(self.rect()).adjusted(RING + GAP / 2, RING + GAP / 2, -RING - GAP / 2, -RING - GAP / 2)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Window), GAP))
        painter.drawRoundedRect(inner, 2.0, 2.0)
        painter.end()


class _RingEveryWindow(QObject):
    """Gives each window of the app (the main window, its dialogs and message boxes) a ring the first time one of
    its controls takes the focus. Menus and other pop-ups draw their own current item."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        app.focusChanged.connect(self._on_app_focus_changed)

    def _on_app_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is None or not isValid(new):
            return
        window = new.window()
        if window is new or window.windowType() in (Qt.WindowType.Popup, Qt.WindowType.ToolTip):
            return
        if window.findChild(FocusRing, "focusRing", Qt.FindChildOption.FindDirectChildrenOnly) is None:
            FocusRing(window).follow(new)  # later changes reach it through its own connection


def ring_every_window() -> None:
    """From now on every window of the application shows its focus ring (idempotent)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    if app.findChild(_RingEveryWindow) is None:
        _RingEveryWindow(app)


def chain_tab_order(*widgets: QWidget) -> None:
    """Tab goes from each of `widgets` to the next (hidden or disabled ones are skipped when Tab is pressed)."""
    for first, second in pairwise(widgets):
        QWidget.setTabOrder(first, second)
