"""The slot guard: anything a slot raises is reported by its owner, and the window lives on.

Apart from notifications.py, which builds widgets and dataclasses at import: the window's frame and its
mixins use it at class definition, before the first paint, and must stay cheap to import.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from desktop.core.operations import Operation


class _ReportsErrors(Protocol):
    def report(self, err: BaseException, operation: Operation) -> None: ...


P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound=_ReportsErrors)


def guarded_as(
    operation: Operation,
) -> Callable[[Callable[Concatenate[S, P], R]], Callable[Concatenate[S, P], R | None]]:
    """Catch anything the slot raises, at the UI boundary, and have its owner report it as a failure of
    `operation` (a page turn's by a vanished file is said as such); the window lives on."""

    def decorate(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R | None]:
        def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R | None:
            try:
                return method(self, *args, **kwargs)
            except Exception as err:
                self.report(err, operation)
                return None

        # Not @functools.wraps: its _Wrapped type loses the Concatenate signature for mypy; the copy is the same.
        functools.update_wrapper(wrapper, method)
        return wrapper

    return decorate


def guarded(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R | None]:
    """Catch anything a slot raises, at the UI boundary: the owner logs and shows it (a bug, as the traceback in
    the log says where); the window lives on."""
    return guarded_as(Operation.HANDLE_EVENT)(method)
