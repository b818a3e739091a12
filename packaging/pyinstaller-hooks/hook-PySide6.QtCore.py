"""Overrides PyInstaller's PySide6.QtCore hook (build.spec's hookspath): the same, minus Qt's translations.

The app's texts are English only, so Qt's translated dialog buttons would mix languages in
one window; the .qm files are ~14 MB. Filtering here, rather than in the spec, keeps the
dropped files' own dependencies out of the analysis too.
"""

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
datas = [(src, dest) for src, dest in datas if not src.endswith(".qm")]
