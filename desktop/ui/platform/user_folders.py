"""Where the window's file dialogs start: the person's own folders, never the process's working directory.

A folder that does not exist makes QFileDialog fall back to the working directory (wherever the app was
started from), so each candidate is used only if it is there: the documents folder, then the app's data
folder (where the default database lives), then the home folder.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths


def documents_folder() -> Path:
    """The user's documents folder, else the app's data folder, else home: the first that exists."""
    from desktop.core.target import default_database_path

    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    for candidate in (documents, str(default_database_path().parent)):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return Path.home()


def free_name(folder: Path, name: str) -> Path:
    """`folder/name`, or `stem-2.suffix`, `stem-3.suffix`… : the first that names nothing yet (nor its -wal)."""
    path = Path(name)
    candidate, number = folder / name, 1
    while _taken(candidate):
        number += 1
        candidate = folder / f"{path.stem}-{number}{path.suffix}"
    return candidate


def _taken(path: Path) -> bool:
    return any(p.exists() or p.is_symlink() for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")))


def file_dialog_folder(location: str | None) -> Path:
    """The folder of the database file open now (a file, not a server URL), if it exists; else documents."""
    if location and "://" not in location:
        folder = Path(location).expanduser().parent
        if folder.is_dir():
            return folder
    return documents_folder()
