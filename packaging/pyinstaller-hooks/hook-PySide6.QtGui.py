"""Overrides PyInstaller's PySide6.QtGui hook (build.spec's hookspath): the same, minus unused Qt plugins.

`excludes=` cannot drop Qt plugins: this hook collects whole plugin folders. Dropping them
here, before the analysis, also keeps out the system libraries only they link to (the GTK
theme plugin alone brings GTK's cairo/pango/glib stack, which would then clash with the
desktop's own GTK). Kept: the xcb, wayland, offscreen and minimal platforms; Wayland's
shell and decoration plugins; the XDG portal theme (native dialogs, dark mode); input
methods (ibus, compose: accents in a description); SVG and ICO images; the SVG icon engine.
"""

from pathlib import PurePath

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

DROPPED_FOLDERS = {
    "egldeviceintegrations",  # eglfs: full-screen embedded devices, no desktop
    "generic",  # evdev/tuio input, used by eglfs and linuxfb only
}
DROPPED_FILES = {
    "platforms": {"qeglfs", "qlinuxfb", "qminimalegl", "qvkkhrdisplay", "qvnc"},
    "platformthemes": {"qgtk3"},
    "platforminputcontexts": {"qtvirtualkeyboardplugin"},
    "imageformats": {"qgif", "qicns", "qjpeg", "qpdf", "qtga", "qtiff", "qwbmp", "qwebp"},
}


def _kept(src: str, dest: str) -> bool:
    folder = PurePath(dest).name
    if folder in DROPPED_FOLDERS:
        return False
    stem = PurePath(src).stem.removeprefix("lib")
    return stem not in DROPPED_FILES.get(folder, ())


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(src, dest) for src, dest in binaries if _kept(src, dest)]
datas = [(src, dest) for src, dest in datas if not src.endswith(".qm")]
